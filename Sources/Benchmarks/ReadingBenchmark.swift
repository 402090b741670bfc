#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Continual
import MoE

/// How fast the data sources read: a CSV file of Fashion-MNIST rows (a label and 784
/// integer pixels per line, as exported by Kaggle), plain and gzip, the same rows as an
/// ARFF file (a header declaring them, then the CSV's lines), and the IDX files, each read
/// to the end through the stream the learner uses (`CSVSource`, `IDXSource`) in batches
/// of 128 rows.
///
/// The CSV is generated from the real training images, row after row (cycling through
/// them if the target size asks for more), up to a size in bytes (100 MB by default).
public enum ReadingBenchmark {
    /// One file's timing.
    public struct Figure: Sendable, Equatable, Codable {
        /// `csv`, `csv.gz`, `arff`, `blanks`, `svmlight`, `idx` or `idx.gz`.
        public var format: String
        /// Bytes on disk (for IDX: images and labels together).
        public var fileBytes: Int
        /// Bytes after decompression.
        public var dataBytes: Int
        /// Rows read.
        public var rows: Int
        /// Median seconds to read every row.
        public var seconds: Double
        /// Median CPU seconds of the reading thread (steadier than wall time on a busy machine).
        public var cpuSeconds: Double
        public var rowsPerSecond: Double
        /// Rows per CPU second.
        public var rowsPerCPUSecond: Double
        /// File bytes per second, in MB (10^6 bytes).
        public var fileMegabytesPerSecond: Double
        /// Decompressed bytes per second, in MB.
        public var dataMegabytesPerSecond: Double

        init(format: String, fileBytes: Int, dataBytes: Int, rows: Int, seconds: Double, cpuSeconds: Double) {
            self.format = format
            self.fileBytes = fileBytes
            self.dataBytes = dataBytes
            self.rows = rows
            self.seconds = seconds
            self.cpuSeconds = cpuSeconds
            rowsPerSecond = Double(rows) / seconds
            rowsPerCPUSecond = Double(rows) / cpuSeconds
            fileMegabytesPerSecond = Double(fileBytes) / seconds / 1e6
            dataMegabytesPerSecond = Double(dataBytes) / seconds / 1e6
        }
    }

    /// The files the benchmark reads, written by ``prepare(in:images:labels:csvBytes:)``.
    public struct Files: Sendable {
        public var csv: String
        public var csvGzip: String
        /// The CSV's rows under an ARFF header.
        public var arff: String
        /// The CSV's rows with a space between fields, as numpy's `savetxt` writes them.
        public var blanks: String
        /// The CSV's rows as svmlight (`label index:value …`, the pixels that are not 0,
        /// indices from 1), as LIBSVM's and scikit-learn's tools write them.
        public var svmlight: String
        public var images: String
        public var labels: String
        public var imagesGzip: String
        public var labelsGzip: String
        /// Rows in the CSV files.
        public var csvRows: Int
    }

    /// Writes `fashion-mnist.csv` and `fashion-mnist.csv.gz` (about `csvBytes` bytes of
    /// text), `fashion-mnist.arff`, `fashion-mnist.txt` (the same rows, a space between
    /// fields) and `fashion-mnist.svm` (the same rows as svmlight) and plain copies of the IDX files into `directory`, from the gzip IDX files
    /// `images` and `labels`.
    public static func prepare(in directory: String, images: String, labels: String, csvBytes: Int = 100_000_000) throws(DataError) -> Files {
        let pixels = try IDX.read(path: images, rank: 3)
        let targets = try IDX.read(path: labels, rank: 1)
        let width = pixels.dimensions[1] * pixels.dimensions[2], count = pixels.dimensions[0]
        var text: [UInt8] = []
        text.reserveCapacity(csvBytes + 4 * (width + 1))
        var sparse: [UInt8] = []
        var rows = 0
        pixels.bytes.withUnsafeBufferPointer { p in
            while text.count < csvBytes {
                let item = rows % count
                appendDecimal(Int(targets.bytes[item]), to: &text)
                appendDecimal(Int(targets.bytes[item]), to: &sparse)
                for j in 0..<width {
                    text.append(UInt8(ascii: ","))
                    appendDecimal(Int(p[item * width + j]), to: &text)
                    if p[item * width + j] != 0 {
                        sparse.append(UInt8(ascii: " "))
                        sparse.append(contentsOf: String(j + 1).utf8)
                        sparse.append(UInt8(ascii: ":"))
                        appendDecimal(Int(p[item * width + j]), to: &sparse)
                    }
                }
                text.append(UInt8(ascii: "\n"))
                sparse.append(UInt8(ascii: "\n"))
                rows += 1
            }
        }
        let files = Files(
            csv: directory + "/fashion-mnist.csv", csvGzip: directory + "/fashion-mnist.csv.gz",
            arff: directory + "/fashion-mnist.arff", blanks: directory + "/fashion-mnist.txt",
            svmlight: directory + "/fashion-mnist.svm", images: directory + "/train-images-idx3-ubyte", labels: directory + "/train-labels-idx1-ubyte",
            imagesGzip: images, labelsGzip: labels, csvRows: rows)
        try writePlain(text, to: files.csv)
        try Gzip.write(text, to: files.csvGzip)
        var header = "% Fashion-MNIST's training images, a row each, the label first\n@relation fashion-mnist\n"
            + "@attribute label {0,1,2,3,4,5,6,7,8,9}\n"
        for j in 0..<width { header += "@attribute pixel\(j) integer\n" }
        try writePlain(Array((header + "@data\n").utf8) + text, to: files.arff)
        try writePlain(text.map { $0 == UInt8(ascii: ",") ? UInt8(ascii: " ") : $0 }, to: files.blanks)
        try writePlain(sparse, to: files.svmlight)
        try IDX.write(pixels, to: files.images)
        try IDX.write(targets, to: files.labels)
        return files
    }

