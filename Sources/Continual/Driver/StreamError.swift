/// Why a stream could not be driven, resumed or continued.
///
/// Each case names the checkpoint and the data at fault with what each side holds, so a
/// person can correct the call from the message alone. Errors of the data itself (a bad
/// row) stay `DataError`s, of the learner `LearnerError`s, of the file `CheckpointError`s.
public enum StreamError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The data's rows are not as wide as the learner's input.
    case widthMismatch(source: String, expected: Int, actual: Int, checkpoint: String?)
    /// A label of the new data does not fit the classes the checkpoint knows.
    case labelsDisagree(checkpoint: String, known: String, error: DataError)
    /// A label beyond the fixed output of a plain network.
    case labelOutsideModel(source: String, label: Int, classCount: Int)
    /// The folder a checkpoint is to be saved in does not exist.
    case saveFolderMissing(path: String, folder: String)
    /// The checkpoint holds a learner but no stream to resume.
    case noStream(checkpoint: String)
    /// The checkpoint holds another kind of learner than the one asked for.
    case wrongLearner(checkpoint: String, holds: String, expected: String)
    /// A scenario built in memory must be given again to resume it.
    case scenarioNeeded(name: String, checkpoint: String)
    /// The saved stream state cannot be read.
    case invalidState(checkpoint: String, path: String, reason: String)
    /// The file of predictions cannot be written.
    case predictionsFile(path: String, reason: String)

    public var description: String {
        switch self {
        case let .widthMismatch(source, expected, actual, checkpoint):
            let who = checkpoint.map { "checkpoint '\($0)' expects" } ?? "the learner expects"
            return "\(who) \(expected) features per sample, but \(source) has \(actual)."
        case let .labelsDisagree(checkpoint, known, error):
            return "checkpoint '\(checkpoint)' knows \(known), and the new data does not fit them: \(error)"
        case let .labelOutsideModel(source, label, classCount):
            return "\(source): the label \(label) is not one of the network's \(classCount) classes (0..<\(classCount))."
        case let .saveFolderMissing(path, folder):
            return "cannot save checkpoint '\(path)': the folder '\(folder)' does not exist"
        case let .noStream(checkpoint):
            return "checkpoint '\(checkpoint)' holds a learner but no stream to resume (no /sections/stream); "
                + "give a source to continue it on new data."
        case let .wrongLearner(checkpoint, holds, expected):
            return "checkpoint '\(checkpoint)' holds \(holds), not \(expected)."
        case let .scenarioNeeded(name, checkpoint):
            return "checkpoint '\(checkpoint)' streams the scenario '\(name)', which was built in memory; "
                + "give the same scenario again to resume it."
        case let .invalidState(checkpoint, path, reason):
            return "checkpoint '\(checkpoint)': \(path) is not a saved stream: \(reason)."
        case let .predictionsFile(path, reason):
            return "the predictions file '\(path)' \(reason)"
        }
    }
}
