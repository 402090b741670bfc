import ArgumentParser
import Continual
import Foundation

#if canImport(Glibc)
import Glibc
import MoE
#endif

/// Where checkpoints named on the command line live.
///
/// A bare name (no `/`) means a file in the default folder `Checkpoints/`; a name without
/// an extension gets `.h5`. So `--save run1` writes `Checkpoints/run1.h5`, and
/// `moe eval run1` reads it back. A path that exists as typed is used as typed, unless the
/// saving rule resolves it to another existing file: then it names two, and is refused.
enum CheckpointPath {
    /// The default folder, relative to the working directory.
    static let defaultFolder = "Checkpoints"

    /// The file to write for `argument`; the default folder is created when needed (any
    /// other folder must already exist, so a typo is an error and not a new tree).
    static func forSaving(_ argument: String) throws(CommandFailure) -> String {
        if argument.hasSuffix("/") {
            throw CommandFailure("cannot save a checkpoint to '\(argument)': it names a folder; give a file name, such as '\(argument)run1'")
        }
        let path = resolved(argument)
        if !argument.contains("/") {
            do {
                try FileManager.default.createDirectory(atPath: defaultFolder, withIntermediateDirectories: true)
            } catch {
                throw CommandFailure("cannot create the checkpoint folder '\(defaultFolder)': \(error.localizedDescription)")
            }
        }
        try failingClearly { try Checkpoint.checkReplaceable(path) }
        return path
    }

    /// The file to read for `argument`: the path as typed when it exists, else its
    /// resolution by the saving rule (so `moe eval run1` finds `Checkpoints/run1.h5`). A
    /// bare name that names two files, one as typed and one in `Checkpoints/`, is refused:
    /// `--save run2.h5` writes the second, and reading the first without a word scored an
    /// older model than the one just saved. A folder under the typed name is not a
    /// checkpoint and names nothing: data kept in `medexp/` beside `--save medexp` made
    /// `moe eval medexp` refuse both.
    static func forReading(_ argument: String) throws(CommandFailure) -> String {
        let saved = resolved(argument)
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: argument, isDirectory: &isFolder) else { return saved }
        if isFolder.boolValue && saved != argument { return saved }
        if saved != argument, let typed = identity(of: argument), let other = identity(of: saved), typed != other {
            throw CommandFailure("'\(argument)' names two checkpoints, '\(argument)' here and '\(saved)' (where --save \(argument) writes): give the path of the one you mean, './\(argument)' or '\(saved)'")
        }
        return argument
    }

    /// The device and inode of the file under `path` (nil: nothing there), so that two
    /// names of one file (a link, `./x` and `x`) are seen as one.
    static func identity(of path: String) -> [UInt64]? {
        // attributesOfItem describes a link itself: the file it leads to is the one read.
        let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: target),
              let node = attributes[.systemFileNumber] as? NSNumber, let device = attributes[.systemNumber] as? NSNumber
        else { return nil }
        return [device.uint64Value, node.uint64Value]
    }

    /// `name` -> `Checkpoints/name.h5`; `dir/name` -> `dir/name.h5`; extensions kept.
    static func resolved(_ argument: String) -> String {
        var path = argument.contains("/") ? argument : defaultFolder + "/" + argument
        let last = path.split(separator: "/").last.map(String.init) ?? ""
        if !last.contains(".") { path += ".h5" }
        return path
    }
}

/// Why a command failed: one line for a person, naming the file at fault.
///
/// ArgumentParser prints it as `Error: <description>` on stderr and exits with status 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String

    init(_ message: String) {
        // One line, whatever the underlying error (HDF5 stacks, nested reasons) says.
        description = message.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
            .joined(separator: "; ")
    }

    init(_ error: any Error) {
        self.init(String(describing: error))
    }
}

/// Runs `body`, turning any error into a one-line `CommandFailure`.
func failingClearly<T>(_ body: () throws -> T) throws(CommandFailure) -> T {
    do {
        return try body()
    } catch let failure as CommandFailure {
        throw failure
    } catch {
        throw CommandFailure(error)
    }
}

/// Loads and verifies a checkpoint named on the command line: in the isolated reader
/// process, and, with `--trust-key`, only when signed by a trusted key.
func loadCheckpoint(_ argument: String, keys: CheckpointKeyOptions) throws(CommandFailure) -> Checkpoint {
    let path = try CheckpointPath.forReading(argument)
    let trusted = try keys.trustedKeys()
    return try failingClearly { try Checkpoint.load(from: path, trustedKeys: trusted) }
}

/// `--sign-key` and `--trust-key`: every command that saves or loads checkpoints has them.
struct CheckpointKeyOptions: ParsableArguments {
    @Option(name: .customLong("sign-key"), help: ArgumentHelp(
        "Sign the checkpoints this command saves with this private key file (made by `moe keygen`).", valueName: "file"))
    var signKey: String?

    @Option(name: .customLong("trust-key"), help: ArgumentHelp(
        "Load a checkpoint only if it is signed by this public key (a .pub file from `moe keygen`); repeat for several. Unsigned checkpoints and those signed by other keys are refused before they are parsed.",
        valueName: "file"))
    var trustKey: [String] = []

    func validate() throws {
        // Key files are read now, so a wrong path is reported before any work is done.
        _ = try signingKey()
        _ = try trustedKeys()
    }

    /// The key of `--sign-key`, if given.
    func signingKey() throws(CommandFailure) -> CheckpointSigningKey? {
        guard let signKey else { return nil }
        return try failingClearly { try CheckpointSigningKey.read(from: signKey) }
    }

    /// The keys of `--trust-key` (empty: any valid checkpoint loads).
    func trustedKeys() throws(CommandFailure) -> Set<CheckpointPublicKey> {
        try failingClearly { Set(try trustKey.map { path throws(CheckpointError) in try CheckpointPublicKey.read(from: path) }) }
    }
}

/// Makes a write past a file-size limit (`ulimit -f`) fail with `EFBIG`, which the
/// checkpoint writer reports and recovers from, instead of killing the process with
/// `SIGXFSZ` and leaving its temporary file behind.
func ignoreFileSizeSignal() {
    signal(SIGXFSZ, SIG_IGN)
}

/// Runs on with the BLAS thread policy a resumed stream was saved with (two threads can
/// give other bits than one), unless `MOE_BLAS_THREADS` chose another: then says so.
func keepSavedThreads(of checkpoint: Checkpoint, file: String, console: Console) throws(CommandFailure) {
    guard let saved = try failingClearly({ try StreamDriver<Learner>.savedThreadPolicy(in: checkpoint) }) else { return }
    if !BLAS.threadSettingIsExplicit {
        if BLAS.threadPolicy != saved { console.say("BLAS threads as \(file) ran: \(saved)") }
        BLAS.threadPolicy = saved
    } else if BLAS.threadPolicy != saved {
        console.say("warning: \(file) ran with \(saved); \(BLAS.ThreadPolicy.environmentVariable) gives \(BLAS.threadPolicy), "
                    + "so the results may differ in their last bits from a run that never stopped")
    }
}
