/// The wire format of a snapshot, or of the error that stopped one: how a child process
/// that parsed an HDF5 file with libhdf5 hands the result to its parent.
///
/// Little-endian and canonical: names in increasing order of their UTF-8 bytes, each
/// once, so `decode(encode(x)) == x`, and `encode(decode(b)) == b` for every accepted
/// `b`. The decoder trusts nothing: every count, length and shape is checked against the
/// bytes that remain *before* anything is allocated, names are valid HDF5 names,
/// strings valid UTF-8, groups at most `HDF5Snapshot.maximumDepth` deep, and no byte may
/// be left over.
///
/// ```
/// answer     = "HDF5SNAP" u8 version (1) u8 kind (1 snapshot, 2 error) body
/// snapshot   = group
/// group      = 0x01 attributes u32 count, (name node) * count
/// node       = group | dataset | 0x03 (soft or external link) | 0x04 (other object)
/// dataset    = 0x02 attributes values
/// attributes = u32 count, (name attribute) * count
/// attribute  = 0x01 i64 | 0x02 f64 | 0x03 string | 0x04 u32 n, i64 * n | 0x05 u32 n, f64 * n
/// values     = u8 type, shape, data:
///              type 1 float32, 2 float64, 3 int32, 4 int64, 5 uint8, 6 uint64: the elements
///              type 7 strings (rank 1): u8 variable-length (0 or 1), one string per element
///              type 8 unsupported: string (the element type's description)
/// shape      = u8 rank, u64 * rank (rank 1 or 2 for numbers, 1 for strings, 0 to 32 for unsupported)
/// string     = u32 length, UTF-8 bytes        name = a string that is a valid HDF5 name
/// error      = string file, string path, string operation, u8 reason, the reason's fields:
///              1 library: u32 n, string * n   2 type mismatch: string, string
///              3 shape mismatch: u32 n, i64 * n, u32 m, i64 * m   4 unsupported rank: i64
///              5 not found   6 invalid name: string   7 malformed: string
/// ```
public enum HDF5SnapshotWire {
    static let magic: [UInt8] = Array("HDF5SNAP".utf8)
    static let version: UInt8 = 1

    /// The bytes of a snapshot or of the error that stopped it.
    public static func encode(_ answer: Result<HDF5Snapshot, HDF5Error>) -> [UInt8] {
        var writer = WireWriter(output: .array)
        if case let .success(snapshot) = answer { writer.bytes.reserveCapacity(16 + snapshot.root.payloadBytes) }
        writer.answer(answer)
        return writer.bytes
    }

    /// Streams the same bytes to `sink` in pieces (large arrays straight from their
    /// storage, without a copy of the whole answer). Stops and returns false as soon as
    /// `sink` does.
    public static func encode(_ answer: Result<HDF5Snapshot, HDF5Error>, to sink: (UnsafeRawBufferPointer) -> Bool) -> Bool {
        withoutActuallyEscaping(sink) { sink in
            var writer = WireWriter(output: .stream(sink))
            writer.answer(answer)
            writer.flush()
            return !writer.failed
        }
    }

    /// Decodes and checks an answer.
    ///
    /// - Parameter name: the file the answer is about, for error messages.
    /// - Throws: `HDF5Error` with reason `.malformed`, naming the byte offset and the
    ///   object being decoded, when the bytes are not a well-formed answer.
    public static func decode(_ bytes: [UInt8], name: String) throws(HDF5Error) -> Result<HDF5Snapshot, HDF5Error> {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(HDF5Error) -> Result<HDF5Snapshot, HDF5Error> in try decode(buffer, name: name) }
        }
        return try result.get()
    }

    /// Decodes and checks an answer in memory the caller owns (a mapped file, for
    /// example); nothing of the result points into it.
    public static func decode(_ bytes: UnsafeRawBufferPointer, name: String) throws(HDF5Error) -> Result<HDF5Snapshot, HDF5Error> {
        var reader = WireReader(bytes: bytes, file: name)
        guard try reader.take(magic.count).elementsEqual(magic) else { throw reader.failure("it does not start with 'HDF5SNAP'") }
        let version = try reader.byte()
        guard version == Self.version else { throw reader.failure("wire version \(version), this build reads \(Self.version)") }
        let answer: Result<HDF5Snapshot, HDF5Error>
        switch try reader.byte() {
        case 1:
            guard try reader.byte() == 1 else { throw reader.failure("the root is not a group") }
            answer = .success(HDF5Snapshot(root: try reader.group(depth: 0)))
        case 2:
            answer = .failure(try reader.error())
        case let kind:
            throw reader.failure("unknown answer kind \(kind)")
        }
        guard reader.remaining == 0 else { throw reader.failure("\(reader.remaining) bytes after the end") }
        return answer
    }
}

