import Foundation

/// Writes the prediction the learner made for every first-visit row, before it learned
/// from it, as CSV (`moe stream --predictions FILE`): the stream's prequential record row
/// by row, for metrics of one's own or for acting on the predictions as rows arrive.
///
/// ```
/// sample,experience,label,predicted
/// 1,1,setosa,
/// 2,1,setosa,setosa
/// ```
///
/// `sample` numbers the learner's first visits over its whole life (a resumed stream goes
/// on counting), `experience` the stream's experiences from 1, and `label` and
/// `predicted` are the classes as the stream names them (a scenario's class numbers);
/// `predicted` is empty for a row predicted before any class was learned (a stream's
/// first row), which prequential accuracy counts as wrong.
/// Lines are written as batches are learned, and synchronised to disk at every
/// checkpoint and at the end. A learner that goes on from a checkpoint (resumed, or continued on new rows)
/// keeps the lines of the samples it had learned and drops the ones written after its
/// checkpoint was saved, so the file never counts a sample twice.
public final class PredictionsFile: StreamPlugin {
    public typealias L = Learner

    /// The file written.
    public let path: String
    private let handle: FileHandle
    /// Lines written or kept.
    public private(set) var lines = 0

    public static let header = "sample,experience,label,predicted"

    /// Opens `path` for a learner that has learned `learnedSamples` first visits: a new
    /// file (replacing a file of predictions there) when it has learned none, or the lines
    /// of those samples kept from the file there (if any) and the rest dropped.
    /// A file already there that does not begin with ``header`` is refused, never
    /// replaced: a path given by mistake (the stream's own data file) loses nothing.
    public init(path: String, learnedSamples: Int) throws(StreamError) {
        self.path = path
        if let existing = FileHandle(forReadingAtPath: path) {
            let start = (try? existing.read(upToCount: Self.header.utf8.count + 2)) ?? Data()
            try? existing.close()
            let first = String(decoding: start, as: UTF8.self).split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first
            guard start.isEmpty || first.map({ $0 == Self.header || $0 == Self.header + "\r" }) == true else {
                throw .predictionsFile(path: path, reason: "is there and is not a file of predictions (its first line is not '\(Self.header)'): it is left as it is; give another path, or remove it")
            }
        }
        var kept = Self.header + "\n"
        if learnedSamples > 0, let text = try? String(contentsOfFile: path, encoding: .utf8) {
            var last = 0
            // Only whole lines (each is written with its line end) of the samples learned,
            // in order: a line cut by a process that ended mid-write, or one written after
            // the checkpoint, goes.
            let whole = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            for line in whole.dropFirst() {
                guard let sample = Int(line.prefix { $0 != "," }), sample == last + 1, sample <= learnedSamples else { break }
                kept += line + "\n"
                last = sample
                lines += 1
            }
        }
        guard FileManager.default.createFile(atPath: path, contents: Data(kept.utf8)),
              let handle = FileHandle(forWritingAtPath: path) else {
            throw .predictionsFile(path: path, reason: "cannot be written (does its folder exist, and may this user write there?)")
        }
        self.handle = handle
        do {
            try handle.seekToEnd()
        } catch {
            throw .predictionsFile(path: path, reason: "\(error)")
        }
    }

    deinit { try? handle.close() }

    public func afterBatch(_ driver: StreamDriver<Learner>, _ event: BatchEvent<Learner.StepReport>) {
        let step = event.step
        guard event.pass == 0, !step.predicted.isEmpty, let learner = driver.learner else { return }
        let first = learner.counters.firstVisits - step.predicted.count + 1
        let experience = event.experience.ordinal + 1
        var text = ""
        for (i, predicted) in step.predicted.enumerated() {
            text += "\(first + i),\(experience),\(CSVSource.quoted(learner.classLabel(step.labels[i]), separator: ",")),"
                + "\(predicted < 0 ? "" : CSVSource.quoted(learner.classLabel(predicted), separator: ","))\n"
        }
        // Written with the batch, so that a stream stopped by bad data loses none.
        attempt { try handle.write(contentsOf: Data(text.utf8)) }
        lines += step.predicted.count
    }

    /// On disk with every checkpoint: the lines of the samples a checkpoint holds are there.
    public func onCheckpoint(_ driver: StreamDriver<Learner>, _ event: CheckpointEvent) { attempt { try handle.synchronize() } }

    public func atEnd(_ driver: StreamDriver<Learner>) { attempt { try handle.synchronize() } }

    /// Runs a write; a failure is kept, not thrown: the stream and its checkpoints go
    /// on, and the command says at the end that the file is not whole.
    private func attempt(_ write: () throws -> Void) {
        guard failure == nil else { return }
        do { try write() } catch { failure = "\(error)" }
    }

    /// Why a write failed (nil while every write succeeded).
    public private(set) var failure: String?
}
