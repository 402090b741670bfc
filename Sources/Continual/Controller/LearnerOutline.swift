import MoE

/// What a saved learner does, in a few lines (`moe inspect` shows it): its slots, the
/// classes each answers among and who answers there, the gate's head, how its scores are
/// calibrated, how inputs are scaled and what the replay buffer holds. Taken from a
/// learner made ready to predict (``Learner/snapshot()``), it says who answers as `moe
/// eval` and `moe predict` serve the learner.
public struct LearnerOutline: Sendable, Equatable, Codable, CustomStringConvertible {
    /// One slot of the mixture: the trunk (slot 0) or an expert.
    public struct Slot: Sendable, Equatable, Codable {
        public var slot: Int
        /// `trunk` or `expert N`.
        public var part: String
        /// The classes of its (slot, class) pairs, by name.
        public var classes: [String]
        /// Who answers among them (`gate`, `network`, `product` or `prior`).
        public var answer: String
        /// First-visit samples routed to it (nil where no discriminant routes: a learned
        /// gate's mixture is its networks').
        public var firstVisits: Int?
        /// Whether it is frozen (every slot but the one in charge, once an expert grew).
        public var frozen: Bool
        /// Whether the gate's columns of this slot are fitted from its own statistics.
        public var ownHead: Bool
    }

    /// The calibration of the served scores (nil: none fitted yet).
    public struct Calibration: Sendable, Equatable, Codable {
        public var temperature: Double
        public var share: Double
        public var rows: Double
    }

    public var slots: [Slot]
    /// Whether the stream's most frequent class answers every input.
    public var mostFrequentClassAnswers: Bool
    /// The gate's head: its covariance shrinkage and the features it reads.
    public var gateHead: String
    public var calibration: Calibration?
    /// Input features scaled online, of all (nil: inputs used as they come).
    public var scaledFeatures: Int?
    public var inputFeatures: Int
    public var replayRows: Int
    public var samplesSeen: Int
    public var prequentialAccuracy: Double?

    public var description: String {
        var lines = ["learner: \(samplesSeen) first-visit samples, prequential accuracy "
            + (prequentialAccuracy.map { String(format: "%.4f", $0) } ?? "none yet")
            + ", \(replayRows) rows in the replay buffer"]
        lines.append("  inputs: " + (scaledFeatures.map { varying in
            "\(inputFeatures) features, scaled online"
                + (varying < inputFeatures ? " (\(varying) vary; the others are passed as they come)" : "")
        } ?? "\(inputFeatures) features, used as they come"))
        lines.append("  gate head: \(gateHead)")
        for s in slots {
            let shown = s.classes.prefix(12).joined(separator: ", ") + (s.classes.count > 12 ? " and \(s.classes.count - 12) more" : "")
            lines.append("  slot \(s.slot) (\(s.part)\(s.frozen ? ", frozen" : "")): answered by the \(s.answer)"
                + (s.ownHead ? " (its own gate columns)" : "") + (s.firstVisits.map { ", \($0) first visits" } ?? "")
                + ", classes \(shown)")
        }
        if mostFrequentClassAnswers { lines.append("  the stream's most frequent class answers every input") }
        if let c = calibration {
            lines.append("  scores: calibrated with a temperature of \(String(format: "%.2f", c.temperature)) and a share of doubt of \(c.share),"
                + " fitted on \(Int(c.rows)) prequential predictions")
        } else {
            lines.append("  scores: served as the mixture weighs them (no prequential row counted yet)")
        }
        return lines.joined(separator: "\n")
    }
}

extension Learner {
    /// The learner's outline, its classes named by `classNames` (the checkpoint's labels;
    /// a class without a name is shown by its index).
    public func outline(classNames: [String]) -> LearnerOutline {
        let name = { (c: Int) in classNames.indices.contains(c) ? classNames[c] : String(c) }
        let gate = model.gate
        let own = Set(gate.slotHeads?.slots ?? [])
        let inCharge = slotInCharge
        let answers = arbiter.answers
        let discriminant = gate.featureCount > 0
        let slots = (0..<max(gate.slotCount, 1)).map { s in
            let classes = model.gatePairs.isEmpty ? (0..<classCount).map { $0 } : model.gatePairs.filter { $0.slot == s }.map(\.label)
            return LearnerOutline.Slot(
                slot: s, part: gate.expert(ofSlot: s).map { "expert \($0)" } ?? "trunk",
                classes: classes.sorted().map(name),
                answer: (!discriminant ? .network : answers.indices.contains(s) ? answers[s] : .gate).rawValue,
                firstVisits: !discriminant ? nil : arbiter.visits.indices.contains(s) ? arbiter.visits[s] : 0,
                frozen: !model.experts.isEmpty && s != inCharge, ownHead: own.contains(s))
        }
        let k = shrinkage.current
        let intensity: String
        switch shrinkage.currentShrinkage {
        case .oas: intensity = "oracle-approximating shrinkage"
        case .fixed(let rho): intensity = "shrinkage \(rho)"
        case .oasToward(let t): intensity = "oracle-approximating shrinkage moved \(t) of the way to the identity"
        }
        let features = shrinkage.leading[k].map { "its first \($0) of \(gate.featureCount) random features" }
            ?? "\(gate.featureCount) random features"
        let fitted = calibration.fitted
        return LearnerOutline(
            slots: slots, mostFrequentClassAnswers: arbiter.answersMostFrequent,
            gateHead: discriminant ? "a discriminant over \(features), \(intensity)" : "a learned gate (no discriminant)",
            calibration: fitted.map { .init(temperature: $0.temperature, share: $0.share, rows: calibration.rows) },
            scaledFeatures: scaler.map(\.varying.count), inputFeatures: inputWidth, replayRows: replay.count,
            samplesSeen: prequential.samples,
            prequentialAccuracy: prequential.samples > 0 ? Double(prequential.correct) / Double(prequential.samples) : nil)
    }
}
