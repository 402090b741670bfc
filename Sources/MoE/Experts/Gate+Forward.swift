/// What the gate computed for a batch, kept for the backward pass.
public struct GatePass: Sendable {
    /// `n x S` slot scores: `x_g W + b` for a learned gate (before noise), the log
    /// posterior mass of each slot's classes for a class-posterior gate.
    public var scores: Matrix
    /// `n x S`: the softmax of the (noisy) scores for a learned gate, the posterior mass
    /// of each slot for a class-posterior gate.
    public var probabilities: Matrix
    /// Where each row went and with what weight.
    public var routing: Routing
    /// The load-balancing loss `α · S · Σ_s f_s · P̄_s` (0 when off).
    public var loadBalancingLoss: Float
    /// Shared gate input (nil for per-expert detector inputs).
    var input: Matrix?
    /// Per-slot inputs for `.expertDetectors`.
    var slotInputs: [Matrix] = []
    /// Class-posterior gates: the random features `φ` of the input (`n x features`).
    public var features: Matrix?
    /// Class-posterior gates: the head's logits `φ W + b` (`n x columns`), whose softmax
    /// is the posterior over classes (or over (slot, class) pairs); with slot heads, each
    /// such slot's columns are its own head's, keeping its mass (`GateSlotHeads`).
    public var headLogits: Matrix?
    /// Standard normal noise `ε` (`n x S`), when noisy routing was on.
    var noise: Matrix?
    /// `x_g W_noise` before softplus, when noisy routing was on.
    var noiseLogits: Matrix?
}

extension Gate {
    /// Scores and routes a batch.
    ///
    /// - Parameters:
    ///   - input: The shared gate input (`n x width`), or nil with `.expertDetectors`.
    ///   - slotInputs: Per-slot inputs for `.expertDetectors` (`n x 0` for the trunk slot).
    ///   - slotColumns: The head columns of every slot (class-posterior scores sum the
    ///     posterior over them): its classes, or its (slot, class) pairs.
    ///   - generator: Noise source for noisy routing; nil at inference (no noise).
    ///   - features: The random features of `input`, when already computed.
    ///   - headLogits: A class-posterior gate's head logits for `input`, used instead of
    ///     `φ W + b` (the leave-one-out logits of rows the statistics hold).
    func forward(input: Matrix?, slotInputs: [Matrix], slotColumns: [[Int]], features known: Matrix? = nil,
                 headLogits: Matrix? = nil, generator: inout SeededGenerator?) -> GatePass {
        precondition(slotCount > 0, "The gate has no slots")
        if featureCount > 0 {
            return classPosteriorForward(input: input!, slotColumns: slotColumns, features: known, headLogits: headLogits)
        }
        let n = input?.rows ?? slotInputs.first?.rows ?? 0
        var scores = linearScores(input: input, slotInputs: slotInputs, weights: slotWeights, rows: n)
        scores.addRowVector(Matrix(row: slotBiases.map { $0.scalars[0] }))
        var noisy = scores
        var noise: Matrix?
        var noiseLogits: Matrix?
        if configuration.noisy, generator != nil {
            let logits = linearScores(input: input, slotInputs: slotInputs, weights: slotNoiseWeights, rows: n)
            var epsilon = Matrix(rows: n, columns: slotCount)
            epsilon.apply { _ in generator!.nextNormal() }
            noisy = noisy + epsilon * logits.map(softplus)
            noise = epsilon
            noiseLogits = logits
        }
        let p = SoftmaxCrossEntropy.softmax(noisy)
        let routing = route(scores: noisy, mass: p, renormalizes: configuration.renormalizes)
        var balance: Float = 0
        if configuration.loadBalancing > 0, case .topK = configuration.selection, n > 0 {
            let f = routing.loadFractions
            let mean = p.columnSums()
            var total: Double = 0
            for s in 0..<slotCount { total += Double(f[s]) * Double(mean.scalars[s]) / Double(n) }
            balance = configuration.loadBalancing * Float(slotCount) * Float(total)
        }
        return GatePass(scores: scores, probabilities: p, routing: routing, loadBalancingLoss: balance,
                        input: input, slotInputs: slotInputs, noise: noise, noiseLogits: noiseLogits)
    }

    /// `n x S` products of each slot's input with its weight column.
    private func linearScores(input: Matrix?, slotInputs: [Matrix], weights: [Matrix], rows n: Int) -> Matrix {
        if let input {
            // One product for all slots: the columns side by side.
            var w = Matrix(rows: input.columns, columns: slotCount)
            for s in 0..<slotCount { for i in 0..<input.columns { w[i, s] = weights[s].scalars[i] } }
            return .matmul(input, w)
        }
        var result = Matrix(rows: n, columns: slotCount)
        for s in 0..<slotCount where slotInputs[s].columns > 0 {
            let column = Matrix.matmul(slotInputs[s], weights[s])
            for r in 0..<n { result[r, s] = column.scalars[r] }
        }
        return result
    }

