#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Lines of a (possibly gzip-compressed) text file, read in chunks into one reusable
/// buffer: memory stays at the chunk size plus the longest line, whatever the file size.
///
/// A line ends at LF, CRLF, or a lone CR (old Mac files end their lines with CR only,
/// and read as one line of hundreds of fields otherwise). A CR after an odd number of
/// double quotes on its line is inside a quoted field, and stays data.
final class LineReader {
    /// The file or stream name used in errors.
    var name: String { file.name }
    /// 1-based number of the line last handed out (0 before the first).
    private(set) var lineNumber = 0
    /// Lines longer than this throw `DataError.lineTooLong`.
    let maxLineLength: Int

    private let file: GzipFile
    private let chunkSize: Int
    private var storage: UnsafeMutableRawBufferPointer
    private var start = 0      // first unread byte
    private var end = 0        // one past the last valid byte
    private var scanned = 0    // bytes in start..<scanned hold no newline
    private var returnsScanned = 0  // bytes in start..<returnsScanned hold no lone CR outside quotes
    private var quotesCounted = 0   // quotes are counted in start..<quotesCounted
    private var quotes = 0     // double quotes in start..<quotesCounted
    private var atEnd = false

    init(file: GzipFile, chunkSize: Int = 1 << 18, maxLineLength: Int = 1 << 26) {
        precondition(chunkSize > 0 && maxLineLength > 0, "Chunk size and line bound must be positive")
        self.file = file
        self.chunkSize = chunkSize
        self.maxLineLength = maxLineLength
        storage = .allocate(byteCount: chunkSize + 1, alignment: 16)
    }

    deinit { storage.deallocate() }

    /// Calls `body` with the next line, without its line end, and returns its result;
    /// nil at the end of the file. The bytes are valid only inside `body`, and the byte
    /// after the line is 0 (so C number parsers stop there).
    func withNextLine<R>(_ body: (UnsafeBufferPointer<UInt8>) throws(DataError) -> R) throws(DataError) -> R? {
        while true {
            let base = storage.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var newline: Int?
            if scanned < end, let hit = memchr(base + scanned, Int32(UInt8(ascii: "\n")), end - scanned) {
                newline = hit.assumingMemoryBound(to: UInt8.self) - base
            }
            if let lone = loneReturn(base: base, before: newline ?? end) {
                return try emit(base: base, lineEnd: lone, next: lone + 1, body)
            }
            if let newline { return try emit(base: base, lineEnd: newline, next: newline + 1, body) }
            scanned = end
            if atEnd {
                if start == end { return nil }
                return try emit(base: base, lineEnd: end, next: end, body)
            }
            try refill()
        }
    }

    /// The first CR in the unread bytes before `limit` (a newline, or the end of the bytes
    /// read) that ends a line: not followed by LF, and after an even number of quotes on
    /// its line. A CR that is the last byte read waits for the next one (it may be a
    /// CRLF's), unless the file ends there. Quotes are counted only up to a lone CR, so a
    /// CRLF file's lines are not scanned byte by byte.
    private func loneReturn(base: UnsafeMutablePointer<UInt8>, before limit: Int) -> Int? {
        let cr = UInt8(ascii: "\r")
        var from = max(returnsScanned, start)
        while from < limit, let hit = memchr(base + from, Int32(cr), limit - from) {
            let at = hit.assumingMemoryBound(to: UInt8.self) - base
            if at + 1 == end && !atEnd {
                returnsScanned = at
                return nil
            }
            from = at + 1
            // A CRLF ends its line whatever the quotes.
            if at + 1 < end && base[at + 1] == UInt8(ascii: "\n") { continue }
            quotes += quoteCount(base, max(quotesCounted, start), at)
            quotesCounted = at
            if quotes % 2 == 0 { return at }
        }
        returnsScanned = max(from, limit)
        return nil
    }

    private func quoteCount(_ base: UnsafeMutablePointer<UInt8>, _ from: Int, _ to: Int) -> Int {
        var count = 0
        for i in from..<to where base[i] == UInt8(ascii: "\"") { count += 1 }
        return count
    }

    private func emit<R>(
        base: UnsafeMutablePointer<UInt8>, lineEnd: Int, next: Int,
        _ body: (UnsafeBufferPointer<UInt8>) throws(DataError) -> R
    ) throws(DataError) -> R {
        lineNumber += 1
        var first = start, last = lineEnd
        if last > first && base[last - 1] == UInt8(ascii: "\r") { last -= 1 }
        if lineNumber == 1 && last - first >= 3 && base[first] == 0xEF && base[first + 1] == 0xBB
            && base[first + 2] == 0xBF {
            first += 3  // UTF-8 byte-order mark
        }
        base[last] = 0  // the storage has one spare byte after `end` for this
        start = next
        scanned = next
        returnsScanned = next
        quotesCounted = next
        quotes = 0
        return try body(UnsafeBufferPointer(start: base + first, count: last - first))
    }

    /// Moves the unread bytes to the front, grows the buffer if a line fills it, reads more.
    private func refill() throws(DataError) {
        let capacity = storage.count - 1
        if start > 0 {
            let pending = end - start
            if pending > 0 { storage.baseAddress!.copyMemory(from: storage.baseAddress! + start, byteCount: pending) }
            scanned -= start
            returnsScanned -= start
            quotesCounted -= start
            end = pending
            start = 0
        }
        // The bytes pending are the line being read: held to the bound whether or not the
        // buffer must grow (checked only before growing, a line of 100 MiB fitted the
        // buffer grown for 64 and was read, needing 2.6 GB to parse).
        if end >= maxLineLength {
            throw .lineTooLong(at: DataLocation(source: name, line: lineNumber + 1), limit: maxLineLength)
        }
        if capacity - end < chunkSize / 2 {
            let grown = UnsafeMutableRawBufferPointer.allocate(byteCount: 2 * capacity + 1, alignment: 16)
            grown.baseAddress!.copyMemory(from: storage.baseAddress!, byteCount: end)
            storage.deallocate()
            storage = grown
        }
        let room = min(storage.count - 1 - end, chunkSize)
        let got = try file.read(into: UnsafeMutableRawBufferPointer(start: storage.baseAddress! + end, count: room))
        if got == 0 { atEnd = true }
        end += got
    }
}
