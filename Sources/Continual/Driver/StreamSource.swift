import Foundation
import MoE

/// Where a stream's batches come from, described well enough to open it again.
///
/// The driver saves it in every checkpoint it writes (`/sections/stream`, next to the
/// stream's position), so a paused stream of any kind is reopened from the checkpoint
/// alone. As JSON it is one flat object with a `kind` and the settings of that kind.
public enum StreamSource: Sendable, Equatable {
    /// A scenario's experiences in order (repeated over `cycles`), each evaluated on every
    /// experience's test set when it ends.
    case scenario(ScenarioSettings)
    /// Joint training, the upper bound: all of a scenario's training data as one shuffled
    /// experience (seeded by the scenario's seed), evaluated once at the end.
    case joint(ScenarioSettings)
    /// Labelled CSV rows from a file (plain or gzip) or from standard input.
    case csv(CSVSettings)
    /// Labelled images from a pair of IDX files (plain or gzip).
    case idx(IDXSettings)
    /// Epochs over a training set, each in a fresh seeded order (`moe train`).
    case trainingSet(TrainingSetSettings)

    /// A scenario: built in by name (Fashion-MNIST's), or built in memory and given again
    /// when the stream is reopened.
    public struct ScenarioSettings: Sendable, Equatable, Codable {
        /// `split-fmnist`, `permuted-fmnist`, or the name of a scenario built in memory.
        public var scenario: String
        /// Folder of the Fashion-MNIST files (nil: Debian's).
        public var dataDirectory: String?
        /// Experiences (the permuted scenario's permutations).
        public var experiences: Int
        public var seed: UInt64
        public var passes: Int
        public var batchSize: Int
        /// Times the experiences are streamed.
        public var cycles: Int
        /// The units of the pixels (nil, as in streams saved before units existed: [0, 1]).
        public var units: StreamCatalogue.Units?

        public init(scenario: String, dataDirectory: String? = nil, experiences: Int = 5, seed: UInt64 = 1,
                    passes: Int = 2, batchSize: Int = 128, cycles: Int = 1, units: StreamCatalogue.Units? = nil) {
            precondition(passes > 0 && batchSize > 0 && cycles > 0 && experiences > 0,
                         "Passes, batch size, cycles and experiences are positive")
            self.scenario = scenario
            self.dataDirectory = dataDirectory
            self.experiences = experiences
            self.seed = seed
            self.passes = passes
            self.batchSize = batchSize
            self.cycles = cycles
            self.units = units == .unit ? nil : units
        }

        /// Builds the scenario when it is one of Fashion-MNIST's named streams
        /// (`StreamCatalogue`; nil otherwise).
        public func makeBuiltIn() throws(ScenarioError) -> Scenario? {
            guard StreamCatalogue.entry(scenario) != nil else { return nil }
            let directory = dataDirectory ?? FashionMNIST.defaultDirectory
            let train: Dataset, test: Dataset
            do {
                (train, test) = try FashionMNIST.loadSplits(directory: directory)
            } catch {
                throw .data(error)
            }
            return try StreamCatalogue.scenario(
                scenario, train: train, test: test, units: units ?? .unit, experiences: experiences, seed: seed)
        }
    }

    /// A CSV file or standard input.
    public struct CSVSettings: Sendable, Equatable, Codable {
        /// The file, or nil for standard input.
        public var path: String?
        public var labelColumn: LabelColumn
        public var hasHeader: Bool
        /// The field separator (one ASCII character).
        public var separator: String
        public var batchSize: Int
        public var badRows: BadRowPolicy
        /// Indicator columns per text column (`CSVFormat.textIndicators`); nil in streams
        /// saved before text columns were read, which refused text (0).
        public var textIndicators: Int?
        /// Whether missing values take their column's mean (`CSVFormat.imputesMissing`);
        /// nil in streams saved before, which refused them.
        public var imputesMissing: Bool?
        /// Columns left out (`CSVFormat.ignoredColumns`; nil in streams saved before: none).
        public var ignoredColumns: [String]?
        /// Whether the separator is found from the file's first lines
        /// (`CSVFormat.detectsSeparator`; nil in streams saved before: `separator`).
        public var detectsSeparator: Bool?
        /// Without `hasHeader`, whether a header is found all the same
        /// (`CSVFormat.detectsHeader`): false for a stream told the file has none
        /// (`--no-header`), nil otherwise and in streams saved before (found).
        public var detectsHeader: Bool?
        /// Whether the reader chooses the label column, none being given
        /// (`CSVFormat.choosesLabelColumn`): true until the stream's first row or header
        /// shows the file, when the driver keeps the column chosen in `labelColumn`; nil
        /// otherwise and in streams saved before (`labelColumn` is the one read).
        public var choosesLabelColumn: Bool?

