import Foundation
import Testing
import MoE
import TestSupport
import Continual

/// The default configuration's JSON as a learner saved today writes it, and the
/// configuration a file saved before `keys` existed reads (that JSON without them).
func configurationSavedBefore(_ keys: String...) throws -> (written: [String: Any], read: LearnerConfiguration) {
    let encoded = try JSONEncoder().encode(LearnerConfiguration())
    var object = try #require(try JSONSerialization.jsonObject(with: encoded) as? [String: Any])
    let written = object
    for key in keys { object[key] = nil }
    return (written, try JSONDecoder().decode(LearnerConfiguration.self, from: JSONSerialization.data(withJSONObject: object)))
}

/// A stream sorted by its informative feature: feature 0 counts up row by row and says
/// the label (above 1,200 or not), feature 1 is noise; test rows across the range. The
/// first batch (0...127) fixes the scaler's transform; clipped, every row from about 250
/// on reads the same.
struct SortedStream {
    var noise = SeededGenerator(seed: 11)
    var test = Matrix(rows: 0, columns: 2)
    var truth: [Int] = []

    init() { (test, truth) = rows(stride(from: Float(300), to: 2048, by: 7).map { $0 }) }

    /// Rows whose feature 0 takes `values`, with their labels.
    mutating func rows(_ values: [Float]) -> (Matrix, [Int]) {
        var x = Matrix(rows: values.count, columns: 2)
        for (r, v) in values.enumerated() {
            x[r, 0] = v
            x[r, 1] = noise.nextNormal()
        }
        return (x, values.map { $0 > 1200 ? 1 : 0 })
    }

    /// A learner of `configuration` given 0...2047 in order, 128 rows a batch.
    mutating func stream(_ configuration: LearnerConfiguration) throws -> Learner {
        var learner = try Learner(configuration: configuration, inputWidth: 2, classCount: 2)
        for b in 0..<16 {
            let (x, y) = rows((0..<128).map { Float(128 * b + $0) })
            _ = try learner.observe(features: x, labels: y)
        }
        return learner
    }

    func accuracy(_ learner: Learner) -> Double {
        let predicted = learner.predict(test)
        return Double(zip(predicted, truth).filter { $0 == $1 }.count) / Double(truth.count)
    }
}

/// Gaussian blobs: class `c` centred at a fixed random point, unit noise.
struct Blobs {
    let centres: Matrix
    var generator: SeededGenerator

    init(classes: Int, width: Int, seed: UInt64, spread: Float = 3) {
        var g = SeededGenerator(seed: seed)
        centres = .normal(rows: classes, columns: width, standardDeviation: spread, using: &g)
        generator = SeededGenerator(seed: seed &+ 1)
    }

    mutating func batch(_ n: Int, classes: [Int]) -> (Matrix, [Int]) {
        var x = Matrix(rows: n, columns: centres.columns)
        var labels: [Int] = []
        for r in 0..<n {
            let c = classes[generator.nextInt(below: classes.count)]
            labels.append(c)
            for j in 0..<centres.columns { x[r, j] = centres[c, j] + generator.nextNormal() }
        }
        return (x, labels)
    }
}

extension Learner {
    /// A small learner (``LearnerConfiguration/small(halfLearning:)``) that met the classes
    /// of each experience in turn, 40 batches of 32 rows of `blobs` each.
    static func streamed(_ blobs: inout Blobs, experiences: [[Int]]) throws -> Learner {
        var learner = try Learner(configuration: .small(), inputWidth: blobs.centres.columns, classCount: 2)
        for classes in experiences {
            for _ in 0..<40 {
                let (x, y) = blobs.batch(32, classes: classes)
                _ = try learner.observe(features: x, labels: y)
            }
        }
        return learner
    }
}

extension LearnerConfiguration {
    /// A learner small enough for tests: two hidden layers of 32, a gate over 64
    /// features, experts of 16, a replay buffer of 50.
    static func small(halfLearning: Bool = true) -> LearnerConfiguration {
        var c = LearnerConfiguration()
        c.hidden = [32, 32]
        c.gate = .classPosterior(features: 64)
        c.expertWidth = 16
        c.replayCapacity = 50
        c.replayPerStep = 16
        c.refitEvery = 128
        c.statisticsHalfLife = 256
        c.learningRate = 3e-3
        c.halfLearning = halfLearning
        return c
    }
}

@Suite("Learner")
struct LearnerTests {
    func configuration() -> LearnerConfiguration { .small() }

    @Test("a batch whose rows lie far from every row learned before on most features is reported, before it is learned")
    func farFromLearned() throws {
        var blobs = Blobs(classes: 3, width: 20, seed: 4)
        var learner = try Learner(configuration: configuration(), inputWidth: 20, classCount: 3)
        // Before 256 rows were learned nothing is judged.
        for _ in 0..<8 {
            let (x, y) = blobs.batch(32, classes: [0, 1])
            #expect(try learner.observe(features: x, labels: y).farFromLearned == nil)
        }
        // Rows like those learned, a new class among them: near 0.
        var (x, y) = blobs.batch(64, classes: [0, 1, 2])
        let like = try #require(try learner.observe(features: x, labels: y).farFromLearned)
        #expect(like < 0.2)
        // The same kind of rows in units a thousand times larger: every feature.
        (x, y) = blobs.batch(64, classes: [0, 1, 2])
        let scaled = Matrix(rows: x.rows, columns: x.columns, scalars: x.scalars.map { $0 * 1000 })
        var copy = learner
        #expect(try copy.observe(features: scaled, labels: y).farFromLearned == 1)
        // A later pass, and a batch of fewer than 32 rows, are not judged.
        copy = learner
        #expect(try copy.observe(features: scaled, labels: y, pass: 1).farFromLearned == nil)
        copy = learner
        #expect(try copy.observe(features: scaled.rows(0..<31), labels: Array(y[0..<31])).farFromLearned == nil)
        // Judged against the rows before it: a batch's own rows do not dilute it.
        #expect(learner.shareFarFromLearned(scaled) == 1)
    }

    /// A learner that has observed one batch of two blobs, and its checkpoint.
    func learnerAfterOneBatch(seed: UInt64) throws -> (Learner, Checkpoint) {
        var blobs = Blobs(classes: 2, width: 20, seed: seed)
        var learner = try Learner(configuration: configuration(), inputWidth: 20, classCount: 2)
        let (x, y) = blobs.batch(32, classes: [0, 1])
        _ = try learner.observe(features: x, labels: y)
        return (learner, learner.checkpoint())
    }

    func accuracy(_ learner: Learner, _ data: (Matrix, [Int])) -> Double {
        learner.accuracy(features: data.0, labels: data.1)
    }

    @Test("a learner that has learned no class has no answer: a stream's first row is scored wrong, whatever its label's index")
    func firstRowHasNoAnswer() throws {
        var blobs = Blobs(classes: 2, width: 20, seed: 3)
        var learner = try Learner(configuration: configuration(), inputWidth: 20, classCount: 2)
        // Class 0, the first label's index when labels are names: the only column there.
        let (x, y) = blobs.batch(1, classes: [0])
        let first = try learner.observe(features: x, labels: y)
        #expect(first.predicted == [-1] && first.errors == 1)
        #expect(learner.prequential.samples == 1 && learner.prequential.correct == 0)
        let (x2, y2) = blobs.batch(1, classes: [0])
        let second = try learner.observe(features: x2, labels: y2)
        #expect(second.predicted == [0] && second.errors == 0)
        // The kappas leave the unanswered row out.
        var tally = PrequentialKappa.Tally()
        tally.add(labels: first.labels + second.labels, predicted: first.predicted + second.predicted)
        #expect(tally.samples == 1 && tally.correct == 1 && tally.confusion == [[1]])
    }

