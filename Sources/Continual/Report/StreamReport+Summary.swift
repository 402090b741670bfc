import Foundation

extension StreamReport {
    /// The headline figures of a run, printed by the CLI's `--json` as its last line.
    ///
    /// Always exactly these keys, undefined figures as `null`: `final_average_accuracy`
    /// (class-incremental), `task_incremental_accuracy` (split scenarios), `forgetting`,
    /// `bwt`, `accuracy_matrix` (class-incremental R), `prequential_accuracy` (overall),
    /// `experts`, `parameters` (total), `samples_per_second`.
    public struct Summary: Codable, Sendable, Equatable {
        public var finalAverageAccuracy: Double?
        public var taskIncrementalAccuracy: Double?
        public var forgetting: Double?
        public var bwt: Double?
        public var accuracyMatrix: [[Double?]]
        public var prequentialAccuracy: Double?
        public var experts: Int
        public var parameters: Int
        public var samplesPerSecond: Double

        public init(finalAverageAccuracy: Double?, taskIncrementalAccuracy: Double?, forgetting: Double?,
                    bwt: Double?, accuracyMatrix: [[Double?]], prequentialAccuracy: Double?,
                    experts: Int, parameters: Int, samplesPerSecond: Double) {
            self.finalAverageAccuracy = finalAverageAccuracy
            self.taskIncrementalAccuracy = taskIncrementalAccuracy
            self.forgetting = forgetting
            self.bwt = bwt
            self.accuracyMatrix = accuracyMatrix
            self.prequentialAccuracy = prequentialAccuracy
            self.experts = experts
            self.parameters = parameters
            self.samplesPerSecond = samplesPerSecond
        }

        /// The JSON keys, in the order the CLI documents them.
        public enum CodingKeys: String, CodingKey, CaseIterable {
            case finalAverageAccuracy = "final_average_accuracy"
            case taskIncrementalAccuracy = "task_incremental_accuracy"
            case forgetting
            case bwt
            case accuracyMatrix = "accuracy_matrix"
            case prequentialAccuracy = "prequential_accuracy"
            case experts
            case parameters
            case samplesPerSecond = "samples_per_second"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(finalAverageAccuracy, forKey: .finalAverageAccuracy)
            try container.encode(taskIncrementalAccuracy, forKey: .taskIncrementalAccuracy)
            try container.encode(forgetting, forKey: .forgetting)
            try container.encode(bwt, forKey: .bwt)
            try container.encode(accuracyMatrix, forKey: .accuracyMatrix)
            try container.encode(prequentialAccuracy, forKey: .prequentialAccuracy)
            try container.encode(experts, forKey: .experts)
            try container.encode(parameters, forKey: .parameters)
            try container.encode(samplesPerSecond, forKey: .samplesPerSecond)
        }

        /// One line of compact JSON with sorted keys, for the CLI's `--json`.
        public func jsonLine() throws(ReportError) -> String {
            String(decoding: try encodeJSON(self, pretty: false), as: UTF8.self)
        }
    }

    /// The whole report as pretty-printed JSON with sorted keys.
    public func jsonData() throws(ReportError) -> Data {
        var data = try encodeJSON(self, pretty: true)
        data.append(UInt8(ascii: "\n"))
        return data
    }

    /// Decodes a report written by ``jsonData()``.
    public static func decode(from data: Data) throws -> StreamReport {
        try JSONDecoder().decode(StreamReport.self, from: data)
    }
}

/// JSON with sorted keys (so reports diff cleanly), slashes unescaped.
func encodeJSON(_ value: some Encodable, pretty: Bool) throws(ReportError) -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
                                      : [.sortedKeys, .withoutEscapingSlashes]
    do {
        return try encoder.encode(value)
    } catch {
        throw .cannotEncode(reason: "\(error)")
    }
}
