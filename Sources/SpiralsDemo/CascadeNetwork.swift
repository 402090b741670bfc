import Foundation
import MoE

/// A network that grows by cascading blocks of tanh units, in the topology of
/// Cascade-Correlation (Fahlman and Lebiere 1990): every block reads the input and
/// every block before it, and the output layer reads the input and every block.
///
/// ```
/// f_0 = x
/// h_b = tanh([x, h_0, …, h_{b-1}] W_b + c_b)         (block b)
/// logits = [x, h_0, …, h_{B-1}] V + v
/// ```
///
/// It is the interim growth of the two-spirals demonstration (`SpiralsRun`) until
/// experts grow on `MixtureOfExperts`. Parameters are `blocks.<b>.weight`,
/// `blocks.<b>.bias`, `output.weight`, `output.bias`; `frozen` works as in
/// `MixtureOfExperts`. `forward(_:).hidden[b]` is block `b`'s activations, so the
/// covariance tracker, the detectors and the covariance cost apply unchanged.
public struct CascadeNetwork: Parameterized {
    /// The hidden blocks, lowest first; block `b` has `inputWidth + Σ_{k<b} width_k` inputs.
    public private(set) var blocks: [Dense]
    /// The output layer over `[x, h_0, …]`.
    public private(set) var output: Dense
    /// Paths of parameters that are never trained again.
    public var frozen: Set<String> = []

    /// A network with one block of `width` tanh units over `inputs`, and `classes` outputs.
    public init(inputs: Int, width: Int, classes: Int, generator: inout SeededGenerator) {
        precondition(inputs > 0 && width > 0 && classes > 1, "A cascade needs inputs, a first block and two classes or more")
        blocks = [Dense(inputs: inputs, outputs: width, initializer: .glorot, generator: &generator)]
        output = Dense(inputs: inputs + width, outputs: classes, initializer: .zeros, generator: &generator)
    }

    /// Input width.
    public var inputWidth: Int { blocks[0].inputs }
    /// Number of classes.
    public var classCount: Int { output.outputs }
    /// Widths of the blocks.
    public var hiddenWidths: [Int] { blocks.map(\.outputs) }
    /// Total number of hidden units.
    public var hiddenUnitCount: Int { hiddenWidths.reduce(0, +) }
    /// Width of `[x, h_0, …]`, what the output layer and the next block read.
    public var featureWidth: Int { output.inputs }

    /// Everything a backward pass needs.
    public struct Forward: Sendable {
        /// `[x, h_0, …, h_{B-1}]`.
        public var features: Matrix
        /// Block activations, `hidden[b]` is `n x width_b`.
        public var hidden: [Matrix]
        /// The logits.
        public var logits: Matrix
    }

    /// The forward pass.
    public func forward(_ input: Matrix) -> Forward {
        precondition(input.columns == inputWidth, "The cascade expects \(inputWidth) inputs, got \(input.columns)")
        var features = input
        var hidden: [Matrix] = []
        for block in blocks {
            let h = block(features).map { tanhf($0) }
            hidden.append(h)
            features = features.concatenatingColumns(h)
        }
        return Forward(features: features, hidden: hidden, logits: output(features))
    }

    /// Predicted class of each row.
    public func predict(_ input: Matrix) -> [Int] {
        forward(input).logits.argmaxRows()
    }

    /// The backward pass, with extra gradients at block activations (the covariance cost).
    ///
    /// Gradients stop at the lowest block that has a trainable parameter; extra
    /// gradients at frozen blocks below it have no effect.
    public func backward(_ forward: Forward, logitGradient: Matrix, hiddenGradients: [Int: Matrix] = [:]) -> Gradients {
        var gradients = Gradients(skipping: frozen)
        let n = forward.features.rows
        // dLoss/dFeatures, to which every block adds what flows into its inputs.
        var dFeatures = output.backward(input: forward.features, output: forward.logits, outputGradient: logitGradient,
                                        prefix: "output", gradients: &gradients, needsInputGradient: true)!
        // Blocks below the lowest trainable one need no gradient: nothing there can change.
        let lowest = blocks.indices.first { b in
            gradients.wants("blocks.\(b).weight") || gradients.wants("blocks.\(b).bias")
        } ?? blocks.count
        var offset = featureWidth
        for b in stride(from: blocks.count - 1, through: lowest, by: -1) {
            let width = blocks[b].outputs
            offset -= width
            let h = forward.hidden[b]
            var dh = dFeatures.gatherColumns(Array(offset..<(offset + width)))
            if let extra = hiddenGradients[b] {
                precondition(extra.rows == n && extra.columns == width, "Hidden gradient \(b) must be \(n)x\(width)")
                dh.add(extra)
            }
            let da = dh.zip(h) { g, y in g * (1 - y * y) }
            let input = forward.features.gatherColumns(Array(0..<offset))
            let dInput = blocks[b].backward(input: input, output: h, outputGradient: da, prefix: "blocks.\(b)",
                                            gradients: &gradients, needsInputGradient: b > lowest)
            if let dInput {
                dFeatures.scalars.withUnsafeMutableBufferPointer { target in
                    dInput.scalars.withUnsafeBufferPointer { source in
                        let fw = featureWidth
                        for r in 0..<n { for c in 0..<offset { target[r * fw + c] += source[r * offset + c] } }
                    }
                }
            }
        }
        return gradients
    }

    /// Appends a block of `weight.columns` units reading `[x, h_0, …]` (`weight` is
    /// `featureWidth x units`); the output layer gets zero weights from the new units,
    /// so the network computes exactly what it computed before.
    public mutating func appendBlock(weight: Matrix, bias: Matrix) {
        precondition(weight.rows == featureWidth, "A new block reads \(featureWidth) features, its weight has \(weight.rows) rows")
        blocks.append(Dense(weight: weight, bias: bias))
        let added = Matrix(rows: weight.columns, columns: classCount)
        output = Dense(weight: output.weight.concatenatingRows(added), bias: output.bias)
    }

    /// Freezes the input weights of every existing block (Cascade-Correlation's rule).
    public mutating func freezeBlocks() {
        for b in blocks.indices { frozen.formUnion(["blocks.\(b).weight", "blocks.\(b).bias"]) }
    }

    public func forEachParameter(_ body: (String, Matrix) throws -> Void) rethrows {
        for (b, block) in blocks.enumerated() {
            try block.forEachParameter { try body("blocks.\(b).\($0)", $1) }
        }
        try output.forEachParameter { try body("output.\($0)", $1) }
    }

    public mutating func updateParameters(_ body: (String, inout Matrix) throws -> Void) rethrows {
        for b in blocks.indices {
            try blocks[b].updateParameters { try body("blocks.\(b).\($0)", &$1) }
        }
        try output.updateParameters { try body("output.\($0)", &$1) }
    }
}