    @Test("a stream whose classes change grows an expert for the new classes and keeps the old ones")
    func growsOnNewClasses() throws {
        var blobs = Blobs(classes: 4, width: 20, seed: 1)
        var learner = try Learner(configuration: configuration(), inputWidth: 20, classCount: 2)
        for _ in 0..<40 {
            let (x, y) = blobs.batch(32, classes: [0, 1])
            _ = try learner.observe(features: x, labels: y)
        }
        var heldOut = Blobs(classes: 4, width: 20, seed: 1)
        heldOut.generator = SeededGenerator(seed: 99)
        let old = heldOut.batch(400, classes: [0, 1])
        let before = accuracy(learner, old)
        #expect(before > 0.95)
        #expect(learner.model.experts.isEmpty)
        for _ in 0..<40 {
            let (x, y) = blobs.batch(32, classes: [2, 3])
            _ = try learner.observe(features: x, labels: y)
        }
        #expect(learner.model.experts.count == 1)
        let growth = try #require(learner.history.growths.first)
        #expect(growth.classes == [2, 3])
        #expect(growth.trigger == "novelty")
        #expect(!growth.detectors.isEmpty)
        let after = accuracy(learner, old)
        let new = accuracy(learner, heldOut.batch(400, classes: [2, 3]))
        #expect(after > before - 0.05, "old classes: \(before) before, \(after) after growth")
        #expect(new > 0.9)
    }

    @Test("every class's probability as the served answer weighs it: rows sum to 1, the largest is the class predicted")
    func scores() throws {
        for predictor in [LearnerConfiguration.Predictor.mixture, .discriminant] {
            var configuration = configuration()
            configuration.predictor = predictor
            // Blobs that overlap, in two experiences: an expert grows, and answers are unsure.
            var blobs = Blobs(classes: 4, width: 20, seed: 3, spread: 1)
            var learner = try Learner(configuration: configuration, inputWidth: 20, classCount: 2)
            for classes in [[0, 1], [2, 3]] {
                for _ in 0..<40 {
                    let (x, y) = blobs.batch(32, classes: classes)
                    _ = try learner.observe(features: x, labels: y)
                }
            }
            #expect(!learner.model.experts.isEmpty)
            let (x, _) = blobs.batch(300, classes: [0, 1, 2, 3])
            let (classes, scores) = learner.predictWithScores(x)
            #expect(classes == learner.predict(x), "\(predictor)")
            #expect(scores.rows == 300 && scores.columns == learner.model.classCount)
            var unsure = 0
            for r in 0..<300 {
                let row = (0..<scores.columns).map { scores[r, $0] }
                #expect(abs(row.reduce(0, +) - 1) < 1e-4 && row.allSatisfy { $0 >= 0 }, "\(predictor) row \(r): \(row)")
                #expect(row.allSatisfy { $0 <= row[classes[r]] }, "\(predictor) row \(r): \(row), class \(classes[r])")
                if row.contains(where: { $0 > 0.01 && $0 < 0.99 }) { unsure += 1 }
            }
            #expect(unsure > 0, "\(predictor): every row is certain, the overlap was not seen")
            // A model alone (as `moe train` saves it) weighs the classes it predicts among.
            let pass = learner.model.forward(x)
            let modelScores = learner.model.predictionScores(pass)
            for (r, c) in learner.model.predictions(pass).enumerated() {
                let row = (0..<modelScores.columns).map { modelScores[r, $0] }
                #expect(abs(row.reduce(0, +) - 1) < 1e-4 && row.allSatisfy { $0 <= row[c] }, "model row \(r): \(row), class \(c)")
            }
        }
    }

    @Test("a stationary stream does not grow")
    func quietStream() throws {
        var blobs = Blobs(classes: 3, width: 20, seed: 2)
        var learner = try Learner(configuration: configuration(), inputWidth: 20, classCount: 3)
        for _ in 0..<80 {
            let (x, y) = blobs.batch(32, classes: [0, 1, 2])
            _ = try learner.observe(features: x, labels: y)
        }
        #expect(learner.model.experts.isEmpty)
        #expect(learner.history.growths.isEmpty)
        #expect(learner.prequential.windowedAccuracy! > 0.95)
    }

