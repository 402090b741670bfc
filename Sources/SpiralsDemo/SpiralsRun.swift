import Foundation
import MoE

/// The convergence demonstration on two spirals: start from a small network, train with
/// the covariance cost, grow units that covary with the residual error, never let the
/// error count rise, until every training point is classified correctly.
///
/// The procedure (interim growth, until experts grow on `MixtureOfExperts`):
///
/// 1. Start from a `CascadeNetwork` with one block of `initialWidth` tanh units
///    (2-8-2 by default, inputs scaled by 1/6.5, the output also reads the input).
/// 2. **Phase** — full-batch epochs of Adam on `CE + λ Σ w_j max(0, -cov_j)`, the
///    detectors recomputed every epoch from a `CovarianceTracker` over the training
///    set; the phase ends at 100% accuracy or after `patience` epochs without a new
///    lowest error count.
/// 3. **Never more errors** — the phase keeps the lowest-loss state it visited among
///    those with no more errors than at its start, so the error count on the training
///    set never rises from phase to phase. (The rule of METHOD.md section 3 applied to
///    whole phases: applied to single steps with `HalfLearning`, nearly every step on
///    this problem is rejected; see docs/algorithm.md.)
/// 4. **Growth** — while errors remain: freeze the existing blocks, train a pool of
///    candidate units to covary with the residual error (`CandidateUnits`), append the
///    best as a new block of one unit with zero output weights (the error count is
///    unchanged by growth), and run the next phase.
///
/// Epochs count every pass over the 194 points: phase epochs plus candidate epochs
/// (the pool trains in one pass), as Fahlman and Lebiere count them.
public struct SpiralsRun: Sendable {
    /// The knobs of a run.
    public struct Configuration: Sendable, Equatable, Codable {
        public var seed: UInt64 = 1
        /// Units of the first block.
        public var initialWidth: Int = 8
        /// Adam's rate in every phase.
        public var learningRate: Float = 0.1
        /// Epochs without a new lowest error count that end a phase.
        public var patience: Int = 100
        /// The longest phase.
        public var maximumPhaseEpochs: Int = 3000
        /// `λ` of the covariance cost.
        public var covarianceStrength: Float = 1
        /// The detector rule.
        public var detectors = ErrorDetectors()
        /// Candidates trained per growth.
        public var candidatePool: Int = 8
        /// Epochs of candidate training per growth.
        public var candidateEpochs: Int = 150
        /// Adam's rate for candidates.
        public var candidateLearningRate: Float = 0.05
        /// Growth budget.
        public var maximumUnitsAdded: Int = 60
        /// Epoch budget.
        public var maximumEpochs: Int = 40_000

        public init() {}
    }

    /// One training phase.
    public struct Phase: Sendable, Equatable, Codable {
        /// Hidden units when the phase ran.
        public var hiddenUnits: Int
        /// Misclassified points before the phase.
        public var errorsBefore: Int
        /// Misclassified points after it (never more than before).
        public var errorsAfter: Int
        /// Epochs spent.
        public var epochs: Int
        /// Largest number of error detectors found in one epoch.
        public var detectors: Int
    }

    /// What a run reports.
    public struct Result: Sendable, Equatable, Codable {
        /// Fraction of the 194 points classified correctly at the end.
        public var trainAccuracy: Double
        /// Hidden units grown after the start.
        public var hiddenUnitsAdded: Int
        /// Hidden units at the end (start included).
        public var hiddenUnits: Int
        /// Passes over the training set (phases and candidate training).
        public var epochs: Int
        /// The candidate-training share of `epochs`.
        public var candidateEpochs: Int
        /// Every phase, in order.
        public var phases: [Phase]

        enum CodingKeys: String, CodingKey {
            case trainAccuracy = "train_accuracy"
            case hiddenUnitsAdded = "hidden_units_added"
            case hiddenUnits = "hidden_units"
            case epochs
            case candidateEpochs = "candidate_epochs"
            case phases
        }

