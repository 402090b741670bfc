/// Each slot's own discriminant, for a class-posterior gate that routes by (slot, class)
/// pairs: the columns of slot `s` fitted from the statistics of `s`'s pairs alone, with
/// their own within-pair covariance, instead of the one covariance pooled over every
/// slot.
///
/// The gate's head still decides how much of an input each slot gets (its mass `m_s`);
/// a slot listed here answers among its classes with its own head:
///
/// ```
/// z'(s, c) = o(s, c) - log Σ_{c' ∈ s} exp o(s, c') + log Σ_{c' ∈ s} exp z(s, c')
/// ```
///
/// where `z = φ W + b` is the pooled head and `o = φ W_s + b_s` this one, so that
/// `softmax(z')` keeps every slot's mass and splits it among the slot's classes as the
/// slot's own discriminant does. One covariance pooled over permutations of the same
/// images describes none of them well: on Permuted Fashion-MNIST an offline discriminant
/// per domain classifies each domain's test images 3 points better than the pooled one
/// over the same pairs (`docs/algorithm.md`, *Each slot's own covariance*).
///
/// A slot's own head is fitted once its statistics hold as many samples as the gate has
/// features, and answers once it has been right significantly more often than the pooled
/// one on rows nothing had learned from yet (`Learner.chooseSlotHeads`): a few thousand
/// noisy rows can describe a slot worse than the pooled covariance does.
public struct GateSlotHeads: Sendable, Equatable {
    /// `features x columns`: the columns of the listed slots' pairs are their own fits.
    public var weight: Matrix
    /// `1 x columns`.
    public var bias: Matrix
    /// The slots whose own columns are fitted, ascending.
    public var slots: [Int]
    /// The slots that answer with their own columns, ascending: some of ``slots``.
    public var answering: [Int]

    /// Heads fitted for `slots`, of which `answering` answer (all of them when nil).
    public init(weight: Matrix, bias: Matrix, slots: [Int], answering: [Int]? = nil) {
        precondition(bias.rows == 1 && bias.columns == weight.columns, "The slot heads' bias must be 1x\(weight.columns)")
        self.weight = weight
        self.bias = bias
        self.slots = slots
        self.answering = answering ?? slots
    }

    /// The own heads' logits `o = φ W_s + b_s` on gate features `phi`.
    public func ownLogits(_ phi: Matrix) -> Matrix {
        var own = Matrix(rows: phi.rows, columns: weight.columns)
        own.addRowVector(bias)
        own.addProduct(phi, weight)
        return own
    }

    /// The pooled head's logits `z` (`n x columns`) with the columns of every answering
    /// slot (of `only`, when given) replaced by its own head's, shifted so that the slot
    /// keeps the mass `z` gives it. A slot with a column beyond these heads, or one its
    /// own fit has not described, keeps the pooled columns. `own` is ``ownLogits(_:)``
    /// on `phi`, when known.
    public func adjusting(_ z: Matrix, features phi: Matrix, slotColumns: [[Int]], only: [Int]? = nil,
                          own known: Matrix? = nil) -> Matrix {
        let width = weight.columns
        let owned = (only ?? answering).filter { s in
            s < slotColumns.count && !slotColumns[s].isEmpty
                && slotColumns[s].allSatisfy { $0 < width && $0 < z.columns && bias.scalars[$0] > Gate.unseenClassBias / 2 }
        }
        guard !owned.isEmpty, phi.rows > 0 else { return z }
        let own = known ?? ownLogits(phi)
        var result = z
        for r in 0..<z.rows {
            for s in owned {
                let columns = slotColumns[s]
                let pooled = Self.logSumExp(columns.map { z[r, $0] })
                let mine = Self.logSumExp(columns.map { own[r, $0] })
                for c in columns { result[r, c] = Float(Double(own[r, c]) - mine + pooled) }
            }
        }
        return result
    }

    /// `log Σ exp v`, in Float64.
    static func logSumExp(_ values: [Float]) -> Double {
        let top = Double(values.max() ?? 0)
        var total: Double = 0
        for v in values { total += _exp(Double(v) - top) }
        return top + _log(total)
    }
}
