import CHDF5

/// Values read from a dataset with their shape (row-major).
public struct HDF5Array<Element: HDF5Scalar>: Equatable, Sendable where Element: Equatable {
    public var values: [Element]
    public var shape: [Int]

    public init(values: [Element], shape: [Int]) {
        self.values = values
        self.shape = shape
    }
}

/// A dataset: an n-dimensional array of one element type, with attributes.
///
/// Reads never trust the file: the stored element type must be exactly the requested
/// one, the rank must be 1 or 2, and the stored bytes must match the shape.
public final class HDF5Dataset {
    let handle: ObjectHandle

    /// The largest dataset this layer reads, in bytes (a corrupt shape must not make it
    /// allocate without bound).
    public static let maximumBytes = 1 << 36

    init(handle: ObjectHandle) {
        self.handle = handle
    }

    /// The file this dataset belongs to.
    public var file: HDF5File { handle.file }
    /// The dataset's path in the file.
    public var path: String { handle.site.path }
    /// The dataset's attributes.
    public var attributes: HDF5Attributes { HDF5Attributes(handle: handle) }

    /// The dimensions (`[]` for a scalar dataset).
    public func shape() throws(HDF5Error) -> [Int] {
        try withHDF5 { () throws(HDF5Error) -> [Int] in try lockedShape("read the shape") }
    }

    /// What the file says the elements are.
    public func storedType() throws(HDF5Error) -> HDF5StoredType {
        try withHDF5 { () throws(HDF5Error) -> HDF5StoredType in
            let operation = "read the element type"
            let type = try handle.site.check(id: H5Dget_type(handle.live(operation)), operation)
            defer { H5Tclose(type) }
            return classify(type: type)
        }
    }