        /// The run beside Cascade-Correlation's published figures.
        public var summary: String {
            [
                "two spirals (194 points): train accuracy \(String(format: "%.1f", trainAccuracy * 100))%",
                "                 hidden units added   epochs",
                "this run         " + String(format: "%18d   %6d", hiddenUnitsAdded, epochs)
                    + "   (\(hiddenUnits) hidden units in all, \(candidateEpochs) candidate epochs, \(phases.count) phases)",
                "Cascade-Corr.                 12-19    ~1700"
                    + "   (Fahlman and Lebiere 1990, mean of 100 trials)",
            ].joined(separator: "\n")
        }
    }

    /// What `run()` returns: the report and the trained network.
    public struct Outcome: Sendable {
        public var result: Result
        public var network: CascadeNetwork

        /// The decision regions of `network` as SVG (see `SpiralsRun.decisionRegionsSVG`).
        public func svg(cells: Int = 120, size: Int = 480) -> String {
            SpiralsRun.decisionRegionsSVG(network, cells: cells, size: size)
        }
    }

    /// Inputs are divided by this before entering the network.
    public static let inputScale: Float = 1 / TwoSpirals.radius

    public var configuration: Configuration

    public init(_ configuration: Configuration = Configuration()) {
        precondition(configuration.initialWidth > 0 && configuration.patience > 0 && configuration.candidatePool > 0,
                     "A spirals run needs a first block, a positive patience and at least one candidate")
        self.configuration = configuration
    }

    /// Runs the demonstration.
    public func run() -> Outcome {
        let c = configuration
        var generator = SeededGenerator(seed: c.seed)
        let (raw, labels) = TwoSpirals.points()
        let input = raw * Self.inputScale
        var network = CascadeNetwork(inputs: 2, width: c.initialWidth, classes: 2, generator: &generator)
        var epochs = 0, candidateEpochs = 0, added = 0
        var phases: [Phase] = []
        var errors = Self.errors(network, input: input, labels: labels)
        while errors > 0 && epochs < c.maximumEpochs {
            if !phases.isEmpty {
                guard added < c.maximumUnitsAdded else { break }
                let pass = network.forward(input)
                var residual = SoftmaxCrossEntropy.softmax(pass.logits)
                for (i, y) in labels.enumerated() { residual[i, y] -= 1 }
                let best = CandidateUnits.best(features: pass.features, residual: residual, pool: c.candidatePool,
                                               epochs: c.candidateEpochs, learningRate: c.candidateLearningRate,
                                               generator: &generator)
                network.freezeBlocks()
                network.appendBlock(weight: best.weight, bias: best.bias)
                added += 1
                epochs += c.candidateEpochs
                candidateEpochs += c.candidateEpochs
            }
            let before = errors
            let (phaseEpochs, phaseDetectors) = Self.phase(&network, input: input, labels: labels,
                                                           budget: min(c.maximumPhaseEpochs, c.maximumEpochs - epochs), configuration: c)
            epochs += phaseEpochs
            errors = Self.errors(network, input: input, labels: labels)
            precondition(errors <= before, "A phase must never end with more errors than it began with")
            phases.append(Phase(hiddenUnits: network.hiddenUnitCount, errorsBefore: before, errorsAfter: errors,
                                epochs: phaseEpochs, detectors: phaseDetectors))
        }
        let result = Result(trainAccuracy: 1 - Double(errors) / Double(labels.count), hiddenUnitsAdded: added,
                            hiddenUnits: network.hiddenUnitCount, epochs: epochs, candidateEpochs: candidateEpochs, phases: phases)
        return Outcome(result: result, network: network)
    }

