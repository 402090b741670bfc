import Continual
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The CSV parser: `CSV.load`, `CSVSource` on a path (256 KiB reads) and on a file
/// descriptor as standard input is read (16 KiB reads), and a stream stopped and
/// resumed from its saved position, with every format and label option.
///
/// Input layout: two option bytes, then the CSV text.
///
/// ```
/// byte 0   bits 0-1  label column: first, last, index 1, name "label"
///          bit 2     header line
///          bits 3-4  separator: found from the first lines (',' when they do not tell), ';', tab, ' '
///          bit 5     skip bad rows (else fail)
///          bit 6     file named *.gz
///          bit 7     strict: text and missing values are errors (else text columns are
///                    categories of 4 indicators and missing values take means)
/// byte 1   bits 0-1  labels: learned, learned names, 3 declared integers, declared names a b c
///          bits 2-3  declared input width: none, 1, 2, 3
///          bits 4-5  batch size: 1, 2, 5, 128
///          bits 6-7  reading: CSV.load, CSVSource(path:), CSVSource(fileDescriptor:), read and resumed
/// ```
///
/// Missing option bytes count as zero.
public enum CSVFuzzing: FuzzTarget {
    public static let name = "csv"

    /// The options of an input, as the two bytes encode them.
    public struct Options: Equatable, Sendable {
        public var labelColumn = 0, header = false, separator = 0, skip = false, gzipName = false, strict = false
        public var labels = 0, width = 0, batchSize = 0, reading = 0

        public init() {}

        init(_ a: UInt8, _ b: UInt8) {
            labelColumn = Int(a & 3)
            header = a & 4 != 0
            separator = Int(a >> 3 & 3)
            skip = a & 32 != 0
            gzipName = a & 64 != 0
            strict = a & 128 != 0
            labels = Int(b & 3)
            width = Int(b >> 2 & 3)
            batchSize = Int(b >> 4 & 3)
            reading = Int(b >> 6 & 3)
        }

        var bytes: [UInt8] {
            [UInt8(labelColumn) | (header ? 4 : 0) | UInt8(separator) << 3 | (skip ? 32 : 0) | (gzipName ? 64 : 0)
                | (strict ? 128 : 0),
             UInt8(labels) | UInt8(width) << 2 | UInt8(batchSize) << 4 | UInt8(reading) << 6]
        }

        var format: CSVFormat {
            let column: LabelColumn = [.first, .last, .index(1), .name("label")][labelColumn]
            // Separator 0 is found from the first lines (',' when they do not tell).
            return CSVFormat(labelColumn: column, hasHeader: header, separator: [nil, ";", "\t", " "][separator],
                             textIndicators: strict ? 0 : 4, imputesMissing: !strict)
        }

        var labelMap: LabelMap {
            switch labels {
            case 0: LabelMap()
            case 1: LabelMap(learning: .names)
            case 2: .integers(classCount: 3)
            default: .names(["a", "b", "c"])
            }
        }

        var inputWidth: Int? { width == 0 ? nil : width }
        var batch: Int { [1, 2, 5, 128][batchSize] }
    }

    /// An input made of `options` and `text`.
    public static func input(_ options: Options, text: String) -> [UInt8] {
        options.bytes + Array(text.utf8)
    }

    public static func run(_ input: [UInt8], in folder: FuzzFolder) -> FuzzOutcome {
        let options = Options(input.first ?? 0, input.count > 1 ? input[1] : 0)
        let path = folder.write(Array(input.dropFirst(2)), named: options.gzipName ? "data.csv.gz" : "data.csv")
        let (format, labels, width, batch) = (options.format, options.labelMap, options.inputWidth, options.batch)
        let policy: BadRowPolicy = options.skip ? .skip : .fail
        switch options.reading {
        case 0:
            do throws(DataError) {
                let data = try CSV.load(path: path, format: format, inputWidth: width, labels: labels, badRows: policy)
                precondition(data.features.rows == data.labels.count && data.labels.allSatisfy { $0 >= 0 && $0 < data.classCount },
                             "CSV.load returned \(data.features.rows) rows, \(data.labels.count) labels, \(data.classCount) classes")
                precondition(data.features.isFinite, "CSV.load returned a non-finite feature")
                return .accepted("\(data.features.rows) rows of \(data.features.columns), \(data.classCount) classes")
            } catch {
                return .rejected(error.description)
            }
        case 1:
            var source: CSVSource
            do {
                source = try CSVSource(path: path, format: format, batchSize: batch, inputWidth: width, labels: labels, badRows: policy)
            } catch {
                return .rejected(error.description)
            }
            let (batches, error) = StreamChecks.drain(&source)
            return StreamChecks.outcome(batches, error)
        case 2:
            let descriptor = open(path, O_RDONLY)
            precondition(descriptor >= 0, "cannot open \(path)")
            defer { close(descriptor) }
            var source: CSVSource
            do {
                source = try CSVSource(fileDescriptor: descriptor, name: "standard input", format: format, batchSize: batch,
                                       inputWidth: width, labels: labels, badRows: policy)
            } catch {
                return .rejected(error.description)
            }
            let (batches, error) = StreamChecks.drain(&source)
            return StreamChecks.outcome(batches, error)
        default:
            return StreamChecks.readAndResume(stop: 1) { () throws(DataError) in
                try CSVSource(path: path, format: format, batchSize: batch, inputWidth: width, labels: labels, badRows: policy)
            }
        }
    }

    public static func seeds() -> [FuzzSeed] {
        func options(_ body: (inout Options) -> Void) -> Options {
            var o = Options()
            body(&o)
            return o
        }
        return [
            FuzzSeed(name: "first-integers", bytes: input(Options(), text: "0,1.5,2\n1,-3,4e2\n2,.25,+7\n")),
            FuzzSeed(name: "header-name-skip", bytes: input(options {
                $0.labelColumn = 3; $0.skip = true; $0.reading = 3
            }, text: "x,label,y\r\n1,cat,2\r\n3,dog,x\r\n\r\n5,cat,6")),
            FuzzSeed(name: "last-semicolon-names", bytes: input(options {
                $0.labelColumn = 1; $0.separator = 1; $0.labels = 3; $0.reading = 1
            }, text: "\u{FEFF}1;2;a\n\"3\";4;\"b\"\n  5 ; 6 ;c\n")),
            FuzzSeed(name: "tab-index-declared", bytes: input(options {
                $0.labelColumn = 2; $0.separator = 2; $0.header = true; $0.labels = 2; $0.width = 2; $0.reading = 2
            }, text: "a\tb\tc\n1\t0\t2\n3\t2\t4\n")),
            FuzzSeed(name: "space-learned-names", bytes: input(options {
                $0.separator = 3; $0.labels = 1; $0.batchSize = 2; $0.skip = true; $0.reading = 3
            }, text: "x 1 2\ny nan 3\nx 1e39 1\nz 7 8\n\"q\"\"r\" 0 0\n")),
            // svmlight (LIBSVM) rows, their width found in the whole file or in the rows ahead.
            FuzzSeed(name: "svmlight-rows", bytes: input(options {
                $0.reading = 1; $0.batchSize = 1
            }, text: "+1 1:0.5 3:2 qid:3 # note\n-1 2:4\n\n+1\t4:1e-2 5:-3\n")),
            FuzzSeed(name: "svmlight-zero-based-descriptor", bytes: input(options {
                $0.labelColumn = 3; $0.reading = 2; $0.labels = 1
            }, text: "# Column indices are zero-based\nb 0:1 2:3\na 1:2\nc 2:7 3:1\n")),
        ]
    }
}
