import ArgumentParser
import Continual
import Foundation
import MoE

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load a checkpoint and measure its accuracy on the Fashion-MNIST test set or on CSV data.",
        discussion: """
            The checkpoint is verified (length, digest, format, every shape) before the model \
            is rebuilt. A bare name is looked up in Checkpoints/ (`moe eval run1` reads \
            Checkpoints/run1.h5). With --source csv:PATH (plain or .gz), stdin or \
            idx:IMAGES,LABELS, rows are read incrementally: one label column, every other \
            column a feature, features as the model was trained on them. Samples of classes \
            the model has no output for (a stream paused before they came, a rare class the \
            training rows lacked) count as errors, and the output says how many there are \
            and which labels they had; with --unknown-labels error such a label stops the \
            evaluation, naming the row. Each class's accuracy follows (in the JSON, \
            `class_accuracy` and `class_rows`, by label): in a class-incremental stream, \
            which classes the model lost. With --against OTHER, the same rows are read again \
            for a second checkpoint and the two are compared row by row (paired): where one \
            is right and the other wrong, the difference, its standard error and McNemar's \
            exact test say whether the gap is larger than the noise of these rows.
            """)

    @Argument(help: "The checkpoint file (a bare name means Checkpoints/NAME.h5).")
    var checkpoint: String

    @OptionGroup var data: DataSourceOptions

    @Option(name: .customLong("unknown-labels"), help: "A label the model has no output for: count (an error, counted and named in the output; the default) or error (stops the evaluation, naming the row).")
    var unknownLabels: UnknownLabels = .count

    enum UnknownLabels: String, ExpressibleByArgument, CaseIterable {
        case count, error
    }

    @Flag(name: .customLong("skip-bad-rows"), help: "With a CSV source: skip and count rows that would stop the evaluation (a line of another width, a field that is not a number, a value that is not finite) instead of stopping at the first; the accuracy is over the rows read, and the output says how many were skipped and why.")
    var skipBadRows = false

    @Option(name: .customLong("against"), help: "Another checkpoint (a bare name means Checkpoints/NAME.h5) scored on the same rows, read again as it learned its columns, and compared row by row with this one: the rows each gets right where the other is wrong, the difference with its standard error, and McNemar's exact two-sided p. Labels are matched by name, so the two may have learned the classes in other orders. Not with standard input, which cannot be read twice.")
    var against: String?

    @OptionGroup var keys: CheckpointKeyOptions

    @OptionGroup var output: JSONOutputOption

    struct Output: Encodable {
        var testAccuracy: Double
        var samples: Int
        var correct: Int
        /// Rows skipped as bad (`--skip-bad-rows`; 0 without it).
        var rowsSkipped: Int
        /// Samples of classes the model has no output for (counted as errors).
        var unknownClassSamples: Int
        /// Their labels, as the data wrote them (nil when there are none).
        var unknownLabels: [String]?
        var checkpoint: String
        var data: String
        /// A learner's: who answers in each slot, and whether the stream's most frequent
        /// class answers every input.
        var answers: [String]?
        var mostFrequentClassAnswers: Bool?
        /// A learner's: of the features that varied while it learned, the share whose mean
        /// over these rows lies beyond `InputScaler.unitsDeviations` learned deviations.
        var featuresFarFromLearned: Double?
        /// A learner's, read from a CSV file: its numeric columns whose mean lies that far,
        /// farthest first.
        var columnsFarFromLearned: [String]?
        /// Per label of the rows read: the share of its rows answered right, and its rows.
        var classAccuracy: [String: Double]
        var classRows: [String: Int]
        /// The mean of the classes' shares answered right (each label of the rows read
        /// weighing the same, however rare), and Cohen's kappa of the answers against
        /// chance (`PrequentialKappa.Tally`; nil when chance agrees for certain).
        var balancedAccuracy: Double?
        var kappa: Double?
        /// The scores `moe predict --scores` gives these rows, over the rows of classes the
        /// model has: their mean log-loss and expected calibration error (`ScoreQuality`).
        var logLoss: Double?
        var calibrationError: Double?
        /// A learner's: the same before calibration (the mixture's weights as served).
        var uncalibratedLogLoss: Double?
        var uncalibratedCalibrationError: Double?
        /// With `--against`: the other checkpoint on the same rows, paired.
        var against: PairedComparison?
    }

    /// Two checkpoints scored on the same rows: the other's accuracy, and the rows on which
    /// exactly one of them is right.
    struct PairedComparison: Encodable, Equatable {
        var checkpoint: String
        var testAccuracy: Double
        var correct: Int
        /// Rows this checkpoint gets right and the other wrong, and the reverse.
        var rightWhereOtherWrong: Int
        var wrongWhereOtherRight: Int
        /// This checkpoint's accuracy minus the other's, and its standard error over the
        /// rows (paired: the rows both get right or both get wrong add nothing to it).
        var difference: Double
        var standardError: Double
        /// McNemar's exact test, two-sided: the chance of a split at least this uneven of
        /// the rows where they disagree if either were as likely to be the right one.
        var pValue: Double

        init(checkpoint: String, mine: [Bool], theirs: [Bool]) {
            let n = mine.count
            let b = zip(mine, theirs).filter { $0 && !$1 }.count, c = zip(mine, theirs).filter { !$0 && $1 }.count
            let rows = Double(max(n, 1))
            self.checkpoint = checkpoint
            correct = theirs.filter { $0 }.count
            testAccuracy = Double(correct) / rows
            rightWhereOtherWrong = b
            wrongWhereOtherRight = c
            difference = Double(b - c) / rows
            standardError = (max(0, Double(b + c) - Double((b - c) * (b - c)) / rows)).squareRoot() / rows
            pValue = Self.mcNemar(b, c)
        }

        /// `2 P(X <= min(b, c))` for `X ~ Binomial(b + c, 1/2)`, at most 1 (1 when they never
        /// disagree). Summed in logarithms, so that a million rows neither overflow nor underflow.
        static func mcNemar(_ b: Int, _ c: Int) -> Double {
            let n = b + c, k = min(b, c)
            guard n > 0 else { return 1 }
            // log C(n, i) 2^-n, term by term: C(n, i + 1) = C(n, i) (n - i) / (i + 1).
            var terms = [Double(n) * Foundation.log(0.5)]
            for i in 0..<k { terms.append(terms[i] + Foundation.log(Double(n - i)) - Foundation.log(Double(i + 1))) }
            let top = terms.max()!
            let sum = terms.reduce(0.0) { $0 + exp($1 - top) }
            return min(1, 2 * exp(top + log(sum)))
        }

        var sentence: String {
            let signed = (difference >= 0 ? "+" : "−") + fixed(abs(difference))
            let verdict = pValue < 0.05 ? "larger than the noise of these rows (p < 0.05)" : "within the noise of these rows"
            return "against \(checkpoint): test accuracy \(fixed(testAccuracy)) (\(correct) of the same rows); of the rows where they "
                + "disagree, this checkpoint is right on \(rightWhereOtherWrong) and the other on \(wrongWhereOtherRight): "
                + "a difference of \(signed), standard error \(fixed(standardError)) (paired), McNemar's exact p "
                + "\(pValue < 0.0001 ? "< 0.0001" : "= " + fixed(pValue, 3)): \(verdict)"
        }
    }

    /// The scores' log-loss and calibration error, and a learner's calibration.
    static func scoresLine(_ quality: ScoreQuality, uncalibrated: ScoreQuality?, learner: Learner?) -> String? {
        guard let loss = quality.logLoss, let error = quality.calibrationError else { return nil }
        var line = "scores (moe predict --scores): log-loss \(fixed(loss, 3)), calibration error \(fixed(error, 3))"
        if let learner, let uncalibrated, let rawLoss = uncalibrated.logLoss, let rawError = uncalibrated.calibrationError {
            if let (t, a) = learner.calibration.fitted {
                line += "; calibrated with a temperature of \(fixed(t, 2)) and a share of doubt of \(a), fitted on"
                    + " \(fixed(learner.calibration.rows, 0)) of the stream's prequential predictions (a class's later rows"
                    + " weighing more); as the mixture weighed them:"
                    + " log-loss \(fixed(rawLoss, 3)), calibration error \(fixed(rawError, 3))"
            } else {
                line += " (not calibrated: the learner counted no prequential row of a class it had seen)"
            }
        } else {
            line += " (a trained model's softmax, not calibrated)"
        }
        return line
    }

    func run() throws {
        let console = Console(json: output.json)
        let loaded = try loadCheckpoint(checkpoint, keys: keys)
        let file = loaded.source ?? checkpoint
        let model = try failingClearly { try loaded.makeModel() }
        let (_, scored, learner) = try Self.predictor(loaded, model: model)
        // A learned gate's mixture answers with its networks: no slot has an arbiter's answer.
        let answering = learner.flatMap { $0.arbiter.answers.isEmpty ? nil : Self.answering($0) }, arbiter = learner?.arbiter, scaler = learner?.scaler
        var correct = 0, samples = 0, unseen = 0, unknownClasses = Set<Int>()
        var perClass: [Int: (rows: Int, right: Int)] = [:]
        var agreement = PrequentialKappa.Tally()
        var means = ColumnMeans()
        // The scores as served, and (a learner's) as the mixture weighed them before calibration.
        var quality = ScoreQuality(), uncalibrated = ScoreQuality()
        // A class the model has no output for (a learner paused before it came, a rare class
        // a split left out of the training rows) is scored as errors and named; a label
        // that is a mistake (the wrong label column) shows as many unknown labels, named.
        let counted = unknownLabels == .count || data.parsedSource == .fashionMNIST
        if skipBadRows, data.parsedSource == .fashionMNIST {
            throw CommandFailure("--skip-bad-rows reads a CSV source's rows (--source csv:PATH or stdin); Fashion-MNIST's test set has no bad rows to skip")
        }
        if against != nil, data.parsedSource == .standardInput {
            throw CommandFailure("--against reads the rows twice, once for each checkpoint: give them as a file (--source csv:PATH), not on standard input")
        }
        // With --against: each row's label and whether this checkpoint got it right.
        var rowLabels: [Int] = [], rowRight: [Bool] = []
        let (dataName, labelMap, columnName, skipped) = try data.forEachBatch(
            for: model, of: loaded, file: file, unknownLabels: counted, badRows: skipBadRows ? .skip : .fail,
            warn: console.warn
        ) { features, labels in
            let predicted: [Int]
            if let learner {
                let both = learner.predictWithBothScores(features)
                predicted = both.classes
                quality.add(scores: both.calibrated, labels: labels, predicted: predicted)
                uncalibrated.add(scores: both.uncalibrated, labels: labels, predicted: predicted)
            } else {
                let raw: Matrix
                (predicted, raw) = scored(features)
                quality.add(scores: raw, labels: labels, predicted: predicted)
            }
            agreement.add(labels: labels, predicted: predicted)
            if against != nil {
                rowLabels += labels
                rowRight += zip(predicted, labels).map { $0 == $1 }
            }
            for (p, y) in zip(predicted, labels) {
                perClass[y, default: (0, 0)].rows += 1
                if p == y {
                    correct += 1
                    perClass[y]!.right += 1
                }
            }
            if scaler != nil { means.add(features) }
            samples += labels.count
            let outside = labels.filter { $0 >= model.classCount }
            unseen += outside.count
            unknownClasses.formUnion(outside)
        }
        let unknown = unknownClasses.sorted().map(labelMap.label(of:))
        let accuracy = samples > 0 ? Double(correct) / Double(samples) : 0
        let kind = learner == nil ? "MLP" : "learner with \(model.experts.count) expert\(model.experts.count == 1 ? "" : "s"),"
        console.say("checkpoint \(file): \(kind) \(model.inputWidth)->\(model.classCount), \(model.parameterCount) parameters")
        if let answering { console.say(answering) }
        let named = unknown.isEmpty ? "" : ", labelled " + unknown.prefix(5).map { "'\($0)'" }.joined(separator: ", ")
            + (unknown.count > 5 ? " and \(unknown.count - 5) more" : "")
        let note = unseen > 0 ? "; \(unseen) of them are of classes the model has no output for (it has \(model.classCount))\(named), and count as errors" : ""
        if let hint = Self.labelsWrittenOtherwise(unknown, learned: (0..<model.classCount).map(labelMap.label(of:))) {
            console.say("warning: " + hint)
        } else if unseen * 2 > samples, data.parsedSource != .fashionMNIST {
            console.say("warning: \(unseen) of \(samples) rows have labels the model never learned: a stream stopped before they came, or the wrong label column? (--label-column first, last, an index or a header name)")
        }
        console.say("test accuracy \(fixed(accuracy)) (\(correct) of \(samples) samples of \(dataName)\(note))")
        if skipBadRows { console.say(skipped.summary) }
        let classes = perClass.keys.sorted()
        let share = { (c: Int) in Double(perClass[c]!.right) / Double(perClass[c]!.rows) }
        let balanced = classes.isEmpty ? nil : classes.reduce(0.0) { $0 + share($1) } / Double(classes.count)
        if let balanced, classes.count > 1 {
            console.say("balanced accuracy \(fixed(balanced)) (each class's share right, the classes weighing alike), "
                        + "kappa \(agreement.kappa.map { fixed($0) } ?? "n/a") (against chance)")
        }
        if classes.count > 1 {
            // Worst first, at most 20 (a label column of hundreds of values says so above).
            let worst = classes.sorted { share($0) < share($1) }
            // Fashion-MNIST's classes are numbers in its files; their names say more.
            let named = { (c: Int) in
                data.parsedSource == .fashionMNIST && FashionMNIST.classNames.indices.contains(c)
                    ? "\(c) \(FashionMNIST.classNames[c])" : labelMap.label(of: c)
            }
            console.say("per class, worst first: " + worst.prefix(20).map { c in
                "\(named(c)) \(fixed(share(c), 3)) (\(perClass[c]!.rows))"
            }.joined(separator: ", ") + (classes.count > 20 ? " and \(classes.count - 20) more" : ""))
        }
        if let line = Self.scoresLine(quality, uncalibrated: learner == nil ? nil : uncalibrated, learner: learner) {
            console.say(line)
        }
        let far = means.far(of: scaler, naming: columnName)
        if let warning = ColumnMeans.warning(far) { console.warn(warning) }
        let paired = try against.map { other throws(CommandFailure) in
            try compare(file, with: other, rows: rowLabels.map(labelMap.label(of:)), right: rowRight, dataName: dataName)
        }
        if let paired { console.say(paired.sentence) }
        try console.emit(Output(testAccuracy: accuracy, samples: samples, correct: correct, rowsSkipped: skipped.total,
                                unknownClassSamples: unseen,
                                unknownLabels: unknown.isEmpty ? nil : unknown,
                                checkpoint: file, data: dataName, answers: arbiter?.answers.map(\.rawValue),
                                mostFrequentClassAnswers: arbiter?.answersMostFrequent, featuresFarFromLearned: far.share,
                                columnsFarFromLearned: far.names,
                                classAccuracy: Dictionary(uniqueKeysWithValues: classes.map { (labelMap.label(of: $0), share($0)) }),
                                classRows: Dictionary(uniqueKeysWithValues: classes.map { (labelMap.label(of: $0), perClass[$0]!.rows) }),
                                balancedAccuracy: balanced, kappa: agreement.kappa,
                                logLoss: quality.logLoss, calibrationError: quality.calibrationError,
                                uncalibratedLogLoss: learner == nil ? nil : uncalibrated.logLoss,
                                uncalibratedCalibrationError: learner == nil ? nil : uncalibrated.calibrationError,
                                against: paired))
    }

    /// Reads the rows again for the checkpoint `other`, as it learned its columns and
    /// labels, and pairs its answers with those of this checkpoint, read from `mine`
    /// (`right`, per row labelled `rows`). Refused when it reads other rows (another count,
    /// or another label on a row).
    func compare(_ mine: String, with other: String, rows: [String], right: [Bool], dataName: String) throws(CommandFailure) -> PairedComparison {
        let loaded = try loadCheckpoint(other, keys: keys)
        let file = loaded.source ?? other
        let model = try failingClearly { try loaded.makeModel() }
        let (predict, _, _) = try Self.predictor(loaded, model: model)
        var labels: [Int] = [], theirs: [Bool] = []
        let labelMap: LabelMap
        do {
            (_, labelMap, _, _) = try data.forEachBatch(
                for: model, of: loaded, file: file, unknownLabels: true, badRows: skipBadRows ? .skip : .fail
            ) { features, batch in
                labels += batch
                theirs += zip(predict(features), batch).map { $0 == $1 }
            }
        } catch {
            // The rows were read once already, for `mine`: say which model could not read them.
            throw CommandFailure("--against: '\(file)' reads the rows as it learned its own columns, and could not: \(error)")
        }
        guard labels.count == rows.count else {
            throw CommandFailure("--against: '\(file)' read \(labels.count) row\(labels.count == 1 ? "" : "s") of \(dataName) where '\(mine)' read \(rows.count) "
                + "(rows one of them skips as bad): the two cannot be compared row by row")
        }
        if let r = labels.indices.first(where: { labelMap.label(of: labels[$0]) != rows[$0] }) {
            throw CommandFailure("--against: row \(r + 1) of the rows read from \(dataName) (a header not counted) is labelled '\(rows[r])' for '\(mine)' and "
                + "'\(labelMap.label(of: labels[r]))' for '\(file)': they read their labels from other columns (--label-column)")
        }
        return PairedComparison(checkpoint: file, mine: right, theirs: theirs)
    }

    /// The labels the model never learned that are learned ones written otherwise: in
    /// another case, with spaces around them, or with a '.' after them (the adult census's
    /// test rows write `>50K.` where its training rows write `>50K`). Nil when none is.
    static func labelsWrittenOtherwise(_ unknown: [String], learned: [String]) -> String? {
        func plain(_ label: String) -> String {
            var text = label.trimmingCharacters(in: .whitespaces)
            while text.hasSuffix(".") { text.removeLast() }
            return text.trimmingCharacters(in: .whitespaces).lowercased()
        }
        var byPlain: [String: String] = [:]
        for label in learned where byPlain[plain(label)] == nil { byPlain[plain(label)] = label }
        let pairs = unknown.compactMap { label in byPlain[plain(label)].map { (label, $0) } }
        guard !pairs.isEmpty else { return nil }
        let shown = pairs.prefix(5).map { "'\($0.0)' for '\($0.1)'" }.joined(separator: ", ") + (pairs.count > 5 ? " and \(pairs.count - 5) more" : "")
        return "labels the model never learned are learned ones written otherwise (\(shown): another case, spaces or a '.' after them), "
            + "and count as errors: write them as the training rows did"
    }

    /// What predicts for a loaded checkpoint: a learner's predicts through the learner (its
    /// gate head refitted to every sample seen), returned too; a model's through the model.
    /// `scored` gives every class's probability beside the classes (`Learner.predictWithScores(_:)`,
    /// `MixtureOfExperts.predictionScores(_:)`).
    /// `calibrated: false` gives a learner's scores as the mixture weighed them.
    static func predictor(_ loaded: Checkpoint, model: MixtureOfExperts, calibrated: Bool = true) throws(CommandFailure)
        -> (predict: (Matrix) -> [Int], scored: (Matrix) -> (classes: [Int], scores: Matrix), learner: Learner?) {
        guard loaded.sections["learner"] != nil else {
            return ({ model.predict($0) }, { x in
                let pass = model.forward(x)
                return (model.predictions(pass), model.predictionScores(pass))
            }, nil)
        }
        let learner = try failingClearly { try Learner(checkpoint: loaded).snapshot() }
        return ({ learner.predict($0) }, { learner.predictWithScores($0, calibrated: calibrated) }, learner)
    }

    /// Who answers in a learner made ready to predict: each slot's answer, and whether the
    /// stream's most frequent class answers every input.
    static func answering(_ learner: Learner) -> String {
        let arbiter = learner.arbiter
        var line = "who answers: " + arbiter.answers.enumerated().map { s, answer in
            let lead = arbiter.priorLeadOnReplayedRows(slot: s)
                .map { $0 == 0 ? " (the prior level with the gate on the replayed rows)"
                    : " (the prior \($0 < 0 ? "behind" : "ahead of") the gate by \(fixed(abs($0), 1)) standard errors on the replayed rows)" }
                ?? arbiter.countedPriorLeadOnReplayedRows(slot: s).map {
                    " (the prior its counts chose \($0 < 0 ? "behind" : "ahead of") the gate by \(fixed(abs($0), 1)) standard errors on the replayed rows)"
                }
            return "slot \(s) \(answer.rawValue)\(lead ?? "")"
        }.joined(separator: ", ")
        let running = arbiter.visits.indices.filter { arbiter.inputsComeInRuns(slot: $0) }
        if !running.isEmpty {
            line += "; the inputs of slot\(running.count == 1 ? "" : "s") \(running.map(String.init).joined(separator: ", "))"
                + " came in runs (a sorted or grouped file: an answer other than the gate's there must hold on the replayed rows)"
        }
        if arbiter.answersMostFrequent, let t = arbiter.mostFrequentJudged {
            line += "; the stream's most frequent class answers every input (ahead of the mixture by \(fixed(t.advantage, 1))"
                + " standard errors on the replayed rows, the gate scored leave-one-out)"
        }
        return line
    }
}

