import ArgumentParser
import Benchmarks
import Continual
import MoE

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure training and inference speed against cblas_sgemm on the same shapes.",
        discussion: """
            Figures are medians of repeated runs in this process; the sgemm fraction is the \
            training FLOP rate divided by the rate cblas_sgemm reaches on exactly the \
            products of one training step. Build in release mode first: swift build -c release.

            --suite picks what to measure: core (the above), covariance (what keeping the \
            detector statistics adds to a training step of the default MLP at batch 128), \
            experts (a training step with E = 1, 4, 16 experts under top-1 and softmax \
            routing, against the trunk alone), checkpoint (save and load of a 1.07M-parameter \
            checkpoint with Adam state), or all. docs/benchmarks.md records the figures.
            """)

    @OptionGroup var common: CommonOptions

    @Option(help: "Comma-separated batch sizes.")
    var batches: String = "32,128,512"

    @Option(help: "Timed repetitions per figure, the median is reported (default: 9 per batch size for core, 60 steps for covariance, 30 for experts, 7 saves and loads for checkpoint).")
    var repeats: Int?

    @Option(help: "Threads OpenBLAS may use.")
    var threads: Int = 1

    @Option(help: "What to measure: core, covariance, experts, checkpoint or all.")
    var suite: Suite = .core

    enum Suite: String, ExpressibleByArgument, CaseIterable {
        case core, covariance, experts, checkpoint, all

        func includes(_ part: Suite) -> Bool { self == .all || self == part }
    }

    func validate() throws {
        guard parsedBatches != nil else {
            throw ValidationError("--batches must be positive integers separated by commas, got '\(batches)'")
        }
        if let repeats, repeats < 1 { throw ValidationError("--repeats must be at least 1") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    }

    var parsedBatches: [Int]? {
        let values = batches.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        return values.map { $0! }
    }

    struct Output: Encodable {
        var blasKernel: String
        var blasKernelSource: String
        var blasThreads: Int
        var trainSamplesPerSecond: [String: Double]?
        var inferenceSamplesPerSecond: [String: Double]?
        var sgemmGflops: [String: Double]?
        var sgemmFraction: [String: Double]?
        var covariance: CovarianceFigures?
        var experts: [ExpertFigure]?
        var checkpoint: CheckpointFigures?
    }

    /// `CovarianceBenchmark.Result` with its derived ratios.
    struct CovarianceFigures: Encodable {
        var sizes: [Int]
        var batchSize: Int
        var repetitions: Int
        var plainStepMilliseconds: Double
        var trackedStepMilliseconds: Double
        var updateMicroseconds: Double
        /// Statistics update / plain step (the goal is at most 0.10).
        var overhead: Double
        /// Tracked step / plain step.
        var ratio: Double
    }

    /// One line of `ExpertCostBenchmark`.
    struct ExpertFigure: Encodable {
        var routing: String
        var experts: Int
        var milliseconds: Double
        var cpuMilliseconds: Double
        /// CPU time relative to the trunk alone (all trainable).
        var cpuRelativeToTrunk: Double
        var expertRows: Int
    }

    struct CheckpointFigures: Encodable {
        var parameterCount: Int
        var fileBytes: Int
        var repetitions: Int
        var saveMilliseconds: Double
        var loadMilliseconds: Double
        var saveCpuMilliseconds: Double
        var loadCpuMilliseconds: Double
        var isolatedLoadMilliseconds: Double
        var isolationRatio: Double
        var coldLoadMilliseconds: Double
        var coldIsolatedLoadMilliseconds: Double
        var coldIsolationRatio: Double
        var firstIsolatedLoadMilliseconds: Double
        var signedIsolatedLoadMilliseconds: Double
    }

    func run() throws {
        let console = Console(json: common.json)
        BLAS.setThreads(threads)
        let info = BLAS.info
        console.say("BLAS: \(info.library), kernel \(info.kernel) (chosen by \(info.kernelSource)), \(threads) thread(s)")
        var output = Output(blasKernel: info.kernel, blasKernelSource: info.kernelSource, blasThreads: threads)
        if suite.includes(.core) { runCore(console, into: &output) }
        if suite.includes(.covariance) {
            let r = CovarianceBenchmark.trainingStepOverhead(repetitions: repeats ?? 60, seed: common.seed)
            console.say("covariance statistics: \(r)")
            output.covariance = CovarianceFigures(
                sizes: r.sizes, batchSize: r.batchSize, repetitions: r.repetitions, plainStepMilliseconds: r.plainStep * 1e3,
                trackedStepMilliseconds: r.trackedStep * 1e3, updateMicroseconds: r.update * 1e6, overhead: r.overhead, ratio: r.ratio)
        }
        if suite.includes(.experts) {
            let figures = ExpertCostBenchmark.run(steps: repeats ?? 30, seed: common.seed)
            console.say("expert cost, MLP 784-256-128-10 at batch 128, experts of width 64 at hidden layer 1:")
            console.say(ExpertCostBenchmark.report(figures))
            let base = figures.first { $0.experts == 0 }?.cpuMilliseconds ?? 1
            output.experts = figures.map {
                ExpertFigure(routing: $0.routing, experts: $0.experts, milliseconds: $0.milliseconds,
                             cpuMilliseconds: $0.cpuMilliseconds, cpuRelativeToTrunk: $0.cpuMilliseconds / base, expertRows: $0.expertRows)
            }
        }
        if suite.includes(.checkpoint) {
            let r = try failingClearly { try CheckpointBenchmark.run(repetitions: repeats ?? 7) }
            console.say(r.description)
            output.checkpoint = CheckpointFigures(
                parameterCount: r.parameterCount, fileBytes: r.fileBytes, repetitions: r.repetitions,
                saveMilliseconds: r.saveMedianMilliseconds, loadMilliseconds: r.loadMedianMilliseconds,
                saveCpuMilliseconds: r.saveMedianCPUMilliseconds, loadCpuMilliseconds: r.loadMedianCPUMilliseconds,
                isolatedLoadMilliseconds: r.isolatedLoadMedianMilliseconds, isolationRatio: r.isolationRatio,
                coldLoadMilliseconds: r.coldLoadMedianMilliseconds, coldIsolatedLoadMilliseconds: r.coldIsolatedLoadMedianMilliseconds,
                coldIsolationRatio: r.coldIsolationRatio, firstIsolatedLoadMilliseconds: r.firstIsolatedLoadMilliseconds,
                signedIsolatedLoadMilliseconds: r.signedIsolatedLoadMedianMilliseconds)
        }
        try console.emit(output)
    }

    /// Training and inference speed against sgemm, per batch size.
    func runCore(_ console: Console, into output: inout Output) {
        let repeats = self.repeats ?? 9
        console.say("MLP 784-256-128-10, Adam; medians of \(repeats) repeats")
        console.say("batch   train samples/s   infer samples/s   train GFLOP/s   sgemm GFLOP/s   fraction")
        var train: [String: Double] = [:], infer: [String: Double] = [:], gflops: [String: Double] = [:], fraction: [String: Double] = [:]
        for batch in parsedBatches! {
            let r = TrainingBenchmark.run(batch: batch, repeats: repeats, seed: common.seed)
            console.say(
                pad(String(batch), 5) + pad(fixed(r.trainSamplesPerSecond, 0), 18) + pad(fixed(r.inferenceSamplesPerSecond, 0), 18)
                    + pad(fixed(r.trainGFLOPS, 1), 16) + pad(fixed(r.sgemmGFLOPS, 1), 16) + pad(fixed(r.sgemmFraction, 3), 11))
            let key = String(batch)
            train[key] = r.trainSamplesPerSecond
            infer[key] = r.inferenceSamplesPerSecond
            gflops[key] = r.sgemmGFLOPS
            fraction[key] = r.sgemmFraction
        }
        output.trainSamplesPerSecond = train
        output.inferenceSamplesPerSecond = infer
        output.sgemmGflops = gflops
        output.sgemmFraction = fraction
    }
}

/// Right-aligns `text` in `width` columns.
func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
}