extension HDF5GroupSnapshot {
    /// The bytes of every array below the group (to reserve an encoding's capacity).
    var payloadBytes: Int {
        children.values.reduce(0) { total, node in
            switch node {
            case let .group(group): total + group.payloadBytes
            case let .dataset(dataset): total + dataset.values.elementBytes
            case .link, .other: total
            }
        }
    }
}

extension HDF5Values {
    var elementBytes: Int {
        switch self {
        case let .float32(a): 4 * a.values.count
        case let .float64(a): 8 * a.values.count
        case let .int32(a): 4 * a.values.count
        case let .int64(a): 8 * a.values.count
        case let .uint8(a): a.values.count
        case let .uint64(a): 8 * a.values.count
        case let .strings(v, _): v.reduce(0) { $0 + 4 + $1.utf8.count }
        case .unsupported: 0
        }
    }
}

/// Writes wire values: to a byte array, to a sink through a buffer, into memory at its
/// position, or nowhere (counting them).
struct WireWriter {
    enum Output {
        case array
        case stream((UnsafeRawBufferPointer) -> Bool)
        case memory(UnsafeMutableRawBufferPointer)
        case measure
    }

    /// A numeric dataset whose values libhdf5 reads later, straight into their place.
    struct DeferredRead {
        var offset: Int
        var bytes: Int
        var dataset: HDF5Dataset
        var element: HDF5ElementType
    }

    let output: Output
    /// The bytes (`.array`) or the bytes not yet handed to the sink (`.stream`).
    var bytes: [UInt8] = []
    /// Bytes written so far, in all.
    var position = 0
    var failed = false
    /// Datasets by path whose values are not in the snapshot (`HDF5File.encodeSnapshot`).
    var deferred: [String: (dataset: HDF5Dataset, element: HDF5ElementType)] = [:]
    var reads: [DeferredRead] = []
    /// The object being written.
    private var path = "/"
    /// Arrays at least this large go to a sink straight from their storage.
    static let directBytes = 1 << 16

    init(output: Output) {
        self.output = output
    }

    mutating func emit(_ piece: UnsafeRawBufferPointer) {
        switch output {
        case .array:
            bytes.append(contentsOf: piece)
        case .stream:
            if piece.count >= Self.directBytes {
                flush()
                if case let .stream(sink) = output, !failed { failed = !sink(piece) }
            } else {
                bytes.append(contentsOf: piece)
                if bytes.count >= Self.directBytes { flush() }
            }
        case let .memory(memory):
            if position + piece.count <= memory.count {
                UnsafeMutableRawBufferPointer(rebasing: memory[position ..< position + piece.count]).copyMemory(from: piece)
            } else {
                failed = true
            }
        case .measure:
            break
        }
        position += piece.count
    }

    /// Hands the buffered bytes to the sink.
    mutating func flush() {
        guard case let .stream(sink) = output, !failed, !bytes.isEmpty else { return }
        failed = !bytes.withUnsafeBytes(sink)
        bytes.removeAll(keepingCapacity: true)
    }

    mutating func answer(_ answer: Result<HDF5Snapshot, HDF5Error>) {
        HDF5SnapshotWire.magic.withUnsafeBytes { emit($0) }
        byte(HDF5SnapshotWire.version)
        switch answer {
        case let .success(snapshot):
            byte(1)
            group(snapshot.root)
        case let .failure(error):
            byte(2)
            self.error(error)
        }
    }

