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
/// and `sgemmFraction` is the time `cblas_sgemm` alone takes on exactly the products of
/// one step (the same shapes, transposes and betas, into preallocated outputs) divided by
/// the time of the whole step, so 1.0 would mean "no time outside BLAS".
///
/// The steps cycle through consecutive batches of a workload (Fashion-MNIST's training
/// rows in `moe bench`, as in `scripts/bench_reference.py`): one batch trained thousands
/// of times is memorised, its margins grow, the softmax and the moments of dead units
/// reach subnormal floats, and the figures then measure x86's slow path for those.
///
/// A step is what `Trainer.step` does on a plain MLP (`MLPStep`: forward, softmax
/// cross-entropy, backward, Adam); the *general* step is the path every other model
/// takes (`MixtureOfExperts.lossAndGradients`, then `Adam.update`), with the same
/// result bit for bit. Training, inference, the general step, the sgemm products and
/// the Adam update alone are timed in turn within each repeat, so that a burst of load
/// on a shared machine hits them alike.
public enum TrainingBenchmark {
    /// What the benchmark trains on: consecutive batches of a data set, cycled.
    public struct Workload: Sendable {
        /// What the data is (`Fashion-MNIST train, first 16384 rows`, `random`).
        public var name: String
        public var features: Matrix
        public var labels: [Int]

        /// The first `rows` rows of a data set (all when it has fewer).
        public init(name: String, features: Matrix, labels: [Int], rows: Int = 16_384) {
            precondition(features.rows == labels.count && features.rows > 0, "A workload needs labelled rows")
            let n = min(rows, features.rows)
            self.name = name
            self.features = n == features.rows ? features : features.rows(0..<n)
            self.labels = Array(labels.prefix(n))
        }

        /// Uniform [0, 1) inputs with labels `i % classes`, when no data set is at hand.
        public static func random(width: Int, classes: Int, rows: Int = 16_384, seed: UInt64) -> Workload {
            var generator = SeededGenerator(seed: seed)
            return Workload(name: "random uniform [0, 1), labels i % \(classes)",
                            features: .uniform(rows: rows, columns: width, low: 0, high: 1, using: &generator),
                            labels: (0..<rows).map { $0 % classes })
        }

        /// Its rows cut into consecutive batches of `size` (the last partial one dropped).
        func batches(of size: Int) -> [(x: Matrix, labels: [Int])] {
            let count = max(1, features.rows / size)
            return (0..<count).map { k in
                let range = (k * size)..<min((k + 1) * size, features.rows)
                return (features.rows(range), Array(labels[range]))
            }
        }
    }