    /// Reads every file `repeats` times (in turn) and returns the medians: CSV, CSV gzip,
    /// ARFF, blank-separated, svmlight, IDX, IDX gzip.
    public static func run(_ files: Files, repeats: Int = 3) throws(DataError) -> [Figure] {
        precondition(repeats > 0, "Need at least one repeat")
        let csvBytes = try size(of: files.csv)
        let idxBytes = try size(of: files.images) + size(of: files.labels)
        let jobs: [(String, Int, Int, () throws(DataError) -> Int)] = [
            ("csv", csvBytes, csvBytes, { () throws(DataError) in try readCSV(files.csv) }),
            ("csv.gz", try size(of: files.csvGzip), csvBytes, { () throws(DataError) in try readCSV(files.csvGzip) }),
            ("arff", try size(of: files.arff), try size(of: files.arff), { () throws(DataError) in try readCSV(files.arff) }),
            ("blanks", csvBytes, csvBytes, { () throws(DataError) in try readCSV(files.blanks) }),
            ("svmlight", try size(of: files.svmlight), try size(of: files.svmlight), { () throws(DataError) in try readCSV(files.svmlight) }),
            ("idx", idxBytes, idxBytes, { () throws(DataError) in try readIDX(files.images, files.labels) }),
            ("idx.gz", try size(of: files.imagesGzip) + size(of: files.labelsGzip), idxBytes,
             { () throws(DataError) in try readIDX(files.imagesGzip, files.labelsGzip) }),
        ]
        var times = [[Double]](repeating: [], count: jobs.count), cpu = times
        var rows = [Int](repeating: 0, count: jobs.count)
        for _ in 0..<repeats {
            for (j, job) in jobs.enumerated() {
                let clock = ContinuousClock()
                let start = clock.now, cpuStart = threadCPUSeconds()
                rows[j] = try job.3()
                let elapsed = clock.now - start
                cpu[j].append(threadCPUSeconds() - cpuStart)
                times[j].append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
            }
        }
        return jobs.enumerated().map { j, job in
            Figure(format: job.0, fileBytes: job.1, dataBytes: job.2, rows: rows[j], seconds: Stopwatch.median(of: times[j]),
                   cpuSeconds: Stopwatch.median(of: cpu[j]))
        }
    }

    /// Rows of a CSV file, read as `moe stream --source csv:PATH` reads them.
    static func readCSV(_ path: String) throws(DataError) -> Int {
        let source = try CSVSource(path: path, batchSize: 128)
        var rows = 0
        while let batch = try source.next() { rows += batch.labels.count }
        return rows
    }

    /// Rows of a pair of IDX files.
    static func readIDX(_ images: String, _ labels: String) throws(DataError) -> Int {
        let source = try IDXSource(images: images, labels: labels, batchSize: 128, classCount: 10)
        var rows = 0
        while let batch = try source.next() { rows += batch.labels.count }
        return rows
    }

    /// A table of the figures.
    public static func report(_ figures: [Figure]) -> String {
        var lines = ["format      file MB    rows   seconds     rows/s   file MB/s   data MB/s   rows/CPU s"]
        for f in figures {
            lines.append(
                f.format.padding(toLength: 8) + pad(decimals(Double(f.fileBytes) / 1e6, 1), 11) + pad(String(f.rows), 8)
                    + pad(decimals(f.seconds, 3), 10) + pad(decimals(f.rowsPerSecond, 0), 11)
                    + pad(decimals(f.fileMegabytesPerSecond, 1), 12) + pad(decimals(f.dataMegabytesPerSecond, 1), 12)
                    + pad(decimals(f.rowsPerCPUSecond, 0), 13))
        }
        return lines.joined(separator: "\n")
    }

    /// CPU time of the calling thread, in seconds.
    static func threadCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    private static func appendDecimal(_ value: Int, to text: inout [UInt8]) {
        if value >= 100 { text.append(UInt8(48 + value / 100)) }
        if value >= 10 { text.append(UInt8(48 + value / 10 % 10)) }
        text.append(UInt8(48 + value % 10))
    }

    private static func writePlain(_ bytes: [UInt8], to path: String) throws(DataError) {
        guard let file = fopen(path, "wb") else { throw .writeFailed(path: path, reason: String(cString: strerror(errno))) }
        let wrote = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        let closed = fclose(file)
        guard wrote == bytes.count, closed == 0 else {
            throw .writeFailed(path: path, reason: String(cString: strerror(errno)))
        }
    }

    private static func size(of path: String) throws(DataError) -> Int {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        return Int(info.st_size)
    }
}

extension String {
    fileprivate func padding(toLength width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
