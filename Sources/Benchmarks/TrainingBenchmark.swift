import MoE

/// Training and inference throughput of an MLP, against `cblas_sgemm` on the same
/// matrix shapes in the same process.
///
/// The FLOP count of one training step on a batch of `B` rows through dense layers
/// `(i_l -> o_l)` is
/// ```
/// forward  Σ 2 B i_l o_l            (x W)
/// backward Σ 2 B i_l o_l            (xᵀ dy, every layer)
///        + Σ_{l > 0} 2 B i_l o_l    (dy Wᵀ, all but the first layer)
/// ```
/// and `sgemmFraction` is the step's FLOP rate divided by the rate `cblas_sgemm`
/// reaches on exactly those products, so 1.0 would mean "no time outside BLAS".
public enum TrainingBenchmark {
    public struct Result: Sendable, Codable, Equatable {
        public var batchSize: Int
        public var trainSamplesPerSecond: Double
        public var inferenceSamplesPerSecond: Double
        public var trainGFLOPS: Double
        public var sgemmGFLOPS: Double
        public var sgemmFraction: Double
    }

    /// FLOPs of one training step (see the type's documentation).
    public static func trainingFLOPs(sizes: [Int], batch: Int) -> Double {
        var total = 0.0
        for l in 0..<(sizes.count - 1) {
            let product = 2.0 * Double(batch * sizes[l] * sizes[l + 1])
            total += l == 0 ? 2 * product : 3 * product
        }
        return total
    }

    /// Runs the benchmark for one batch size.
    ///
    /// - Parameters:
    ///   - sizes: the MLP, default 784-256-128-10.
    ///   - repeats: timed repetitions (the median is reported), each of `stepsPerRepeat` steps.
    public static func run(sizes: [Int] = [784, 256, 128, 10], batch: Int, repeats: Int = 9, stepsPerRepeat: Int = 20, seed: UInt64 = 1) -> Result {
        var generator = SeededGenerator(seed: seed)
        var model = MixtureOfExperts(sizes: sizes, generator: &generator)
        let x = Matrix.uniform(rows: batch, columns: sizes[0], low: 0, high: 1, using: &generator)
        let labels = (0..<batch).map { $0 % sizes.last! }
        var optimizer = Adam()

        // The same products, through sgemm alone, into preallocated outputs.
        let layers = model.trunk.layers.compactMap { $0 as? Dense }
        var activations = [x]
        for layer in layers { activations.append(layer(activations.last!)) }
        var outputs = layers.map { Matrix(rows: batch, columns: $0.outputs) }
        var weightGradients = layers.map { Matrix(rows: $0.inputs, columns: $0.outputs) }
        var inputGradients = layers.map { Matrix(rows: batch, columns: $0.inputs) }
        let outputGradients = layers.map { Matrix.uniform(rows: batch, columns: $0.outputs, low: -1, high: 1, using: &generator) }

        func trainSteps() {
            for _ in 0..<stepsPerRepeat {
                let (_, gradients, _) = model.lossAndGradients(x, labels: labels)
                optimizer.update(&model, gradients: gradients, frozen: model.frozen)
            }
        }
        func inferenceSteps() {
            for _ in 0..<stepsPerRepeat { _ = model.predict(x) }
        }
        func sgemmSteps() {
            for _ in 0..<stepsPerRepeat {
                for l in layers.indices {
                    outputs[l].addProduct(activations[l], layers[l].weight, keep: 0)
                }
                for l in layers.indices.reversed() {
                    weightGradients[l].addProduct(activations[l], outputGradients[l], transposeA: true, keep: 0)
                    if l > 0 { inputGradients[l].addProduct(outputGradients[l], layers[l].weight, transposeB: true, keep: 0) }
                }
            }
        }
        // Interleaved, so that a burst of load on a shared machine hits all three alike:
        // the fraction compares neighbouring timings, not two separate phases.
        trainSteps(); inferenceSteps(); sgemmSteps()
        var train: [Double] = [], inference: [Double] = [], sgemm: [Double] = []
        for _ in 0..<repeats {
            train.append(Stopwatch.time(trainSteps))
            inference.append(Stopwatch.time(inferenceSteps))
            sgemm.append(Stopwatch.time(sgemmSteps))
        }
        let trainSeconds = Stopwatch.median(of: train) / Double(stepsPerRepeat)
        let inferenceSeconds = Stopwatch.median(of: inference) / Double(stepsPerRepeat)
        let sgemmSeconds = Stopwatch.median(of: sgemm) / Double(stepsPerRepeat)

        let flops = trainingFLOPs(sizes: sizes, batch: batch)
        let trainRate = flops / trainSeconds / 1e9
        let sgemmRate = flops / sgemmSeconds / 1e9
        return Result(
            batchSize: batch,
            trainSamplesPerSecond: Double(batch) / trainSeconds,
            inferenceSamplesPerSecond: Double(batch) / inferenceSeconds,
            trainGFLOPS: trainRate, sgemmGFLOPS: sgemmRate, sgemmFraction: trainRate / sgemmRate)
    }
}
