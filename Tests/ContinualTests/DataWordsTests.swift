import Foundation
import Testing
import Continual
import MoE
import TestSupport

/// Text columns of another value in nearly every row, read as hashed word counts
/// (`CSVFormat.wordBuckets`).
@Suite("Word columns")
struct DataWordsTests {
    /// Rows of a note, a number and a class that only the note's words tell: `alpha` or
    /// `beta` among other words, each note its own.
    private static func notes(_ count: Int) -> [String] {
        let filler = ["the", "parcel", "arrived", "late", "on", "a", "Monday", "driver", "said", "fine"]
        return (0..<count).map { i in
            let label = i % 2 == 0 ? "alpha" : "beta"
            let words = (0..<5).map { filler[(i * 7 + $0 * 3) % filler.count] }
            return "\"Note \(i): \(words.joined(separator: " ")), \(label.uppercased())!\",\(i % 5),\(label)"
        }
    }

    private static func stacked(_ batches: [Batch]) -> Matrix {
        let scalars = batches.flatMap { $0.features.scalars }
        return Matrix(rows: batches.map(\.labels.count).reduce(0, +), columns: batches.first?.features.columns ?? 0, scalars: scalars)
    }

    @Test("a word is a run of letters and digits in lower case, or of bytes beyond ASCII; each adds 1 to its bucket")
    func countWords() {
        let values = UnsafeMutableBufferPointer<Float>.allocate(capacity: 64)
        defer { values.deallocate() }
        values.initialize(repeating: 0)
        CSVSource.countWords(of: "Hello, hello WORLD-42 déjà", into: values, at: 0, buckets: 64)
        #expect(values.reduce(0, +) == 5)
        #expect(values[CSVFormat.indicator(of: "hello", among: 64)] >= 2)
        for word in ["world", "42", "déjà"] { #expect(values[CSVFormat.indicator(of: word, among: 64)] >= 1) }
        values.initialize(repeating: 0)
        CSVSource.countWords(of: " ,;-- ", into: values, at: 0, buckets: 64)
        #expect(values.allSatisfy { $0 == 0 })
    }

    @Test("a row-like text column is read as word counts, kept with the position, resumed and read so by a saved model")
    func wordColumnsRead() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("notes.csv")
            try writeText((["note,n,label"] + Self.notes(120)).joined(separator: "\n") + "\n", to: path)
            let format = CSVFormat(labelColumn: .last, wordBuckets: 32)
            var source = try CSVSource(path: path, format: format)
            let batches = try drain(&source)
            #expect(source.inputWidth == 33)
            #expect(source.position.wordColumns == [0] && source.position.rowLikeTextColumns == [0])
            #expect(source.textLayout?.words == [0] && source.textLayout?.values == [[]])
            let features = Self.stacked(batches)
            // Row 0, "Note 0: the late Monday fine arrived, ALPHA!", counts eight words.
            let first = (0..<32).map { features[0, $0] }
            #expect(first.reduce(0, +) == 8)
            #expect(first[CSVFormat.indicator(of: "alpha", among: 32)] >= 1)
            #expect(features[0, 32] == 0)

            // Resumed from a position saved through JSON: the same features.
            #expect(try featuresAcrossResume(path: path, format: format, batchSize: 16) == features)
            // A model's reading (the saved layout, learning nothing): the same features.
            var again = try CSVSource(path: path, format: format, labels: source.labelMap, text: source.position.csvLayout,
                                      learnsColumns: false)
            let read = Self.stacked(try drain(&again))
            #expect(read == features)

            // Without word buckets, a category as before: 16 indicators.
            var category = try CSVSource(path: path, format: CSVFormat(labelColumn: .last, wordBuckets: 0))
            _ = try drain(&category)
            #expect(category.inputWidth == 17 && category.position.wordColumns == nil)
            #expect(category.position.rowLikeTextColumns == [0])

            // A layout with word columns read with no buckets is refused, naming them.
            var refused = try CSVSource(path: path, format: CSVFormat(labelColumn: .last, wordBuckets: 0), labels: source.labelMap,
                                        text: source.position.csvLayout, learnsColumns: false)
            let error = dataError { _ = try drain(&refused) }
            #expect(error.map { "\($0)".contains("word columns [0]") } == true, "\(String(describing: error))")
        }
    }

    @Test("a position saved before word columns existed reads as none")
    func oldPositions() throws {
        let position = StreamPosition(rowsRead: 3, textColumns: [0], textValues: [["a"]])
        let json = try #require(String(data: JSONEncoder().encode(position), encoding: .utf8))
        #expect(!json.contains("wordColumns"))
        let decoded = try JSONDecoder().decode(StreamPosition.self, from: Data(json.utf8))
        #expect(decoded.wordColumns == nil && decoded.csvLayout.words.isEmpty)
        // Settings without words (the default) are saved as before words existed, and read so.
        let plain = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(StreamSource.CSVSettings(path: "x.csv"))) as? [String: Any])
        #expect(plain["wordBuckets"] == nil)
        let old = try JSONDecoder().decode(StreamSource.CSVSettings.self, from: JSONSerialization.data(withJSONObject: plain))
        #expect(old.format.wordBuckets == 0)
        let asked = StreamSource.CSVSettings(path: "x.csv", wordBuckets: 256)
        let again = try JSONDecoder().decode(StreamSource.CSVSettings.self, from: JSONEncoder().encode(asked))
        #expect(again.format.wordBuckets == 256 && again == asked)
    }
}
