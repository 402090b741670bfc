import CHDF5

/// The value of an attribute: a number, a string, or a 1-D array of numbers.
///
/// Strings are written as variable-length UTF-8 (h5py reads them as `str`); integers as
/// 64-bit signed and reals as 64-bit IEEE. Reading accepts any integer type up to 64
/// bits except unsigned 64-bit, 32- and 64-bit floats, and fixed-length strings.
public enum HDF5AttributeValue: Equatable, Sendable, CustomStringConvertible {
    case int64(Int64)
    case double(Double)
    case string(String)
    case int64s([Int64])
    case doubles([Double])

    public var description: String {
        switch self {
        case let .int64(v): "\(v)"
        case let .double(v): "\(v)"
        case let .string(v): "\"\(v)\""
        case let .int64s(v): "\(v)"
        case let .doubles(v): "\(v)"
        }
    }
}

/// The attributes of a group or dataset.
public struct HDF5Attributes {
    let handle: ObjectHandle

    /// Attribute names in name order.
    public func names() throws(HDF5Error) -> [String] {
        try withHDF5 { () throws(HDF5Error) -> [String] in
            final class Collected { var names: [String] = [] }
            let collected = Collected()
            let callback: H5A_operator2_t = { _, name, _, context in
                guard let name, let context else { return -1 }
                Unmanaged<Collected>.fromOpaque(context).takeUnretainedValue().names.append(String(cString: name))
                return 0
            }
            let operation = "list attributes"
            let id = handle.live(operation)
            let status = withExtendedLifetime(collected) {
                H5Aiterate2(id, H5_INDEX_NAME, H5_ITER_INC, nil, callback, Unmanaged.passUnretained(collected).toOpaque())
            }
            try handle.site.check(status, operation)
            return collected.names
        }
    }

    /// Whether an attribute called `name` exists.
    public func contains(_ name: String) throws(HDF5Error) -> Bool {
        try withHDF5 { () throws(HDF5Error) -> Bool in
            let operation = "check for attribute '\(name)'"
            try validateName(name, at: handle.site, operation)
            let result = H5Aexists(handle.live(operation), name)
            if result < 0 { throw handle.site.attribute(name).error(operation) }
            return result > 0
        }
    }

    /// Removes the attribute `name`.
    public func remove(_ name: String) throws(HDF5Error) {
        try withHDF5 { () throws(HDF5Error) in
            let operation = "delete attribute '\(name)'"
            try validateName(name, at: handle.site, operation)
            try handle.site.attribute(name).check(H5Adelete(handle.live(operation), name), operation)
        }
    }

    /// Writes the attribute `name`, replacing any attribute of that name.
    public func set(_ name: String, _ value: HDF5AttributeValue) throws(HDF5Error) {
        try withHDF5 { () throws(HDF5Error) in
            let operation = "write attribute '\(name)'"
            try validateName(name, at: handle.site, operation)
            let site = handle.site.attribute(name)
            if case let .string(text) = value, text.utf8.contains(0) {
                throw site.error(operation, .malformed("the string contains a NUL character, which HDF5 strings cannot hold"))
            }
            let id = handle.live(operation)
            let exists = H5Aexists(id, name)
            if exists < 0 { throw site.error(operation) }
            if exists > 0 { try site.check(H5Adelete(id, name), operation) }

            let space: hid_t
            switch value {
            case .int64, .double, .string: space = H5Screate(H5S_SCALAR)
            case let .int64s(v): space = H5Screate_simple(1, [hsize_t(v.count)], nil)
            case let .doubles(v): space = H5Screate_simple(1, [hsize_t(v.count)], nil)
            }
            _ = try site.check(id: space, operation)
            defer { H5Sclose(space) }

            let stringType = makeStringType()
            defer { H5Tclose(stringType) }
            let fileType: hid_t
            switch value {
            case .int64, .int64s: fileType = moe_H5T_STD_I64LE()
            case .double, .doubles: fileType = moe_H5T_IEEE_F64LE()
            case .string: fileType = stringType
            }
            let attribute = try site.check(id: H5Acreate2(id, name, fileType, space, moe_H5P_DEFAULT(), moe_H5P_DEFAULT()), operation)
            defer { H5Aclose(attribute) }

            let status: herr_t
            switch value {
            case let .int64(v): status = withUnsafeBytes(of: v) { H5Awrite(attribute, moe_H5T_NATIVE_INT64(), $0.baseAddress) }
            case let .double(v): status = withUnsafeBytes(of: v) { H5Awrite(attribute, moe_H5T_NATIVE_DOUBLE(), $0.baseAddress) }
            case let .int64s(v): status = v.isEmpty ? 0 : v.withUnsafeBytes { H5Awrite(attribute, moe_H5T_NATIVE_INT64(), $0.baseAddress) }
            case let .doubles(v): status = v.isEmpty ? 0 : v.withUnsafeBytes { H5Awrite(attribute, moe_H5T_NATIVE_DOUBLE(), $0.baseAddress) }
            case let .string(v):
                status = withCStrings([v]) { pointers in
                    pointers.withUnsafeBytes { H5Awrite(attribute, stringType, $0.baseAddress) }
                }
            }
            try site.check(status, operation)
        }
    }