/// The mean of every column of the rows a command reads for a saved learner, to tell rows
/// in other units than those it learned (`InputScaler.shareShifted(means:)`).
struct ColumnMeans {
    private var sums: [Double] = []
    private var rows = 0

    mutating func add(_ x: Matrix) {
        if sums.isEmpty { sums = Array(repeating: 0, count: x.columns) }
        for r in 0..<x.rows {
            for j in 0..<x.columns { sums[j] += Double(x[r, j]) }
        }
        rows += x.rows
    }

    /// How far the rows lie from what a learner learned.
    struct Far {
        /// The share of the learner's varied features whose mean lies more than
        /// ``InputScaler/unitsDeviations`` learned deviations from the learned one (nil
        /// without a scaler, rows or a varied feature).
        var share: Double?
        /// The numeric columns a source names (a CSV file's, not a text column's
        /// indicators) whose mean lies that far, farthest first.
        var columns: [(name: String, deviations: Double)] = []
        /// Whether there was a learner's scaler to compare with.
        var learned = false

        /// The columns' names for a command's JSON (nil without a learner's scaler).
        var names: [String]? { learned ? columns.map(\.name) : nil }
    }

    /// The rows' means against `scaler`'s, their columns named by `name`.
    func far(of scaler: InputScaler?, naming name: (Int) -> String?) -> Far {
        guard let scaler else { return Far() }
        guard rows > 0, sums.count == scaler.width else { return Far(learned: true) }
        let means = sums.map { $0 / Double(rows) }
        let columns: [(name: String, deviations: Double)] = (scaler.shifts(means: means) ?? [])
            .filter { $0.deviations > InputScaler.unitsDeviations }
            .compactMap { shift in name(shift.feature).map { (name: $0, deviations: shift.deviations) } }
            .sorted { $0.deviations > $1.deviations }
        return Far(share: scaler.shareShifted(means: means), columns: columns, learned: true)
    }

