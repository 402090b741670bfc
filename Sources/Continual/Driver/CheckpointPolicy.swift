import Foundation

/// When a ``StreamDriver`` saves its checkpoint, and where.
///
/// Every save is atomic (a temporary file beside the target, then a rename; see
/// `Checkpoint.save(to:)`): a stream killed while saving leaves the previous checkpoint
/// intact. A periodic save that fails is reported to the plugins (`onCheckpoint`) and the
/// stream goes on, the previous checkpoint intact; a save at the end of an experience or
/// of the run that fails stops the run with the error.
public struct CheckpointPolicy: Sendable, Equatable {
    /// The file to write; nil saves nothing.
    public var path: String?
    /// Also save every this many batches (0: never), counted over the stream.
    public var everyBatches: Int
    /// Save when an experience ends (and when a run pauses between experiences).
    public var atEachExperience: Bool
    /// Save when the run ends or pauses, unless the last save was at the same position.
    public var atEnd: Bool
    /// The first words of the checkpoint's description (`moe stream`).
    public var title: String
    /// Signs every checkpoint saved (`Checkpoint.save(to:signingKey:)`).
    public var signingKey: CheckpointSigningKey?

    public init(path: String? = nil, everyBatches: Int = 0, atEachExperience: Bool = true, atEnd: Bool = true,
                title: String = "stream", signingKey: CheckpointSigningKey? = nil) {
        precondition(everyBatches >= 0, "Save every N batches with N >= 0 (0: never)")
        self.path = path
        self.everyBatches = everyBatches
        self.atEachExperience = atEachExperience
        self.atEnd = atEnd
        self.title = title
        self.signingKey = signingKey
    }

    /// Throws unless the folder of `path` exists: a stream fails at once, not after an
    /// hour of learning.
    public func checkFolder() throws(StreamError) {
        guard let path else { return }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            let shown = (path as NSString).deletingLastPathComponent
            throw .saveFolderMissing(path: path, folder: shown.isEmpty ? folder : shown)
        }
    }
}
