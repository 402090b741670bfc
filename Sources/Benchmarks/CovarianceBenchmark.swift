import Foundation
import MoE

/// Measures what keeping the covariance statistics costs in a training step.
public enum CovarianceBenchmark {
    /// Median step times with and without the statistics.
    public struct Result: Sendable, Equatable, Codable, CustomStringConvertible {
        /// Layer sizes of the MLP.
        public var sizes: [Int]
        /// Samples per step.
        public var batchSize: Int
        /// Timed steps of each kind.
        public var repetitions: Int
        /// Median seconds of forward + backward + Adam.
        public var plainStep: Double
        /// Median seconds of the same plus `CovarianceTracker.update`.
        public var trackedStep: Double
        /// Median seconds of `CovarianceTracker.update` alone.
        public var update: Double
        /// The BLAS kernel in use.
        public var kernel: String

        /// `trackedStep / plainStep`.
        public var ratio: Double { trackedStep / plainStep }
        /// `update / plainStep`: the statistics' share of a step, measured directly
        /// (less noisy than the difference of two medians).
        public var overhead: Double { update / plainStep }

        public var description: String {
            "MLP \(sizes.map(String.init).joined(separator: "-")), batch \(batchSize), \(repetitions) steps, BLAS kernel \(kernel): "
                + "step \(String(format: "%.3f", plainStep * 1000)) ms, with statistics \(String(format: "%.3f", trackedStep * 1000)) ms "
                + "(ratio \(String(format: "%.3f", ratio))); statistics update alone \(String(format: "%.1f", update * 1e6)) us "
                + "= \(String(format: "%.1f", overhead * 100))% of a step"
        }
    }

    /// Times training steps of an MLP (forward, cross-entropy backward, Adam) on random
    /// data, alternating steps with and without `CovarianceTracker.update` on the
    /// same forward pass, and returns the medians.
    ///
    /// ```
    /// let r = CovarianceBenchmark.trainingStepOverhead()
    /// print(r)          // MLP 784-256-128-10, batch 128, …: … = 1.2% of a step
    /// ```
    public static func trainingStepOverhead(
        sizes: [Int] = [784, 256, 128, 10], batchSize: Int = 128, repetitions: Int = 60, seed: UInt64 = 1
    ) -> Result {
        precondition(repetitions > 0 && batchSize > 0, "Need at least one repetition of a non-empty batch")
        var generator = SeededGenerator(seed: seed)
        var model = MixtureOfExperts(sizes: sizes, generator: &generator)
        var optimizer = Adam()
        var tracker = CovarianceTracker(model: model)
        let input = Matrix.uniform(rows: batchSize, columns: sizes[0], low: 0, high: 1, using: &generator)
        let labels = (0..<batchSize).map { _ in generator.nextInt(below: sizes.last!) }
        let clock = ContinuousClock()

        func seconds(_ d: Duration) -> Double {
            Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        }
        var plain: [Double] = [], tracked: [Double] = [], updates: [Double] = []
        for round in 0..<(repetitions + 5) {
            for withStatistics in [round % 2 == 0, round % 2 != 0] {
                var updateTime = Duration.zero
                let elapsed = clock.measure {
                    let pass = model.forward(input)
                    if withStatistics {
                        updateTime = clock.measure { tracker.update(pass, labels: labels) }
                    }
                    let (_, g) = SoftmaxCrossEntropy.lossAndGradient(logits: pass.logits, labels: labels)
                    let gradients = model.backward(pass, logitGradient: g)
                    optimizer.update(&model, gradients: gradients, frozen: model.frozen)
                }
                guard round >= 5 else { continue }  // warm-up
                if withStatistics {
                    tracked.append(seconds(elapsed))
                    updates.append(seconds(updateTime))
                } else {
                    plain.append(seconds(elapsed))
                }
            }
        }
        func median(_ values: [Double]) -> Double {
            let s = values.sorted()
            return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        }
        return Result(sizes: sizes, batchSize: batchSize, repetitions: repetitions,
                      plainStep: median(plain), trackedStep: median(tracked), update: median(updates),
                      kernel: BLAS.info.kernel)
    }
}
