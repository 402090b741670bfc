/// Why a scenario could not be built from the options and data given.
///
/// Each case says which option or which part of the data is at fault, with the numbers,
/// so a command-line user can correct the call from the message alone.
public enum ScenarioError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The data could not be read.
    case data(DataError)
    /// Training and test data have different input widths.
    case inputWidthMismatch(train: Int, test: Int)
    /// Training and test data declare different numbers of classes.
    case classCountMismatch(train: Int, test: Int)
    /// The classes cannot be cut into experiences of equal size.
    case indivisibleClasses(classCount: Int, classesPerExperience: Int)
    /// An explicit class order that is not a permutation of the classes.
    case invalidClassOrder(order: [Int], classCount: Int)
    /// An experience would have no training or no test sample.
    case emptyExperience(index: Int, classes: [Int], part: String)
    /// Too few experiences asked for.
    case tooFewExperiences(requested: Int, minimum: Int)
    /// A blend window that is not positive or longer than an experience's stream.
    case invalidDriftWindow(window: Int, shortestExperience: Int)
    /// A blurry scenario's shared fraction outside [0, 1).
    case invalidShare(Double)
    /// An imbalanced scenario's rare class or factor that does not exist.
    case invalidImbalance(rare: Int, factor: Int)
    /// More training rows asked for than the data has.
    case notEnoughRows(needed: Int, available: Int)

    public var description: String {
        switch self {
        case let .data(error):
            return error.description
        case let .inputWidthMismatch(train, test):
            return "The training data has \(train) features per sample but the test data has \(test)."
        case let .classCountMismatch(train, test):
            return "The training data has \(train) classes but the test data has \(test)."
        case let .indivisibleClasses(classCount, perExperience):
            return "\(classCount) classes cannot be split into experiences of \(perExperience) classes each; "
                + "choose a number of classes per experience that divides \(classCount)."
        case let .invalidClassOrder(order, classCount):
            return "The class order \(order) is not a permutation of the \(classCount) classes 0..<\(classCount)."
        case let .emptyExperience(index, classes, part):
            return "Experience \(index) (classes \(classes.map(String.init).joined(separator: ", "))) "
                + "has no \(part) sample."
        case let .tooFewExperiences(requested, minimum):
            return "\(requested) experiences were requested; this scenario needs at least \(minimum)."
        case let .invalidDriftWindow(window, shortest):
            return "A gradual-drift blend window of \(window) samples is not allowed: it must be positive "
                + "and at most the shortest experience (\(shortest) training samples)."
        case let .invalidShare(share):
            return "Neighbouring experiences can share a fraction in [0, 1) of their samples, not \(share)."
        case let .invalidImbalance(rare, factor):
            return "Class \(rare) cannot be made \(factor) times rarer: the class must exist and the factor be at least 1."
        case let .notEnoughRows(needed, available):
            return "The stream needs \(needed) training rows; the data has \(available)."
        }
    }
}
