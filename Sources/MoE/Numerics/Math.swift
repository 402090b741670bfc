#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Thin, internal names for libm so that numeric files need no platform imports.
@usableFromInline func _exp(_ x: Float) -> Float { expf(x) }
@usableFromInline func _log(_ x: Float) -> Float { logf(x) }
@usableFromInline func _log1p(_ x: Float) -> Float { log1pf(x) }
@usableFromInline func _tanh(_ x: Float) -> Float { tanhf(x) }
@usableFromInline func _log(_ x: Double) -> Double { log(x) }
@usableFromInline func _cos(_ x: Double) -> Double { cos(x) }
@usableFromInline func _exp(_ x: Double) -> Double { exp(x) }
@usableFromInline func _sqrt(_ x: Double) -> Double { x.squareRoot() }