    public struct Result: Sendable, Codable, Equatable {
        public var batchSize: Int
        public var trainSamplesPerSecond: Double
        public var inferenceSamplesPerSecond: Double
        public var trainGFLOPS: Double
        public var sgemmGFLOPS: Double
        public var sgemmFraction: Double
        /// Median milliseconds of one training step (`MLPStep`).
        public var stepMilliseconds: Double
        /// Median milliseconds of the step's products through sgemm alone.
        public var sgemmMilliseconds: Double
        /// Median milliseconds of `Adam.update` alone on the whole model, gradients ready.
        public var updateMilliseconds: Double
        /// Samples per second of the general path (`lossAndGradients` + `Adam.update`).
        public var generalSamplesPerSecond: Double
        /// sgemm time over the general step's time.
        public var generalSgemmFraction: Double
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
    ///   - workload: the data, cut into batches of `batch` rows that the steps cycle through.
    public static func run(
        sizes: [Int] = [784, 256, 128, 10], batch: Int, workload: Workload, repeats: Int = 9, stepsPerRepeat: Int = 20,
        seed: UInt64 = 1
    ) -> Result {
        precondition(workload.features.columns == sizes[0], "The workload has \(workload.features.columns) columns, the MLP \(sizes[0]) inputs")
        var generator = SeededGenerator(seed: seed)
        let start = MixtureOfExperts(sizes: sizes, generator: &generator)
        var model = start, general = start
        let batches = workload.batches(of: batch)
        let x = batches[0].x, labels = batches[0].labels
        var next = 0, nextGeneral = 0
        var trainer = Trainer(optimizer: Adam(), batchSize: batch, seed: seed)
        var generalOptimizer = Adam()

        // The same products, through sgemm alone, into preallocated outputs.
        let layers = start.trunk.layers.compactMap { $0 as? Dense }
        var activations = [x]
        for layer in layers { activations.append(layer(activations.last!)) }
        var outputs = layers.map { Matrix(rows: batch, columns: $0.outputs) }
        var weightGradients = layers.map { Matrix(rows: $0.inputs, columns: $0.outputs) }
        var inputGradients = layers.map { Matrix(rows: batch, columns: $0.inputs) }
        let outputGradients = layers.map { Matrix.uniform(rows: batch, columns: $0.outputs, low: -1, high: 1, using: &generator) }
        // Adam alone, on gradients of the model's shapes.
        var updated = start
        var updateOptimizer = Adam()
        let (_, fixedGradients, _) = start.lossAndGradients(x, labels: labels)

        func trainSteps() {
            for _ in 0..<stepsPerRepeat {
                _ = trainer.step(&model, features: batches[next].x, labels: batches[next].labels)
                next = (next + 1) % batches.count
            }
        }
        func generalSteps() {
            for _ in 0..<stepsPerRepeat {
                let (_, gradients, _) = general.lossAndGradients(batches[nextGeneral].x, labels: batches[nextGeneral].labels)
                generalOptimizer.update(&general, gradients: gradients, frozen: general.frozen)
                nextGeneral = (nextGeneral + 1) % batches.count
            }
        }
        func inferenceSteps() {
            for k in 0..<stepsPerRepeat { _ = model.predict(batches[k % batches.count].x) }
        }
        func sgemmSteps() {
            for _ in 0..<stepsPerRepeat {
                // Forward: onto the broadcast bias (beta = 1), as Dense.forward does.
                for l in layers.indices {
                    outputs[l].addProduct(activations[l], layers[l].weight, keep: 1)
                }
                for l in layers.indices.reversed() {
                    weightGradients[l].addProduct(activations[l], outputGradients[l], transposeA: true, keep: 0)
                    if l > 0 { inputGradients[l].addProduct(outputGradients[l], layers[l].weight, transposeB: true, keep: 0) }
                }
            }
        }
        func updateSteps() {
            for _ in 0..<stepsPerRepeat { updateOptimizer.update(&updated, gradients: fixedGradients, frozen: []) }
        }
        trainSteps(); generalSteps(); inferenceSteps(); sgemmSteps(); updateSteps()
        var train: [Double] = [], inference: [Double] = [], sgemm: [Double] = [], generalTimes: [Double] = [], update: [Double] = []
        for _ in 0..<repeats {
            train.append(Stopwatch.time(trainSteps))
            sgemm.append(Stopwatch.time(sgemmSteps))
            generalTimes.append(Stopwatch.time(generalSteps))
            inference.append(Stopwatch.time(inferenceSteps))
            update.append(Stopwatch.time(updateSteps))
        }
        let steps = Double(stepsPerRepeat)
        let trainSeconds = Stopwatch.median(of: train) / steps
        let inferenceSeconds = Stopwatch.median(of: inference) / steps
        let sgemmSeconds = Stopwatch.median(of: sgemm) / steps
        let generalSeconds = Stopwatch.median(of: generalTimes) / steps

        let flops = trainingFLOPs(sizes: sizes, batch: batch)
        let trainRate = flops / trainSeconds / 1e9
        let sgemmRate = flops / sgemmSeconds / 1e9
        return Result(
            batchSize: batch,
            trainSamplesPerSecond: Double(batch) / trainSeconds,
            inferenceSamplesPerSecond: Double(batch) / inferenceSeconds,
            trainGFLOPS: trainRate, sgemmGFLOPS: sgemmRate, sgemmFraction: sgemmSeconds / trainSeconds,
            stepMilliseconds: trainSeconds * 1e3, sgemmMilliseconds: sgemmSeconds * 1e3,
            updateMilliseconds: Stopwatch.median(of: update) / steps * 1e3,
            generalSamplesPerSecond: Double(batch) / generalSeconds, generalSgemmFraction: sgemmSeconds / generalSeconds)
    }
}
