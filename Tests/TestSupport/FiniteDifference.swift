import MoE

/// Central finite-difference gradient of `loss` with respect to every element of
/// `parameter`, computed in Float64 around the Float32 point.
///
/// `loss` receives the perturbed parameter and must return the loss in Double
/// (compute it in Double wherever possible so the difference is not swamped by
/// Float32 rounding).
public func numericalGradient(of parameter: Matrix, step: Double = 1e-3, loss: (Matrix) -> Double) -> [Double] {
    var result = [Double](repeating: 0, count: parameter.count)
    for i in 0..<parameter.count {
        var plus = parameter, minus = parameter
        plus.scalars[i] = Float(Double(parameter.scalars[i]) + step)
        minus.scalars[i] = Float(Double(parameter.scalars[i]) - step)
        // Use the actually representable step.
        let h = Double(plus.scalars[i]) - Double(minus.scalars[i])
        result[i] = (loss(plus) - loss(minus)) / h
    }
    return result
}

/// Asserts-friendly comparison: the worst relative error between an analytic and a
/// numerical gradient, with an absolute floor so that tiny gradients do not dominate.
public func gradientError(analytic: Matrix, numerical: [Double], floor: Double = 1e-3) -> Double {
    precondition(analytic.count == numerical.count, "Gradient sizes differ")
    var worst = 0.0
    for i in 0..<numerical.count {
        let a = Double(analytic.scalars[i]), n = numerical[i]
        worst = max(worst, abs(a - n) / max(floor, abs(a) + abs(n)))
    }
    return worst
}
