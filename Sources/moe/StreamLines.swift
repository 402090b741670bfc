import Continual
import Foundation

/// The progress lines of `moe stream`: a plugin of the driver that prints, at most twice
/// a second and at the end of each experience, where the stream is; and a warning when a
/// periodic save fails.
final class StreamLines: StreamPlugin {
    typealias L = Learner

    let console: Console
    private let start = ContinuousClock.now
    private var lastPrint = -1.0

    init(console: Console) { self.console = console }

    func afterBatch(_ driver: StreamDriver<Learner>, _ event: BatchEvent<Learner.StepReport>) {
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
            warn("\(CommandFailure(error)); the stream goes on, the previous checkpoint is intact")
        }
    }
}
