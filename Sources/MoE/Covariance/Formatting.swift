#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `printf`-style formatting of numbers for tables and SVG (the MoE module does not
/// import Foundation), e.g. `formatted("%8.3f", x)`.
func formatted(_ format: String, _ arguments: CVarArg...) -> String {
    withVaList(arguments) { list in
        var buffer = [CChar](repeating: 0, count: 128)
        let written = buffer.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress!, $0.count, format, list) }
        precondition(written >= 0 && written < 128, "The format '\(format)' gave \(written) characters")
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}