    /// Reads the attribute `name` (an error if it is missing or of an unsupported type).
    public func value(_ name: String) throws(HDF5Error) -> HDF5AttributeValue {
        try withHDF5 { () throws(HDF5Error) -> HDF5AttributeValue in
            let operation = "read attribute '\(name)'"
            try validateName(name, at: handle.site, operation)
            let site = handle.site.attribute(name)
            let id = handle.live(operation)
            let exists = H5Aexists(id, name)
            if exists < 0 { throw site.error(operation) }
            if exists == 0 { throw site.error(operation, .notFound) }
            let attribute = try site.check(id: H5Aopen(id, name, moe_H5P_DEFAULT()), operation)
            defer { H5Aclose(attribute) }
            let type = try site.check(id: H5Aget_type(attribute), operation)
            defer { H5Tclose(type) }
            let space = try site.check(id: H5Aget_space(attribute), operation)
            defer { H5Sclose(space) }
            guard let shape = extent(of: space), shape.count <= 1 else {
                throw site.error(operation, .malformed("only scalar and 1-D attributes are supported"))
            }
            guard let count = elementCount(shape, limit: 1 << 24) else {
                throw site.error(operation, .malformed("the attribute has too many elements (\(shape))"))
            }
            let stored = classify(type: type)
            switch H5Tget_class(type) {
            case H5T_INTEGER where stored != .element(.uint64) && H5Tget_size(type) <= 8:
                var values = [Int64](repeating: 0, count: count)
                let status = values.withUnsafeMutableBytes { H5Aread(attribute, moe_H5T_NATIVE_INT64(), $0.baseAddress) }
                try site.check(status, operation)
                return shape.isEmpty ? .int64(values[0]) : .int64s(values)
            case H5T_FLOAT where stored == .element(.float32) || stored == .element(.float64):
                var values = [Double](repeating: 0, count: count)
                let status = values.withUnsafeMutableBytes { H5Aread(attribute, moe_H5T_NATIVE_DOUBLE(), $0.baseAddress) }
                try site.check(status, operation)
                return shape.isEmpty ? .double(values[0]) : .doubles(values)
            case H5T_STRING where shape.isEmpty:
                return .string(try readString(attribute: attribute, type: type, site: site, operation))
            default:
                let what = shape.isEmpty ? stored.description : "array of \(stored)"
                throw site.error(operation, .typeMismatch(expected: "int64, float64 or string", found: what))
            }
        }
    }

    /// Reads a scalar string attribute. Under the lock.
    private func readString(attribute: hid_t, type: hid_t, site: Site, _ operation: String) throws(HDF5Error) -> String {
        if H5Tis_variable_str(type) > 0 {
            let memoryType = makeStringType()
            defer { H5Tclose(memoryType) }
            var pointer: UnsafeMutablePointer<CChar>? = nil
            let status = withUnsafeMutableBytes(of: &pointer) { H5Aread(attribute, memoryType, $0.baseAddress) }
            try site.check(status, operation)
            defer { H5free_memory(pointer) }
            guard let pointer else { return "" }
            guard let string = String(validatingCString: pointer) else {
                throw site.error(operation, .malformed("the string is not valid UTF-8"))
            }
            return string
        }
        let width = H5Tget_size(type)
        guard width > 0, width <= 1 << 24 else { throw site.error(operation, .malformed("string of \(width) bytes")) }
        var bytes = [UInt8](repeating: 0, count: width)
        let status = bytes.withUnsafeMutableBytes { H5Aread(attribute, type, $0.baseAddress) }
        try site.check(status, operation)
        guard let string = String(validating: bytes.prefix { $0 != 0 }, as: UTF8.self) else {
            throw site.error(operation, .malformed("the string is not valid UTF-8"))
        }
        return string
    }
}