    mutating func byte(_ value: UInt8) { withUnsafeBytes(of: value) { emit($0) } }

    mutating func integer<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { emit($0) }
    }

    mutating func string(_ value: String) {
        var value = value
        integer(UInt32(value.utf8.count))
        value.withUTF8 { emit(UnsafeRawBufferPointer($0)) }
    }

    /// Sorted by UTF-8 bytes: the canonical order.
    static func sorted<Value>(_ dictionary: [String: Value]) -> [(key: String, value: Value)] {
        dictionary.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
    }

    mutating func attributes(_ attributes: [String: HDF5AttributeValue]) {
        integer(UInt32(attributes.count))
        for (name, value) in Self.sorted(attributes) {
            string(name)
            switch value {
            case let .int64(v): byte(1); integer(v)
            case let .double(v): byte(2); integer(v.bitPattern)
            case let .string(v): byte(3); string(v)
            case let .int64s(v): byte(4); integer(UInt32(v.count)); v.forEach { integer($0) }
            case let .doubles(v): byte(5); integer(UInt32(v.count)); v.forEach { integer($0.bitPattern) }
            }
        }
    }

    mutating func group(_ group: HDF5GroupSnapshot) {
        byte(1)
        attributes(group.attributes)
        integer(UInt32(group.children.count))
        let parent = path
        defer { path = parent }
        for (name, node) in Self.sorted(group.children) {
            string(name)
            path = parent == "/" ? "/" + name : parent + "/" + name
            switch node {
            case let .group(child): self.group(child)
            case let .dataset(dataset):
                byte(2)
                attributes(dataset.attributes)
                values(dataset.values)
            case .link: byte(3)
            case .other: byte(4)
            }
        }
    }

    mutating func shape(_ shape: [Int]) {
        byte(UInt8(shape.count))
        shape.forEach { integer(UInt64($0)) }
    }

    mutating func elements<T: HDF5Scalar>(_ type: UInt8, _ array: HDF5Array<T>) {
        byte(type)
        shape(array.shape)
        if let later = deferred[path] {
            // Room for the values; libhdf5 fills it afterwards.
            let count = array.shape.reduce(1, *) * MemoryLayout<T>.size
            reads.append(DeferredRead(offset: position, bytes: count, dataset: later.dataset, element: later.element))
            if case let .memory(memory) = output, position + count > memory.count { failed = true }
            position += count
            return
        }
        array.values.withUnsafeBytes { emit($0) }
    }

    mutating func values(_ values: HDF5Values) {
        switch values {
        case let .float32(a): elements(1, a)
        case let .float64(a): elements(2, a)
        case let .int32(a): elements(3, a)
        case let .int64(a): elements(4, a)
        case let .uint8(a): elements(5, a)
        case let .uint64(a): elements(6, a)
        case let .strings(v, variableLength):
            byte(7)
            shape([v.count])
            byte(variableLength ? 1 : 0)
            v.forEach { string($0) }
        case let .unsupported(type, shape):
            byte(8)
            self.shape(shape)
            string(type)
        }
    }

    mutating func error(_ error: HDF5Error) {
        string(error.file)
        string(error.path)
        string(error.operation)
        switch error.reason {
        case let .library(stack): byte(1); integer(UInt32(stack.count)); stack.forEach { string($0) }
        case let .typeMismatch(expected, found): byte(2); string(expected); string(found)
        case let .shapeMismatch(expected, found):
            byte(3)
            integer(UInt32(expected.count)); expected.forEach { integer(Int64($0)) }
            integer(UInt32(found.count)); found.forEach { integer(Int64($0)) }
        case let .unsupportedRank(rank): byte(4); integer(Int64(rank))
        case .notFound: byte(5)
        case let .invalidName(name): byte(6); string(name)
        case let .malformed(detail): byte(7); string(detail)
        }
    }
}

/// Reads wire values, checking every length against the bytes that remain.
private struct WireReader {
    let bytes: UnsafeRawBufferPointer
    let file: String
    var offset = 0
    /// The object being decoded, for error messages.
    var path = "/"

