#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Student's t distribution, for the one-sided p-values of the detector test.
public enum StudentT {
    /// `P(T_ν <= t)` for `ν` degrees of freedom.
    ///
    /// ```
    /// P(T <= t) = ½ I_{ν/(ν+t²)}(ν/2, ½)          for t <= 0
    ///           = 1 - P(T <= -t)                  for t > 0
    /// ```
    ///
    /// `I` is the regularised incomplete beta function, evaluated by its continued
    /// fraction (Numerical Recipes §6.4, modified Lentz). For `ν >= 10⁵` the normal
    /// distribution is used instead (the tail probabilities differ by about
    /// `(t⁴ + 2t²) / 4ν`, under 0.1% for |t| <= 6 there), and `ν <= 0` gives `NaN`.
    public static func cdf(_ t: Double, degreesOfFreedom nu: Double) -> Double {
        guard nu > 0, !t.isNaN else { return .nan }
        if t.isInfinite { return t < 0 ? 0 : 1 }
        if nu >= 100_000 { return 0.5 * erfc(-t / 2.0.squareRoot()) }
        let x = nu / (nu + t * t)
        let lower = 0.5 * regularizedIncompleteBeta(x, a: nu / 2, b: 0.5)
        return t <= 0 ? lower : 1 - lower
    }

    /// `I_x(a, b)`, the regularised incomplete beta function, for `0 <= x <= 1`.
    static func regularizedIncompleteBeta(_ x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logFront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log(1 - x)
        // The continued fraction converges fast below this point; use the symmetry above it.
        if x < (a + 1) / (a + b + 2) {
            return exp(logFront) * continuedFraction(x, a: a, b: b) / a
        }
        return 1 - exp(logFront) * continuedFraction(1 - x, a: b, b: a) / b
    }

    private static func continuedFraction(_ x: Double, a: Double, b: Double) -> Double {
        let tiny = 1e-300, epsilon = 1e-15
        let qab = a + b, qap = a + 1, qam = a - 1
        var c = 1.0
        var d = 1 - qab * x / qap
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        for m in 1...10_000 {
            let m = Double(m), m2 = 2 * m
            var aa = m * (b - m) * x / ((qam + m2) * (a + m2))
            d = 1 + aa * d
            if abs(d) < tiny { d = tiny }
            c = 1 + aa / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            h *= d * c
            aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
            d = 1 + aa * d
            if abs(d) < tiny { d = tiny }
            c = 1 + aa / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < epsilon { break }
        }
        return h
    }
}
