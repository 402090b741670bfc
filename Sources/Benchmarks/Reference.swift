import Foundation

/// Why a benchmark could not run.
public enum BenchmarkError: Error, Equatable, CustomStringConvertible {
    /// A reference file could not be read.
    case unreadableReference(path: String, reason: String)
    /// A reference file is not what `scripts/bench_reference.py` writes.
    case malformedReference(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadableReference(path, reason): "cannot read the reference figures '\(path)': \(reason)"
        case let .malformedReference(path, reason):
            "'\(path)' is not a reference written by scripts/bench_reference.py: \(reason)"
        }
    }
}

/// Training and inference speed of the same MLP in another library, as
/// `scripts/bench_reference.py` writes it (one JSON object).
public struct Reference: Sendable, Equatable, Decodable {
    /// `pytorch`.
    public var library: String
    /// The library's version.
    public var version: String
    /// What it trained on.
    public var data: String?
    /// Figures by thread count, then by batch size (both as strings).
    public var threads: [String: [String: Entry]]

    /// One batch size at one thread count.
    public struct Entry: Sendable, Equatable, Decodable {
        public var trainSamplesPerSecond: Double
        public var inferenceSamplesPerSecond: Double
        /// Which of the library's Adam implementations was faster (`default`, `fused`).
        public var adam: String?

        enum CodingKeys: String, CodingKey {
            case trainSamplesPerSecond = "train_samples_per_second"
            case inferenceSamplesPerSecond = "inference_samples_per_second"
            case adam
        }
    }

    /// Thread counts, ascending.
    public var threadCounts: [Int] { threads.keys.compactMap { Int($0) }.sorted() }

    /// The figures at `threads` threads and batch `batch`, if measured.
    public func entry(threads: Int, batch: Int) -> Entry? { self.threads[String(threads)]?[String(batch)] }

    /// Reads the file at `path`.
    public static func load(path: String) throws(BenchmarkError) -> Reference {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadableReference(path: path, reason: (error as NSError).localizedDescription)
        }
        let reference: Reference
        do {
            reference = try JSONDecoder().decode(Reference.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw .malformedReference(path: path, reason: "no '\(key.stringValue)' at \(Self.path(context))")
        } catch let DecodingError.typeMismatch(_, context) {
            throw .malformedReference(path: path, reason: "wrong type at \(Self.path(context))")
        } catch {
            throw .malformedReference(path: path, reason: "not JSON of the expected shape")
        }
        for (threads, batches) in reference.threads {
            guard let count = Int(threads), count >= 1 else {
                throw .malformedReference(path: path, reason: "thread count '\(threads)' is not a positive integer")
            }
            for (batch, entry) in batches {
                guard let size = Int(batch), size >= 1 else {
                    throw .malformedReference(path: path, reason: "batch size '\(batch)' at \(count) threads is not a positive integer")
                }
                guard entry.trainSamplesPerSecond > 0, entry.inferenceSamplesPerSecond > 0,
                      entry.trainSamplesPerSecond.isFinite, entry.inferenceSamplesPerSecond.isFinite else {
                    throw .malformedReference(path: path, reason: "batch \(size) at \(count) threads has no positive rates")
                }
            }
        }
        guard !reference.threadCounts.isEmpty else { throw .malformedReference(path: path, reason: "no figures") }
        return reference
    }

    private static func path(_ context: DecodingError.Context) -> String {
        let keys = context.codingPath.map(\.stringValue)
        return keys.isEmpty ? "the top level" : keys.joined(separator: ".")
    }
}

/// This framework's training speed beside a reference's, batch by batch and thread count
/// by thread count, measured in one run.
public struct ReferenceComparison: Sendable, Equatable, Encodable {
    public var batchSize: Int
    public var threads: Int
    public var trainSamplesPerSecond: Double
    public var referenceTrainSamplesPerSecond: Double
    /// `trainSamplesPerSecond / referenceTrainSamplesPerSecond`.
    public var trainRatio: Double
    public var inferenceSamplesPerSecond: Double
    public var referenceInferenceSamplesPerSecond: Double
    public var inferenceRatio: Double
    /// The reference's Adam (`default`, `fused`).
    public var referenceAdam: String?

    public init(_ result: TrainingBenchmark.Result, threads: Int, reference: Reference.Entry) {
        batchSize = result.batchSize
        self.threads = threads
        trainSamplesPerSecond = result.trainSamplesPerSecond
        referenceTrainSamplesPerSecond = reference.trainSamplesPerSecond
        trainRatio = result.trainSamplesPerSecond / reference.trainSamplesPerSecond
        inferenceSamplesPerSecond = result.inferenceSamplesPerSecond
        referenceInferenceSamplesPerSecond = reference.inferenceSamplesPerSecond
        inferenceRatio = result.inferenceSamplesPerSecond / reference.inferenceSamplesPerSecond
        referenceAdam = reference.adam
    }

    /// One table of comparisons.
    public static func report(_ rows: [ReferenceComparison], reference: Reference) -> String {
        let name = reference.library == "pytorch" ? "PyTorch" : reference.library
        var lines = [
            "MLP 784-256-128-10, Adam: this framework beside \(name) \(reference.version) (samples/s, medians)",
            "batch  threads   train: moe  \(name.padded(10))  ratio     infer: moe  \(name.padded(10))  ratio   \(name) Adam",
        ]
        for r in rows {
            lines.append(
                pad(String(r.batchSize), 5) + pad(String(r.threads), 9) + pad(decimals(r.trainSamplesPerSecond, 0), 13)
                    + pad(decimals(r.referenceTrainSamplesPerSecond, 0), 12) + pad(decimals(r.trainRatio, 2), 7)
                    + pad(decimals(r.inferenceSamplesPerSecond, 0), 15) + pad(decimals(r.referenceInferenceSamplesPerSecond, 0), 12)
                    + pad(decimals(r.inferenceRatio, 2), 7) + "   " + (r.referenceAdam ?? "?"))
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    fileprivate func padded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