    init(bytes: UnsafeRawBufferPointer, file: String) {
        self.bytes = bytes
        self.file = file
    }

    var remaining: Int { bytes.count - offset }

    func failure(_ detail: String) -> HDF5Error {
        HDF5Error(file: file, path: path, operation: "decode the snapshot sent by the reader process",
                  reason: .malformed("at byte \(offset): \(detail)"))
    }

    mutating func take(_ count: Int) throws(HDF5Error) -> UnsafeRawBufferPointer {
        guard count >= 0, count <= remaining else { throw failure("\(count) bytes needed, \(remaining) remain") }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: bytes[offset ..< offset + count])
    }

    mutating func byte() throws(HDF5Error) -> UInt8 { try take(1).first! }

    mutating func integer<T: FixedWidthInteger>(_: T.Type = T.self) throws(HDF5Error) -> T {
        T(littleEndian: try take(MemoryLayout<T>.size).loadUnaligned(as: T.self))
    }

    /// A count of items that take at least `minimumBytes` each: never more than the
    /// bytes that remain could hold.
    mutating func count(_ what: String, minimumBytes: Int) throws(HDF5Error) -> Int {
        let count = Int(try integer(UInt32.self))
        guard count <= remaining / minimumBytes else {
            throw failure("\(count) \(what) cannot fit in the \(remaining) bytes that remain")
        }
        return count
    }

    mutating func string() throws(HDF5Error) -> String {
        let length = Int(try integer(UInt32.self))
        guard let text = String(validating: try take(length), as: UTF8.self) else { throw failure("a string is not valid UTF-8") }
        return text
    }

    mutating func name(after previous: String?) throws(HDF5Error) -> String {
        let name = try string()
        guard !name.isEmpty, name != ".", !name.utf8.contains(UInt8(ascii: "/")), !name.utf8.contains(0) else {
            throw failure("'\(name)' is not a valid HDF5 name")
        }
        if let previous, !previous.utf8.lexicographicallyPrecedes(name.utf8) {
            throw failure("'\(name)' does not follow '\(previous)' in byte order")
        }
        return name
    }

    mutating func attributes() throws(HDF5Error) -> [String: HDF5AttributeValue] {
        // The smallest attribute: a 1-byte name (4 + 1 bytes), its kind and 4 bytes.
        let count = try count("attributes", minimumBytes: 10)
        var result: [String: HDF5AttributeValue] = [:]
        var previous: String?
        for _ in 0..<count {
            let name = try name(after: previous)
            previous = name
            let value: HDF5AttributeValue
            switch try byte() {
            case 1: value = .int64(try integer())
            case 2: value = .double(Double(bitPattern: try integer()))
            case 3: value = .string(try string())
            case 4:
                let n = try self.count("integers", minimumBytes: 8)
                value = .int64s(try (0..<n).map { (_: Int) throws(HDF5Error) -> Int64 in try integer() })
            case 5:
                let n = try self.count("reals", minimumBytes: 8)
                value = .doubles(try (0..<n).map { (_: Int) throws(HDF5Error) -> Double in Double(bitPattern: try integer()) })
            case let kind: throw failure("attribute '\(name)' has unknown kind \(kind)")
            }
            guard result.updateValue(value, forKey: name) == nil else { throw failure("two attributes named '\(name)'") }
        }
        return result
    }

    mutating func group(depth: Int) throws(HDF5Error) -> HDF5GroupSnapshot {
        let attributes = try attributes()
        // The smallest child: a 1-byte name and a 1-byte node.
        let count = try count("children", minimumBytes: 6)
        var children: [String: HDF5Node] = [:]
        var previous: String?
        let parent = path
        defer { path = parent }
        for _ in 0..<count {
            let name = try name(after: previous)
            previous = name
            path = parent == "/" ? "/" + name : parent + "/" + name
            let node: HDF5Node
            switch try byte() {
            case 1:
                guard depth < HDF5Snapshot.maximumDepth else { throw failure("groups nested more than \(HDF5Snapshot.maximumDepth) deep") }
                node = .group(try group(depth: depth + 1))
            case 2:
                let attributes = try self.attributes()
                node = .dataset(HDF5DatasetSnapshot(attributes: attributes, values: try values()))
            case 3: node = .link
            case 4: node = .other
            case let kind: throw failure("unknown node kind \(kind)")
            }
            guard children.updateValue(node, forKey: name) == nil else { throw failure("two children named '\(name)'") }
        }
        return HDF5GroupSnapshot(attributes: attributes, children: children)
    }

    mutating func shape(ranks: ClosedRange<Int>) throws(HDF5Error) -> [Int] {
        let rank = Int(try byte())
        guard ranks.contains(rank) else { throw failure("rank \(rank) is not \(ranks.lowerBound)...\(ranks.upperBound)") }
        return try (0..<rank).map { (_: Int) throws(HDF5Error) -> Int in
            let dimension = try integer(UInt64.self)
            guard dimension <= UInt64(Int.max) else { throw failure("dimension \(dimension) is too large") }
            return Int(dimension)
        }
    }

    /// The elements of `shape`, whose bytes must all be present.
    mutating func elements<T: HDF5Scalar>(_: T.Type, shape: [Int]) throws(HDF5Error) -> HDF5Array<T> {
        let size = MemoryLayout<T>.size
        guard let count = elementCount(shape, limit: remaining / size) else {
            throw failure("shape \(shape) of \(T.hdf5ElementType) needs more than the \(remaining) bytes that remain")
        }
        let source = try take(count * size)
        let values = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            UnsafeMutableRawBufferPointer(buffer).copyMemory(from: source)
            initialized = count
        }
        return HDF5Array(values: values, shape: shape)
    }

    mutating func values() throws(HDF5Error) -> HDF5Values {
        let type = try byte()
        switch type {
        case 1: return .float32(try elements(Float.self, shape: try shape(ranks: 1...2)))
        case 2: return .float64(try elements(Double.self, shape: try shape(ranks: 1...2)))
        case 3: return .int32(try elements(Int32.self, shape: try shape(ranks: 1...2)))
        case 4: return .int64(try elements(Int64.self, shape: try shape(ranks: 1...2)))
        case 5: return .uint8(try elements(UInt8.self, shape: try shape(ranks: 1...2)))
        case 6: return .uint64(try elements(UInt64.self, shape: try shape(ranks: 1...2)))
        case 7:
            let count = try shape(ranks: 1...1)[0]
            let variableLength = try byte()
            guard variableLength <= 1 else { throw failure("variable-length flag \(variableLength)") }
            guard count <= remaining / 4 else { throw failure("\(count) strings cannot fit in the \(remaining) bytes that remain") }
            let strings = try (0..<count).map { (_: Int) throws(HDF5Error) -> String in try string() }
            return .strings(strings, variableLength: variableLength == 1)
        case 8:
            let shape = try shape(ranks: 0...32)
            return .unsupported(type: try string(), shape: shape)
        default:
            throw failure("unknown element type \(type)")
        }
    }

    mutating func error() throws(HDF5Error) -> HDF5Error {
        let file = try string(), path = try string(), operation = try string()
        let reason: HDF5Error.Reason
        switch try byte() {
        case 1:
            let n = try count("lines", minimumBytes: 4)
            reason = .library(stack: try (0..<n).map { (_: Int) throws(HDF5Error) -> String in try string() })
        case 2: reason = .typeMismatch(expected: try string(), found: try string())
        case 3: reason = .shapeMismatch(expected: try dimensions(), found: try dimensions())
        case 4:
            reason = .unsupportedRank(Int(try integer(Int64.self)))
        case 5: reason = .notFound
        case 6: reason = .invalidName(try string())
        case 7: reason = .malformed(try string())
        case let kind: throw failure("unknown error reason \(kind)")
        }
        return HDF5Error(file: file, path: path, operation: operation, reason: reason)
    }

    mutating func dimensions() throws(HDF5Error) -> [Int] {
        let n = try count("dimensions", minimumBytes: 8)
        return try (0..<n).map { (_: Int) throws(HDF5Error) -> Int in Int(try integer(Int64.self)) }
    }
}
