import Foundation
import Continual
import MoE

#if canImport(Glibc)
import Glibc
#endif

/// Measures how long saving and loading a checkpoint takes, parsed in this process and in
/// the isolated reader process, with the file in the page cache and evicted from it, for
/// `moe bench` and `docs/benchmarks.md`.
public enum CheckpointBenchmark {
    /// Median times over the repetitions.
    public struct Result: Sendable, Equatable, CustomStringConvertible {
        public var parameterCount: Int
        public var fileBytes: Int
        public var repetitions: Int
        /// `Checkpoint(model:optimizer:)` plus `save(to:)`, including both fsyncs.
        public var saveMedianMilliseconds: Double
        /// `load(from:parsing: .inProcess)` plus `makeModel()` and `makeOptimizer(for:)`,
        /// the file in the page cache.
        public var loadMedianMilliseconds: Double
        /// The process's CPU time for a save (wall time minus waiting for the disk or
        /// for a busy machine).
        public var saveMedianCPUMilliseconds: Double
        /// The process's CPU time for an in-process load.
        public var loadMedianCPUMilliseconds: Double
        /// The same load parsed in the reader process (already running), page cache warm.
        public var isolatedLoadMedianMilliseconds: Double
        /// This process's CPU time for an isolated load (the reader's is not counted).
        public var isolatedLoadMedianCPUMilliseconds: Double
        /// In-process load with the file evicted from the page cache first.
        public var coldLoadMedianMilliseconds: Double
        /// Isolated load with the file evicted from the page cache first.
        public var coldIsolatedLoadMedianMilliseconds: Double
        /// The first isolated load of the process, which starts the reader.
        public var firstIsolatedLoadMilliseconds: Double
        /// An isolated load of the same checkpoint signed, with its key trusted (the
        /// signature verified before the parse).
        public var signedIsolatedLoadMedianMilliseconds: Double

        /// Isolated over in-process load time, page cache warm.
        public var isolationRatio: Double { isolatedLoadMedianMilliseconds / loadMedianMilliseconds }
        /// Isolated over in-process load time, page cache cold.
        public var coldIsolationRatio: Double { coldIsolatedLoadMedianMilliseconds / coldLoadMedianMilliseconds }

        public var description: String {
            func f(_ value: Double) -> String { String(format: "%.1f", value) }
            return "checkpoint of \(parameterCount) parameters + Adam state (\(fileBytes) bytes), median of \(repetitions):\n"
                + "  save \(f(saveMedianMilliseconds)) ms (CPU \(f(saveMedianCPUMilliseconds)) ms)\n"
                + "  load in process \(f(loadMedianMilliseconds)) ms (CPU \(f(loadMedianCPUMilliseconds)) ms), "
                + "isolated \(f(isolatedLoadMedianMilliseconds)) ms (CPU here \(f(isolatedLoadMedianCPUMilliseconds)) ms): "
                + "\(String(format: "%.2f", isolationRatio))x, page cache warm\n"
                + "  load in process \(f(coldLoadMedianMilliseconds)) ms, isolated \(f(coldIsolatedLoadMedianMilliseconds)) ms: "
                + "\(String(format: "%.2f", coldIsolationRatio))x, file evicted from the page cache\n"
                + "  first isolated load of the process (starts the reader): \(f(firstIsolatedLoadMilliseconds)) ms\n"
                + "  isolated load of the signed file, its key trusted: \(f(signedIsolatedLoadMedianMilliseconds)) ms"
        }
    }

    /// Saves and loads a model of `sizes` (default 784-1024-256-10, about 1.07M
    /// parameters) with Adam moments for every parameter, `repetitions` times each, in a
    /// temporary folder (or `folder`); the kinds of load alternate within every
    /// repetition, so a change in the machine's load touches them alike.
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

        let signedPath = directory + "/signed.h5"
        let key = CheckpointSigningKey()
        func load(_ parsing: CheckpointParsing, cold: Bool, signed: Bool = false) throws(CheckpointError) -> (Double, Double) {
            if cold { evictFromPageCache(path) }
            let clock = ContinuousClock(), start = clock.now, cpu = cpuMilliseconds()
            let checkpoint = signed
                ? try Checkpoint.load(from: signedPath, trustedKeys: [key.publicKey], parsing: parsing)
                : try Checkpoint.load(from: path, parsing: parsing)
            let restored = try checkpoint.makeModel()
            _ = try checkpoint.makeOptimizer(for: restored)
            return (milliseconds(clock.now - start), cpuMilliseconds() - cpu)
        }

        try Checkpoint(model: model, optimizer: adam).save(to: path)
        try Checkpoint(model: model, optimizer: adam).save(to: signedPath, signingKey: key)
        let (first, _) = try load(.isolated, cold: false)
        var saves: [Double] = [], saveCPU: [Double] = [], loads: [Double] = [], loadCPU: [Double] = []
        var isolated: [Double] = [], isolatedCPU: [Double] = [], cold: [Double] = [], coldIsolated: [Double] = []
        var signed: [Double] = []
        for _ in 0..<repetitions {
            let clock = ContinuousClock(), start = clock.now, cpu = cpuMilliseconds()
            try Checkpoint(model: model, optimizer: adam).save(to: path)
            saves.append(milliseconds(clock.now - start))
            saveCPU.append(cpuMilliseconds() - cpu)
            let (wall, wallCPU) = try load(.inProcess, cold: false)
            loads.append(wall)
            loadCPU.append(wallCPU)
            let (apart, apartCPU) = try load(.isolated, cold: false)
            isolated.append(apart)
            isolatedCPU.append(apartCPU)
            cold.append(try load(.inProcess, cold: true).0)
            coldIsolated.append(try load(.isolated, cold: true).0)
            signed.append(try load(.isolated, cold: false, signed: true).0)
        }
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        let bytes = (attributes?[.size] as? NSNumber)?.intValue ?? 0
        return Result(parameterCount: model.parameterCount, fileBytes: bytes, repetitions: repetitions,
                      saveMedianMilliseconds: median(saves), loadMedianMilliseconds: median(loads),
                      saveMedianCPUMilliseconds: median(saveCPU), loadMedianCPUMilliseconds: median(loadCPU),
                      isolatedLoadMedianMilliseconds: median(isolated), isolatedLoadMedianCPUMilliseconds: median(isolatedCPU),
                      coldLoadMedianMilliseconds: median(cold), coldIsolatedLoadMedianMilliseconds: median(coldIsolated),
                      firstIsolatedLoadMilliseconds: first, signedIsolatedLoadMedianMilliseconds: median(signed))
    }

    /// Drops the file's pages from the page cache (it was fsynced, so they are clean):
    /// the next read comes from the disk.
    private static func evictFromPageCache(_ path: String) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return }
        _ = posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_DONTNEED))
        close(fd)
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