    /// Reads the whole dataset, which must be 1-D or 2-D and hold exactly `T`.
    public func read<T: HDF5Scalar>(as _: T.Type = T.self) throws(HDF5Error) -> HDF5Array<T> {
        try withHDF5 { () throws(HDF5Error) -> HDF5Array<T> in
            let shape = try plan(T.hdf5ElementType)
            let count = shape.reduce(1, *)
            guard count > 0 else { return HDF5Array(values: [], shape: shape) }
            var failure: HDF5Error?
            let values = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                do throws(HDF5Error) {
                    try read(into: UnsafeMutableRawPointer(buffer.baseAddress!), T.hdf5ElementType)
                } catch {
                    // Make the buffer valid (all-zero bytes are a valid value of every T).
                    UnsafeMutableRawBufferPointer(buffer).initializeMemory(as: UInt8.self, repeating: 0)
                    failure = error
                }
                initialized = count
            }
            if let failure { throw failure }
            return HDF5Array(values: values, shape: shape)
        }
    }

    /// The shape of the dataset, after the checks `read(as:)` makes: the stored type is
    /// exactly `element`, the rank 1 or 2, the size bounded and equal to what is stored.
    func plan(_ element: HDF5ElementType) throws(HDF5Error) -> [Int] {
        try withHDF5 { () throws(HDF5Error) -> [Int] in
            let operation = "read \(element) values"
            let site = handle.site
            let type = try site.check(id: H5Dget_type(handle.live(operation)), operation)
            defer { H5Tclose(type) }
            let stored = classify(type: type)
            guard stored == .element(element) else {
                throw site.error(operation, .typeMismatch(expected: element.description, found: stored.description))
            }
            let shape = try lockedShape(operation)
            guard shape.count == 1 || shape.count == 2 else { throw site.error(operation, .unsupportedRank(shape.count)) }
            _ = try checkedCount(shape, elementSize: element.size, operation)
            return shape
        }
    }

    /// Reads every element, as `element` in native byte order, to `destination`, which
    /// has room for them (after `plan` said how many).
    func read(into destination: UnsafeMutableRawPointer, _ element: HDF5ElementType) throws(HDF5Error) {
        try withHDF5 { () throws(HDF5Error) in
            let operation = "read \(element) values"
            let status = H5Dread(handle.live(operation), element.memoryType, moe_H5S_ALL(), moe_H5S_ALL(), moe_H5P_DEFAULT(), destination)
            try handle.site.check(status, operation)
        }
    }

    /// Reads a 1-D dataset of strings (variable-length or fixed-length, UTF-8 or ASCII).
    public func readStrings() throws(HDF5Error) -> [String] {
        try withHDF5 { () throws(HDF5Error) -> [String] in
            let operation = "read strings"
            let site = handle.site
            let id = handle.live(operation)
            let type = try site.check(id: H5Dget_type(id), operation)
            defer { H5Tclose(type) }
            let stored = classify(type: type)
            guard case let .string(variableLength) = stored else {
                throw site.error(operation, .typeMismatch(expected: "string", found: stored.description))
            }
            let shape = try lockedShape(operation)
            guard shape.count == 1 else { throw site.error(operation, .unsupportedRank(shape.count)) }
            let count = try checkedCount(shape, elementSize: variableLength ? 16 : H5Tget_size(type), operation)
            guard count > 0 else { return [] }
            if variableLength {
                let memoryType = makeStringType()
                defer { H5Tclose(memoryType) }
                var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
                let status = pointers.withUnsafeMutableBytes {
                    H5Dread(id, memoryType, moe_H5S_ALL(), moe_H5S_ALL(), moe_H5P_DEFAULT(), $0.baseAddress)
                }
                try site.check(status, operation)
                defer { for pointer in pointers { H5free_memory(pointer) } }
                var result: [String] = []
                result.reserveCapacity(count)
                for (index, pointer) in pointers.enumerated() {
                    guard let pointer else { result.append(""); continue }
                    guard let string = String(validatingCString: pointer) else {
                        throw site.error(operation, .malformed("string \(index) is not valid UTF-8"))
                    }
                    result.append(string)
                }
                return result
            } else {
                let width = H5Tget_size(type)
                var bytes = [UInt8](repeating: 0, count: count * width)
                let status = bytes.withUnsafeMutableBytes {
                    H5Dread(id, type, moe_H5S_ALL(), moe_H5S_ALL(), moe_H5P_DEFAULT(), $0.baseAddress)
                }
                try site.check(status, operation)
                return try (0..<count).map { (index: Int) throws(HDF5Error) -> String in
                    let slice = bytes[index * width ..< (index + 1) * width].prefix { $0 != 0 }
                    guard let string = String(validating: slice, as: UTF8.self) else {
                        throw site.error(operation, .malformed("string \(index) is not valid UTF-8"))
                    }
                    return string
                }
            }
        }
    }

    /// Closes the dataset now, reporting failures (`deinit` closes silently).
    public func close() throws(HDF5Error) {
        try handle.close()
    }

    /// The shape. Under the lock.
    private func lockedShape(_ operation: String) throws(HDF5Error) -> [Int] {
        let space = try handle.site.check(id: H5Dget_space(handle.live(operation)), operation)
        defer { H5Sclose(space) }
        guard let shape = extent(of: space) else {
            throw handle.site.error(operation, .malformed("the dataspace is null or unreadable"))
        }
        return shape
    }

    /// The element count of `shape`, bounded, and consistent with the stored bytes of a
    /// contiguous dataset. Under the lock.
    private func checkedCount(_ shape: [Int], elementSize: Int, _ operation: String) throws(HDF5Error) -> Int {
        let site = handle.site
        guard let count = elementCount(shape, limit: Self.maximumBytes / max(elementSize, 1)) else {
            throw site.error(operation, .malformed("shape \(shape) exceeds \(Self.maximumBytes) bytes"))
        }
        let id = handle.live(operation)
        let dcpl = try site.check(id: H5Dget_create_plist(id), operation)
        defer { H5Pclose(dcpl) }
        if H5Pget_layout(dcpl) == H5D_CONTIGUOUS && count > 0 {
            // A crafted file may claim any 64-bit size: compared as stored, never converted.
            let stored = H5Dget_storage_size(id)
            guard stored == hsize_t(count * elementSize) else {
                throw site.error(operation, .malformed(
                    "the file stores \(stored) bytes but shape \(shape) needs \(count * elementSize)"))
            }
        }
        return count
    }
}
