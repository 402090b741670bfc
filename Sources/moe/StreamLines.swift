import Continual
import MoE
import Foundation

/// The progress lines of `moe stream`: a plugin of the driver that prints, at most twice
/// a second and at the end of each experience, where the stream is; a warning, as soon as
/// it shows, when a CSV's label column looks like a number rather than a label, and when
/// a batch's rows look like rows in other units than those learned; and a warning when a
/// periodic save fails.
final class StreamLines: StreamPlugin {
    typealias L = Learner

    let console: Console
    private let start = ContinuousClock.now
    private var lastPrint = -1.0
    private var warnedOfLabels = false
    /// Batches of this run whose rows lay far from those learned before them
    /// (`StepReport.farFromLearned` above one half).
    private(set) var batchesFarFromLearned = 0

    init(console: Console) { self.console = console }

    /// Whether a label column holding `classes` classes after `rows` rows looks like a
    /// number rather than a label: more than 50 classes and fewer than two rows per class
    /// once 1,024 rows came (or more than 512 classes before). A legitimate label with
    /// hundreds of classes shows most of them within its first rows too, so the test waits
    /// for 1,024; a measurement or an amount read as the label gains a class with nearly
    /// every row, and every class widens the output layer and the gate's statistics: such
    /// a stream slows with every row (5,000 rows of a sum rounded to three decimals took
    /// 134 s, against 2 s with ten classes, the sum in bins). The end of the stream says it
    /// again with the looser bound of `moe stream`'s summary.
    static func labelsLookNumeric(classes: Int, rows: Int) -> Bool {
        classes > 50 && 2 * classes > max(rows, 1024)
    }

    func afterBatch(_ driver: StreamDriver<Learner>, _ event: BatchEvent<Learner.StepReport>) {
        if !warnedOfLabels, case .csv = driver.source, let learner = driver.learner {
            // Classes seen, not the output's width: integer labels are their own class
            // indices, so codes 1000, 2000 and 3000 make 3,001 outputs for three classes.
            // Rows learned, a checkpoint's included: a stream continued on new rows starts
            // its position afresh but keeps the classes it saw.
            let classes = learner.seenClasses.count, rows = learner.counters.firstVisits
            if Self.labelsLookNumeric(classes: classes, rows: rows) {
                warnedOfLabels = true
                console.warn("after \(rows) rows the label column holds \(classes) classes, fewer than two rows each: is it the label? (--label-column first, last, an index or a header name; the stream goes on, slower with every new class)")
            }
        }
        if let share = event.step.farFromLearned, share > 0.5 {
            batchesFarFromLearned += 1
            if batchesFarFromLearned == 1 {
                let last = driver.position.samples, first = last - event.samples + 1
                console.warn("rows \(first)-\(last) of the stream: the means of \(Int((100 * share).rounded()))% of the features lie more than "
                    + "\(Int(InputScaler.unitsDeviations)) deviations from those of every row learned before them: are they in other units "
                    + "(pixels 0-255 after [0, 1], mm after m, another export)? The learner reads them through the scaling it fixed on the "
                    + "first rows, so it learns and answers them poorly; the stream goes on (`batches_far_from_learned` counts such batches)")
            }
        }
        let now = seconds(since: start)
        let done = event.experienceSamples.map { event.samplesInExperience >= $0 } ?? false
        guard now - lastPrint > 0.5 || done, let learner = driver.learner else { return }
        lastPrint = now
        let windowed = fixed(learner.prequential.windowedAccuracy ?? 0, 3)
        switch driver.source {
        case .scenario:
            let e = event.experience, cycles = driver.experienceCount / e.perCycle
            console.progress(
                (cycles > 1 ? "cycle \(e.cycle + 1)/\(cycles)  " : "")
                    + "experience \(e.experience + 1)/\(e.perCycle)  \(event.samplesInExperience)/\(event.experienceSamples ?? 0)  \(fixed(driver.samplesPerSecond, 0)) samples/s  windowed accuracy \(windowed)  experts \(event.step.experts)",
                final: done)
        case .joint:
            console.progress(done ? "joint  \(event.samplesInExperience) samples" : "joint  \(event.samplesInExperience) samples  windowed accuracy \(windowed)", final: done)
        default:
            console.progress("\(driver.position.samples) samples  windowed accuracy \(windowed)  experts \(event.step.experts)")
        }
    }

    func afterExperience(_ driver: StreamDriver<Learner>, _ experience: ExperiencePosition) {
        switch driver.source {
        case .csv, .idx: console.progress("\(driver.position.samples) samples", final: true)
        default: break
        }
    }

    func onCheckpoint(_ driver: StreamDriver<Learner>, _ event: CheckpointEvent) {
        if case let .failed(_, .periodic, error) = event {
            console.warn("\(CommandFailure(error)); the stream goes on, the previous checkpoint is intact")
        }
    }
}
