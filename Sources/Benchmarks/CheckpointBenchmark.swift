import Foundation
import Continual
import MoE

/// Measures how long saving and loading a checkpoint takes, for `moe bench` and
/// `docs/benchmarks.md`.
public enum CheckpointBenchmark {
    /// Median times over the repetitions.
    public struct Result: Sendable, Equatable, CustomStringConvertible {
        public var parameterCount: Int
        public var fileBytes: Int
        public var repetitions: Int
        /// `Checkpoint(model:optimizer:)` plus `save(to:)`, including both fsyncs.
        public var saveMedianMilliseconds: Double
        /// `load(from:)` plus `makeModel()` and `makeOptimizer(for:)`.
        public var loadMedianMilliseconds: Double
        /// The process's CPU time for a save (wall time minus waiting for the disk or
        /// for a busy machine).
        public var saveMedianCPUMilliseconds: Double
        /// The process's CPU time for a load.
        public var loadMedianCPUMilliseconds: Double

        public var description: String {
            func f(_ value: Double) -> String { String(format: "%.1f", value) }
            return "checkpoint of \(parameterCount) parameters + Adam state (\(fileBytes) bytes): "
                + "save \(f(saveMedianMilliseconds)) ms (CPU \(f(saveMedianCPUMilliseconds)) ms), "
                + "load \(f(loadMedianMilliseconds)) ms (CPU \(f(loadMedianCPUMilliseconds)) ms), median of \(repetitions)"
        }
    }

    /// Saves and loads a model of `sizes` (default 784-1024-256-10, about 1.07M
    /// parameters) with Adam moments for every parameter, `repetitions` times each, in a
    /// temporary folder (or `folder`), and returns the median times.
    public static func run(
        sizes: [Int] = [784, 1024, 256, 10], repetitions: Int = 7, folder: String? = nil
    ) throws(CheckpointError) -> Result {
        precondition(repetitions >= 1, "The benchmark needs at least one repetition")
        var generator = SeededGenerator(seed: 2024)
        var model = MixtureOfExperts(sizes: sizes, generator: &generator)
        var adam = Adam()
        let inputs = Matrix.uniform(rows: 32, columns: sizes[0], low: 0, high: 1, using: &generator)
        let labels = (0..<32).map { _ in generator.nextInt(below: sizes.last!) }
        let (_, gradients, _) = model.lossAndGradients(inputs, labels: labels)
        adam.update(&model, gradients: gradients, frozen: model.frozen)

        let directory = folder ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("moe-checkpoint-bench-\(UInt64.random(in: 0...UInt64.max))").path
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .writeFailed(file: directory, reason: "cannot create the benchmark folder: \(error)")
        }
        defer { if folder == nil { try? FileManager.default.removeItem(atPath: directory) } }
        let path = directory + "/bench.h5"

        let clock = ContinuousClock()
        var saves: [Double] = [], loads: [Double] = [], saveCPU: [Double] = [], loadCPU: [Double] = []
        for _ in 0..<repetitions {
            var start = clock.now
            var cpu = cpuMilliseconds()
            try Checkpoint(model: model, optimizer: adam).save(to: path)
            saves.append(milliseconds(clock.now - start))
            saveCPU.append(cpuMilliseconds() - cpu)
            start = clock.now
            cpu = cpuMilliseconds()
            let checkpoint = try Checkpoint.load(from: path)
            let restored = try checkpoint.makeModel()
            _ = try checkpoint.makeOptimizer(for: restored)
            loads.append(milliseconds(clock.now - start))
            loadCPU.append(cpuMilliseconds() - cpu)
        }
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        let bytes = (attributes?[.size] as? NSNumber)?.intValue ?? 0
        return Result(parameterCount: model.parameterCount, fileBytes: bytes, repetitions: repetitions,
                      saveMedianMilliseconds: median(saves), loadMedianMilliseconds: median(loads),
                      saveMedianCPUMilliseconds: median(saveCPU), loadMedianCPUMilliseconds: median(loadCPU))
    }

    /// CPU time used by this process so far.
    private static func cpuMilliseconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) * 1000 + Double(time.tv_nsec) / 1e6
    }

    private static func milliseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }

    private static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
