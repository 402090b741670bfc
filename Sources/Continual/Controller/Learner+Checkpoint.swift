import Foundation
import MoE

// How the whole learner maps onto a checkpoint (format v1): the model and Adam through
// the checkpoint's own model and optimizer parts, generators in the training state, and
// the rest in sections:
//
//   /sections/learner/state         string [1]: JSON of the learner state version (2),
//                                   configuration, counters, policy state, drift test,
//                                   history, prequential accuracy, half-learning rate,
//                                   seen classes, the arbiter's counts
//   /sections/covariance/<name>     float64: the covariance tracker's arrays
//   /sections/gate_statistics/<name> float64: class statistics of the gate (counts, sums,
//                                   scatter) over the head's (slot, class) columns;
//                                   pending: float32 [rows, features] not yet in the scatter
//   /sections/slot_statistics/<slot>/<name> the same, each slot's own pairs only (with
//                                   `slotHeads`, once the gate has two slots); head_weight,
//                                   head_bias float32 and head_slots int64: the slots' own
//                                   heads (`GateSlotHeads`), head_answering int64 the
//                                   slots they answer for, head_wins and head_losses
//                                   float64 their counts against the pooled head (per
//                                   head_slots; files without them: every head answers);
//                                   fitted_slots int64 and
//                                   fitted_samples float64: each fitted slot's samples at
//                                   its last fit
//   /sections/scaler/<name>         the input scaler: center, inverse_scale (float32, what
//                                   predictions use), mean, squares (float64), first
//                                   (float32), varying, fixed (int64); @count, @evidence, @clip, @settle, @winsorise,
//                                   @anchored (absent in older files: the scaler never
//                                   settles, takes gross errors in, centres on the mean);
//                                   with @widens_tails: knee, reach (float32), beyond
//                                   (int64), @window_count (absent in older files: clipped)
//   /sections/class_moments/        with growth.classConditionalShift: classes int64 [k],
//                                   counts float64 [k], means, squares float64 [k, width]
//                                   (the raw inputs' moments by class); while a drift is
//                                   pending, reference/ the same before it
//   /sections/replay/features       float32 [n, width] (raw inputs); labels, tags int64 [n];
//                                   @seen, @capacity
//   /sections/holdout/features      float32 [n, width] (raw inputs); labels int64 [n];
//                                   @slot, @seen, @capacity, @rate
//   /sections/first_stretch/        while a stretch is open (`FirstStretch`): rows float32
//                                   [n, width] (raw inputs), labels int64 [n]; @batches,
//                                   @built_classes, @first_batch_rows
//   /sections/served/               what the saved learner answers with, as `moe eval`
//                                   does after its snapshot (derived, never read back):
//                                   slot_answers string [slots]; @answers_most_frequent;
//                                   head_weight, head_bias and slot_head_weight,
//                                   slot_head_bias, slot_head_slots, slot_head_answering
//                                   where the snapshot's heads differ from the saved ones
//   /training/generators/learner, /training/generators/replay

extension Learner {
    /// The version of the learner's saved state. Version 1 (before the learner routed by
    /// (slot, class) pairs and scaled its inputs) had no `version` key.
    public static let stateVersion = 2

    /// Everything that is not a matrix, as one JSON document.
    struct SavedState: Codable {
        var version: Int
        var configuration: LearnerConfiguration
        var counters: Counters
        var policyState: GrowthPolicy.State
        var drift: PageHinkley
        var history: LearnerHistory
        var prequential: PrequentialAccuracy
        var halfLearning: HalfLearning
        var seenClasses: [Int]
        var arbiter: AnswerArbiter
        /// Absent in files saved before the gate's shrinkage was chosen: OAS alone.
        var shrinkage: ShrinkageChoice?
        /// The gate's own answers' prequential window, where the course follows them
        /// (absent elsewhere, and in files saved before it existed).
        var course: PrequentialAccuracy?
        /// The scores' calibration (absent in files saved before it existed: served as
        /// the mixture weighs them until the learner counts rows again).
        var calibration: ScoreCalibration?
        /// The stream's recent class shares (absent in files saved before them, and for
        /// configurations without them: a record starts empty where one is due).
        var recentShares: RecentShares?
    }