        /// - Parameters:
        ///   - separator: nil finds it from the file's first lines.
        ///   - choosesLabelColumn: no label column was given: the reader chooses it
        ///     (`CSVFormat.choosesLabelColumn`), `labelColumn` standing when nothing
        ///     in the file says otherwise.
        public init(path: String?, labelColumn: LabelColumn = .first, hasHeader: Bool = false, separator: Character? = nil,
                    batchSize: Int = 128, badRows: BadRowPolicy = .fail,
                    textIndicators: Int = CSVFormat.defaultTextIndicators, imputesMissing: Bool = true,
                    ignoredColumns: [String] = [], detectsHeader: Bool = true, choosesLabelColumn: Bool = false) {
            self.choosesLabelColumn = choosesLabelColumn ? true : nil
            self.detectsSeparator = separator == nil ? true : nil
            self.detectsHeader = detectsHeader ? nil : false
            self.imputesMissing = imputesMissing
            self.ignoredColumns = ignoredColumns.isEmpty ? nil : ignoredColumns
            precondition(batchSize > 0, "A batch holds at least one sample")
            self.path = path
            self.labelColumn = labelColumn
            self.hasHeader = hasHeader
            self.separator = String(separator ?? ",")
            self.batchSize = batchSize
            self.badRows = badRows
            self.textIndicators = textIndicators
        }

        /// The layout as the reader takes it.
        public var format: CSVFormat {
            var format = CSVFormat(labelColumn: labelColumn, hasHeader: hasHeader,
                                   separator: detectsSeparator == true ? nil : separator.first ?? ",",
                                   textIndicators: textIndicators ?? 0, imputesMissing: imputesMissing ?? false,
                                   ignoredColumns: ignoredColumns ?? [], detectsHeader: detectsHeader ?? true)
            format.choosesLabelColumn = choosesLabelColumn == true
            return format
        }
    }

    /// A pair of IDX files.
    public struct IDXSettings: Sendable, Equatable, Codable {
        public var images: String
        public var labels: String
        public var scaling: PixelScaling
        public var batchSize: Int
        public var badRows: BadRowPolicy

        public init(images: String, labels: String, scaling: PixelScaling = .unit, batchSize: Int = 128,
                    badRows: BadRowPolicy = .fail) {
            precondition(batchSize > 0, "A batch holds at least one sample")
            self.images = images
            self.labels = labels
            self.scaling = scaling
            self.batchSize = batchSize
            self.badRows = badRows
        }
    }

    /// Fashion-MNIST's training split (its first `limit` rows), read in `epochs` passes.
    public struct TrainingSetSettings: Sendable, Equatable, Codable {
        /// Folder of the Fashion-MNIST files (nil: Debian's).
        public var dataDirectory: String?
        /// Only the first rows (nil: all).
        public var limit: Int?
        public var batchSize: Int
        /// Passes over the data.
        public var epochs: Int
        /// Seed of the sample order of every pass.
        public var shuffleSeed: UInt64

        public init(dataDirectory: String? = nil, limit: Int? = nil, batchSize: Int = 128, epochs: Int, shuffleSeed: UInt64) {
            precondition(batchSize > 0 && epochs > 0, "Batch size and epochs are positive")
            precondition(limit.map { $0 > 0 } ?? true, "A limit keeps at least one row")
            self.dataDirectory = dataDirectory
            self.limit = limit
            self.batchSize = batchSize
            self.epochs = epochs
            self.shuffleSeed = shuffleSeed
        }

