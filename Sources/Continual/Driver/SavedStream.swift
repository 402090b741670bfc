import Foundation
import MoE

/// The stream's part of a checkpoint: its source's description and its position, as one
/// JSON document in `/sections/stream/state` (attribute `format` = `stream-json`).
///
/// ```json
/// {"position": {"batches": 188, "experience": 2, "samples": 24000,
///               "source": {"rowsRead": 0, "samplesDelivered": 0, "labelMap": {…}, …}},
///  "source": {"kind": "scenario", "scenario": "split-fmnist", "passes": 2, "batchSize": 128, …}}
/// ```
struct SavedStream: Codable, Equatable {
    static let sectionName = "stream"
    static let format = "stream-json"

    var source: StreamSource
    var position: StreamProgress
    /// The BLAS thread policy the stream ran with (nil in files saved before it was kept).
    var blasThreads: BLAS.ThreadPolicy? = nil

    /// The section to store.
    func sections() throws -> [String: CheckpointSection] {
        [Self.sectionName: try CheckpointSection(json: self, format: Self.format)]
    }

    /// The stream saved in `checkpoint`, or nil when it holds none.
    static func load(from checkpoint: Checkpoint) throws -> SavedStream? {
        guard checkpoint.sections[sectionName] != nil else { return nil }
        let saved = try checkpoint.section(sectionName).decodeJSON(SavedStream.self, format: format, file: checkpoint.source)
        // A batch the driver could not hold (a crafted file, or one saved before the bound)
        // is refused here rather than ending the process when its first batch is read.
        guard (1...StreamSource.largestBatch).contains(saved.source.batchSize) else {
            throw CheckpointError.invalidValue(
                path: "/sections/\(sectionName)/state",
                reason: "a batch of \(saved.source.batchSize) samples; a stream's batch holds 1 to \(StreamSource.largestBatch)",
                file: checkpoint.source)
        }
        return saved
    }
}

extension CheckpointSection {
    /// A section holding `value` as one JSON string (`state`, keys sorted) with `format`.
    public init<T: Encodable>(json value: T, format: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(value), as: UTF8.self)
        self.init(attributes: ["format": .string(format)], datasets: ["state": .strings([json])])
    }

    /// The value stored by ``init(json:format:)``, checking the format.
    public func decodeJSON<T: Decodable>(_ type: T.Type, format: String, file: String?) throws(CheckpointError) -> T {
        let stored = try string("format")
        let path = origin.path + "/state"
        guard stored == format else {
            throw .invalidValue(path: origin.path + "@format", reason: "'\(stored)', expected '\(format)'", file: file)
        }
        let json = try strings("state", count: 1)[0]
        do {
            return try JSONDecoder().decode(T.self, from: Data(json.utf8))
        } catch let error as DecodingError {
            throw .invalidValue(path: path, reason: "not a valid \(format) document: \(sentence(error))", file: file)
        } catch {
            throw .invalidValue(path: path, reason: "not a valid \(format) document: \(error.localizedDescription)", file: file)
        }
    }
}

/// What is wrong with a JSON document, for people: the key path and the reason.
func sentence(_ error: DecodingError) -> String {
    func path(_ context: DecodingError.Context) -> String {
        let keys = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
        return keys.isEmpty ? "the document" : "'" + keys.joined(separator: ".") + "'"
    }
    switch error {
    case let .keyNotFound(key, context):
        return "\(path(context)) has no '\(key.stringValue)'"
    case let .valueNotFound(_, context), let .typeMismatch(_, context):
        return "\(path(context)) is not what it should be (\(context.debugDescription.trimmingCharacters(in: .punctuationCharacters)))"
    case let .dataCorrupted(context):
        return "\(path(context)): \(context.debugDescription.trimmingCharacters(in: .punctuationCharacters))"
    @unknown default:
        return "it cannot be decoded"
    }
}

extension Checkpoint {
    /// What the CSV stream this learner learned from knew of its columns: its layout
    /// (indicators per text column, whether missing values are filled), its text columns
    /// and their values, and the sums that give missing values their means, so that other
    /// files are read as it read its own; nil when it saved no CSV stream that read a row.
    public var csvColumns: (format: CSVFormat, text: CSVTextLayout, imputation: CSVImputation?)? {
        guard let saved = try? SavedStream.load(from: self), case let .csv(settings) = saved.source,
              saved.position.source.inputWidth != nil else { return nil }
        let position = saved.position.source
        return (settings.format, position.csvLayout,
                position.imputation)
    }
}
