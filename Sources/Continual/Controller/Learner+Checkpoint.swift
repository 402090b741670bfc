import Foundation
import MoE

// How the whole learner maps onto a checkpoint (format v1): the model and Adam through
// the checkpoint's own model and optimizer parts, generators in the training state, and
// the rest in sections:
//
//   /sections/learner/state         string [1]: JSON of configuration, counters, policy
//                                   state, drift test, history, prequential accuracy,
//                                   half-learning rate, seen classes
//   /sections/covariance/<name>     float64: the covariance tracker's arrays
//   /sections/gate_statistics/<name> float64: class statistics of the gate (counts, sums, scatter)
//   /sections/replay/features       float32 [n, width]; labels int64 [n]; @seen, @capacity
//   /training/generators/learner, /training/generators/replay

extension Learner {
    /// Everything that is not a matrix, as one JSON document.
    struct SavedState: Codable {
        var configuration: LearnerConfiguration
        var counters: Counters
        var policyState: GrowthPolicy.State
        var drift: PageHinkley
        var history: LearnerHistory
        var prequential: PrequentialAccuracy
        var halfLearning: HalfLearning
        var seenClasses: [Int]
        var classesSinceGrowth: [Int]
    }

    /// The learner as a checkpoint, with extra sections (a scenario run's position).
    public func checkpoint(description: String = "", sections extra: [String: CheckpointSection] = [:]) -> Checkpoint {
        let saved = SavedState(
            configuration: configuration, counters: counters, policyState: policyState, drift: drift,
            history: history, prequential: prequential, halfLearning: halfLearning,
            seenClasses: seenClasses.sorted(), classesSinceGrowth: classesSinceGrowth.sorted())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Encoding plain Codable values cannot fail.
        let json = String(decoding: try! encoder.encode(saved), as: UTF8.self)

        var sections = extra
        sections["learner"] = CheckpointSection(
            attributes: ["format": .string("learner-state-json")], datasets: ["state": .strings([json])])
        var covariance = CheckpointSection()
        for (name, values) in tracker.state.namedArrays { covariance.insert(.doubles(values), at: name) }
        sections["covariance"] = covariance
        if let statistics {
            var section = CheckpointSection(attributes: ["feature_count": .int(Int64(statistics.featureCount))])
            for (name, values) in statistics.state { section.insert(.doubles(values), at: name) }
            sections["gate_statistics"] = section
        }
        sections["replay"] = CheckpointSection(
            attributes: ["seen": .int(Int64(replay.seen)), "capacity": .int(Int64(replay.capacity))],
            datasets: ["features": .float32(replay.features), "labels": .integers(replay.labels.map(Int64.init))])
        let training = Checkpoint.TrainingState(
            learningRate: Double(optimizer.learningRate),
            counters: ["batches": Int64(counters.batches), "samples": Int64(counters.samples)],
            generators: ["learner": generator.state, "replay": replay.generator.state])
        return Checkpoint(model: model, optimizer: optimizer, training: training, sections: sections, description: description)
    }

    /// Rebuilds a learner from its checkpoint, exactly as it was saved.
    public init(checkpoint: Checkpoint) throws(CheckpointError) {
        let file = checkpoint.source
        let section = try checkpoint.section("learner")
        let json = try section.strings("state", count: 1)[0]
        let saved: SavedState
        do {
            saved = try JSONDecoder().decode(SavedState.self, from: Data(json.utf8))
        } catch {
            throw .invalidValue(path: "/sections/learner/state", reason: "not a learner state: \(error)", file: file)
        }
        do {
            try saved.configuration.validate()
        } catch {
            throw .invalidValue(path: "/sections/learner/state", reason: "\(error)", file: file)
        }
        let model = try checkpoint.makeModel()
        let optimizer = try checkpoint.makeAdam(for: model)
        let generator = try checkpoint.generator("learner")
        let replayGenerator = try checkpoint.generator("replay")

        var tracker = CovarianceTracker(
            model: model,
            forgetting: saved.configuration.statisticsHalfLife > 0 ? .halfLife(samples: saved.configuration.statisticsHalfLife) : .none)
        let covariance = try checkpoint.section("covariance")
        let arrays = try covariance.allDoubles()
        do {
            tracker.state = try CovarianceTracker.State(namedArrays: arrays)
        } catch {
            throw .invalidValue(path: "/sections/covariance", reason: "\(error)", file: file)
        }
        guard tracker.widths == model.trunk.hiddenWidths else {
            throw .invalidValue(path: "/sections/covariance",
                                reason: "statistics for widths \(tracker.widths), the trunk has \(model.trunk.hiddenWidths)", file: file)
        }

        var statistics: ClassStatistics?
        if case .classPosterior = saved.configuration.gate {
            let section = try checkpoint.section("gate_statistics")
            let count = Int(try section.int("feature_count"))
            guard count == model.gate.featureCount else {
                throw .invalidValue(path: "/sections/gate_statistics@feature_count",
                                    reason: "\(count) features, the gate has \(model.gate.featureCount)", file: file)
            }
            let state = try section.allDoubles()
            do {
                statistics = try ClassStatistics(featureCount: count, state: state)
            } catch {
                throw .invalidValue(path: "/sections/gate_statistics", reason: "\(error)", file: file)
            }
        }

        let replaySection = try checkpoint.section("replay")
        let capacity = Int(try replaySection.int("capacity"))
        let seen = Int(try replaySection.int("seen"))
        let features = try replaySection.matrix("features", columns: model.inputWidth)
        let labels = try replaySection.integers("labels", shape: [features.rows]).map { Int($0) }
        guard capacity == saved.configuration.replayCapacity, features.rows <= capacity, seen >= features.rows,
              labels.allSatisfy({ $0 >= 0 && $0 < model.classCount })
        else {
            throw .invalidValue(path: "/sections/replay",
                                reason: "\(features.rows) rows, capacity \(capacity), seen \(seen), labels within 0..<\(model.classCount) expected",
                                file: file)
        }

        self.configuration = saved.configuration
        self.model = model
        self.optimizer = optimizer
        self.tracker = tracker
        self.halfLearning = saved.halfLearning
        self.statistics = statistics
        self.replay = ReplayBuffer(capacity: capacity, features: features, labels: labels, seen: seen, generator: replayGenerator)
        self.policyState = saved.policyState
        self.drift = saved.drift
        self.generator = generator
        self.history = saved.history
        self.prequential = saved.prequential
        self.counters = saved.counters
        self.seenClasses = Set(saved.seenClasses)
        self.classesSinceGrowth = Set(saved.classesSinceGrowth)
    }
}

extension CheckpointSection {
    /// Stores `array` at a slash-separated path (`layer0/mean`), creating child sections.
    mutating func insert(_ array: CheckpointArray, at path: String) {
        let parts = path.split(separator: "/").map(String.init)
        guard parts.count > 1 else {
            datasets[path] = array
            return
        }
        var child = children[parts[0]] ?? CheckpointSection()
        child.insert(array, at: parts.dropFirst().joined(separator: "/"))
        children[parts[0]] = child
    }

    /// Every float64 dataset below this section, by slash-separated path.
    func allDoubles(prefix: String = "") throws(CheckpointError) -> [String: [Double]] {
        var result: [String: [Double]] = [:]
        for name in datasets.keys { result[prefix + name] = try doubles(name) }
        for name in children.keys {
            let nested = try child(name).allDoubles(prefix: prefix + name + "/")
            result.merge(nested) { a, _ in a }
        }
        return result
    }
}