    /// The learner as a checkpoint, with extra sections (a stream's position).
    public func checkpoint(description: String = "", sections extra: [String: CheckpointSection] = [:]) -> Checkpoint {
        let saved = SavedState(
            version: Self.stateVersion, configuration: configuration, counters: counters, policyState: policyState,
            drift: drift, history: history, prequential: prequential, halfLearning: halfLearning,
            seenClasses: seenClasses.sorted(), arbiter: arbiter, shrinkage: shrinkage, course: course,
            calibration: calibration, recentShares: recentShares)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Encoding plain Codable values cannot fail.
        let json = String(decoding: try! encoder.encode(saved), as: UTF8.self)

        var sections = extra
        sections["learner"] = CheckpointSection(
            attributes: ["format": .string("learner-state-json"), "version": .int(Int64(Self.stateVersion))],
            datasets: ["state": .strings([json])])
        var covariance = CheckpointSection()
        for (name, values) in tracker.state.namedArrays { covariance.insert(.doubles(values), at: name) }
        sections["covariance"] = covariance
        if let statistics { sections["gate_statistics"] = Self.statisticsSection(statistics) }
        if !slotStatistics.isEmpty || model.gate.slotHeads != nil {
            var section = CheckpointSection()
            for (slot, own) in slotStatistics {
                section.children[String(slot)] = Self.statisticsSection(own)
            }
            if let heads = model.gate.slotHeads {
                section.insert(.float32(heads.weight), at: "head_weight")
                section.insert(.float32(heads.bias), at: "head_bias")
                section.insert(.integers(heads.slots.map(Int64.init)), at: "head_slots")
                section.insert(.integers(heads.answering.map(Int64.init)), at: "head_answering")
                section.insert(.doubles(heads.slots.map { slotHeadTallies[$0]?.wins ?? 0 }), at: "head_wins")
                section.insert(.doubles(heads.slots.map { slotHeadTallies[$0]?.losses ?? 0 }), at: "head_losses")
            }
            let fitted = slotHeadSamples.keys.sorted()
            section.insert(.integers(fitted.map(Int64.init)), at: "fitted_slots")
            section.insert(.doubles(fitted.map { slotHeadSamples[$0]! }), at: "fitted_samples")
            sections["slot_statistics"] = section
        }
        if let scaler {
            sections["scaler"] = CheckpointSection(
                attributes: ["count": .double(scaler.count), "evidence": .int(Int64(scaler.evidence)),
                             "clip": .double(Double(scaler.clip))]
                    .merging(scaler.settle.map { ["settle": .int(Int64($0))] } ?? [:]) { $1 }
                    .merging(scaler.winsorise.map { ["winsorise": .double($0)] } ?? [:]) { $1 }
                    .merging(scaler.anchored ? ["anchored": .int(1)] : [:]) { $1 }
                    .merging(scaler.widensTails ? ["widens_tails": .int(1), "window_count": .int(Int64(scaler.windowCount))] : [:]) { $1 }
                    .merging(scaler.trendTails ? ["trend_tails": .int(1)] : [:]) { $1 },
                datasets: [
                    "center": .float32(Matrix(row: scaler.center)),
                    "inverse_scale": .float32(Matrix(row: scaler.inverseScale)),
                    "mean": .doubles(scaler.mean), "squares": .doubles(scaler.squares),
                    "first": .float32(Matrix(rows: scaler.first.isEmpty ? 0 : 1, columns: scaler.width, scalars: scaler.first)),
                    "varying": .integers(scaler.varying.map(Int64.init)),
                    "fixed": .integers(scaler.fixed.map { $0 ? 1 : 0 }),
                ].merging(scaler.widensTails ? ["knee": .float32(Matrix(row: scaler.knee)), "reach": .float32(Matrix(row: scaler.reach)),
                                                "beyond": .integers(scaler.beyond.map(Int64.init))] : [:]) { $1 }
                .merging(scaler.trendTails ? ["knee": .float32(Matrix(row: scaler.knee)), "trend": .doubles(scaler.trend)] : [:]) { $1 })
        }
        if keepsClassMoments {
            var section = Self.classMomentsSection(classMoments, width: inputWidth)
            if let driftClassReference {
                section.children["reference"] = Self.classMomentsSection(driftClassReference, width: inputWidth)
            }
            sections["class_moments"] = section
        }
        if !shrinkageHeads.isEmpty {
            var section = CheckpointSection()
            for (k, head) in shrinkageHeads {
                section.insert(.float32(head.weight), at: "weight_\(k)")
                section.insert(.float32(head.bias), at: "bias_\(k)")
            }
            sections["shrinkage"] = section
        }
        sections["replay"] = CheckpointSection(
            attributes: ["seen": .int(Int64(replay.seen)), "capacity": .int(Int64(replay.capacity))],
            datasets: ["features": .float32(replay.features), "labels": .integers(replay.labels.map(Int64.init)),
                       "tags": .integers(replay.tags.map(Int64.init))])
        sections["holdout"] = CheckpointSection(
            attributes: ["slot": .int(Int64(holdout.slot)), "seen": .int(Int64(holdout.seen)), "offered": .int(Int64(holdout.offered)),
                         "capacity": .int(Int64(holdout.capacity)), "rate": .double(holdout.rate)],
            datasets: ["features": .float32(holdout.features), "labels": .integers(holdout.labels.map(Int64.init)),
                       "retained_features": .float32(holdout.retainedFeatures),
                       "retained_labels": .integers(holdout.retainedLabels.map(Int64.init)),
                       "retained_slots": .integers(holdout.retainedSlots.map(Int64.init))])
        if let firstStretch {
            sections["first_stretch"] = CheckpointSection(
                attributes: ["batches": .int(Int64(firstStretch.batches)), "built_classes": .int(Int64(firstStretch.builtClasses)),
                             "first_batch_rows": .int(Int64(firstStretch.firstBatchRows))],
                datasets: ["rows": .float32(firstStretch.rows), "labels": .integers(firstStretch.labels.map(Int64.init))])
        }
        if let served = servedSection() { sections["served"] = served }
        let training = Checkpoint.TrainingState(
            learningRate: Double(optimizer.learningRate),
            counters: ["batches": Int64(counters.batches), "samples": Int64(counters.samples)],
            generators: ["learner": generator.state, "replay": replay.generator.state])
        return Checkpoint(model: model, optimizer: optimizer, training: training, sections: sections, description: description)
    }

