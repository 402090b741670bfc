import ArgumentParser
import MoE

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure training and inference speed against cblas_sgemm on the same shapes.",
        discussion: """
            Figures are medians of repeated runs in this process; the sgemm fraction is the \
            training FLOP rate divided by the rate cblas_sgemm reaches on exactly the \
            products of one training step. Build in release mode first: swift build -c release.
            """)

    @OptionGroup var common: CommonOptions

    @Option(help: "Comma-separated batch sizes.")
    var batches: String = "32,128,512"

    @Option(help: "Timed repetitions per figure (the median is reported).")
    var repeats: Int = 9

    @Option(help: "Threads OpenBLAS may use.")
    var threads: Int = 1

    func validate() throws {
        guard parsedBatches != nil else {
            throw ValidationError("--batches must be positive integers separated by commas, got '\(batches)'")
        }
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
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
        var trainSamplesPerSecond: [String: Double]
        var inferenceSamplesPerSecond: [String: Double]
        var sgemmGflops: [String: Double]
        var sgemmFraction: [String: Double]
    }

    func run() throws {
        let console = Console(json: common.json)
        BLAS.setThreads(threads)
        let info = BLAS.info
        console.say("BLAS: \(info.library), kernel \(info.kernel) (chosen by \(info.kernelSource)), \(threads) thread(s)")
        console.say("MLP 784-256-128-10, Adam; medians of \(repeats) repeats")
        console.say("batch   train samples/s   infer samples/s   train GFLOP/s   sgemm GFLOP/s   fraction")
        var output = Output(
            blasKernel: info.kernel, blasKernelSource: info.kernelSource, blasThreads: threads,
            trainSamplesPerSecond: [:], inferenceSamplesPerSecond: [:], sgemmGflops: [:], sgemmFraction: [:])
        for batch in parsedBatches! {
            let r = TrainingBenchmark.run(batch: batch, repeats: repeats, seed: common.seed)
            console.say(
                pad(String(batch), 5) + pad(fixed(r.trainSamplesPerSecond, 0), 18) + pad(fixed(r.inferenceSamplesPerSecond, 0), 18)
                    + pad(fixed(r.trainGFLOPS, 1), 16) + pad(fixed(r.sgemmGFLOPS, 1), 16) + pad(fixed(r.sgemmFraction, 3), 11))
            let key = String(batch)
            output.trainSamplesPerSecond[key] = r.trainSamplesPerSecond
            output.inferenceSamplesPerSecond[key] = r.inferenceSamplesPerSecond
            output.sgemmGflops[key] = r.sgemmGFLOPS
            output.sgemmFraction[key] = r.sgemmFraction
        }
        try console.emit(output)
    }
}

/// Right-aligns `text` in `width` columns.
func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
}
