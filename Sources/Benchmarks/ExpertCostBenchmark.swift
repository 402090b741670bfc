#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MoE

/// Measures what one training step costs with E experts under top-1 routing, against
/// the trunk alone and against dense (softmax) routing over the same experts.
///
/// A step is forward, backward and an Adam update of the trainable parameters. In the
/// routed configurations the trunk is frozen and every expert and the gate are trainable
/// (the worst case: normally only the newest expert trains). Top-1 routing is measured
/// with three gates:
/// - `random`: gate weights drawn at random, as a freshly grown gate has them; the rows
///   then go wherever the largest random score falls (often one or two experts take most);
/// - `balanced`: every expert gets `B / E` rows (row `r` goes to expert `r mod E`);
/// - `skewed`: expert 0 gets half the rows, expert 1 a quarter, the others share the rest.
/// The balanced and skewed gates read one marker input per expert: row `r`'s marker for
/// its chosen expert is set to 1.5 (the other inputs are uniform in [0, 1)) and the gate
/// scores input `p_e` with weight 10, so the routing holds while the gate trains.
/// `rowsPerExpert` reports where the rows went.
public enum ExpertCostBenchmark {
    /// How the top-1 gate spreads rows over the experts.
    public enum Spread: String, Sendable, CaseIterable {
        case random, balanced, skewed

        /// The expert each of `rows` rows goes to, for the balanced and skewed gates.
        public func targets(rows: Int, experts: Int) -> [Int] {
            (0..<rows).map { r in
                switch self {
                case .random, .balanced: return r % experts
                case .skewed:
                    if experts == 1 || 2 * r < rows { return 0 }
                    if experts == 2 || 4 * r < 3 * rows { return 1 }
                    return 2 + r % (experts - 2)
                }
            }
        }
    }

    /// One configuration's timing.
    public struct Figure: Sendable, Equatable {
        /// `trunk` (all trainable), `frozen` (trunk frozen, no expert), `top-1` or `softmax`.
        public var routing: String
        /// The top-1 gate (`random`, `balanced`, `skewed`); `random` for softmax, empty
        /// for the trunk alone.
        public var gate: String
        /// Number of experts (0 for the trunk alone).
        public var experts: Int
        /// Median wall-clock milliseconds per training step.
        public var milliseconds: Double
        /// Median CPU milliseconds of the calling thread per step (OpenBLAS runs on it
        /// with one thread); steadier than wall time on a busy machine.
        public var cpuMilliseconds: Double
        /// Rows evaluated by experts per step, summed over experts (batch size under top-1).
        public var expertRows: Int
        /// Rows each expert evaluated, by expert.
        public var rowsPerExpert: [Int]
    }