    /// What the saved learner answers with: who answers in each slot, whether the
    /// stream's most frequent class answers every input, and the gate's heads where they
    /// differ from the saved ones, all as ``snapshot()`` leaves them, so as `moe eval`
    /// answers. A reader that predicts from the file (`scripts/checkpoint_predict.py`)
    /// takes them from here instead of repeating the snapshot's judgements, some of which
    /// score the replayed rows with heads fitted without each row. Derived and never read
    /// back: a learner restored from the file judges again, to the same answers. Nil for a
    /// gate that does not route by (slot, class) pairs, whose answers no judgement changes.
    func servedSection() -> CheckpointSection? {
        guard model.gate.configuration.pairRouting else { return nil }
        let ready = needsSnapshot ? snapshot() : self
        let mostFrequent = ready.configuration.predictor == .mixture && ready.arbiter.answersMostFrequent
        var section = CheckpointSection(attributes: ["answers_most_frequent": .int(mostFrequent ? 1 : 0)])
        section.insert(.strings((0..<ready.model.gate.slotCount).map { ready.arbiter.answer(slot: $0).rawValue }),
                       at: "slot_answers")
        let gate = ready.model.gate
        if gate.headWeight != model.gate.headWeight || gate.headBias != model.gate.headBias {
            section.insert(.float32(gate.headWeight), at: "head_weight")
            section.insert(.float32(gate.headBias), at: "head_bias")
        }
        if let heads = gate.slotHeads, heads != model.gate.slotHeads {
            section.insert(.float32(heads.weight), at: "slot_head_weight")
            section.insert(.float32(heads.bias), at: "slot_head_bias")
            section.insert(.integers(heads.slots.map(Int64.init)), at: "slot_head_slots")
            section.insert(.integers(heads.answering.map(Int64.init)), at: "slot_head_answering")
        }
        return section
    }

