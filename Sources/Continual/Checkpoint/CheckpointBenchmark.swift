import Foundation
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

        public var description: String {
            let save = String(format: "%.1f", saveMedianMilliseconds)
            let load = String(format: "%.1f", loadMedianMilliseconds)
            return "checkpoint of \(parameterCount) parameters + Adam state (\(fileBytes) bytes): "
                + "save \(save) ms, load \(load) ms (median of \(repetitions))"
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
        var saves: [Double] = [], loads: [Double] = []
        for _ in 0..<repetitions {
            var start = clock.now
            try Checkpoint(model: model, optimizer: adam).save(to: path)
            saves.append(milliseconds(clock.now - start))
            start = clock.now
            let checkpoint = try Checkpoint.load(from: path)
            let restored = try checkpoint.makeModel()
            _ = try checkpoint.makeOptimizer(for: restored)
            loads.append(milliseconds(clock.now - start))
        }
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        let bytes = (attributes?[.size] as? NSNumber)?.intValue ?? 0
        return Result(parameterCount: model.parameterCount, fileBytes: bytes, repetitions: repetitions,
                      saveMedianMilliseconds: median(saves), loadMedianMilliseconds: median(loads))
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