    /// A warning when most features lie far from what the learner learned, or some of
    /// the file's numeric columns do: the answers are then those of inputs it never saw,
    /// and a user would not know why they are poor.
    static func warning(_ far: Far) -> String? {
        guard let share = far.share else { return nil }
        let columns = far.columns
        if share > 0.5 {
            return "the means of \(Int((100 * share).rounded()))% of the features lie more than \(Int(InputScaler.unitsDeviations)) deviations "
                + "from those the model learned: are the rows in other units (pixels 0-255 where it learned [0, 1], mm where it learned m)? "
                + "The model scales its inputs as it learned them, so such rows get poor answers."
        }
        guard let first = columns.first else { return nil }
        let deviations = { (d: Double) in d < 100 ? fixed(d, 1) : String(Int(d.rounded())) }
        let more = columns.dropFirst().prefix(4).map { "\($0.name) \(deviations($0.deviations))" }
        let others = columns.count > 5 ? " and \(columns.count - 5) more" : ""
        return "the mean of \(first.name) lies \(deviations(first.deviations)) deviations from the one the model learned"
            + (more.isEmpty ? "" : " (and of \(more.joined(separator: ", "))\(others))")
            + ": \(columns.count == 1 ? "is it" : "are they") in other units (cents where it learned euros, mm where it learned m), "
            + "or beyond what it learned (a later date, an identifier)? The model scales its inputs as it learned them, "
            + "so such rows get poor answers."
    }
}
