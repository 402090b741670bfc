#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MoE

/// The two-spirals benchmark of Lang and Witbrock (1988): 194 points on two interlocked
/// spirals that go three times around the origin, 97 per spiral.
///
/// ```
/// for i in 0..<97:
///     angle = i π / 16,  r = 6.5 (104 - i) / 104
///     class 0: ( r sin(angle),  r cos(angle))
///     class 1: (-r sin(angle), -r cos(angle))
/// ```
///
/// Reference: K. J. Lang and M. J. Witbrock, "Learning to tell two spirals apart",
/// Proceedings of the 1988 Connectionist Models Summer School; the benchmark of
/// Cascade-Correlation (S. E. Fahlman and C. Lebiere, NIPS 2, 1990).
public enum TwoSpirals {
    /// Points per spiral.
    public static let pointsPerSpiral = 97
    /// The largest radius.
    public static let radius: Float = 6.5

    /// The 194 points, `194 x 2` in the original coordinates (within ±6.5), the two
    /// classes interleaved (row `2i` is class 0, row `2i + 1` class 1).
    public static func points() -> (input: Matrix, labels: [Int]) {
        var scalars: [Float] = []
        var labels: [Int] = []
        for i in 0..<pointsPerSpiral {
            let angle = Double(i) * Double.pi / 16
            let r = 6.5 * Double(104 - i) / 104
            let x = Float(r * sin(angle)), y = Float(r * cos(angle))
            scalars += [x, y, -x, -y]
            labels += [0, 1]
        }
        return (Matrix(rows: 2 * pointsPerSpiral, columns: 2, scalars: scalars), labels)
    }
}