    /// Rebuilds a learner from its checkpoint, exactly as it was saved.
    public init(checkpoint: Checkpoint) throws(CheckpointError) {
        let file = checkpoint.source
        let section = try checkpoint.section("learner")
        let json = try section.strings("state", count: 1)[0]
        let saved: SavedState
        do {
            let version = try JSONDecoder().decode(VersionProbe.self, from: Data(json.utf8)).version ?? 1
            guard version == Self.stateVersion else {
                throw CheckpointError.invalidValue(
                    path: "/sections/learner/state",
                    reason: version < Self.stateVersion
                        ? "the learner was saved by an earlier version of the framework (learner state \(version)), which routed by class and did not scale its inputs; this version cannot continue it. Start a new stream on the same data (its model's weights can still be read with `moe inspect` or h5py)"
                        : "the learner state has version \(version); this build reads version \(Self.stateVersion): update the framework",
                    file: file)
            }
            saved = try JSONDecoder().decode(SavedState.self, from: Data(json.utf8))
        } catch let error as CheckpointError {
            throw error
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
            guard model.gate.configuration.pairRouting else {
                throw .invalidValue(path: "/model/architecture", reason: "the learner's gate must route by (slot, class) pairs", file: file)
            }
            let section = try checkpoint.section("gate_statistics")
            let count = Int(try section.int("feature_count"))
            guard count == model.gate.featureCount else {
                throw .invalidValue(path: "/sections/gate_statistics@feature_count",
                                    reason: "\(count) features, the gate has \(model.gate.featureCount)", file: file)
            }
            // Pending rows: float32 rows (this version) or a float64 array (older files).
            let state = try section.allDoubles(float32: ["pending"])
            do {
                statistics = try ClassStatistics(featureCount: count, state: state)
            } catch {
                throw .invalidValue(path: "/sections/gate_statistics", reason: "\(error)", file: file)
            }
            guard statistics!.classCount <= model.gatePairs.count else {
                throw .invalidValue(path: "/sections/gate_statistics/counts",
                                    reason: "statistics for \(statistics!.classCount) columns, the gate has \(model.gatePairs.count) pairs", file: file)
            }
        }
        let (slotStatistics, slotHeads, slotHeadSamples, slotHeadTallies) = try Self.restoreSlotStatistics(
            checkpoint.sections["slot_statistics"], model: model, enabled: statistics != nil, file: file)

        var scaler: InputScaler?
        if case .online = saved.configuration.inputScaling {
            scaler = try Self.restoreScaler(checkpoint.section("scaler"), width: model.inputWidth, file: file)
        }

        let replaySection = try checkpoint.section("replay")
        let capacity = Int(try replaySection.int("capacity"))
        let seen = Int(try replaySection.int("seen"))
        let features = try replaySection.matrix("features", columns: model.inputWidth)
        let labels = try replaySection.integers("labels", shape: [features.rows]).map { Int($0) }
        let tags = try replaySection.integers("tags", shape: [features.rows]).map { Int($0) }
        let slots = max(1, model.gate.slotCount)
        guard capacity == saved.configuration.replayCapacity, features.rows <= capacity, seen >= features.rows,
              labels.allSatisfy({ $0 >= 0 && $0 < model.classCount }), tags.allSatisfy({ $0 >= 0 && $0 < slots })
        else {
            throw .invalidValue(path: "/sections/replay",
                                reason: "\(features.rows) rows, capacity \(capacity), seen \(seen), labels within 0..<\(model.classCount) and tags within 0..<\(slots) expected",
                                file: file)
        }
        let held = try checkpoint.section("holdout")
        let heldFeatures = try held.matrix("features", columns: model.inputWidth)
        let heldLabels = try held.integers("labels", shape: [heldFeatures.rows]).map { Int($0) }
        let heldSlot = Int(try held.int("slot")), heldSeen = Int(try held.int("seen"))
        let heldOffered = Int(try held.int("offered"))
        let heldCapacity = Int(try held.int("capacity")), heldRate = try held.double("rate")
        let retainedFeatures = try held.matrix("retained_features", columns: model.inputWidth)
        let retainedLabels = try held.integers("retained_labels", shape: [retainedFeatures.rows]).map { Int($0) }
        let retainedSlots = try held.integers("retained_slots", shape: [retainedFeatures.rows]).map { Int($0) }
        guard heldSlot >= 0, heldSlot < slots, heldCapacity >= 0, heldFeatures.rows <= heldCapacity, heldSeen >= heldFeatures.rows,
              heldRate >= 0, heldRate < 1, heldLabels.allSatisfy({ $0 >= 0 && $0 < model.classCount }),
              retainedLabels.allSatisfy({ $0 >= 0 && $0 < model.classCount }), retainedSlots.allSatisfy({ $0 >= 0 && $0 < slots }),
              retainedFeatures.rows <= slots * Holdout.retainedPerSlot, heldOffered >= heldSeen
        else {
            throw .invalidValue(path: "/sections/holdout",
                                reason: "\(heldFeatures.rows) rows of slot \(heldSlot), capacity \(heldCapacity), seen \(heldSeen), rate \(heldRate), offered \(heldOffered), \(retainedFeatures.rows) retained rows do not describe a holdout of \(slots) slots",
                                file: file)
        }
        var classMoments: [Int: InputMoments] = [:]
        var driftClassReference: [Int: InputMoments]?
        if scaler != nil && saved.configuration.growth.classConditionalShift == true {
            let section = try checkpoint.section("class_moments")
            classMoments = try Self.restoreClassMoments(section, width: model.inputWidth, classes: model.classCount)
            if section.children["reference"] != nil {
                driftClassReference = try Self.restoreClassMoments(
                    section.child("reference"), width: model.inputWidth, classes: model.classCount)
            }
        }
        for (name, moments) in [("drift", saved.policyState.driftReference), ("stagnation", saved.policyState.stagnationReference)] {
            if let reference = moments, !reference.isValid(width: model.inputWidth) {
                throw .invalidValue(path: "/sections/learner/state",
                                    reason: "the \(name) reference holds \(reference.mean.count) means and \(reference.squares.count) sums of squares over \(reference.count) samples; \(model.inputWidth) finite means and sums of squares >= 0 expected",
                                    file: file)
            }
        }
        let shrinkage = saved.shrinkage ?? ShrinkageChoice(blends: [0])
        var shrinkageHeads: [Int: GateHead] = [:]
        if let section = checkpoint.sections["shrinkage"] {
            let columns = model.gate.headWeight.columns
            for k in shrinkage.candidates where section.datasets["weight_\(k)"] != nil {
                shrinkageHeads[k] = GateHead(weight: try section.matrix("weight_\(k)", rows: model.gate.featureCount, columns: columns),
                                             bias: try section.matrix("bias_\(k)", rows: 1, columns: columns))
            }
        }
        guard (saved.course != nil) == saved.configuration.courseReadsGate else {
            throw .invalidValue(path: "/sections/learner/state",
                                reason: saved.course == nil
                                    ? "the configuration's course follows the gate, but no record of the gate's answers (course) is saved"
                                    : "a record of the gate's answers (course) is saved for a configuration whose course does not follow the gate",
                                file: file)
        }
        guard saved.arbiter.inputRuns.allSatisfy({ $0.width == 0 || $0.width == model.inputWidth }) else {
            throw .invalidValue(path: "/sections/learner/state",
                                reason: "the arbiter's input runs count \(saved.arbiter.inputRuns.map(\.width)) features, the model reads \(model.inputWidth)",
                                file: file)
        }
        guard saved.calibration?.isValid ?? true else {
            throw .invalidValue(path: "/sections/learner/state",
                                reason: "the scores' calibration is not whole: \(saved.calibration!.classes.count) classes (ascending, >= 0 expected) with \(saved.calibration!.counted.count) counts, \(saved.calibration!.faded.count) faded counts and \(saved.calibration!.losses.count) rows of losses (\(ScoreCalibration.shares.count * ScoreCalibration.temperatures.count) finite losses >= 0 each, faded counts > 0 and at most the counts expected)",
                                file: file)
        }
        let recentHalfLives = saved.configuration.recentShares?.halfLives.count
        if let record = saved.recentShares {
            guard let recentHalfLives, saved.configuration.predictor == .mixture, saved.configuration.gateFeatureCount != nil else {
                throw .invalidValue(path: "/sections/learner/state",
                                    reason: "recent class shares (recentShares) are saved for a configuration that serves none",
                                    file: file)
            }
            guard record.isValid(halfLives: recentHalfLives) else {
                throw .invalidValue(path: "/sections/learner/state",
                                    reason: "the recent class shares are not whole: \(record.recent.count) faded counts and \(record.tallies.count) tallies for \(recentHalfLives) half-lives (\(record.counts.count) classes in each, finite counts >= 0, the answer serving one of them, served rows at least their gains and losses and at most \(RecentShares.largestCount) expected)",
                                    file: file)
            }
        }
        let firstStretch = try checkpoint.sections["first_stretch"].map { section throws(CheckpointError) in
            try Self.restoreFirstStretch(section, width: model.inputWidth, classes: model.classCount,
                                         firstVisits: saved.counters.firstVisits, file: file)
        }
        guard saved.seenClasses.allSatisfy({ $0 >= 0 && $0 < model.classCount }) else {
            throw .invalidValue(path: "/sections/learner/state", reason: "seen classes \(saved.seenClasses) outside 0..<\(model.classCount)", file: file)
        }

        self.configuration = saved.configuration
        self.model = model
        self.optimizer = optimizer
        self.tracker = tracker
        self.halfLearning = saved.halfLearning
        self.statistics = statistics
        self.slotStatistics = slotStatistics
        self.slotHeadSamples = slotHeadSamples
        self.slotHeadTallies = slotHeadTallies
        self.model.gate.slotHeads = slotHeads
        self.scaler = scaler
        self.arbiter = saved.arbiter
        self.shrinkage = shrinkage
        self.shrinkageHeads = shrinkageHeads
        self.holdout = Holdout(rate: heldRate, capacity: heldCapacity, slot: heldSlot, features: heldFeatures,
                               labels: heldLabels, seen: heldSeen, offered: heldOffered,
                               retained: (retainedFeatures, retainedLabels, retainedSlots))
        self.replay = ReplayBuffer(capacity: capacity, features: features, labels: labels, tags: tags, seen: seen,
                                   generator: replayGenerator)
        self.policyState = saved.policyState
        self.classMoments = classMoments
        self.driftClassReference = driftClassReference
        self.drift = saved.drift
        self.generator = generator
        self.history = saved.history
        self.prequential = saved.prequential
        self.course = saved.course
        self.calibration = saved.calibration ?? ScoreCalibration()
        self.recentShares = saved.recentShares ?? Self.recentSharesRecord(saved.configuration)
        self.counters = saved.counters
        self.seenClasses = Set(saved.seenClasses)
        self.firstStretch = firstStretch
    }

