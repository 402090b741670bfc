#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Lines of a (possibly gzip-compressed) text file, read in chunks into one reusable
/// buffer: memory stays at the chunk size plus the longest line, whatever the file size.
///
/// A line ends at LF, CRLF, or a lone CR (old Mac files end their lines with CR only,
/// and read as one line of hundreds of fields otherwise). A line end inside a quoted
/// field is data, as RFC 4180 has it (a note or an address written over several lines,
/// which pandas and spreadsheets quote): the record goes on to the line end after its
/// closing quote, and is handed out as one line. A quote opens a quoted field only at
/// the start of a field (the start of the record or after `,` `;` tab or `|`, blanks
/// between), so a quote inside a field (`12" screen`) is a character and opens nothing;
/// inside a quoted field a doubled quote is one quote. A quoted field still open at the
/// end of the file is refused (`DataError.unclosedQuote`), naming the line it opened on.
/// The reader is made before the file's separator is known (it is found from the lines
/// read), so any of the four opens a field: in a `,` file, an unquoted `5;"abc` that is
/// never closed joins lines until a quote closes it, and ends in a row or quote error.
final class LineReader {
    /// The file or stream name used in errors.
    var name: String { file.name }
    /// 1-based number of the line last handed out (0 before the first): the line its
    /// record begins on, counting every line end, those inside quoted fields too.
    private(set) var lineNumber = 0
    /// Line ends consumed before the record being read: the file's lines before it.
    private var linesBefore = 0
    /// Line ends inside quoted fields of the record being read.
    private var linesInside = 0
    /// Lines longer than this throw `DataError.lineTooLong`.
    let maxLineLength: Int

    private let file: GzipFile
    private let chunkSize: Int
    private var storage: UnsafeMutableRawBufferPointer
    private var start = 0      // first unread byte
    private var end = 0        // one past the last valid byte
    private var scanned = 0    // bytes in start..<scanned hold no newline
    private var returnsScanned = 0  // bytes in start..<returnsScanned hold no lone CR outside quotes
    private var quotesScanned = 0   // the quoting state is known for start..<quotesScanned
    private var inQuotes = false    // whether quotesScanned is inside a quoted field
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
            if let newline {
                if !insideQuotes(base: base, at: newline) {
                    return try emit(base: base, lineEnd: newline, next: newline + 1, body)
                }
                // A line end inside a quoted field: the record goes on.
                linesInside += 1
                scanned = newline + 1
                returnsScanned = max(returnsScanned, newline + 1)
                continue
            }
            scanned = end
            if atEnd {
                if start == end { return nil }
                if insideQuotes(base: base, at: end) {
                    throw .unclosedQuote(at: DataLocation(source: name, line: linesBefore + 1))
                }
                return try emit(base: base, lineEnd: end, next: end, body)
            }
            try refill()
        }
    }

    /// The first CR in the unread bytes before `limit` (a newline, or the end of the bytes
    /// read) that ends a line: not followed by LF, and outside quoted fields (one inside
    /// is data, and counts as a line). A CR that is the last byte read waits for the next
    /// one (it may be a CRLF's), unless the file ends there. A CRLF is left to the LF.
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
            if at + 1 < end && base[at + 1] == UInt8(ascii: "\n") { continue }
            if !insideQuotes(base: base, at: at) { return at }
            linesInside += 1
        }
        returnsScanned = max(from, limit)
        return nil
    }

    /// Whether byte `position` of the record being read lies inside a quoted field. The
    /// state is carried forward from `quotesScanned`, one quote at a time (`memchr`): a
    /// record without quotes costs one search.
    private func insideQuotes(base: UnsafeMutablePointer<UInt8>, at position: Int) -> Bool {
        let quote = UInt8(ascii: "\"")
        var i = max(quotesScanned, start)
        while i < position, let hit = memchr(base + i, Int32(quote), position - i) {
            let q = hit.assumingMemoryBound(to: UInt8.self) - base
            if inQuotes {
                // A doubled quote is one quote of the field's text; a single one closes it.
                if q + 1 < position && base[q + 1] == quote { i = q + 2; continue }
                inQuotes = false
            } else {
                inQuotes = opensField(base: base, at: q)
            }
            i = q + 1
        }
        quotesScanned = max(i, position)
        return inQuotes
    }

    /// Whether the quote at `q` begins a field: only blanks between it and the record's
    /// start or one of the separators a CSV file may use.
    private func opensField(base: UnsafeMutablePointer<UInt8>, at q: Int) -> Bool {
        var k = q
        while k > start && (base[k - 1] == 0x20 || base[k - 1] == 0x09) {
            k -= 1
            if base[k] == 0x09 { return true }  // a tab is a separator too
        }
        if k == start { return true }
        switch base[k - 1] {
        case UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "|"): return true
        default: return false
        }
    }

    private func emit<R>(
        base: UnsafeMutablePointer<UInt8>, lineEnd: Int, next: Int,
        _ body: (UnsafeBufferPointer<UInt8>) throws(DataError) -> R
    ) throws(DataError) -> R {
        lineNumber = linesBefore + 1
        linesBefore += 1 + linesInside
        linesInside = 0
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
        quotesScanned = next
        inQuotes = false
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
            quotesScanned -= start
            end = pending
            start = 0
        }
        // The bytes pending are the line being read: held to the bound whether or not the
        // buffer must grow (checked only before growing, a line of 100 MiB fitted the
        // buffer grown for 64 and was read, needing 2.6 GB to parse).
        if end >= maxLineLength {
            let at = DataLocation(source: name, line: linesBefore + 1)
            // A record held open by a quoted field that never closes reads as one long line.
            if linesInside > 0 { throw .unclosedQuote(at: at) }
            throw .lineTooLong(at: at, limit: maxLineLength)
        }
        if capacity - end < max(1, chunkSize / 2) {  // a chunk of 1 byte grows too
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