    @Test("labels the inputs do not predict, 80% one class: the slot's prior answers, and nothing does worse than it")
    func priorAnswersNoise() throws {
        var generator = SeededGenerator(seed: 12)
        func batch(_ n: Int) -> (Matrix, [Int]) {
            let x = Matrix.normal(rows: n, columns: 8, standardDeviation: 1, using: &generator)
            let y = (0..<n).map { _ in generator.nextInt(below: 5) == 0 ? 1 + generator.nextInt(below: 4) : 0 }
            return (x, y)
        }
        let batches = (0..<100).map { _ in batch(32) }
        let test = batch(2000)
        let majority = Double(test.1.filter { $0 == 0 }.count) / 2000
        // Without narrow heads the gate's 64 features find patterns in the noise, and the
        // prior beats it; with them, a head over a single feature says little more than
        // the prior, which then wins nothing. Either way every row gets class 0.
        var plain = configuration()
        plain.gateNarrowHeads = nil
        for c in [plain, configuration()] {
            var learner = try Learner(configuration: c, inputWidth: 8, classCount: 5)
            for (x, y) in batches { _ = try learner.observe(features: x, labels: y) }
            if c.gateNarrowHeads == nil { #expect(learner.arbiter.answer(slot: 0) == .prior) }
            #expect(accuracy(learner, test) == majority, "every row answered with class 0")
        }
    }

    @Test("a prior the counts chose on a shuffled stream is judged on the replayed rows by a copy made to predict, and stays when the gate is not ahead")
    func countedPriorJudgedBySnapshot() throws {
        var generator = SeededGenerator(seed: 12)
        var plain = configuration()
        plain.gateNarrowHeads = nil
        var unjudged = plain
        unjudged.arbiter.judgesCountedPrior = false
        var learners = try [plain, unjudged].map { try Learner(configuration: $0, inputWidth: 8, classCount: 5) }
        for _ in 0..<100 {
            let x = Matrix.normal(rows: 32, columns: 8, standardDeviation: 1, using: &generator)
            let y = (0..<32).map { _ in generator.nextInt(below: 5) == 0 ? 1 + generator.nextInt(below: 4) : 0 }
            for i in learners.indices { _ = try learners[i].observe(features: x, labels: y) }
        }
        // The counts chose the prior in a shuffled slot, where they can judge it; the
        // learner itself never judges it on the replayed rows.
        let learner = learners[0]
        #expect(learner.arbiter.answer(slot: 0) == .prior && !learner.arbiter.countsCannotJudgePrior(slot: 0))
        #expect(learner.arbiter.countedPriorJudged.isEmpty && learner.arbiter.countedPriorJudgedSlots == [0])
        // A copy made to predict does: on noise the gate, left one out, is not ahead of it.
        let ready = learner.snapshot()
        let lead = try #require(ready.arbiter.countedPriorLeadOnReplayedRows(slot: 0))
        #expect(lead > -ready.arbiter.settings.holdoutZ && ready.arbiter.answer(slot: 0) == .prior)
        // Turned off, nothing is judged, and the same answer is served.
        let off = learners[1].snapshot()
        #expect(off.arbiter.countedPriorLeadOnReplayedRows(slot: 0) == nil && off.arbiter.countedPriorJudged.isEmpty)
        #expect(off.arbiter.answer(slot: 0) == .prior)
    }

    @Test("labels that change over the same inputs (a new concept) grow nothing: the slot in charge relearns them")
    func conceptDrift() throws {
        func run(_ minimumShift: Double?) throws -> Learner {
            var c = configuration()
            c.growth.minimumInputShift = minimumShift
            // The mixture's own answers are scored: this measures what each learner learned.
            c.recentShares = nil
            var blobs = Blobs(classes: 2, width: 20, seed: 4)
            var learner = try Learner(configuration: c, inputWidth: 20, classCount: 2)
            for b in 0..<80 {
                let (x, y) = blobs.batch(32, classes: [0, 1])
                // Half-way, the rule that labels the same inputs flips.
                _ = try learner.observe(features: x, labels: b < 40 ? y : y.map { 1 - $0 })
            }
            return learner
        }
        let learner = try run(3)
        #expect(learner.model.experts.isEmpty)
        #expect(learner.history.suppressions["the labels changed, not the inputs"] ?? 0 >= 1)
        // The replayed samples of the old concept were forgotten once: the reservoir
        // restarted after the change, so it has seen fewer than the stream's 2,560.
        #expect(learner.history.recentDecisions.filter { $0.newConcept == true }.count == 1)
        #expect(learner.replay.seen < 40 * 32 && learner.replay.count == learner.configuration.replayCapacity)
        // Without the condition the same stream grows an expert the gate cannot route
        // to, and the frozen trunk keeps the old labels. (Since a slot's counts judge the
        // mixture's served answer, the new slot's answer takes back part of the loss on
        // the rows the old slot is heaviest for: 0.577 where the adapting learner has
        // 0.684; it had less than 0.384.)
        let grown = try run(nil)
        #expect(grown.model.experts.count >= 1)
        let adapting = learner.prequential.windowedAccuracy!, frozen = grown.prequential.windowedAccuracy!
        #expect(adapting > frozen + 0.08, "windowed accuracy \(adapting) adapting, \(frozen) after growth")
    }

    /// A learner that streamed two classes taking turns in blocks of 384 and 128 rows, six
    /// times, 32 rows a batch.
    func streamInBlocks(_ c: LearnerConfiguration, blobs: Blobs) throws -> Learner {
        var blobs = blobs
        var learner = try Learner(configuration: c, inputWidth: 20, classCount: 2)
        for _ in 0..<6 {
            for (k, batches) in [(0, 12), (1, 4)] {
                for _ in 0..<batches {
                    let (x, y) = blobs.batch(32, classes: [k])
                    _ = try learner.observe(features: x, labels: y)
                }
            }
        }
        return learner
    }

    @Test("classes that take turns in blocks over the same inputs are runs of labels, not new concepts: the replay keeps every class")
    func blocksAreNotNewConcepts() throws {
        func run(_ runsExplainDrift: Bool?) throws -> Learner {
            var c = configuration()
            c.growth.runsExplainDrift = runsExplainDrift
            // Two classes whose means differ by a tenth of a standard deviation: the inputs
            // barely move when a block of the rarer class begins, while most of its rows are
            // answered with the other.
            return try streamInBlocks(c, blobs: Blobs(classes: 2, width: 20, seed: 6, spread: 0.1))
        }
        let kept = try run(true), forgot = try run(nil)
        #expect(kept.arbiter.labelsComeInRuns(slot: 0))
        // Read as new concepts (configurations saved before), the drifts restarted the
        // reservoir; read as runs, it is a sample of the whole stream, both classes in it.
        #expect(forgot.history.recentDecisions.contains { $0.newConcept == true } && forgot.replay.seen < 6 * 16 * 32)
        #expect(!kept.history.recentDecisions.contains { $0.newConcept == true })
        #expect(kept.replay.seen == 6 * 16 * 32 && Set(kept.replay.labels) == [0, 1])
        #expect(kept.history.suppressions["the labels changed, not the inputs"] ?? 0 >= 1)
    }

    @Test("runs of classes whose inputs differ move the inputs as a whole but not within a class: no expert grows for them")
    func runsOfDistinctClassesGrowNothing() throws {
        func run(_ classConditional: Bool?) throws -> Learner {
            var c = configuration()
            c.growth.classConditionalShift = classConditional
            // Two overlapping classes: a block of the rarer class is mostly answered wrong at
            // first and moves the inputs' mean as a whole (a fifth of a standard deviation
            // per feature), not within a class.
            return try streamInBlocks(c, blobs: Blobs(classes: 2, width: 20, seed: 9, spread: 0.2))
        }
        let byClass = try run(true), asWhole = try run(nil)
        let driftGrowths = { (l: Learner) in l.history.growths.filter { $0.trigger == "drift" }.count }
        #expect(byClass.history.suppressions["the labels' mix changed, not the domain"] ?? 0 >= 1)
        #expect(driftGrowths(byClass) == 0)
        #expect(driftGrowths(asWhole) >= 1, "judged by the inputs as a whole, a block of the other class is a new domain")
    }

    @Test("the head follows a young pair at any batch size: refitted whenever some pair's samples double")
    func refitOnDoubling() throws {
        func run(_ doubling: Bool?) throws -> Learner {
            var c = configuration()
            c.refitEvery = 4096
            c.refitOnDoubling = doubling
            c.warmUp = nil  // the first batch whole: one refit per new pair
            // The mixture's own answers are scored, not the class of the moment's.
            c.recentShares = nil
            var blobs = Blobs(classes: 3, width: 20, seed: 6, spread: 0.6)
            var learner = try Learner(configuration: c, inputWidth: 20, classCount: 3)
            // One class after another, four rows at a time.
            for label in 0..<3 {
                for _ in 0..<40 {
                    let (x, y) = blobs.batch(4, classes: [label])
                    _ = try learner.observe(features: x, labels: y)
                }
            }
            return learner
        }
        let doubling = try run(true), every = try run(nil)
        // 3 pairs, from 4 to 160 samples: about log2(40) refits each, and one per new pair
        // without (and one more when the first stretch is learned again, at 128 rows).
        #expect(every.profile.refits == 4)
        #expect(doubling.profile.refits >= 12)
        let with = try #require(doubling.prequential.accuracy), without = try #require(every.prequential.accuracy)
        #expect(with > without + 0.05, "prequential accuracy \(with) with doubling, \(without) without")
        // A learner saved before the setting existed reads it as off.
        let saved = try configurationSavedBefore("refitOnDoubling")
        #expect(saved.written["refitOnDoubling"] as? Bool == true && saved.read.refitOnDoubling == nil)
    }

    @Test("a batch trains in slices of stepRows rows: the steps follow the rows, not the batch size")
    func stepRowsSlices() throws {
        #expect(Learner.stepSlices(rows: 128, rowsPerStep: 64) == [0..<64, 64..<128])
        #expect(Learner.stepSlices(rows: 130, rowsPerStep: 64) == [0..<43, 43..<86, 86..<130])
        #expect(Learner.stepSlices(rows: 40, rowsPerStep: 64) == [0..<40])
        #expect(Learner.stepSlices(rows: 512, rowsPerStep: nil) == [0..<512])
        // The same 2,048 rows as 4 batches of 512: one step per batch without slices,
        // eight with; the network learns from the steps, not from the batches.
        func run(_ stepRows: Int?) throws -> (steps: Int, accuracy: Double) {
            var c = LearnerConfiguration.replay(50)
            c.hidden = [32]
            c.replayPerStep = 8
            c.stepRows = stepRows
            c.warmUp = nil  // the first batch whole too
            var blobs = Blobs(classes: 4, width: 20, seed: 9, spread: 0.5)
            var learner = try Learner(configuration: c, inputWidth: 20, classCount: 4)
            var steps = 0
            for _ in 0..<4 {
                let (x, y) = blobs.batch(512, classes: [0, 1, 2, 3])
                steps += try learner.observe(features: x, labels: y).steps.count
            }
            let test = blobs.batch(1000, classes: [0, 1, 2, 3])
            return (steps, accuracy(learner, test))
        }
        let whole = try run(nil), sliced = try run(64)
        #expect(whole.steps == 4 && sliced.steps == 32)
        #expect(sliced.accuracy > whole.accuracy + 0.05, "accuracy \(sliced.accuracy) in slices, \(whole.accuracy) whole")
        // A configuration saved before the setting existed trains on whole batches.
        let saved = try configurationSavedBefore("stepRows")
        #expect(saved.written["stepRows"] as? Int == 64 && saved.read.stepRows == nil)
        var invalid = LearnerConfiguration()
        invalid.stepRows = 0
        #expect(throws: LearnerError.self) { try invalid.validate() }
    }

    @Test("a batch of fewer than stepRows rows replays in proportion to its rows, so the replay per new row follows the rows")
    func replayFollowsRows() throws {
        var blobs = Blobs(classes: 3, width: 12, seed: 21, spread: 1)
        let (x, y) = blobs.batch(384, classes: [0, 1, 2])
        var learner = try Learner(configuration: LearnerConfiguration(), inputWidth: 12, classCount: 3)
        // Before any batch, and in a stream of batches of 128: in full, the short last
        // batch too.
        #expect(learner.replayedPerStep(batchRows: 1) == 64)
        _ = try learner.observe(features: x.rows(0..<128), labels: Array(y[0..<128]))
        _ = try learner.observe(features: x.rows(128..<256), labels: Array(y[128..<256]))
        for rows in [512, 64, 63, 16, 1] { #expect(learner.replayedPerStep(batchRows: rows) == 64) }
        // In a stream of small batches: in proportion, at least one.
        var c = LearnerConfiguration.replay(100)
        c.hidden = [32]
        c.replayPerStep = 8
        var single = try Learner(configuration: c, inputWidth: 12, classCount: 3)
        _ = try single.observe(features: x.rows(0..<1), labels: [y[0]])
        #expect(single.replayedPerStep(batchRows: 512) == 8 && single.replayedPerStep(batchRows: 64) == 8)
        #expect(single.replayedPerStep(batchRows: 16) == 2)
        #expect(single.replayedPerStep(batchRows: 1) == 1, "at least one replayed row per step")
        // Streamed one row at a time, a step per row with one replayed row, the network
        // learns.
        for r in 1..<x.rows { _ = try single.observe(features: x.rows(r..<(r + 1)), labels: [y[r]]) }
        #expect(accuracy(single, blobs.batch(600, classes: [0, 1, 2])) > 0.8)
        // A configuration saved before the setting existed replays in full at every step.
        let saved = try configurationSavedBefore("replayFollowsRows")
        #expect(saved.written["replayFollowsRows"] as? Bool == true && saved.read.replayFollowsRows == nil)
        var before = try Learner(configuration: saved.read, inputWidth: 12, classCount: 3)
        _ = try before.observe(features: x.rows(0..<1), labels: [y[0]])
        #expect(before.replayedPerStep(batchRows: 1) == 64)
    }

    @Test("a drift pending with its input reference is saved and resumed bit for bit")
    func pendingDriftResume() throws {
        var blobs = Blobs(classes: 2, width: 20, seed: 4)
        let batches = (0..<70).map { b in
            let (x, y) = blobs.batch(32, classes: [0, 1])
            return (x, b < 40 ? y : y.map { 1 - $0 })
        }
        var straight = try Learner(configuration: configuration(), inputWidth: 20, classCount: 2)
        var saved: (at: Int, bytes: [UInt8])?
        for (i, (x, y)) in batches.enumerated() {
            _ = try straight.observe(features: x, labels: y)
            if saved == nil, straight.policyState.driftReference != nil {
                saved = (i + 1, try straight.checkpoint().encoded())
            }
        }
        let (at, bytes) = try #require(saved)
        var resumed = try Learner(checkpoint: Checkpoint.decode(bytes))
        #expect(resumed.policyState.driftReference != nil)
        #expect(resumed.driftClassReference != nil && resumed.classMoments.keys.sorted() == [0, 1])
        for (x, y) in batches[at...] { _ = try resumed.observe(features: x, labels: y) }
        #expect(resumed.policyState == straight.policyState)
        #expect(resumed.classMoments == straight.classMoments && resumed.driftClassReference == straight.driftClassReference)
        #expect(resumed.history == straight.history)
        #expect(resumed.model.parameters == straight.model.parameters)
    }

    @Test("a stream in units of 1e20, or of subnormal 1e-39, learns as in units of 1, and its checkpoint loads; a gross error is still kept out")
    func extremeUnits() throws {
        let units: [Float] = [1, 1e20, Float.leastNormalMagnitude / 12]
        var learners = try units.map { _ in try Learner(configuration: configuration(), inputWidth: 8, classCount: 3) }
        var blobs = Blobs(classes: 3, width: 8, seed: 21)
        for _ in 0..<40 {
            let (x, y) = blobs.batch(32, classes: [0, 1, 2])
            for i in learners.indices { _ = try learners[i].observe(features: x.map { $0 * units[i] }, labels: y) }
        }
        var heldOut = Blobs(classes: 3, width: 8, seed: 21)
        heldOut.generator = SeededGenerator(seed: 99)
        let (px, py) = heldOut.batch(400, classes: [0, 1, 2])
        let base = learners[0].accuracy(features: px, labels: py)
        #expect(base > 0.9)
        for i in learners.indices {
            // Until 2026-12-04 every row of the 1e20 stream was out of range, and the
            // subnormal one's scale was infinite: the file it saved could not be loaded.
            #expect(learners[i].counters.rowsOutOfRange == 0, "units \(units[i])")
            let x = px.map { $0 * units[i] }
            #expect(abs(learners[i].accuracy(features: x, labels: py) - base) <= 0.01, "units \(units[i])")
            let loaded = try Learner(checkpoint: Checkpoint.decode(learners[i].checkpoint().encoded()))
            #expect(loaded.predict(x) == learners[i].predict(x), "units \(units[i])")
        }
        // In a stream of units of 1e20, a value 1e17 units from its feature's centre is a
        // gross error (beyond 1e15 deviations): the row is scored, not learned from. A
        // value that is not finite is an error naming its row, as in any stream.
        var (x, y) = blobs.batch(32, classes: [0, 1, 2])
        x = x.map { $0 * 1e20 }
        x[7, 5] = 1e37
        _ = try learners[1].observe(features: x, labels: y)
        #expect(learners[1].counters.rowsOutOfRange == 1)
        x[3, 2] = .infinity
        #expect { try learners[1].observe(features: x, labels: y) } throws: { "\($0)".contains("row 4") }
    }

    @Test("a crafted checkpoint's moments by class, or drift or stagnation reference, are refused with the path at fault")
    func classMomentsChecked() throws {
        var blobs = Blobs(classes: 2, width: 20, seed: 4)
        var learner = try Learner(configuration: configuration(), inputWidth: 20, classCount: 2)
        // Before any row: no class, an empty section, written and read back by libhdf5.
        let fresh = try Learner(checkpoint: Checkpoint.decode(learner.checkpoint().encoded()))
        #expect(fresh.classMoments.isEmpty && learner.checkpoint().sections["class_moments"] != nil)
        for _ in 0..<3 {
            let (x, y) = blobs.batch(32, classes: [0, 1])
            _ = try learner.observe(features: x, labels: y)
        }
        let checkpoint = learner.checkpoint()
        #expect(try Learner(checkpoint: checkpoint).classMoments == learner.classMoments)
        func refused(_ change: (inout Checkpoint) -> Void, naming path: String) {
            var crafted = checkpoint
            change(&crafted)
            #expect { try Learner(checkpoint: crafted) } throws: { "\($0)".contains(path) }
        }
        refused({ $0.sections["class_moments"] = nil }, naming: "/sections/class_moments")
        refused({ $0.sections["class_moments"]!.datasets["counts"] = .doubles([-1, 3]) }, naming: "/sections/class_moments")
        refused({ $0.sections["class_moments"]!.datasets["classes"] = .integers([0, 7]) }, naming: "/sections/class_moments/classes")
        refused({ $0.sections["class_moments"]!.datasets["means"] = .doubles([0]) }, naming: "/sections/class_moments/means")
        // A drift or stagnation reference whose arrays do not match (it was read past its
        // end before).
        for key in ["driftReference", "stagnationReference"] {
            refused({ c in
                let saved = try! c.section("learner").strings("state", count: 1)[0]
                var object = try! JSONSerialization.jsonObject(with: Data(saved.utf8)) as! [String: Any]
                var state = object["policyState"] as! [String: Any]
                state[key] = ["count": 5, "mean": [Double](repeating: 0, count: 20), "squares": [1]] as [String: Any]
                object["policyState"] = state
                let data = try! JSONSerialization.data(withJSONObject: object)
                c.sections["learner"]!.datasets["state"] = .strings([String(decoding: data, as: UTF8.self)])
            }, naming: "/sections/learner/state")
        }
    }

    @Test("growth off never grows, and says why it held back")
    func growthOff() throws {
        var c = configuration()
        c.growth.enabled = false
        var blobs = Blobs(classes: 4, width: 20, seed: 3)
        var learner = try Learner(configuration: c, inputWidth: 20, classCount: 2)
        for phase in [[0, 1], [2, 3]] {
            for _ in 0..<30 {
                let (x, y) = blobs.batch(32, classes: phase)
                _ = try learner.observe(features: x, labels: y)
            }
        }
        #expect(learner.model.experts.isEmpty)
        #expect(learner.history.suppressions["growth is disabled"] ?? 0 >= 1)
    }

    @Test("the gate's shrinkage is chosen on the stream while samples are fewer than features, then OAS; resumed bit for bit")
    func shrinkageChoice() throws {
        var c = configuration()
        c.gateShrinkageBlends = [0, 0.5, 0.9]
        c.gateNarrowHeads = nil
        // Few noisy rows of few inputs over many random features: the features are highly
        // correlated, and OAS shrinks too little for them.
        c.gate = .classPosterior(features: 1024)
        var blobs = Blobs(classes: 2, width: 4, seed: 5, spread: 4)
        let batches = (0..<40).map { _ in blobs.batch(16, classes: [0, 1]) }
        var straight = try Learner(configuration: c, inputWidth: 4, classCount: 2)
        var chosen: Set<Int> = []
        for (x, y) in batches {
            _ = try straight.observe(features: x, labels: y)
            chosen.insert(straight.shrinkage.current)
        }
        #expect(chosen.count > 1, "the head never changed: \(straight.shrinkage)")
        var first = try Learner(configuration: c, inputWidth: 4, classCount: 2)
        for (x, y) in batches[0..<20] { _ = try first.observe(features: x, labels: y) }
        #expect(!first.fittedShrinkageBlends.isEmpty)
        var resumed = try Learner(checkpoint: Checkpoint.decode(try first.checkpoint().encoded()))
        #expect(resumed.shrinkage == first.shrinkage && resumed.fittedShrinkageBlends == first.fittedShrinkageBlends)
        for (x, y) in batches[20...] { _ = try resumed.observe(features: x, labels: y) }
        #expect(resumed.shrinkage == straight.shrinkage)
        #expect(resumed.model.parameters == straight.model.parameters)
        // Past as many samples as features the blends are still tried, until the statistics
        // hold four times as many (`gateShrinkageChoiceSpan`): OAS alone from the next refit
        // on, nothing else fitted.
        #expect(LearnerConfiguration().gateShrinkageChoiceSpan == 4)
        for _ in 0..<40 {
            let (x, y) = blobs.batch(16, classes: [0, 1])
            _ = try straight.observe(features: x, labels: y)
        }
        #expect(straight.statistics!.sampleCount > 1024 && straight.shrinkage.blending, "\(straight.shrinkage)")
        for _ in 0..<520 {
            let (x, y) = blobs.batch(16, classes: [0, 1])
            _ = try straight.observe(features: x, labels: y)
        }
        #expect(straight.shrinkage.blends == [0] && straight.shrinkage.currentShrinkage == .oas
                && straight.fittedShrinkageBlends.isEmpty)
        // Configurations saved before the span existed end the choice at as many samples as
        // features.
        #expect(try configurationSavedBefore("gateShrinkageChoiceSpan").read.gateShrinkageChoiceSpan == nil)
        var saved = c
        saved.gateShrinkageChoiceSpan = nil
        var earlier = try Learner(configuration: saved, inputWidth: 4, classCount: 2)
        var again = Blobs(classes: 2, width: 4, seed: 5, spread: 4)
        for _ in 0..<80 {
            let (x, y) = again.batch(16, classes: [0, 1])
            _ = try earlier.observe(features: x, labels: y)
        }
        #expect(earlier.shrinkage.blends == [0] && earlier.fittedShrinkageBlends.isEmpty, "\(earlier.shrinkage)")
        for span in [0, -1, .infinity, .nan] {
            var wrong = configuration()
            wrong.gateShrinkageChoiceSpan = span
            #expect(throws: LearnerError.self) { try wrong.validate() }
        }
        // Configurations saved before the choice existed: OAS alone.
        var old = try configurationSavedBefore("gateShrinkageBlends", "gateNarrowHeads").read
        #expect(old.gateShrinkageBlends == nil)
        old.hidden = [8]
        let plain = try Learner(configuration: old, inputWidth: 4, classCount: 2)
        #expect(!plain.shrinkage.choosing && plain.shrinkage.currentShrinkage == .oas)
        var bad = configuration()
        bad.gateShrinkageBlends = [0, 1.5]
        #expect(throws: LearnerError.invalidConfiguration("the gate's shrinkage blends must be one or more shares in [0, 1), got [0.0, 1.5]")) {
            try bad.validate()
        }
    }