    /// The first stretch from the section the learner wrote, every value checked: rows
    /// of the model's width, finite, as many labels within its classes, at most as many
    /// rows as first visits, a first batch and a batch count within the rows.
    static func restoreFirstStretch(_ section: CheckpointSection, width: Int, classes: Int, firstVisits: Int, file: String?)
        throws(CheckpointError) -> FirstStretch
    {
        let rows = try section.matrix("rows", columns: width)
        let labels = try section.integers("labels", shape: [rows.rows]).map { Int($0) }
        let batches = Int(try section.int("batches")), built = Int(try section.int("built_classes"))
        let firstRows = Int(try section.int("first_batch_rows"))
        guard rows.rows > 0, rows.rows <= firstVisits, rows.isFinite, labels.allSatisfy({ $0 >= 0 && $0 < classes }),
              batches >= 1, batches <= rows.rows, firstRows >= 1, firstRows <= rows.rows, built >= 1, built <= classes
        else {
            throw .invalidValue(path: "/sections/first_stretch",
                                reason: "\(rows.rows) rows in \(batches) batches (the first of \(firstRows) rows), built with \(built) classes, do not describe a first stretch of a learner of \(classes) classes that has seen \(firstVisits) first visits (1 to \(firstVisits) finite rows, labels within 0..<\(classes), 1 to as many batches as rows expected)",
                                file: file)
        }
        return FirstStretch(rows: rows, labels: labels, batches: batches, builtClasses: built, firstBatchRows: firstRows)
    }