    /// One phase of full-batch Adam on `CE + covariance cost`, ending at 100% accuracy,
    /// after `patience` epochs without a new lowest error count, or at `budget`. The
    /// network is left at the lowest-loss state the phase visited among those with no
    /// more errors than at the start (the start is one of them, so errors never rise).
    ///
    /// - Returns: the epochs spent and the most detectors found in one epoch.
    static func phase(
        _ network: inout CascadeNetwork, input: Matrix, labels: [Int], budget: Int, configuration c: Configuration
    ) -> (epochs: Int, detectors: Int) {
        var optimizer = Adam(learningRate: c.learningRate)
        var tracker = CovarianceTracker(widths: network.hiddenWidths)
        let cost = CovarianceCost(strength: c.covarianceStrength)
        let bound = errors(network, input: input, labels: labels)
        var best = (loss: Double.infinity, network: network)
        var lowest = Int.max, since = 0, epochs = 0, mostDetectors = 0
        while true {
            let pass = network.forward(input)
            let correct = CovarianceTracker.correctness(logits: pass.logits, labels: labels)
            let errors = correct.reduce(0) { $0 + ($1 ? 0 : 1) }
            let (crossEntropy, logitGradient) = SoftmaxCrossEntropy.lossAndGradient(logits: pass.logits, labels: labels)
            // The window of the statistics is the training set at the current parameters.
            tracker.reset()
            tracker.update(hidden: pass.hidden, correct: correct)
            let detectors = c.detectors.report(tracker)
            mostDetectors = max(mostDetectors, detectors.count)
            let evaluation = cost.evaluate(hidden: pass.hidden, correct: correct, detectors: detectors)
            let loss = Double(crossEntropy) + evaluation.cost
            if errors <= bound && loss < best.loss { best = (loss, network) }
            if errors < lowest { lowest = errors; since = 0 } else { since += 1 }
            if errors == 0 || since >= c.patience || epochs >= budget { break }
            let gradients = network.backward(pass, logitGradient: logitGradient, hiddenGradients: evaluation.hiddenGradients)
            optimizer.update(&network, gradients: gradients, frozen: network.frozen)
            epochs += 1
        }
        network = best.network
        return (epochs, mostDetectors)
    }

    static func errors(_ network: CascadeNetwork, input: Matrix, labels: [Int]) -> Int {
        zip(network.predict(input), labels).reduce(0) { $0 + ($1.0 == $1.1 ? 0 : 1) }
    }
}

extension SpiralsRun {
    /// An SVG picture of the decision regions of `network` over the square ±7 (in the
    /// spirals' coordinates), as `cells x cells` coloured cells (runs of equal cells in
    /// a row merged into one rectangle), with the 194 training points on top.
    ///
    /// Class 0 is drawn in orange (regions light, points dark), class 1 in blue.
    public static func decisionRegionsSVG(_ network: CascadeNetwork, cells: Int = 120, size: Int = 480) -> String {
        precondition(cells > 0 && size > 0, "A picture needs cells and a size")
        let extent: Float = 7
        let step = 2 * extent / Float(cells)
        var grid = Matrix(rows: cells * cells, columns: 2)
        for row in 0..<cells {
            for column in 0..<cells {
                // Row 0 is the top of the picture (largest y).
                grid[row * cells + column, 0] = -extent + (Float(column) + 0.5) * step
                grid[row * cells + column, 1] = extent - (Float(row) + 0.5) * step
            }
        }
        let classes = network.predict(grid * inputScale)
        let cell = Double(size) / Double(cells)
        let regionColours = ["#fdd0a2", "#c6dbef"], pointColours = ["#d94801", "#08519c"]
        var lines = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(size)\" height=\"\(size)\" viewBox=\"0 0 \(size) \(size)\">",
            "<title>Two spirals: decision regions of a network with \(network.hiddenUnitCount) hidden units</title>",
        ]
        for row in 0..<cells {
            var start = 0
            for column in 1...cells where column == cells || classes[row * cells + column] != classes[row * cells + start] {
                lines.append("<rect x=\"\(String(format: "%.2f", Double(start) * cell))\" y=\"\(String(format: "%.2f", Double(row) * cell))\" "
                    + "width=\"\(String(format: "%.2f", Double(column - start) * cell))\" height=\"\(String(format: "%.2f", cell))\" "
                    + "fill=\"\(regionColours[classes[row * cells + start]])\"/>")
                start = column
            }
        }
        let (points, labels) = TwoSpirals.points()
        let scale = Double(size) / Double(2 * extent)
        for i in 0..<points.rows {
            let x = (Double(points[i, 0]) + Double(extent)) * scale
            let y = (Double(extent) - Double(points[i, 1])) * scale
            lines.append("<circle cx=\"\(String(format: "%.2f", x))\" cy=\"\(String(format: "%.2f", y))\" r=\"\(String(format: "%.1f", max(2, Double(size) / 160)))\" "
                + "fill=\"\(pointColours[labels[i]])\" stroke=\"white\" stroke-width=\"0.5\"/>")
        }
        lines.append("</svg>")
        return lines.joined(separator: "\n") + "\n"
    }
}