        /// The training rows this stream reads.
        public func load() throws(DataError) -> Dataset {
            let train = try FashionMNIST.load(split: .train, directory: dataDirectory ?? FashionMNIST.defaultDirectory)
            guard let limit, limit < train.count else { return train }
            return train.subset(0..<limit)
        }
    }

    /// What the stream is called in messages and reports: `split-fmnist`,
    /// `split-fmnist-joint`, `csv:PATH`, `stdin`, `idx:IMAGES,LABELS`, `Fashion-MNIST train`.
    public var name: String {
        switch self {
        case let .scenario(s): s.scenario
        case let .joint(s): s.scenario + "-joint"
        case let .csv(c): c.path.map { "csv:" + $0 } ?? "stdin"
        case let .idx(i): "idx:\(i.images),\(i.labels)"
        case .trainingSet: "Fashion-MNIST train"
        }
    }

    /// The largest batch a stream takes: every batch holds its rows' gate features and
    /// activations at once (a batch of 10^8 rows asked for 819 GB and ended the process).
    public static let largestBatch = 65_536

    /// Samples per batch.
    public var batchSize: Int {
        switch self {
        case let .scenario(s), let .joint(s): s.batchSize
        case let .csv(c): c.batchSize
        case let .idx(i): i.batchSize
        case let .trainingSet(t): t.batchSize
        }
    }

    /// The same source with another policy for bad rows (rows read from files only).
    public func with(badRows policy: BadRowPolicy) -> StreamSource {
        switch self {
        case var .csv(c):
            c.badRows = policy
            return .csv(c)
        case var .idx(i):
            i.badRows = policy
            return .idx(i)
        case .scenario, .joint, .trainingSet:
            return self
        }
    }

    /// The same stream with Fashion-MNIST's files read from `directory` (they moved).
    public func relocated(to directory: String) -> StreamSource {
        switch self {
        case var .scenario(s):
            s.dataDirectory = directory
            return .scenario(s)
        case var .joint(s):
            s.dataDirectory = directory
            return .joint(s)
        case var .trainingSet(t):
            t.dataDirectory = directory
            return .trainingSet(t)
        case .csv, .idx:
            return self
        }
    }

    /// The scenario's settings, for a scenario or joint stream.
    public var scenarioSettings: ScenarioSettings? {
        switch self {
        case let .scenario(s), let .joint(s): s
        default: nil
        }
    }
}

extension StreamSource: Codable {
    private enum Kind: String, Codable {
        case scenario, joint, csv, idx
        case trainingSet = "training-set"
    }

    private enum CodingKeys: String, CodingKey { case kind }

    public init(from decoder: any Decoder) throws {
        let kind = try decoder.container(keyedBy: CodingKeys.self).decode(Kind.self, forKey: .kind)
        switch kind {
        case .scenario: self = .scenario(try ScenarioSettings(from: decoder))
        case .joint: self = .joint(try ScenarioSettings(from: decoder))
        case .csv: self = .csv(try CSVSettings(from: decoder))
        case .idx: self = .idx(try IDXSettings(from: decoder))
        case .trainingSet: self = .trainingSet(try TrainingSetSettings(from: decoder))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case let .scenario(s):
            try container.encode(Kind.scenario, forKey: .kind)
            try s.encode(to: encoder)
        case let .joint(s):
            try container.encode(Kind.joint, forKey: .kind)
            try s.encode(to: encoder)
        case let .csv(c):
            try container.encode(Kind.csv, forKey: .kind)
            try c.encode(to: encoder)
        case let .idx(i):
            try container.encode(Kind.idx, forKey: .kind)
            try i.encode(to: encoder)
        case let .trainingSet(t):
            try container.encode(Kind.trainingSet, forKey: .kind)
            try t.encode(to: encoder)
        }
    }
}