    /// Moments by class as a section: classes, counts, means and squares.
    static func classMomentsSection(_ moments: [Int: InputMoments], width: Int) -> CheckpointSection {
        let classes = moments.keys.sorted()
        return CheckpointSection(datasets: [
            "classes": .integers(classes.map(Int64.init)),
            "counts": .doubles(classes.map { moments[$0]!.count }),
            "means": .float64(classes.flatMap { moments[$0]!.mean }, shape: [classes.count, width]),
            "squares": .float64(classes.flatMap { moments[$0]!.squares }, shape: [classes.count, width]),
        ])
    }

    /// Moments by class from a section ``classMomentsSection(_:width:)`` wrote, every value checked.
    static func restoreClassMoments(_ section: CheckpointSection, width: Int, classes classCount: Int) throws(CheckpointError) -> [Int: InputMoments] {
        let classes = try section.integers("classes").map { Int($0) }
        let k = classes.count
        let counts = try section.doubles("counts", shape: [k])
        let means = try section.doubles("means", shape: [k, width])
        let squares = try section.doubles("squares", shape: [k, width])
        guard classes.allSatisfy({ $0 >= 0 && $0 < classCount }), Set(classes).count == k else {
            throw .invalidValue(path: section.origin.child("classes").path,
                                reason: "classes \(classes) are not distinct classes within 0..<\(classCount)", file: section.origin.file)
        }
        var result: [Int: InputMoments] = [:]
        for (i, c) in classes.enumerated() {
            let moments = InputMoments(count: counts[i], mean: Array(means[i * width..<(i + 1) * width]),
                                       squares: Array(squares[i * width..<(i + 1) * width]))
            guard moments.isValid(width: width) else {
                throw .invalidValue(path: section.origin.path,
                                    reason: "the moments of class \(c) (count \(counts[i])) are not finite, or have a negative count or sum of squares",
                                    file: section.origin.file)
            }
            result[c] = moments
        }
        return result
    }

    /// Reads only the version of a saved learner state.
    private struct VersionProbe: Decodable { var version: Int? }

