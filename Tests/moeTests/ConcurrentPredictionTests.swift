import Dispatch
import Foundation
import MoE
import Testing

/// Issue 7, item 6: a model snapshot (a `Sendable` value) predicts from several threads at
/// once with the results of one thread, bit for bit, while a copy of it trains.
///
/// All products go through OpenBLAS, one library state shared by every thread. Debian's
/// pthread OpenBLAS 0.3.21 is built with `USE_THREAD=1`, which implies its internal
/// locking; with one OpenBLAS thread per call (`BLAS.setThreads(1)`, the framework's
/// default) each `cblas_sgemm` runs in its caller's thread and only the buffer pool is
/// shared (under that lock). The tests below exercise exactly that.
@Suite("Concurrent prediction on a snapshot")
struct ConcurrentPredictionTests {
    /// Results by index, written from many threads.
    final class Results: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [Int: Matrix] = [:]
        func set(_ index: Int, _ value: Matrix) { lock.withLock { values[index] = value } }
        var all: [Int: Matrix] { lock.withLock { values } }
    }

    /// A trunk-only model 784-256-128-10 and a grown one (two experts, top-2 learned gate).
    static func models() -> [MixtureOfExperts] {
        var generator = SeededGenerator(seed: 31)
        let plain = MixtureOfExperts(sizes: [784, 256, 128, 10], generator: &generator)
        var grown = MixtureOfExperts(sizes: [64, 48, 32, 6], generator: &generator)
        grown.configureGate(.learned(selection: .topK(2)))
        grown.grow(at: 0, detectors: [1, 5, 9, 20], hiddenWidth: 16, generator: &generator)
        grown.grow(at: 1, detectors: [0, 2, 3], hiddenWidth: 16, generator: &generator)
        // Freshly grown output layers are zero: give every parameter a value so the
        // experts and the gate change the logits.
        grown.updateParameters { path, value in
            guard !path.hasPrefix("trunk") else { return }
            value = .uniform(rows: value.rows, columns: value.columns, low: -0.5, high: 0.5, using: &generator)
        }
        return [plain, grown]
    }

    /// Batches of different sizes (1 to 300 rows) for `model`.
    static func batches(for model: MixtureOfExperts, seed: UInt64) -> [Matrix] {
        var generator = SeededGenerator(seed: seed)
        return [1, 7, 64, 128, 300, 33, 2, 250].map {
            .uniform(rows: $0, columns: model.inputWidth, low: -1, high: 1, using: &generator)
        }
    }

    @Test("OpenBLAS uses one thread per call (the setting the concurrency guarantee needs)")
    func singleThreadedBLAS() {
        #expect(BLAS.info.threads == 1)
        #expect(BLAS.info.library.contains("openblas"), "\(BLAS.info.library)")
    }

    @Test("DispatchQueue.concurrentPerform: 96 predictions from all cores equal the single-threaded ones")
    func dispatchConcurrentPerform() {
        for (m, model) in Self.models().enumerated() {
            let snapshot = model
            let batches = Self.batches(for: snapshot, seed: UInt64(40 + m))
            let reference = batches.map { snapshot($0) }
            // The grown model routes through its experts: the test covers them.
            if m == 1 { #expect(!snapshot.forward(batches[4]).experts.isEmpty) }
            let results = Results()
            DispatchQueue.concurrentPerform(iterations: 96) { i in
                results.set(i, snapshot(batches[i % batches.count]))
            }
            let all = results.all
            #expect(all.count == 96)
            for i in 0..<96 {
                #expect(all[i] == reference[i % batches.count], "model \(m), call \(i) differs")
            }
        }
    }

    @Test("Eight threads (more than the cores) calling OpenBLAS at once get the single-threaded results")
    func moreThreadsThanCores() {
        let snapshot = Self.models()[0]
        let batches = Self.batches(for: snapshot, seed: 50)
        let reference = batches.map { snapshot($0) }
        let results = Results()
        let group = DispatchGroup()
        for t in 0..<8 {
            group.enter()
            Thread.detachNewThread {
                for j in 0..<12 {
                    let i = t * 12 + j
                    results.set(i, snapshot(batches[(t + j) % batches.count]))
                }
                group.leave()
            }
        }
        group.wait()
        let all = results.all
        #expect(all.count == 96)
        for t in 0..<8 {
            for j in 0..<12 {
                #expect(all[t * 12 + j] == reference[(t + j) % batches.count], "thread \(t), call \(j) differs")
            }
        }
    }

    /// What a task of the group returns.
    enum Outcome: Sendable {
        case prediction(Int, [Int])
        case trained(MixtureOfExperts)
    }

    @Test("A task group predicts while another task trains a copy; the snapshot is untouched")
    func taskGroupWhileTraining() async throws {
        let model = Self.models()[1]
        let batches = Self.batches(for: model, seed: 77)
        let reference = batches.map { model.predict($0) }
        let referenceLogits = batches.map { model($0) }
        let outcomes = await withTaskGroup(of: Outcome.self, returning: [Outcome].self) { group in
            group.addTask {
                // The learner's own state: a copy of the snapshot, trained in place.
                var learner = model
                var adam = Adam(learningRate: 0.05)
                let labels = (0..<batches[4].rows).map { $0 % learner.classCount }
                for _ in 0..<20 {
                    let (_, gradients, _) = learner.lossAndGradients(batches[4], labels: labels)
                    adam.update(&learner, gradients: gradients, frozen: learner.frozen)
                }
                return .trained(learner)
            }
            for i in 0..<64 {
                group.addTask { .prediction(i, model.predict(batches[i % batches.count])) }
            }
            var all: [Outcome] = []
            for await outcome in group { all.append(outcome) }
            return all
        }
        var predictions = 0
        var learner: MixtureOfExperts?
        for outcome in outcomes {
            switch outcome {
            case let .prediction(i, prediction):
                predictions += 1
                #expect(prediction == reference[i % batches.count], "call \(i) differs")
            case let .trained(model):
                learner = model
            }
        }
        #expect(predictions == 64)
        // Training changed the copy's trainable weights, not the snapshot's.
        let trained = try #require(learner)
        #expect(trained.parameters != model.parameters)
        #expect(batches.map { model($0) } == referenceLogits)
    }
}
