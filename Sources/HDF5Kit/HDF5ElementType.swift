import CHDF5

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The numeric element types this layer stores and reads.
///
/// Files store them little-endian (`H5T_IEEE_F32LE`, `H5T_STD_I64LE`, ...); reads verify
/// that the stored class, size and signedness are exactly the requested type, so a file
/// never silently converts (a `float64` dataset read as `Float` is an error, not a
/// rounding).
public enum HDF5ElementType: String, Sendable, CaseIterable, CustomStringConvertible {
    case float32, float64, int32, int64, uint8, uint64

    public var description: String { rawValue }

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .uint8: 1
        case .float32, .int32: 4
        case .float64, .int64, .uint64: 8
        }
    }

    var isFloat: Bool { self == .float32 || self == .float64 }
    var isSigned: Bool { self == .int32 || self == .int64 }

    /// The in-memory type (native byte order).
    var memoryType: hid_t {
        switch self {
        case .float32: moe_H5T_NATIVE_FLOAT()
        case .float64: moe_H5T_NATIVE_DOUBLE()
        case .int32: moe_H5T_NATIVE_INT32()
        case .int64: moe_H5T_NATIVE_INT64()
        case .uint8: moe_H5T_NATIVE_UINT8()
        case .uint64: moe_H5T_NATIVE_UINT64()
        }
    }

    /// The type written to files (little-endian, standard).
    var fileType: hid_t {
        switch self {
        case .float32: moe_H5T_IEEE_F32LE()
        case .float64: moe_H5T_IEEE_F64LE()
        case .int32: moe_H5T_STD_I32LE()
        case .int64: moe_H5T_STD_I64LE()
        case .uint8: moe_H5T_STD_U8LE()
        case .uint64: moe_H5T_STD_U64LE()
        }
    }
}

/// A Swift type that maps one-to-one onto an `HDF5ElementType`.
public protocol HDF5Scalar: Sendable {
    /// The stored element type.
    static var hdf5ElementType: HDF5ElementType { get }
}

extension Float: HDF5Scalar { public static var hdf5ElementType: HDF5ElementType { .float32 } }
extension Double: HDF5Scalar { public static var hdf5ElementType: HDF5ElementType { .float64 } }
extension Int32: HDF5Scalar { public static var hdf5ElementType: HDF5ElementType { .int32 } }
extension Int64: HDF5Scalar { public static var hdf5ElementType: HDF5ElementType { .int64 } }
extension UInt8: HDF5Scalar { public static var hdf5ElementType: HDF5ElementType { .uint8 } }
extension UInt64: HDF5Scalar { public static var hdf5ElementType: HDF5ElementType { .uint64 } }

/// What a dataset or attribute holds, as read from the file.
public enum HDF5StoredType: Equatable, Sendable, CustomStringConvertible {
    /// One of the supported numeric types.
    case element(HDF5ElementType)
    /// A string (variable-length or fixed-length).
    case string(variableLength: Bool)
    /// Anything else, described (`int16`, `compound`, ...).
    case other(String)

    public var description: String {
        switch self {
        case let .element(type): type.description
        case let .string(variable): variable ? "variable-length string" : "fixed-length string"
        case let .other(text): text
        }
    }
}

/// Classifies an open HDF5 datatype. Must be called under the lock.
func classify(type: hid_t) -> HDF5StoredType {
    let size = H5Tget_size(type)
    switch H5Tget_class(type) {
    case H5T_FLOAT:
        // Only IEEE single and double precision are accepted as float32/float64.
        let precision = H5Tget_precision(type)
        if size == 4 && precision == 32 { return .element(.float32) }
        if size == 8 && precision == 64 { return .element(.float64) }
        return .other("float\(size * 8) (precision \(precision))")
    case H5T_INTEGER:
        let signed = H5Tget_sign(type) == H5T_SGN_2
        switch (size, signed) {
        case (4, true): return .element(.int32)
        case (8, true): return .element(.int64)
        case (1, false): return .element(.uint8)
        case (8, false): return .element(.uint64)
        default: return .other("\(signed ? "int" : "uint")\(size * 8)")
        }
    case H5T_STRING:
        return .string(variableLength: H5Tis_variable_str(type) > 0)
    case H5T_COMPOUND: return .other("compound")
    case H5T_ENUM: return .other("enum")
    case H5T_ARRAY: return .other("array")
    case H5T_VLEN: return .other("variable-length sequence")
    case H5T_OPAQUE: return .other("opaque")
    case H5T_REFERENCE: return .other("reference")
    case H5T_BITFIELD: return .other("bitfield")
    case H5T_TIME: return .other("time")
    default: return .other("unknown type")
    }
}

/// The extent of a dataspace: `[]` for a scalar, the dimensions for a simple space, nil
/// for a null space or a failure. Must be called under the lock.
func extent(of space: hid_t) -> [Int]? {
    switch H5Sget_simple_extent_type(space) {
    case H5S_SCALAR: return []
    case H5S_SIMPLE:
        let rank = H5Sget_simple_extent_ndims(space)
        guard rank >= 0, rank <= 32 else { return nil }
        var dims = [hsize_t](repeating: 0, count: Int(rank))
        guard H5Sget_simple_extent_dims(space, &dims, nil) >= 0 else { return nil }
        return dims.map { $0 > hsize_t(Int.max) ? Int.max : Int($0) }
    default: return nil
    }
}

/// The number of elements of `shape`, or nil when it overflows or exceeds `limit`.
func elementCount(_ shape: [Int], limit: Int) -> Int? {
    var total = 1
    for d in shape {
        let (product, overflow) = total.multipliedReportingOverflow(by: d)
        if overflow || product > limit { return nil }
        total = product
    }
    return total
}

/// A variable-length UTF-8 string type; the caller closes it. Must be called under the lock.
func makeStringType() -> hid_t {
    let type = H5Tcopy(moe_H5T_C_S1())
    if type >= 0 {
        _ = H5Tset_size(type, moe_H5T_VARIABLE())
        _ = H5Tset_cset(type, H5T_CSET_UTF8)
    }
    return type
}

/// Calls `body` with NUL-terminated copies of `strings` (valid only during the call).
func withCStrings<R>(_ strings: [String], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    return body(copies.map { UnsafePointer($0) })
}