    @Test("a narrow head wins a noisy table of few columns, keeps answering once the blends settle, and resumes bit for bit")
    func narrowHeadChoice() throws {
        var c = configuration()
        c.gate = .classPosterior(features: 1024)
        c.gateShrinkageBlends = [0, 0.5]
        c.gateNarrowHeads = [1.0 / 16]
        // Random features alone: a narrow head over them is what is tested here (the
        // inputs' hinges, which would lead them, have their own test).
        c.gateInputHinges = false
        // The blends end at as many samples as features, within this stream's 1,600 rows.
        c.gateShrinkageChoiceSpan = 1
        // A noisy label from two of six inputs: 1024 random features have far more
        // covariances to estimate than the rows can tell.
        var generator = SeededGenerator(seed: 9)
        let batches = (0..<100).map { _ in
            var x = Matrix(rows: 16, columns: 6)
            var y: [Int] = []
            for r in 0..<16 {
                for j in 0..<6 { x[r, j] = generator.nextNormal() }
                y.append(x[r, 0] + x[r, 1] + generator.nextNormal() > 0 ? 1 : 0)
            }
            return (x, y)
        }
        var straight = try Learner(configuration: c, inputWidth: 6, classCount: 2)
        #expect(straight.shrinkage.leading == [nil, nil, 64])
        for (x, y) in batches { _ = try straight.observe(features: x, labels: y) }
        // 1600 samples, more than the features: the blend is gone, the narrow head answers.
        #expect(straight.shrinkage.blends == [0, 0] && straight.shrinkage.leading == [nil, 64])
        #expect(straight.shrinkage.current == 1, "\(straight.shrinkage)")
        let head = straight.model.gate.headWeight
        #expect((64 * head.columns..<head.scalars.count).allSatisfy { head.scalars[$0] == 0 })
        var first = try Learner(configuration: c, inputWidth: 6, classCount: 2)
        for (x, y) in batches[0..<70] { _ = try first.observe(features: x, labels: y) }
        var resumed = try Learner(checkpoint: Checkpoint.decode(try first.checkpoint().encoded()))
        #expect(resumed.shrinkage == first.shrinkage && resumed.fittedShrinkageBlends == first.fittedShrinkageBlends)
        for (x, y) in batches[70...] { _ = try resumed.observe(features: x, labels: y) }
        #expect(resumed.shrinkage == straight.shrinkage)
        #expect(resumed.model.parameters == straight.model.parameters)
        #expect(resumed.model.gate.headWeight == straight.model.gate.headWeight)
        // A third class arrives: the narrow head gives way to OAS over all the features.
        var widened = straight
        var novel = Matrix(rows: 16, columns: 6)
        for r in 0..<16 { for j in 0..<6 { novel[r, j] = generator.nextNormal() + 2 } }
        _ = try widened.observe(features: novel, labels: [Int](repeating: 2, count: 16))
        #expect(widened.shrinkage.leading[widened.shrinkage.current] == nil, "\(widened.shrinkage)")
        let wide = widened.model.gate.headWeight
        #expect((64 * wide.columns..<wide.scalars.count).contains { wide.scalars[$0] != 0 })
        var bad = configuration()
        bad.gateNarrowHeads = [0.25, 1]
        #expect(throws: LearnerError.invalidConfiguration("the gate's narrow heads must be shares of its features in (0, 1), got [0.25, 1.0]")) {
            try bad.validate()
        }
        #expect(LearnerConfiguration().narrowHeadFeatures(of: 2048) == [128, 32])
        #expect(LearnerConfiguration().narrowHeadFeatures(of: 64) == [4, 1])
        #expect(LearnerConfiguration().narrowHeadFeatures(of: 2048, hinges: 16) == [144, 48, 16])
        #expect(LearnerConfiguration().narrowHeadFeatures(of: 2048, hinges: 128) == [256, 160, 128])
        #expect(LearnerConfiguration().narrowHeadFeatures(of: 64, hinges: 4) == [8, 5, 4])
        #expect(LearnerConfiguration().gateHingeCount(features: 2048, inputWidth: 64) == 128)
        #expect(LearnerConfiguration().gateHingeCount(features: 2048, inputWidth: 65) == 0)
        var none = LearnerConfiguration()
        none.gateNarrowHeads = nil
        #expect(none.narrowHeadFeatures(of: 2048, hinges: 16) == [])
    }

    @Test("the inputs' hinges: a narrow table's gate reads them first, a head over them alone is tried, old settings read none")
    func inputHinges() throws {
        var c = LearnerConfiguration.small()
        c.gate = .classPosterior(features: 256)
        var learner = try Learner(configuration: c, inputWidth: 6, classCount: 2)
        #expect(learner.model.gate.hingeCount == 12)
        #expect(learner.shrinkage.leading.compactMap { $0 }.sorted() == [12, 16, 28])
        var blobs = Blobs(classes: 2, width: 6, seed: 21)
        for _ in 0..<4 {
            let (x, y) = blobs.batch(64, classes: [0, 1])
            _ = try learner.observe(features: x, labels: y)
        }
        let z = blobs.batch(9, classes: [0, 1]).0
        let phi = learner.model.gate.features(z)
        for r in 0..<z.rows {
            for j in 0..<6 { #expect(phi[r, 2 * j] == max(0, z[r, j]) && phi[r, 2 * j + 1] == max(0, -z[r, j])) }
        }
        let resumed = try Learner(checkpoint: Checkpoint.decode(learner.checkpoint(description: "hinges").encoded()))
        #expect(resumed.model.gate.hingeCount == 12 && resumed.model.gate.featureWeight == learner.model.gate.featureWeight)
        #expect(resumed.shrinkage.leading == learner.shrinkage.leading)

        // Wider than 1/16 of the features: every feature random, no head over hinges.
        let wide = try Learner(configuration: c, inputWidth: 9, classCount: 2)
        #expect(wide.model.gate.hingeCount == 0 && wide.shrinkage.leading.compactMap { $0 }.sorted() == [4, 16])
        // Settings saved before hinges existed read them as off.
        var old = try configurationSavedBefore("gateInputHinges").read
        #expect(old.gateInputHinges == nil)
        old.gate = .classPosterior(features: 256)
        let plain = try Learner(configuration: old, inputWidth: 6, classCount: 2)
        #expect(plain.model.gate.hingeCount == 0 && !plain.shrinkage.leading.contains(12))
    }

    @Test("saving and loading mid-stream continues bit for bit")
    func exactResume() throws {
        var blobs = Blobs(classes: 4, width: 20, seed: 4)
        let batches = (0..<60).map { i in blobs.batch(32, classes: i < 30 ? [0, 1] : [2, 3]) }
        var straight = try Learner(configuration: configuration(), inputWidth: 20, classCount: 2)
        for (x, y) in batches { _ = try straight.observe(features: x, labels: y) }

        var first = try Learner(configuration: configuration(), inputWidth: 20, classCount: 2)
        for (x, y) in batches[0..<35] { _ = try first.observe(features: x, labels: y) }
        let bytes = try first.checkpoint(description: "mid-stream").encoded()
        var resumed = try Learner(checkpoint: Checkpoint.decode(bytes))
        for (x, y) in batches[35...] { _ = try resumed.observe(features: x, labels: y) }

        let differing = straight.model.parameters.keys.filter { resumed.model.parameters[$0] != straight.model.parameters[$0] }.sorted()
        #expect(differing.isEmpty, "parameters that differ: \(differing)")
        #expect(resumed.model.frozen == straight.model.frozen)
        #expect(resumed.counters == straight.counters)
        #expect(resumed.history == straight.history)
        #expect(resumed.replay == straight.replay)
        let probe = blobs.batch(100, classes: [0, 1, 2, 3]).0
        #expect(resumed.predict(probe) == straight.predict(probe))
    }

    @Test("scoring several restrictions from one preparation (the trunk computed once) gives each one's own accuracy")
    func scoresShareTheTrunk() throws {
        var blobs = Blobs(classes: 4, width: 20, seed: 9)
        var learner = try Learner(configuration: configuration(), inputWidth: 20, classCount: 2)
        for i in 0..<60 {
            let (x, y) = blobs.batch(32, classes: i < 30 ? [0, 1] : [2, 3])
            _ = try learner.observe(features: x, labels: y)
        }
        #expect(learner.model.experts.count >= 1)
        let (x, y) = blobs.batch(300, classes: [0, 1, 2, 3])
        let restrictions: [Set<Int>?] = [nil, [0, 1], [2, 3]]
        var cache = EvaluationCache()
        let ready = learner.readyToPredict()
        let shared = ready.scores(features: x, labels: y, among: restrictions, set: 0, cache: &cache)
        let apart = restrictions.map { learner.accuracy(features: x, labels: y, among: $0) }
        #expect(shared == apart)
    }

    @Test("the input scaler's settle count and winsorising bound are saved; a scaler saved before them loads without them")
    func scalerSettleSaved() throws {
        var (learner, checkpoint) = try learnerAfterOneBatch(seed: 7)
        #expect(try Learner(checkpoint: checkpoint).scaler?.settle == 128)
        #expect(try Learner(checkpoint: checkpoint).scaler == learner.scaler)
        checkpoint.sections["scaler"]!.attributes["settle"] = nil
        #expect(try Learner(checkpoint: checkpoint).scaler?.settle == nil)
        checkpoint.sections["scaler"]!.attributes["settle"] = .int(0)
        #expect { try Learner(checkpoint: checkpoint) } throws: { "\($0)".contains("/sections/scaler") && "\($0)".contains("settle") }
        checkpoint.sections["scaler"]!.attributes["settle"] = .int(1024)
        // The winsorising bound likewise: off by default, saved when set, absent before it
        // existed, checked.
        #expect(try Learner(checkpoint: checkpoint).scaler?.winsorise == nil)
        #expect(checkpoint.sections["scaler"]!.attributes["winsorise"] == nil)
        var c = configuration()
        c.inputScaling = .online(evidence: 32, clip: 3, settle: 1024, winsorise: 20)
        var robust = try Learner(configuration: c, inputWidth: 20, classCount: 2)
        var blobs = Blobs(classes: 2, width: 20, seed: 7)
        let (x, y) = blobs.batch(32, classes: [0, 1])
        _ = try robust.observe(features: x, labels: y)
        checkpoint = robust.checkpoint()
        #expect(try Learner(checkpoint: checkpoint).scaler?.winsorise == 20)
        #expect(try Learner(checkpoint: checkpoint).scaler == robust.scaler)
        checkpoint.sections["scaler"]!.attributes["winsorise"] = .double(-1)
        #expect { try Learner(checkpoint: checkpoint) } throws: { "\($0)".contains("/sections/scaler") && "\($0)".contains("winsorise") }
        // Anchoring: on by default and saved; a scaler saved before it existed centres on
        // the mean, as it did.
        checkpoint = learner.checkpoint()
        #expect(learner.scaler?.anchored == true && checkpoint.sections["scaler"]!.attributes["anchored"] == .int(1))
        #expect(try Learner(checkpoint: checkpoint).scaler?.anchored == true)
        checkpoint.sections["scaler"]!.attributes["anchored"] = nil
        #expect(try Learner(checkpoint: checkpoint).scaler?.anchored == false)
    }

    /// Two blobs of 4 features in batches of 128 rows, every label flipped from batch 70
    /// (row 8,960) on, as river's Agrawal stream changes its labelling function at row
    /// 10,000; the slot in charge learned well before. `pause`: saved and loaded after
    /// that batch.
    func flippedLabels(batches: Int, pausedAt pause: Int? = nil,
                       _ configure: (inout LearnerConfiguration) -> Void = { _ in }) throws -> Learner {
        var c = configuration()
        configure(&c)
        var learner = try Learner(configuration: c, inputWidth: 4, classCount: 2)
        var blobs = Blobs(classes: 2, width: 4, seed: 3)
        for b in 0..<batches {
            var (x, y) = blobs.batch(128, classes: [0, 1])
            if b >= 70 { y = y.map { 1 - $0 } }
            _ = try learner.observe(features: x, labels: y)
            if b == pause { learner = try Learner(checkpoint: learner.checkpoint()) }
        }
        return learner
    }

    @Test("labels that change over the same inputs after 9,000 rows do not trigger stagnation at the change; the old count did")
    func conceptChangeDoesNotStagnate() throws {
        let now = try flippedLabels(batches: 80)
        #expect(!now.history.recentDecisions.contains { $0.trigger == .stagnation }, "\(now.history.suppressions)")
        // The old count took 0, a first row answered right, for the best error rate, and
        // stagnated at the change (held back here only for want of detectors).
        let old = try flippedLabels(batches: 80) { $0.growth.stagnationEvidence = nil }
        #expect(old.history.recentDecisions.contains { $0.trigger == .stagnation && $0.sample > 8960 }, "\(old.history.suppressions)")
    }

    @Test("labels that change over the same inputs and stay wrong for the gate do not grow on stagnation; saved mid-way, the stream resumes")
    func conceptChangeStagnatesWithoutGrowth() throws {
        // The labels flip for good at row 8,960. The gate's statistics hold the old
        // labels, so its error stays above one half for longer than the patience.
        let now = try flippedLabels(batches: 150)
        let held = "the error rate stays at or above 0.5 on inputs that look as before"
        #expect(now.model.experts.isEmpty, "\(now.history.growths)")
        #expect(now.history.suppressions[held, default: 0] >= 1, "\(now.history.suppressions)")
        // Configurations saved before the rule grew an expert there.
        let old = try flippedLabels(batches: 150) { $0.growth.stagnationNeedsInputShift = nil }
        #expect(old.history.growths.contains { $0.trigger == "stagnation" && $0.sample > 8960 }, "\(old.history.suppressions)")
        // Saved while the inputs are measured from the rise, the learner resumes as one
        // that never stopped.
        #expect(try flippedLabels(batches: 121).policyState.stagnationReference != nil)
        let paused = try flippedLabels(batches: 150, pausedAt: 120)
        #expect(paused.policyState == now.policyState && paused.history.suppressions == now.history.suppressions)
        var blobs = Blobs(classes: 2, width: 4, seed: 9)
        let (test, _) = blobs.batch(64, classes: [0, 1])
        #expect(paused.predict(test) == now.predict(test))
    }

    @Test("a stream sorted by its informative feature: trend tails, the default, keep it from its first batch; saved, and off in files saved before")
    func sortedStreamTrendTails() throws {
        var sorted = SortedStream()
        func stream(_ scaling: LearnerConfiguration.InputScaling) throws -> Learner {
            var c = configuration()
            c.predictor = .discriminant
            c.inputScaling = scaling
            return try sorted.stream(c)
        }
        let (test, accuracy) = (sorted.test, sorted.accuracy)
        guard case .online(_, _, _, _, _, _, true) = LearnerConfiguration().inputScaling else {
            Issue.record("trend tails are not the default")
            return
        }
        let trending = try stream(LearnerConfiguration().inputScaling)
        let clipped = try stream(.online(evidence: 32, clip: 3, settle: 128, winsorise: nil, anchored: true))
        #expect(trending.scaler!.knee == [3, 0] && clipped.scaler!.knee == [0, 0])
        // Measured: 0.868 and 0.520.
        #expect(accuracy(trending) > 0.8, "trend tails: \(accuracy(trending))")
        #expect(accuracy(clipped) < 0.6, "clipped: \(accuracy(clipped))")
        // Saved and loaded, the scaler and the predictions are the same; one saved before
        // trend tails existed loads clipped.
        var checkpoint = trending.checkpoint()
        let loaded = try Learner(checkpoint: checkpoint)
        #expect(loaded.scaler == trending.scaler && loaded.predict(test) == trending.predict(test))
        for name in ["knee", "trend"] { checkpoint.sections["scaler"]!.datasets[name] = nil }
        checkpoint.sections["scaler"]!.attributes["trend_tails"] = nil
        let old = try Learner(checkpoint: checkpoint)
        #expect(old.scaler?.knee == [0, 0] && old.scaler?.trendTails == false)
        checkpoint = trending.checkpoint()
        checkpoint.sections["scaler"]!.datasets["trend"] = .doubles([0, .infinity])
        #expect { try Learner(checkpoint: checkpoint) } throws: { "\($0)".contains("/sections/scaler") && "\($0)".contains("trend") }
        // Saved within the first stretch, before the feature is fixed, the sums resume: the
        // learner goes on as one that never stopped.
        var c = configuration()
        c.predictor = .discriminant
        var straight = try Learner(configuration: c, inputWidth: 2, classCount: 2)
        var (x, y) = sorted.rows((0..<16).map { Float($0) })
        _ = try straight.observe(features: x, labels: y)
        #expect(straight.scaler!.fixed == [false, false] && straight.scaler!.trend[0] > 0)
        var resumed = try Learner(checkpoint: straight.checkpoint())
        for b in 0..<4 {
            (x, y) = sorted.rows((0..<64).map { Float(16 + 64 * b + $0) })
            _ = try straight.observe(features: x, labels: y)
            _ = try resumed.observe(features: x, labels: y)
        }
        #expect(resumed.scaler == straight.scaler && straight.scaler!.knee == [3, 0])
        #expect(resumed.predict(test) == straight.predict(test))
        // A configuration written before the setting reads it as off.
        let encoded = try JSONEncoder().encode(LearnerConfiguration())
        var object = try #require(try JSONSerialization.jsonObject(with: encoded) as? [String: Any])
        var scaling = try #require(object["inputScaling"] as? [String: Any])
        var online = try #require(scaling["online"] as? [String: Any])
        #expect(online["trendTails"] as? Bool == true)
        online["trendTails"] = nil
        scaling["online"] = online
        object["inputScaling"] = scaling
        let read = try JSONDecoder().decode(LearnerConfiguration.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(read.inputScaling == .online(evidence: 32, clip: 3, settle: 128, winsorise: nil, anchored: true))
    }

    @Test("a stream sorted by its informative feature: widened tails keep it, clipped ones lose it; the knees are saved")
    func sortedStreamWidensTails() throws {
        // Widened, the later rows keep their order.
        var sorted = SortedStream()
        func stream(widening: Bool) throws -> Learner {
            var c = configuration()
            c.predictor = .discriminant
            c.inputScaling = .online(evidence: 32, clip: 3, settle: 128, winsorise: nil, anchored: true, widensTails: widening)
            return try sorted.stream(c)
        }
        let (test, accuracy) = (sorted.test, sorted.accuracy)
        let widened = try stream(widening: true), clipped = try stream(widening: false)
        #expect(widened.scaler!.knee[0] > 3 && widened.scaler!.knee[1] == 0)
        // Measured: 0.844 and 0.520 (the logarithm compresses the values the noise blurs).
        #expect(accuracy(widened) > 0.8, "widened: \(accuracy(widened))")
        #expect(accuracy(clipped) < 0.6, "clipped: \(accuracy(clipped))")
        // Saved and loaded, the scaler and the predictions are the same; a scaler saved
        // before widened tails existed loads clipped.
        var checkpoint = widened.checkpoint()
        let loaded = try Learner(checkpoint: checkpoint)
        #expect(loaded.scaler == widened.scaler && loaded.predict(test) == widened.predict(test))
        for name in ["knee", "reach", "beyond"] { checkpoint.sections["scaler"]!.datasets[name] = nil }
        checkpoint.sections["scaler"]!.attributes["widens_tails"] = nil
        checkpoint.sections["scaler"]!.attributes["window_count"] = nil
        #expect(try Learner(checkpoint: checkpoint).scaler?.knee == [0, 0])
        checkpoint = widened.checkpoint()
        checkpoint.sections["scaler"]!.datasets["knee"] = .float32(Matrix(row: [1, 0]))
        #expect { try Learner(checkpoint: checkpoint) } throws: { "\($0)".contains("/sections/scaler") && "\($0)".contains("knee") }
    }

    @Test("a learner saved by the first version (no state version) is refused with a sentence saying why")
    func earlierVersionRefused() throws {
        var (_, checkpoint) = try learnerAfterOneBatch(seed: 6)
        let json = try checkpoint.section("learner").strings("state", count: 1)[0]
        var object = try #require(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        object.removeValue(forKey: "version")
        let old = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        checkpoint.sections["learner"]!.datasets["state"] = .strings([old])
        do {
            _ = try Learner(checkpoint: checkpoint)
            Issue.record("a version 1 learner state loaded")
        } catch {
            #expect("\(error)".contains("saved by an earlier version of the framework (learner state 1)"), "\(error)")
        }
    }

    @Test("same seed, same learner, bit for bit")
    func determinism() throws {
        func run() throws -> Learner {
            var blobs = Blobs(classes: 4, width: 20, seed: 5)
            var learner = try Learner(configuration: configuration(), inputWidth: 20, classCount: 2)
            for i in 0..<40 {
                let (x, y) = blobs.batch(32, classes: i < 20 ? [0, 1] : [2, 3])
                _ = try learner.observe(features: x, labels: y)
            }
            return learner
        }
        let a = try run(), b = try run()
        #expect(a.model.parameters == b.model.parameters)
        #expect(a.history == b.history)
    }

    @Test("bad batches are refused with the row at fault and leave the learner unchanged")
    func badInput() throws {
        var learner = try Learner(configuration: configuration(), inputWidth: 4, classCount: 2)
        let good = Matrix(rows: 2, columns: 4, scalars: [0, 1, 2, 3, 4, 5, 6, 7])
        _ = try learner.observe(features: good, labels: [0, 1])
        let before = learner.model.parameters
        #expect(throws: LearnerError.widthMismatch(expected: 4, actual: 3, source: "s.csv")) {
            try learner.observe(features: Matrix(rows: 1, columns: 3), labels: [0], source: "s.csv")
        }
        var nan = good
        nan[1, 2] = .nan
        #expect(throws: LearnerError.nonFinite(row: 2, column: 3, source: "s.csv")) {
            try learner.observe(features: nan, labels: [0, 1], source: "s.csv")
        }
        #expect(throws: LearnerError.invalidLabel(label: -1, row: 2, source: "s.csv")) {
            try learner.observe(features: good, labels: [0, -1], source: "s.csv")
        }
        #expect(throws: LearnerError.emptyBatch(source: "s.csv")) {
            try learner.observe(features: Matrix(rows: 0, columns: 4), labels: [], source: "s.csv")
        }
        #expect(throws: LearnerError.labelCountMismatch(rows: 2, labels: 1, source: "s.csv")) {
            try learner.observe(features: good, labels: [0], source: "s.csv")
        }
        #expect(throws: LearnerError.labelCountMismatch(rows: 2, labels: 3, source: "s.csv")) {
            try learner.observe(features: good, labels: [0, 1, 1], source: "s.csv")
        }
        #expect(LearnerError.labelCountMismatch(rows: 2, labels: 1, source: "s.csv").description
                == "s.csv: 2 rows but 1 labels; every row needs exactly one label")
        #expect(learner.model.parameters == before)
        #expect(LearnerError.nonFinite(row: 2, column: 3, source: "s.csv").description == "s.csv, row 2, column 3: value is not finite")
    }

    @Test("invalid configurations are refused with a sentence")
    func configurationErrors() {
        var c = configuration()
        c.hidden = []
        #expect(throws: LearnerError.invalidConfiguration("hidden widths must be positive, got []")) {
            try Learner(configuration: c, inputWidth: 4, classCount: 2)
        }
        var d = configuration()
        d.predictor = .discriminant
        d.gate = .learned
        #expect(throws: LearnerError.self) { try Learner(configuration: d, inputWidth: 4, classCount: 2) }
    }
}
