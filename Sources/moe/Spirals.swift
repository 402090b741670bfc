import ArgumentParser
import Continual
import Foundation
import MoE
import SpiralsDemo

struct Spirals: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Two spirals: grow a small network by covariance learning until it classifies all 194 points.",
        discussion: """
            Lang and Witbrock's two spirals, the benchmark Cascade-Correlation made famous. \
            A 2-8-2 tanh cascade network trains in phases on cross-entropy plus the \
            covariance cost; a phase never ends with more errors than it began; while errors \
            remain, a unit trained to covary with the residual error is added. Prints the \
            hidden units added and the epochs beside Cascade-Correlation's figures \
            (Fahlman and Lebiere 1990: 12-19 units, about 1700 epochs) and writes the \
            decision regions as SVG (orange class 0, blue class 1). See docs/algorithm.md.
            """)

    @OptionGroup var common: CommonOptions

    @Option(help: "Where to write the SVG picture of the decision regions (its folder is created).")
    var svg: String = "reports/spirals.svg"

    @Option(name: .customLong("max-units"), help: ArgumentHelp("Growth budget: most hidden units to add.", visibility: .hidden))
    var maximumUnits: Int?

    func validate() throws {
        guard !svg.isEmpty else { throw ValidationError("--svg needs a file path") }
        if let maximumUnits, maximumUnits < 0 { throw ValidationError("--max-units must be at least 0") }
    }

    struct Output: Encodable {
        var trainAccuracy: Double
        var hiddenUnitsAdded: Int
        var hiddenUnits: Int
        var epochs: Int
        var candidateEpochs: Int
        var phases: [SpiralsRun.Phase]
        var seed: UInt64
        var seconds: Double
        var svg: String
        var cascadeCorrelationHiddenUnits: [Int]
        var cascadeCorrelationEpochs: Int
    }

    func run() throws {
        let console = Console(json: common.json)
        // Fail before training when the picture cannot be written.
        try prepareFolder(of: svg)
        var configuration = SpiralsRun.Configuration()
        configuration.seed = common.seed
        if let maximumUnits { configuration.maximumUnitsAdded = maximumUnits }
        let clock = ContinuousClock()
        var outcome: SpiralsRun.Outcome?
        let elapsed = clock.measure { outcome = SpiralsRun(configuration).run() }
        let result = outcome!.result
        try write(outcome!.svg(), to: svg)
        let seconds = elapsed.inSeconds
        console.say(result.summary)
        if result.trainAccuracy < 1 {
            console.say("not every point is classified yet: the growth or epoch budget ran out (seed \(common.seed))")
        }
        console.say("\(fixed(seconds, 2)) s; decision regions written to \(svg)")
        try console.emit(Output(
            trainAccuracy: result.trainAccuracy, hiddenUnitsAdded: result.hiddenUnitsAdded, hiddenUnits: result.hiddenUnits,
            epochs: result.epochs, candidateEpochs: result.candidateEpochs, phases: result.phases, seed: common.seed,
            seconds: seconds, svg: svg, cascadeCorrelationHiddenUnits: [12, 19], cascadeCorrelationEpochs: 1700))
    }
}

/// Creates the folder of `path` (and its parents) for a report file, or fails with one
/// line naming it.
func prepareFolder(of path: String) throws(CommandFailure) {
    var isFolder: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
        throw CommandFailure("cannot write '\(path)': it is a folder")
    }
    let parent = (path as NSString).deletingLastPathComponent
    let folder = parent.isEmpty ? "." : parent
    if FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) {
        guard isFolder.boolValue else { throw CommandFailure("cannot write '\(path)': '\(folder)' is not a folder") }
    } else {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw CommandFailure("cannot write '\(path)': cannot create the folder '\(folder)' (\(reason(error)))")
        }
    }
    guard FileManager.default.isWritableFile(atPath: folder) else {
        throw CommandFailure("cannot write '\(path)': the folder '\(folder)' is not writable")
    }
}

/// Writes a report file atomically (a temporary beside it, then a rename).
func write(_ text: String, to path: String) throws(CommandFailure) {
    do {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
        throw CommandFailure("cannot write '\(path)': \(reason(error))")
    }
}

/// The operating system's reason behind a Foundation file error ("Permission denied"),
/// else the error's own description.
private func reason(_ error: any Error) -> String {
    let nsError = error as NSError
    if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain,
       let code = POSIXErrorCode(rawValue: Int32(underlying.code)) {
        return String(cString: strerror(code.rawValue))
    }
    if nsError.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(nsError.code))) }
    return error.localizedDescription
}