    /// The input scaler from `/sections/scaler`, every array checked.
    static func restoreScaler(_ section: CheckpointSection, width: Int, file: String?) throws(CheckpointError) -> InputScaler {
        let evidence = Int(try section.int("evidence"))
        let clip = try section.double("clip")
        let count = try section.double("count")
        // Absent in scalers saved before it existed: they never settle.
        let settle = section.attributes["settle"] == nil ? nil : Int(try section.int("settle"))
        if let settle, settle < 1 {
            throw .invalidValue(path: "/sections/scaler", reason: "settle \(settle) is not a sample count", file: file)
        }
        // Absent in scalers saved before it existed: they take gross errors in as they come.
        let winsorise = section.attributes["winsorise"] == nil ? nil : try section.double("winsorise")
        if let winsorise, !(winsorise > 0 && winsorise.isFinite) {
            throw .invalidValue(path: "/sections/scaler", reason: "winsorise \(winsorise) is not a positive number of deviations", file: file)
        }
        // Absent in scalers saved before it existed: they centre every feature on its mean.
        let anchored = section.attributes["anchored"] == nil ? false : try section.int("anchored") != 0
        // Absent in scalers saved before it existed: they clip every feature.
        let widensTails = section.attributes["widens_tails"] == nil ? false : try section.int("widens_tails") != 0
        // Absent in scalers saved before it existed: they clip a trending feature too.
        let trendTails = section.attributes["trend_tails"] == nil ? false : try section.int("trend_tails") != 0
        guard evidence >= 1, clip > 0, clip.isFinite, count >= 0, count.isFinite else {
            throw .invalidValue(path: "/sections/scaler", reason: "evidence \(evidence), clip \(clip), count \(count) are not a scaler's", file: file)
        }
        let firstRows = try section.matrix("first", columns: width)
        guard firstRows.rows <= 1, (firstRows.rows == 0) == (count == 0) else {
            throw .invalidValue(path: "/sections/scaler/first", reason: "\(firstRows.rows) rows for a scaler that has seen \(count) samples", file: file)
        }
        let state = InputScaler.State(
            count: count,
            mean: try section.doubles("mean", count: width), squares: try section.doubles("squares", count: width),
            first: firstRows.scalars,
            varying: try section.integers("varying", shape: [width]).map { Int($0) },
            fixed: try section.integers("fixed", shape: [width]).map { $0 != 0 },
            center: try section.matrix("center", columns: width).scalars,
            inverseScale: try section.matrix("inverse_scale", columns: width).scalars,
            knee: widensTails || trendTails ? try section.matrix("knee", columns: width).scalars : [],
            reach: widensTails ? try section.matrix("reach", columns: width).scalars : [],
            beyond: widensTails ? try section.integers("beyond", shape: [width]).map { Int($0) } : [],
            windowCount: widensTails ? Int(try section.int("window_count")) : 0,
            trend: trendTails ? try section.doubles("trend", count: width) : [])
        do {
            return try InputScaler(width: width, evidence: evidence, clip: Float(clip), settle: settle, winsorise: winsorise,
                                   anchored: anchored, widensTails: widensTails, trendTails: trendTails, state: state)
        } catch {
            throw .invalidValue(path: "/sections/scaler", reason: error.description, file: file)
        }
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
    func allDoubles(prefix: String = "", float32 allowed: Set<String> = []) throws(CheckpointError) -> [String: [Double]] {
        var result: [String: [Double]] = [:]
        for name in datasets.keys {
            if allowed.contains(name), case let .float32(m)? = datasets[name] {
                result[prefix + name] = m.scalars.map(Double.init)
            } else {
                result[prefix + name] = try doubles(name)
            }
        }
        for name in children.keys {
            let nested = try child(name).allDoubles(prefix: prefix + name + "/")
            result.merge(nested) { a, _ in a }
        }
        return result
    }
}

extension Learner {
    /// Class statistics as a section: counts, sums and the scatter's upper triangle in
    /// Float64, the pending rows as the Float32 rows they are (half the bytes, the same bits).
    static func statisticsSection(_ statistics: ClassStatistics) -> CheckpointSection {
        var section = CheckpointSection(attributes: ["feature_count": .int(Int64(statistics.featureCount))])
        for (name, values) in statistics.state where name != "pending" { section.insert(.doubles(values), at: name) }
        let pending = statistics.pendingRows
        let p = statistics.featureCount
        section.insert(.float32(Matrix(rows: pending.count / p, columns: p, scalars: pending)), at: "pending")
        return section
    }