    /// Routing from scores (which choose) and masses (which weigh).
    private func route(scores: Matrix, mass: Matrix, renormalizes: Bool) -> Routing {
        let n = scores.rows, s = slotCount
        let k: Int
        let selected: [Int]
        switch configuration.selection {
        case .softmax:
            k = s
            selected = (0..<(n * s)).map { $0 % s }
        case let .topK(wanted):
            k = min(wanted, s)
            selected = Routing.topK(scores, k: k)
        }
        var weights = [Float](repeating: 0, count: n * k)
        for r in 0..<n {
            var total: Float = 0
            for j in 0..<k { total += mass[r, selected[r * k + j]] }
            for j in 0..<k {
                let m = mass[r, selected[r * k + j]]
                weights[r * k + j] = !renormalizes ? m : (total > 0 ? m / total : 1 / Float(k))
            }
        }
        return Routing(slotCount: s, k: k, selected: selected, weights: weights)
    }

    /// Scores of a class-posterior gate: log posterior mass of each slot's head columns.
    private func classPosteriorForward(input: Matrix, slotColumns: [[Int]], features known: Matrix?,
                                       headLogits given: Matrix?) -> GatePass {
        precondition(slotColumns.count == slotCount, "\(slotColumns.count) column sets for \(slotCount) slots")
        let phi = known ?? features(input)
        var z: Matrix
        if let given {
            precondition(given.rows == input.rows && given.columns == headWeight.columns,
                         "Head logits must be \(input.rows) x \(headWeight.columns), got \(given.rows) x \(given.columns)")
            z = given
        } else {
            z = Matrix(rows: input.rows, columns: headWeight.columns)
            z.addRowVector(headBias)
            z.addProduct(phi, headWeight)
        }
        let c = z.columns
        let members = slotColumns.map { $0.filter { $0 < c } }
        var scores = Matrix(rows: input.rows, columns: slotCount, repeating: -.infinity)
        var mass = Matrix(rows: input.rows, columns: slotCount)
        for r in 0..<input.rows {
            let row = z.row(r)
            let top = row.max() ?? 0
            var all: Double = 0
            for v in row { all += Double(_exp(v - top)) }
            for s in 0..<slotCount where !members[s].isEmpty {
                var part: Double = 0
                for j in members[s] { part += Double(_exp(row[j] - top)) }
                if part > 0 {
                    scores[r, s] = Float(_log(part / all))
                    mass[r, s] = Float(part / all)
                }
            }
        }
        let routing = route(scores: scores, mass: mass, renormalizes: true)
        // The slots' masses are the pooled head's; inside a slot with its own head, the
        // split among its classes is that head's (`GateSlotHeads`).
        if let slotHeads { z = slotHeads.adjusting(z, features: phi, slotColumns: members) }
        return GatePass(scores: scores, probabilities: mass, routing: routing, loadBalancingLoss: 0, input: input,
                        features: phi, headLogits: z)
    }

    /// The routing cross-entropy `β · mean_r -log p[r, target_r]` over rows with a target.
    func supervisionLoss(_ pass: GatePass, targets: [Int?]) -> Float {
        let beta = configuration.routingSupervision
        guard beta > 0, configuration.isLearned else { return 0 }
        var total: Double = 0, count = 0
        for (r, t) in targets.enumerated() {
            guard let t else { continue }
            total -= Double(_log(max(pass.probabilities[r, t], .leastNormalMagnitude)))
            count += 1
        }
        return count == 0 ? 0 : beta * Float(total / Double(count))
    }