    /// Runs the benchmark.
    ///
    /// - Parameters:
    ///   - sizes: Trunk sizes.
    ///   - batchSize: Rows per step.
    ///   - expertCounts: Values of E.
    ///   - expertWidth: Hidden width of each expert.
    ///   - detectorCount: Detectors each expert reads (plus the full input of its layer).
    ///   - layer: Hidden layer the experts are planted at.
    ///   - steps: Timed steps per configuration (after 3 warm-up steps).
    ///   - includeSoftmax: Whether to time dense softmax routing too.
    ///   - spreads: The top-1 gates to time.
    ///   - seed: Seed of weights and data.
    public static func run(
        sizes: [Int] = [784, 256, 128, 10], batchSize: Int = 128, expertCounts: [Int] = [1, 4, 16],
        expertWidth: Int = 64, detectorCount: Int = 16, layer: Int = 1, steps: Int = 30,
        includeSoftmax: Bool = true, spreads: [Spread] = Spread.allCases, seed: UInt64 = 1
    ) -> [Figure] {
        precondition(steps > 0 && batchSize > 0, "The benchmark needs steps and rows")
        precondition(expertCounts.allSatisfy { $0 >= 1 && $0 <= sizes[0] }, "Each expert needs a marker input")
        var generator = SeededGenerator(seed: seed)
        let input = Matrix.uniform(rows: batchSize, columns: sizes[0], low: 0, high: 1, using: &generator)
        let labels = (0..<batchSize).map { $0 % sizes.last! }
        let trunk = MixtureOfExperts(sizes: sizes, generator: &generator)
        var figures = [time(trunk, input: input, labels: labels, steps: steps, routing: "trunk", gate: "", experts: 0)]
        // The trunk's share of a routed step: forward, and a backward that stops at once.
        var frozen = trunk
        frozen.freezeAll()
        figures.append(time(frozen, input: input, labels: labels, steps: steps, routing: "frozen", gate: "", experts: 0))
        for count in expertCounts {
            var model = trunk
            model.configureGate(.learned(selection: .topK(1), includesTrunk: false))
            let width = model.trunk.hiddenWidths[layer]
            for _ in 0..<count {
                let detectors = Array(generator.permutation(width).prefix(detectorCount))
                model.grow(at: layer, detectors: detectors, hiddenWidth: expertWidth, generator: &generator)
            }
            // Trunk frozen; every expert and the gate trainable; weights random.
            model.frozen = model.frozen.filter { $0.hasPrefix("trunk.") }
            model.updateParameters { path, value in
                guard path.hasPrefix("gate.") || path.hasPrefix("experts.") else { return }
                value = .uniform(rows: value.rows, columns: value.columns, low: -0.1, high: 0.1, using: &generator)
            }
            let markers = Array(generator.permutation(sizes[0]).prefix(count))
            for spread in spreads {
                var routed = model, x = input
                if spread != .random {
                    for (r, e) in spread.targets(rows: batchSize, experts: count).enumerated() { x[r, markers[e]] = 1.5 }
                    for e in 0..<count {
                        var weight = Matrix(rows: sizes[0], columns: 1)
                        weight[markers[e], 0] = 10
                        routed.gate.slotWeights[e] = weight
                        routed.gate.slotBiases[e] = Matrix(rows: 1, columns: 1)
                    }
                }
                figures.append(time(routed, input: x, labels: labels, steps: steps, routing: "top-1", gate: spread.rawValue,
                                    experts: count))
            }
            if includeSoftmax {
                var dense = model
                dense.configureGate(.learned(selection: .softmax, includesTrunk: false))
                dense.updateParameters { path, value in
                    guard path.hasPrefix("gate.") else { return }
                    value = .uniform(rows: value.rows, columns: value.columns, low: -0.1, high: 0.1, using: &generator)
                }
                figures.append(time(dense, input: input, labels: labels, steps: steps, routing: "softmax", gate: "random",
                                    experts: count))
            }
        }
        return figures
    }

    private static func time(
        _ start: MixtureOfExperts, input: Matrix, labels: [Int], steps: Int, routing: String, gate: String, experts: Int
    ) -> Figure {
        var model = start
        var adam = Adam(learningRate: 1e-4)
        var noise = SeededGenerator(seed: 2)
        let clock = ContinuousClock()
        var wall: [Double] = [], cpu: [Double] = []
        for step in 0..<(steps + 3) {
            let began = clock.now, cpuBegan = threadCPUMilliseconds()
            model.trainingStep(input, labels: labels, optimizer: &adam, noise: &noise)
            let elapsed = clock.now - began
            if step >= 3 {
                wall.append(Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) * 1e-15)
                cpu.append(threadCPUMilliseconds() - cpuBegan)
            }
        }
        var perExpert = [Int](repeating: 0, count: experts)
        for pass in model.forward(input).experts { perExpert[pass.expert] = pass.rows.count }
        return Figure(routing: routing, gate: gate, experts: experts, milliseconds: median(wall), cpuMilliseconds: median(cpu),
                      expertRows: perExpert.reduce(0, +), rowsPerExpert: perExpert)
    }

    private static func median(_ values: [Double]) -> Double {
        values.sorted()[values.count / 2]
    }

    /// CPU time of the calling thread, in milliseconds.
    private static func threadCPUMilliseconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) * 1e3 + Double(t.tv_nsec) * 1e-6
    }

    /// A table of the figures, relative to the trunk alone.
    public static func report(_ figures: [Figure]) -> String {
        let base = figures.first { $0.experts == 0 }?.cpuMilliseconds ?? 1
        var lines = ["BLAS kernel: \(BLAS.info.kernel) (\(BLAS.info.kernelSource)); \(BLAS.threadPolicy)",
                     "routing  gate      experts  wall ms  cpu ms   cpu x trunk  expert rows  rows per expert"]
        func rounded(_ x: Double) -> String { String((x * 100).rounded() / 100) }
        for f in figures {
            lines.append([f.routing.padding(8), f.gate.padding(9), String(f.experts).padding(8), rounded(f.milliseconds).padding(8),
                          rounded(f.cpuMilliseconds).padding(8), rounded(f.cpuMilliseconds / base).padding(12),
                          String(f.expertRows).padding(12), f.rowsPerExpert.map(String.init).joined(separator: " ")]
                .joined(separator: " "))
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