    /// Each slot's own statistics and heads, checked against the model: slots that exist,
    /// the gate's feature count, columns of the slot's own pairs only. Absent (files saved
    /// before slot heads, or before a second slot): none.
    static func restoreSlotStatistics(_ section: CheckpointSection?, model: MixtureOfExperts, enabled: Bool,
                                      file: String?) throws(CheckpointError)
        -> ([Int: ClassStatistics], GateSlotHeads?, [Int: Double], [Int: AnswerArbiter.Tally]) {
        guard let section else { return ([:], nil, [:], [:]) }
        let path = "/sections/slot_statistics"
        guard enabled else {
            throw .invalidValue(path: path, reason: "slot statistics are saved for a learner whose gate keeps no statistics", file: file)
        }
        let p = model.gate.featureCount, pairs = model.gatePairs
        var statistics: [Int: ClassStatistics] = [:]
        for name in section.children.keys.sorted() {
            guard let slot = Int(name), slot >= 0, slot < model.gate.slotCount, String(slot) == name else {
                throw .invalidValue(path: "\(path)/\(name)", reason: "not a slot of the gate (0..<\(model.gate.slotCount))", file: file)
            }
            let child = section.children[name]!
            let count = Int(try child.int("feature_count"))
            guard count == p else {
                throw .invalidValue(path: "\(path)/\(name)@feature_count", reason: "\(count) features, the gate has \(p)", file: file)
            }
            let state = try child.allDoubles(float32: ["pending"])
            let own: ClassStatistics
            do {
                own = try ClassStatistics(featureCount: count, state: state)
            } catch {
                throw .invalidValue(path: "\(path)/\(name)", reason: "\(error)", file: file)
            }
            let stray = own.classes.filter { $0 >= pairs.count || pairs[$0].slot != slot }
            guard own.classCount <= pairs.count, stray.isEmpty else {
                throw .invalidValue(path: "\(path)/\(name)/counts",
                                    reason: "statistics for columns \(own.classes) of \(pairs.count) pairs; slot \(slot)'s own are \(pairs.indices.filter { pairs[$0].slot == slot })",
                                    file: file)
            }
            statistics[slot] = own
        }
        let fittedSlots = try section.integers("fitted_slots").map { Int($0) }
        let fittedSamples = try section.doubles("fitted_samples", shape: [fittedSlots.count])
        guard Set(fittedSlots).count == fittedSlots.count,
              zip(fittedSlots, fittedSamples).allSatisfy({ statistics[$0] != nil && $1.isFinite && $1 >= 0 && $1 <= statistics[$0]!.sampleCount }) else {
            throw .invalidValue(path: "\(path)/fitted_slots",
                                reason: "slots \(fittedSlots) fitted at \(fittedSamples) samples: distinct slots with statistics, at most the samples they hold",
                                file: file)
        }
        let fitted = Dictionary(uniqueKeysWithValues: zip(fittedSlots, fittedSamples))
        guard section.datasets["head_weight"] != nil else { return (statistics, nil, fitted, [:]) }
        let weight = try section.matrix("head_weight", rows: p)
        let bias = try section.matrix("head_bias", rows: 1, columns: weight.columns)
        let slots = try section.integers("head_slots").map { Int($0) }
        // Files saved with the heads' counts may keep a frozen slot's head without its
        // statistics (`refitSlotHeads`); files saved before had statistics for every head.
        let counted = section.datasets["head_answering"] != nil
        guard weight.columns <= pairs.count, weight.isFinite, bias.isFinite, !slots.isEmpty,
              slots == slots.sorted(), Set(slots).count == slots.count,
              slots.allSatisfy({ statistics[$0] != nil || (counted && $0 >= 0 && $0 < model.gate.slotCount) }) else {
            throw .invalidValue(
                path: "\(path)/head_weight",
                reason: "slot heads of \(weight.columns) columns for slots \(slots): at most \(pairs.count) finite columns, for slots of the gate (with statistics, in files saved before 2026-12-03's fifth round), ascending",
                file: file)
        }
        // Files saved before own heads had to win their counts: every fitted head answers,
        // with no counts yet.
        guard counted else {
            return (statistics, GateSlotHeads(weight: weight, bias: bias, slots: slots), fitted, [:])
        }
        let answering = try section.integers("head_answering").map { Int($0) }
        guard answering == answering.sorted(), Set(answering).count == answering.count,
              answering.allSatisfy({ slots.contains($0) }) else {
            throw .invalidValue(path: "\(path)/head_answering",
                                reason: "slots \(answering) answer with their own heads: distinct slots of head_slots \(slots), ascending",
                                file: file)
        }
        let wins = try section.doubles("head_wins", shape: [slots.count])
        let losses = try section.doubles("head_losses", shape: [slots.count])
        guard (wins + losses).allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw .invalidValue(path: "\(path)/head_wins",
                                reason: "the own heads' counts against the pooled head must be finite and non-negative, got wins \(wins), losses \(losses)",
                                file: file)
        }
        var tallies: [Int: AnswerArbiter.Tally] = [:]
        for (k, s) in slots.enumerated() {
            var t = AnswerArbiter.Tally()
            t.wins = wins[k]
            t.losses = losses[k]
            tallies[s] = t
        }
        return (statistics, GateSlotHeads(weight: weight, bias: bias, slots: slots, answering: answering), fitted, tallies)
    }
}