    /// Backward pass of a learned gate.
    ///
    /// - Parameters:
    ///   - pass: The forward pass.
    ///   - weightGradient: `n x S` dLoss/dg for routed entries (others ignored).
    ///   - targets: Per-row target slot for routing supervision (nil: none).
    ///   - prefix: Path prefix of the gate's parameters.
    ///   - gradients: Where parameter gradients accumulate.
    ///   - needsInputGradient: Whether to return dLoss/d(gate input).
    /// - Returns: The gradient of the shared input, or of each slot's input.
    func backward(
        _ pass: GatePass, weightGradient: Matrix, targets: [Int?]?, prefix: String,
        gradients: inout Gradients, needsInputGradient: Bool
    ) -> (shared: Matrix?, slots: [Matrix]) {
        guard configuration.isLearned else { return (nil, []) }
        let p = pass.probabilities, routing = pass.routing
        let n = p.rows, s = slotCount, k = routing.k
        // dL/dp through g = p (Switch) or g = p / Σ_routed p (Shazeer).
        var dp = Matrix(rows: n, columns: s)
        for r in 0..<n {
            var total: Float = 0, dot: Float = 0
            for j in 0..<k {
                let slot = routing.selected[r * k + j]
                total += p[r, slot]
                dot += routing.weights[r * k + j] * weightGradient[r, slot]
            }
            for j in 0..<k {
                let slot = routing.selected[r * k + j]
                dp[r, slot] = configuration.renormalizes ? (weightGradient[r, slot] - dot) / total : weightGradient[r, slot]
            }
        }
        if pass.loadBalancingLoss > 0 {
            let f = routing.loadFractions
            let scale = configuration.loadBalancing * Float(s) / Float(n)
            dp.addRowVector(Matrix(row: f.map { $0 * scale }))
        }
        // Through the softmax: dh = p ⊙ (dp - Σ_j p_j dp_j).
        var dh = p * dp
        for r in 0..<n {
            var dot: Float = 0
            for j in 0..<s { dot += dh[r, j] }
            for j in 0..<s { dh[r, j] -= p[r, j] * dot }
        }
        if let targets, configuration.routingSupervision > 0 {
            let m = targets.compactMap { $0 }.count
            if m > 0 {
                let scale = configuration.routingSupervision / Float(m)
                for (r, t) in targets.enumerated() {
                    guard let t else { continue }
                    for j in 0..<s { dh[r, j] += scale * (p[r, j] - (j == t ? 1 : 0)) }
                }
            }
        }
        // The noisy part: h = clean + ε ⊙ softplus(x W_noise).
        var dNoise: Matrix?
        if let epsilon = pass.noise, let logits = pass.noiseLogits {
            dNoise = dh * epsilon * logits.map(logistic)
        }
        let biasGradient = dh.columnSums()
        for slot in 0..<s {
            let path = parameterPath(prefix, slotName(slot) + ".bias")
            if gradients.wants(path) { gradients.accumulate(path, Matrix(rows: 1, columns: 1, scalars: [biasGradient.scalars[slot]])) }
        }
        if let input = pass.input {
            accumulateShared(input: input, dh: dh, name: "weight", prefix: prefix, gradients: &gradients)
            if let dNoise { accumulateShared(input: input, dh: dNoise, name: "noise", prefix: prefix, gradients: &gradients) }
            guard needsInputGradient else { return (nil, []) }
            var dx = Matrix.matmul(dh, stacked(slotWeights), transposeB: true)
            if let dNoise { dx.addProduct(dNoise, stacked(slotNoiseWeights), transposeB: true) }
            return (dx, [])
        }
        var slotGradients: [Matrix] = []
        for slot in 0..<s {
            let x = pass.slotInputs[slot]
            let column = dh.gatherColumns([slot])
            let noiseColumn = dNoise?.gatherColumns([slot])
            let name = slotName(slot)
            if x.columns > 0 {
                let path = parameterPath(prefix, name + ".weight")
                if gradients.wants(path) { gradients.accumulate(path, .matmul(x, column, transposeA: true)) }
                if let noiseColumn {
                    let noisePath = parameterPath(prefix, name + ".noise")
                    if gradients.wants(noisePath) { gradients.accumulate(noisePath, .matmul(x, noiseColumn, transposeA: true)) }
                }
            }
            guard needsInputGradient else { continue }
            var dx = Matrix.matmul(column, slotWeights[slot], transposeB: true)
            if let noiseColumn { dx.addProduct(noiseColumn, slotNoiseWeights[slot], transposeB: true) }
            slotGradients.append(dx)
        }
        return (nil, slotGradients)
    }

    /// Accumulates `xᵀ dh` split into per-slot columns, for slots that want it.
    private func accumulateShared(input: Matrix, dh: Matrix, name: String, prefix: String, gradients: inout Gradients) {
        let paths = (0..<slotCount).map { parameterPath(prefix, slotName($0) + "." + name) }
        guard paths.contains(where: gradients.wants) else { return }
        let all = Matrix.matmul(input, dh, transposeA: true)
        for (slot, path) in paths.enumerated() where gradients.wants(path) {
            gradients.accumulate(path, all.gatherColumns([slot]))
        }
    }

    /// Per-slot columns side by side (`width x S`).
    private func stacked(_ columns: [Matrix]) -> Matrix {
        let width = columns.first?.rows ?? 0
        var w = Matrix(rows: width, columns: columns.count)
        for s in columns.indices { for i in 0..<width { w[i, s] = columns[s].scalars[i] } }
        return w
    }

    /// Whether any learned parameter of the gate is trainable.
    func hasTrainableParameters(prefix: String, frozen: Set<String>) -> Bool {
        guard configuration.isLearned else { return false }
        var trainable = false
        forEachParameter { path, _ in if !frozen.contains(parameterPath(prefix, path)) { trainable = true } }
        return trainable
    }
}

/// `log(1 + e^x)`, computed without overflow.
private func softplus(_ x: Float) -> Float {
    max(x, 0) + _log(1 + _exp(-abs(x)))
}

/// `1 / (1 + e^-x)`, the derivative of softplus.
private func logistic(_ x: Float) -> Float {
    x >= 0 ? 1 / (1 + _exp(-x)) : _exp(x) / (1 + _exp(x))
}
