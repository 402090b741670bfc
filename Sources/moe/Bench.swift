import ArgumentParser
import Foundation
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
            routing, balanced and skewed, against the trunk alone), checkpoint (save and load \
            of a 1.07M-parameter checkpoint with Adam state), threads (cblas_sgemm with one \
            and two threads by product size), reading (a 100 MB CSV of Fashion-MNIST rows, \
            plain and gzip, the same rows as ARFF, and the IDX files, read through the learner's sources), or all. \
            docs/benchmarks.md records the figures.
            """)

    @OptionGroup var common: CommonOptions

    @Option(help: "Comma-separated batch sizes.")
    var batches: String = "32,128,512"

    @Option(help: "Timed repetitions per figure, the median is reported (default: 9 per batch size for core, 60 steps for covariance, 30 for experts, 7 saves and loads for checkpoint).")
    var repeats: Int?

    @Option(help: "OpenBLAS threads: a count for every product, or auto (two threads for products of at least 1e7 FLOPs, as measured; the default unless MOE_BLAS_THREADS says otherwise).")
    var threads: String?

    @Option(help: "Figures of the same MLP in PyTorch, as scripts/bench_reference.py writes them (scripts/bench-reference.sh runs both): the core suite then runs at the reference's thread counts and prints one comparison table.")
    var reference: String?

    @Option(help: "With --suite reading: write the generated CSV files (and plain IDX copies) into this folder and keep them; by default a temporary folder is used and removed.")
    var dataDirectory: String?

    @Option(help: "With --suite reading: bytes of CSV text to generate from the Fashion-MNIST training images.")
    var csvBytes: Int = 100_000_000

    @Option(help: "What to measure: core, covariance, experts, checkpoint, threads, reading or all.")
    var suite: Suite = .core

    enum Suite: String, ExpressibleByArgument, CaseIterable {
        case core, covariance, experts, checkpoint, threads, reading, all

        func includes(_ part: Suite) -> Bool { self == .all || self == part }
    }

    func validate() throws {
        guard parsedBatches != nil else {
            throw ValidationError("--batches must be positive integers separated by commas, got '\(batches)'")
        }
        if let repeats, repeats < 1 { throw ValidationError("--repeats must be at least 1") }
        if let threads, BLAS.ThreadPolicy(environmentValue: threads) == nil {
            throw ValidationError("--threads must be a positive count or auto, got '\(threads)'")
        }
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
        var blasThreadPolicy: String
        /// What the core suite trains on.
        var data: String?
        var trainSamplesPerSecond: [String: Double]?
        var inferenceSamplesPerSecond: [String: Double]?
        var sgemmGflops: [String: Double]?
        var sgemmFraction: [String: Double]?
        var stepMilliseconds: [String: Double]?
        var sgemmMilliseconds: [String: Double]?
        var updateMilliseconds: [String: Double]?
        var generalTrainSamplesPerSecond: [String: Double]?
        var generalSgemmFraction: [String: Double]?
        var covariance: CovarianceFigures?
        var experts: [ExpertFigure]?
        var checkpoint: CheckpointFigures?
        var threads: [ThreadsBenchmark.Figure]?
        var reading: [ReadingBenchmark.Figure]?
        var reference: [ReferenceComparison]?
        var referenceLibrary: String?
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
        var gate: String
        var experts: Int
        var milliseconds: Double
        var cpuMilliseconds: Double
        /// CPU time relative to the trunk alone (all trainable).
        var cpuRelativeToTrunk: Double
        var expertRows: Int
        var rowsPerExpert: [Int]
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
        if let threads { BLAS.threadPolicy = BLAS.ThreadPolicy(environmentValue: threads)! }
        if let invalid = BLAS.invalidThreadSetting {
            console.say("warning: \(BLAS.ThreadPolicy.environmentVariable)='\(invalid)' is neither a thread count nor auto; ignored")
        }
        let info = BLAS.info, policy = BLAS.threadPolicy
        console.say("BLAS: \(info.library), kernel \(info.kernel) (chosen by \(info.kernelSource)); \(policy)")
        var output = Output(blasKernel: info.kernel, blasKernelSource: info.kernelSource, blasThreads: policy.maximumThreads,
                            blasThreadPolicy: policy.description)
        if let reference {
            try runReference(console, path: reference, into: &output)
        } else if suite.includes(.core) {
            runCore(console, into: &output)
        }
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
                ExpertFigure(routing: $0.routing, gate: $0.gate, experts: $0.experts, milliseconds: $0.milliseconds,
                             cpuMilliseconds: $0.cpuMilliseconds, cpuRelativeToTrunk: $0.cpuMilliseconds / base,
                             expertRows: $0.expertRows, rowsPerExpert: $0.rowsPerExpert)
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
        if suite.includes(.threads) {
            let figures = ThreadsBenchmark.run(repeats: repeats ?? 7, seed: common.seed)
            console.say("cblas_sgemm with one and two threads, medians of \(repeats ?? 7):")
            console.say(ThreadsBenchmark.report(figures))
            output.threads = figures
        }
        if suite.includes(.reading) { try runReading(console, into: &output) }
        try console.emit(output)
    }

    /// Training and inference speed against sgemm, per batch size.
    func runCore(_ console: Console, into output: inout Output) {
        let repeats = self.repeats ?? 9
        let workload = Self.trainingWorkload(seed: common.seed)
        output.data = workload.name
        console.say("MLP 784-256-128-10, Adam (\(Adam.vectorBits)-bit vectors), data: \(workload.name); medians of \(repeats) repeats of 20 steps")
        console.say("batch   train samples/s   infer samples/s   step ms   sgemm ms   Adam ms   fraction   general samples/s   fraction")
        var figures = CoreFigures()
        for batch in parsedBatches! {
            let r = TrainingBenchmark.run(batch: batch, workload: workload, repeats: repeats, seed: common.seed)
            console.say(
                pad(String(batch), 5) + pad(fixed(r.trainSamplesPerSecond, 0), 18) + pad(fixed(r.inferenceSamplesPerSecond, 0), 18)
                    + pad(fixed(r.stepMilliseconds, 3), 10) + pad(fixed(r.sgemmMilliseconds, 3), 11)
                    + pad(fixed(r.updateMilliseconds, 3), 10) + pad(fixed(r.sgemmFraction, 3), 11)
                    + pad(fixed(r.generalSamplesPerSecond, 0), 20) + pad(fixed(r.generalSgemmFraction, 3), 11))
            figures.add(r)
        }
        figures.store(in: &output)
    }

    /// The core suite at each of the reference's thread counts, beside its figures.
    func runReference(_ console: Console, path: String, into output: inout Output) throws {
        let reference = try failingClearly { try Reference.load(path: path) }
        let repeats = self.repeats ?? 9
        let workload = Self.trainingWorkload(seed: common.seed)
        output.data = workload.name
        console.say("reference: \(reference.library) \(reference.version) from \(path) (data: \(reference.data ?? "?"))")
        console.say("this framework: data \(workload.name); medians of \(repeats) repeats of 20 steps")
        var rows: [ReferenceComparison] = []
        var figures = CoreFigures()
        for threads in reference.threadCounts {
            for batch in parsedBatches! {
                guard let entry = reference.entry(threads: threads, batch: batch) else { continue }
                let r = BLAS.withThreadPolicy(.fixed(threads)) {
                    TrainingBenchmark.run(batch: batch, workload: workload, repeats: repeats, seed: common.seed)
                }
                console.say("  \(threads) thread(s), batch \(batch): \(fixed(r.trainSamplesPerSecond, 0)) samples/s, "
                            + "sgemm fraction \(fixed(r.sgemmFraction, 3))")
                if threads == reference.threadCounts.first { figures.add(r) }
                rows.append(ReferenceComparison(r, threads: threads, reference: entry))
            }
        }
        guard !rows.isEmpty else {
            throw CommandFailure("\(path) has no figures for batch sizes \(batches)")
        }
        console.say(ReferenceComparison.report(rows, reference: reference))
        figures.store(in: &output)
        output.reference = rows
        output.referenceLibrary = "\(reference.library) \(reference.version)"
    }

    /// CSV (plain and gzip) and IDX (plain and gzip) read through the learner's sources.
    func runReading(_ console: Console, into output: inout Output) throws {
        let train = FashionMNIST.files(split: .train)
        guard FashionMNIST.isAvailable() else {
            throw CommandFailure(DataError.missingDataset(name: "Fashion-MNIST", path: train.images, package: FashionMNIST.package))
        }
        let directory: String
        if let dataDirectory {
            try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
            directory = dataDirectory
        } else {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("moe-reading-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        defer { if dataDirectory == nil { try? FileManager.default.removeItem(atPath: directory) } }
        console.say("writing \(csvBytes / 1_000_000) MB of CSV from \(train.images) into \(directory)")
        let files = try failingClearly { try ReadingBenchmark.prepare(in: directory, images: train.images, labels: train.labels, csvBytes: csvBytes) }
        let figures = try failingClearly { try ReadingBenchmark.run(files, repeats: repeats ?? 3) }
        console.say("reading to the end in batches of 128 (CSVSource, IDXSource), medians of \(repeats ?? 3):")
        console.say(ReadingBenchmark.report(figures))
        output.reading = figures
    }

    /// The first 16,384 training rows of Fashion-MNIST (scaled to [0, 1], in file order),
    /// or random rows when the data set is not installed.
    static func trainingWorkload(seed: UInt64) -> TrainingBenchmark.Workload {
        guard let data = try? FashionMNIST.load(split: .train) else {
            return .random(width: FashionMNIST.inputWidth, classes: 10, seed: seed)
        }
        return TrainingBenchmark.Workload(name: "Fashion-MNIST train, first 16384 rows", features: data.features,
                                          labels: data.labels)
    }
}

/// The core suite's figures, keyed by batch size.
struct CoreFigures {
    var train: [String: Double] = [:], infer: [String: Double] = [:], gflops: [String: Double] = [:]
    var fraction: [String: Double] = [:], step: [String: Double] = [:], sgemm: [String: Double] = [:]
    var update: [String: Double] = [:], general: [String: Double] = [:], generalFraction: [String: Double] = [:]

    mutating func add(_ r: TrainingBenchmark.Result) {
        let key = String(r.batchSize)
        train[key] = r.trainSamplesPerSecond
        infer[key] = r.inferenceSamplesPerSecond
        gflops[key] = r.sgemmGFLOPS
        fraction[key] = r.sgemmFraction
        step[key] = r.stepMilliseconds
        sgemm[key] = r.sgemmMilliseconds
        update[key] = r.updateMilliseconds
        general[key] = r.generalSamplesPerSecond
        generalFraction[key] = r.generalSgemmFraction
    }

    func store(in output: inout Bench.Output) {
        output.trainSamplesPerSecond = train
        output.inferenceSamplesPerSecond = infer
        output.sgemmGflops = gflops
        output.sgemmFraction = fraction
        output.stepMilliseconds = step
        output.sgemmMilliseconds = sgemm
        output.updateMilliseconds = update
        output.generalTrainSamplesPerSecond = general
        output.generalSgemmFraction = generalFraction
    }
}

/// Right-aligns `text` in `width` columns.
func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
}
