@testable import Continual
import Foundation
import MoE
import Testing
import TestSupport

/// `scripts/checkpoint_predict.py` (numpy and h5py) against `moe eval` on a learner that
/// `moe stream` grew: the input scaler, experts writing their slots' logits, the gate over
/// (slot, class) pairs and its stale head refitted from the saved statistics, the
/// arbiter's choice of answer per slot.
@Suite("checkpoint_predict.py reproduces a streamed learner")
struct CheckpointPredictScriptTests {
    static let script = repositoryRoot.appendingPathComponent("scripts/checkpoint_predict.py").path

    /// Rows of `width` features whose class raises two of the first six, one experience
    /// after another; `levels` rounds every value to a grid of quarters (few distinct
    /// values, as pixels have), so that a checkpoint palette-codes the rows it keeps.
    static func rows(_ count: Int, classes: [Int], width: Int = 6, levels: Bool = false,
                     generator: inout SeededGenerator) -> [(features: [Float], label: Int)] {
        (0..<count).map { _ in
            let label = classes[generator.nextInt(below: classes.count)]
            var features = (0..<width).map { _ in generator.nextNormal() }
            features[label % 6] += 3
            features[(label + 2) % 6] += 1.5 * Float(label / 3)
            if levels { features = features.map { ($0 * 4).rounded() / 4 } }
            return (features, label)
        }
    }

    /// Debian's Python with h5py and numpy, or nil (and a line saying the test is skipped).
    static func python() -> String? {
        let python = "/usr/bin/python3"
        guard FileManager.default.isExecutableFile(atPath: python),
              MoeProcess.run(executable: python, ["-c", "import h5py, numpy"], in: nil, input: nil).status == 0 else {
            print("skipped: \(python) with h5py and numpy is not installed (apt-get install python3-h5py)")
            return nil
        }
        return python
    }

    static func csv(_ rows: [(features: [Float], label: Int)], labels: Bool) -> String {
        rows.map { row in row.features.map { "\($0)" }.joined(separator: ",") + (labels ? ",\(row.label)" : "") }
            .joined(separator: "\n") + "\n"
    }

    @Test("Predictions equal moe eval's on a learner from moe stream; logits agree with Swift's")
    func streamedLearner() throws {
        // The blends end at as many samples as features (2,048, the span of checkpoints
        // saved before it), before this stream's 2,400 rows end: the head answering is the
        // one the script would refit. Random features only: a head over the inputs'
        // hinges would answer, and be judged first (the next test's case).
        try checkStreamedLearner(width: 6, levels: false, learnerConfig: #"{"gateShrinkageChoiceSpan": null, "gateInputHinges": null}"#)
    }

    @Test("The same with the default learner, whose blend answers at the end of a stream in runs and is judged first")
    func streamedDefaultLearner() throws {
        try checkStreamedLearner(width: 6, levels: false, judgedHead: true)
    }

    @Test("The same with rows of few distinct values, whose replay and held rows the checkpoint palette-codes")
    func streamedLearnerWithPalettes() throws {
        // The gate refitted only every 4096 samples (as before refits on doubling) keeps
        // making errors on these easy classes long enough for error detectors to appear:
        // what is checked needs experts in the checkpoint.
        // One head (plain OAS): a head other than it, in a stream whose labels come in
        // runs, is judged on the replayed rows when evaluated (next test).
        try checkStreamedLearner(width: 48, levels: true,
                                 learnerConfig: #"{"refitOnDoubling": null, "gateNarrowHeads": null, "gateShrinkageBlends": null}"#) { checkpoint in
            let sections = try Checkpoint.load(from: checkpoint).sections
            #expect(sections["replay"]?.datasets["features"] != nil)
            let python = "/usr/bin/python3"
            let coded = MoeProcess.run(executable: python, ["-c", "import h5py, sys; f = h5py.File(sys.argv[1]); print('replay/features.palette' in f['sections'])", checkpoint], in: nil, input: nil)
            #expect(coded.output.trimmingCharacters(in: .whitespacesAndNewlines) == "True", "\(coded.output) \(coded.error)")
        }
    }

    @Test("The same when a narrow head answers: the stale head refitted from the statistics' leading features")
    func narrowHead() throws {
        guard let python = Self.python() else { return }
        try withTemporaryDirectory { directory in
            // A noisy label from two of six inputs, where the inputs' 12 hinges, the gate's
            // first features, beat all 1024 (and 64 random features did, before hinges).
            var generator = SeededGenerator(seed: Self.narrowSeed)
            func rows(_ n: Int) -> [(features: [Float], label: Int)] {
                (0..<n).map { _ in
                    let x = (0..<6).map { _ in generator.nextNormal() }
                    return (x, x[0] + x[1] + generator.nextNormal() > 0 ? 1 : 0)
                }
            }
            let train = rows(1600), test = rows(300)
            try Self.csv(train, labels: true).write(toFile: directory.path("train.csv"), atomically: true, encoding: .utf8)
            try Self.csv(test, labels: false).write(toFile: directory.path("features.csv"), atomically: true, encoding: .utf8)
            try #"{"gate": {"classPosterior": {"features": 1024}}, "gateNarrowHeads": [0.0625], "gateShrinkageBlends": [0, 0.5]}"#
                .write(toFile: directory.path("learner.json"), atomically: true, encoding: .utf8)
            let checkpoint = directory.path("learner.h5")
            let stream = MoeProcess.run(["stream", "--source", "csv:" + directory.path("train.csv"), "--label-column", "last",
                                         "--hidden", "16", "--batch-size", "16", "--learner-config", directory.path("learner.json"),
                                         "--save", checkpoint, "--json"])
            #expect(stream.status == 0, "\(stream.error)")
            #expect(MoeProcess.json(stream)?["gate_head_features"] as? Int == 12, "\(stream.error)")
            let stale = MoeProcess.run(executable: python, ["-c", "import h5py, json, sys; f = h5py.File(sys.argv[1]); "
                + "print(json.loads(bytes(f['sections/learner/state'][0]))['counters']['headIsStale'])", checkpoint], in: nil, input: nil)
            #expect(stale.output.trimmingCharacters(in: .whitespacesAndNewlines) == "True", "\(stale.output) \(stale.error)")
            let learner = try Learner(checkpoint: Checkpoint.load(from: checkpoint)).snapshot()
            let x = Matrix(test.map(\.features))
            let classes = MoeProcess.run(executable: python, [Self.script, checkpoint, directory.path("features.csv"), "--classes"], in: nil, input: nil)
            #expect(classes.status == 0, "\(classes.error)")
            #expect(classes.output.split(separator: "\n").map { Int($0) ?? -1 } == learner.predict(x))
            let logits = MoeProcess.run(executable: python, [Self.script, checkpoint, directory.path("features.csv")], in: nil, input: nil)
            let printed = Matrix(logits.output.split(separator: "\n").map { $0.split(separator: ",").map { Float(String($0))! } })
            #expect(maxRelativeDifference(printed, learner.model(learner.scaler?.transform(x) ?? x)) <= 1e-5)
        }
    }

    @Test("A learner whose head moe eval judges on the replayed rows first is answered with the judged head; saved without /sections/served, it is refused with a sentence")
    func headJudgedOnReplayedRows() throws {
        // The same stream with every head: a narrow head answers at the end of a stream in
        // runs of two classes, and moe eval judges it against plain OAS before predicting.
        // Random features only, as the stream this case was built on (with the inputs'
        // hinges no expert grows, and experts are part of what is checked).
        try checkStreamedLearner(width: 48, levels: true, learnerConfig: #"{"refitOnDoubling": null, "gateInputHinges": null}"#,
                                 judgedHead: true)
    }

    @Test("The stream's most frequent class, judged on the replayed rows to answer every input, answers every row in the script too, with the class shares as scores")
    func mostFrequentAnswers() throws {
        guard let python = Self.python() else { return }
        try withTemporaryDirectory { directory in
            // Twenty columns whose class means differ by 0.2 standard deviations, five rows
            // of class 0 for one of class 1, in class order (as LearnerJudgementTests'
            // priorJudgedOnReplayedRows): an expert takes class 1, and on the replayed rows,
            // scored leave-one-out, the most frequent class beats the mixture.
            var generator = SeededGenerator(seed: Self.mostFrequentSeed)
            func rows(_ count: Int, _ label: Int) -> [(features: [Float], label: Int)] {
                (0..<count).map { _ in ((0..<20).map { _ in generator.nextNormal() + 0.2 * Float(label) }, label) }
            }
            let train = rows(640, 0) + rows(128, 1)
            let test = (rows(500, 0) + rows(100, 1))
            try Self.csv(train, labels: true).write(toFile: directory.path("train.csv"), atomically: true, encoding: .utf8)
            try Self.csv(test, labels: false).write(toFile: directory.path("features.csv"), atomically: true, encoding: .utf8)
            let checkpoint = directory.path("learner.h5")
            let stream = MoeProcess.run(["stream", "--source", "csv:" + directory.path("train.csv"), "--label-column", "last",
                                         "--hidden", "16", "--save", checkpoint])
            #expect(stream.status == 0, "\(stream.error)")
            let learner = try Learner(checkpoint: Checkpoint.load(from: checkpoint)).snapshot()
            #expect(learner.arbiter.answersMostFrequent && learner.model.experts.count >= 1)
            let served = try #require(Checkpoint.load(from: checkpoint).sections["served"])
            #expect(served.attributes["answers_most_frequent"] == .int(1))
            let x = Matrix(test.map(\.features))
            let classes = MoeProcess.run(executable: python, [Self.script, checkpoint, directory.path("features.csv"), "--classes"], in: nil, input: nil)
            #expect(classes.status == 0 && classes.error.isEmpty, "\(classes.error)")
            #expect(classes.output.split(separator: "\n").map { Int($0) ?? -1 } == learner.predict(x))
            #expect(Set(learner.predict(x)) == [0])
            let scored = MoeProcess.run(executable: python, [Self.script, checkpoint, directory.path("features.csv"), "--scores"], in: nil, input: nil)
            #expect(scored.status == 0, "\(scored.error)")
            let scores = Matrix(scored.output.split(separator: "\n").dropFirst().map { $0.split(separator: ",").map { Float(String($0))! } })
            let expected = learner.predictWithScores(x).scores
            #expect(scores.rows == expected.rows && (zip(scores.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? 1) <= 1e-5)
            // Saved before /sections/served, the same learner was answered otherwise, and the script said so.
            let old = try Self.withoutServed(checkpoint, python: python)
            let before = MoeProcess.run(executable: python, [Self.script, old, directory.path("features.csv"), "--classes", "--no-verify"], in: nil, input: nil)
            #expect(before.status == 0 && before.error.contains("saved before /sections/served"), "\(before.error)")
            #expect(before.output.split(separator: "\n").map { Int($0) ?? -1 } != learner.predict(x))
        }
    }

    @Test("A /sections/served that does not fit the model is refused with a sentence naming the dataset")
    func servedThatDoesNotFit() throws {
        guard let python = Self.python() else { return }
        try withTemporaryDirectory { directory in
            var generator = SeededGenerator(seed: 37)
            let train = Self.rows(600, classes: [0, 1, 2], generator: &generator)
            let checkpoint = try Self.streamed(train, in: directory)
            try Self.csv(Array(train.prefix(20)), labels: false).write(toFile: directory.path("features.csv"), atomically: true, encoding: .utf8)
            let edits = [
                ("an answer nobody gives", "del f['sections/served/slot_answers']; f['sections/served/slot_answers'] = [b'oracle']",
                 "/sections/served/slot_answers"),
                ("a head of another width", "s = f['sections/served']; [s.__delitem__(k) for k in ('head_weight', 'head_bias') if k in s]; "
                    + "s['head_weight'] = numpy.zeros((3, 2), numpy.float32); s['head_bias'] = numpy.zeros((1, 2), numpy.float32)",
                 "/sections/served/head_weight"),
            ]
            for (name, edit, named) in edits {
                let copy = directory.path("edited.h5")
                try? FileManager.default.removeItem(atPath: copy)
                try FileManager.default.copyItem(atPath: checkpoint, toPath: copy)
                let edited = MoeProcess.run(executable: python, ["-c", "import h5py, numpy, sys; f = h5py.File(sys.argv[1], 'r+'); " + edit, copy],
                                            in: nil, input: nil)
                #expect(edited.status == 0, "\(name): \(edited.error)")
                let read = MoeProcess.run(executable: python, [Self.script, copy, directory.path("features.csv"), "--classes", "--no-verify"],
                                          in: nil, input: nil)
                #expect(read.status == 1 && read.error.contains(named) && !read.error.contains("Traceback"), "\(name): \(read.error)")
            }
        }
    }

    /// Streams `rows` (label last) from NAME.csv through a network of 16 hidden units and
    /// saves the learner as NAME.h5: its path.
    static func streamed(_ rows: [(features: [Float], label: Int)], in directory: TemporaryDirectory,
                         name: String = "train") throws -> String {
        try csv(rows, labels: true).write(toFile: directory.path("\(name).csv"), atomically: true, encoding: .utf8)
        let checkpoint = directory.path("\(name).h5")
        let stream = MoeProcess.run(["stream", "--source", "csv:" + directory.path("\(name).csv"), "--label-column", "last",
                                     "--hidden", "16", "--save", checkpoint])
        #expect(stream.status == 0, "\(stream.error)")
        return checkpoint
    }

    /// A data seed of ``mostFrequentAnswers()`` where the most frequent class answers.
    static let mostFrequentSeed: UInt64 = 5

    /// A copy of `checkpoint` without /sections/served, as files saved before it are
    /// (its digest no longer matches: read it with --no-verify).
    static func withoutServed(_ checkpoint: String, python: String) throws -> String {
        let copy = checkpoint + ".old.h5"
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: checkpoint, toPath: copy)
        let removed = MoeProcess.run(executable: python, ["-c", "import h5py, sys; f = h5py.File(sys.argv[1], 'r+'); del f['sections/served']", copy],
                                     in: nil, input: nil)
        #expect(removed.status == 0, "\(removed.error)")
        return copy
    }

    @Test("A stream whose inputs came in runs is answered as moe eval answers it; saved without /sections/served, the script tells it as the learner does, and says so")
    func inputRunsNoted() throws {
        guard let python = Self.python() else { return }
        try withTemporaryDirectory { directory in
            // Labels drawn at random; rows sorted by the sixth feature (which says nothing of
            // the label), or left as drawn.
            var generator = SeededGenerator(seed: 11)
            let drawn = Self.rows(900, classes: [0, 1, 2], generator: &generator)
            let sorted = drawn.sorted { $0.features[5] < $1.features[5] }
            try Self.csv(Array(drawn.prefix(50)), labels: false).write(toFile: directory.path("features.csv"), atomically: true, encoding: .utf8)
            for (name, rows, runs) in [("sorted", sorted, true), ("drawn", drawn, false)] {
                let checkpoint = try Self.streamed(rows, in: directory, name: name)
                let arbiter = try Learner(checkpoint: Checkpoint.load(from: checkpoint)).arbiter
                #expect(arbiter.streamComesInRuns == runs && !arbiter.visits.indices.contains { arbiter.labelsComeInRuns(slot: $0) })
                let classes = MoeProcess.run(executable: python, [Self.script, checkpoint, directory.path("features.csv"), "--classes"],
                                             in: nil, input: nil)
                #expect(classes.status == 0 && classes.error.isEmpty, "\(name): \(classes.error)")
                let ready = try Learner(checkpoint: Checkpoint.load(from: checkpoint)).snapshot()
                let x = Matrix(drawn.prefix(50).map(\.features))
                #expect(classes.output.split(separator: "\n").map { Int($0) ?? -1 } == ready.predict(x), "\(name)")
                let old = try Self.withoutServed(checkpoint, python: python)
                let noted = MoeProcess.run(executable: python, [Self.script, old, directory.path("features.csv"), "--classes", "--no-verify"],
                                           in: nil, input: nil)
                #expect(noted.status == 0 && noted.error.contains("stream came in runs") == runs, "\(name): \(noted.error)")
                // moe eval says whose inputs came in runs.
                let eval = MoeProcess.run(["eval", checkpoint, "--source", "csv:" + directory.path("\(name).csv"), "--label-column", "last"])
                #expect(eval.status == 0 && (eval.output + eval.error).contains("the inputs of slot 0 came in runs") == runs,
                        "\(name): \(eval.output) \(eval.error)")
            }
        }
    }

    @Test("A slot that answers with its prior is answered so by the script (it stopped with an error naming the prior)")
    func priorAnswers() throws {
        // Six columns of noise, one class 85% of the rows, shuffled: the prior wins its counts.
        var generator = SeededGenerator(seed: 17)
        let rows = (0..<3000).map { _ -> (features: [Float], label: Int) in
            ((0..<6).map { _ in generator.nextNormal() }, generator.nextUnitDouble() < 0.85 ? 0 : 1)
        }
        let answers = try Self.compareWithLearner(train: rows, test: Array(rows.prefix(300)), arguments: ["--hidden", "16"])
        #expect(answers == ["prior"])
    }

    @Test("Saved before /sections/served, a shuffled stream whose blend answers past as many samples as features is refitted with the blend, as moe eval refits it")
    func blendPastFeatureCount() throws {
        // 2,400 shuffled rows of six classes, a gate over 2,048 features: the blends are
        // tried until 8,192 samples, and one answers at the stream's end.
        var generator = SeededGenerator(seed: Self.blendSeed)
        let train = Self.rows(2400, classes: Array(0..<6), generator: &generator)
        let test = Self.rows(300, classes: Array(0..<6), generator: &generator)
        _ = try Self.compareWithLearner(train: train, test: test, arguments: ["--hidden", "16"]) { learner in
            let samples = try #require(learner.statistics?.sampleCount)
            #expect(learner.shrinkage.blends[learner.shrinkage.current] > 0 && learner.counters.headIsStale)
            #expect(samples >= Double(learner.model.gate.featureCount) && samples < 4 * Double(learner.model.gate.featureCount))
        }
    }

    /// A data seed of ``blendPastFeatureCount()`` where a blend answers at the end.
    static let blendSeed: UInt64 = 31

    @Test("Inputs past the clip on a feature whose tails the scaler widened (it trended with the rows' arrival) are read as the scaler reads them")
    func widenedTails() throws {
        // The label is the first column's side of 0; the rows arrive sorted by it, so it
        // trends with their arrival and its tails are widened beyond the clip. The test
        // rows reach five times further than the stream's did.
        var generator = SeededGenerator(seed: 29)
        func rows(_ count: Int, reach: Float) -> [(features: [Float], label: Int)] {
            (0..<count).map { _ in
                var x = (0..<6).map { _ in generator.nextNormal() }
                x[0] *= reach
                return (x, x[0] + 0.5 * x[1] > 0 ? 1 : 0)
            }
        }
        let train = rows(1200, reach: 1).sorted { $0.features[0] < $1.features[0] }
        _ = try Self.compareWithLearner(train: train, test: rows(300, reach: 5), arguments: ["--hidden", "16"], comesInRuns: true) { learner in
            let scaler = try #require(learner.scaler)
            #expect(scaler.trendingFeatures.contains(0), "\(scaler.knee)")
        }
    }

    @Test("Held rows are judged as moe eval judges them: the mixture with each answer in the slot, rows weighed by class")
    func heldRowsJudged() throws {
        // 7,000 rows in one slot (held rows after its first 4,096), classes set by the signs
        // of two columns and the size of a third, a gate over four random features.
        var generator = SeededGenerator(seed: 19)
        let rows = (0..<8000).map { _ -> (features: [Float], label: Int) in
            let x = (0..<6).map { _ in generator.nextNormal() }
            return (x, ((x[0] > 0) != (x[1] > 0) ? 1 : 0) + (abs(x[2]) > 0.8 ? 2 : 0))
        }
        let config = #"{"gate": {"classPosterior": {"features": 4}}, "gateNarrowHeads": null}"#
        let answers = try Self.compareWithLearner(train: Array(rows.prefix(7000)), test: Array(rows.suffix(1000)),
                                                  arguments: ["--hidden", "64,64"], learnerConfig: config) { learner in
            #expect(!learner.holdout.isEmpty)
        }
        #expect(answers.count == 1 && answers != ["gate"], "\(answers)")
    }

    @Test("Slots that answer among their classes with their own heads are answered so by the script, stale heads refitted, and heads that have not won are left out")
    func slotHeads() throws {
        // Two experiences of three classes, shuffled within each, a gate over 16 random
        // features: the second experience, whose features share one strong common factor
        // the first's lack, grows an expert, and both slots pass 16 samples. Its own head
        // whitens the factor where the pooled one, averaged with the first experience,
        // does so by half: the two answer differently on some test rows.
        var generator = SeededGenerator(seed: 23)
        func correlated(_ count: Int) -> [(features: [Float], label: Int)] {
            (0..<count).map { _ in
                let label = 3 + generator.nextInt(below: 3)
                let factor = 3 * generator.nextNormal()
                var features = (0..<6).map { _ in generator.nextNormal() + factor }
                features[label - 3] += 1.5
                return (features, label)
            }
        }
        let train = Self.rows(1500, classes: [0, 1, 2], generator: &generator) + correlated(1500)
        let test = Self.rows(200, classes: [0, 1, 2], generator: &generator) + correlated(200)
        let config = #"{"gate": {"classPosterior": {"features": 16}}, "gateNarrowHeads": null}"#
        _ = try Self.compareWithLearner(train: train, test: test, arguments: ["--hidden", "16"], learnerConfig: config,
                                        comesInRuns: true) { learner in
            let heads = try #require(learner.model.gate.slotHeads)
            #expect(heads.slots.count >= 2, "\(heads.slots)")
            let ready = learner.snapshot()
            var pooled = ready
            pooled.model.gate.slotHeads = nil
            let x = Matrix(test.map(\.features))
            let differ = zip(ready.predict(x), pooled.predict(x)).filter { $0 != $1 }.count
            #expect(differ > 0, "the own heads answer every test row as the pooled head does")
            // The trunk's slot has a head that has not won (no held rows judge it on so
            // short a stream): the script must leave it out, which matters on some rows.
            let fitted = try #require(ready.model.gate.slotHeads)
            #expect(fitted.slots.contains { !fitted.answering.contains($0) }, "\(fitted.slots), \(fitted.answering)")
            var all = ready
            all.model.gate.slotHeads!.answering = fitted.slots
            let differAll = zip(ready.predict(x), all.predict(x)).filter { $0 != $1 }.count
            #expect(differAll > 0, "the heads that have not won answer every test row as the pooled head does")
        }
    }

    /// Streams `train` with `moe stream` (and `arguments`, and a learner configuration),
    /// then checks that the script's classes for `test` are those of the learner `moe
    /// eval` rebuilds, row by row, with nothing said on stderr; returns who answers in
    /// each slot (`moe eval --json`). `inspect` sees the saved learner. With
    /// `comesInRuns` a copy without /sections/served (as files saved before it are) must
    /// be answered with a note that the stream came in runs, and nothing else.
    static func compareWithLearner(train: [(features: [Float], label: Int)], test: [(features: [Float], label: Int)],
                                   arguments: [String], learnerConfig: String? = nil, comesInRuns: Bool = false,
                                   inspect: (Learner) throws -> Void = { _ in }) throws -> [String] {
        guard let python = python() else { return [] }
        var answers: [String] = []
        try withTemporaryDirectory { directory in
            try csv(train, labels: true).write(toFile: directory.path("train.csv"), atomically: true, encoding: .utf8)
            try csv(test, labels: true).write(toFile: directory.path("test.csv"), atomically: true, encoding: .utf8)
            try csv(test, labels: false).write(toFile: directory.path("features.csv"), atomically: true, encoding: .utf8)
            var configuration: [String] = []
            if let learnerConfig {
                try learnerConfig.write(toFile: directory.path("learner.json"), atomically: true, encoding: .utf8)
                configuration = ["--learner-config", directory.path("learner.json")]
            }
            let checkpoint = directory.path("learner.h5")
            let stream = MoeProcess.run(["stream", "--source", "csv:" + directory.path("train.csv"), "--label-column", "last",
                                         "--save", checkpoint] + arguments + configuration)
            #expect(stream.status == 0, "\(stream.error)")
            let eval = MoeProcess.run(["eval", checkpoint, "--source", "csv:" + directory.path("test.csv"), "--label-column", "last", "--json"])
            #expect(eval.status == 0, "\(eval.error)")
            answers = MoeProcess.json(eval)?["answers"] as? [String] ?? []
            let learner = try Learner(checkpoint: Checkpoint.load(from: checkpoint))
            try inspect(learner)
            let classes = MoeProcess.run(executable: python, [script, checkpoint, directory.path("features.csv"), "--classes"], in: nil, input: nil)
            #expect(classes.status == 0, "\(classes.error)")
            #expect(classes.error.isEmpty, "\(classes.error)")
            let predicted = classes.output.split(separator: "\n").map { Int($0) ?? -1 }
            let ready = learner.snapshot(), x = Matrix(test.map(\.features))
            #expect(predicted == ready.predict(x))
            // The logits too: the input scaled (tails widened where the scaler widens them),
            // the trunk, the experts and the routing.
            let logits = MoeProcess.run(executable: python, [script, checkpoint, directory.path("features.csv")], in: nil, input: nil)
            let printed = Matrix(logits.output.split(separator: "\n").map { $0.split(separator: ",").map { Float(String($0))! } })
            #expect(maxRelativeDifference(printed, ready.model(ready.scaler?.transform(x) ?? x)) <= 1e-5)
            // Saved before /sections/served: in a stream in runs the script says so, or
            // refuses a learner whose head moe eval judges first; in another it refits and
            // judges as moe eval does, to the same classes.
            let old = try withoutServed(checkpoint, python: python)
            let before = MoeProcess.run(executable: python, [script, old, directory.path("features.csv"), "--classes", "--no-verify"],
                                        in: nil, input: nil)
            if learner.headJudgementPending {
                #expect(comesInRuns && before.status == 1 && before.error.contains("judges its gate head on its replayed rows"), "\(before.error)")
            } else if comesInRuns {
                #expect(before.status == 0 && before.error.contains("stream came in runs"), "\(before.error)")
            } else {
                #expect(before.status == 0 && before.error.isEmpty, "\(before.error)")
                #expect(before.output.split(separator: "\n").map { Int($0) ?? -1 } == predicted)
            }
        }
        return answers
    }

    /// The data seed of ``narrowHead()``: one where the narrow head answers at the end.
    static let narrowSeed: UInt64 = 1

    /// Streams three experiences of two classes, then checks the script against `moe eval`
    /// and the learner it rebuilds: classes, logits and scores. With `judgedHead`, the
    /// learner's head is judged on the replayed rows before it predicts: the head the
    /// judgement leaves is in /sections/served, and a copy without that section (as files
    /// saved before it are) is refused with a sentence.
    func checkStreamedLearner(width: Int, levels: Bool, learnerConfig: String? = nil, judgedHead: Bool = false,
                              inspect: (String) throws -> Void = { _ in }) throws {
        guard let python = Self.python() else { return }
        try withTemporaryDirectory { directory in
            var generator = SeededGenerator(seed: 3)
            let train = Self.rows(800, classes: [0, 1], width: width, levels: levels, generator: &generator)
                + Self.rows(800, classes: [2, 3], width: width, levels: levels, generator: &generator)
                + Self.rows(800, classes: [4, 5], width: width, levels: levels, generator: &generator)
            let test = Self.rows(300, classes: Array(0..<6), width: width, levels: levels, generator: &generator)
            try Self.csv(train, labels: true).write(toFile: directory.path("train.csv"), atomically: true, encoding: .utf8)
            try Self.csv(test, labels: true).write(toFile: directory.path("test.csv"), atomically: true, encoding: .utf8)
            try Self.csv(test, labels: false).write(toFile: directory.path("features.csv"), atomically: true, encoding: .utf8)
            let checkpoint = directory.path("learner.h5")

            var configuration: [String] = []
            if let learnerConfig {
                try learnerConfig.write(toFile: directory.path("learner.json"), atomically: true, encoding: .utf8)
                configuration = ["--learner-config", directory.path("learner.json")]
            }
            let stream = MoeProcess.run(["stream", "--source", "csv:" + directory.path("train.csv"), "--label-column", "last",
                                         "--hidden", "16", "--batch-size", "20", "--save", checkpoint, "--json"] + configuration)
            #expect(stream.status == 0, "\(stream.error)")
            #expect((MoeProcess.json(stream)?["experts"] as? Int ?? 0) >= 1)
            let eval = MoeProcess.run(["eval", checkpoint, "--source", "csv:" + directory.path("test.csv"), "--label-column", "last", "--json"])
            #expect(eval.status == 0, "\(eval.error)")
            let evalAccuracy = try #require(MoeProcess.json(eval)?["test_accuracy"] as? Double)
            try inspect(checkpoint)

            let classes = MoeProcess.run(executable: python, [Self.script, checkpoint, directory.path("features.csv"), "--classes"], in: nil, input: nil)
            let saved = try Learner(checkpoint: Checkpoint.load(from: checkpoint))
            #expect(saved.headJudgementPending == judgedHead)
            let served = try #require(Checkpoint.load(from: checkpoint).sections["served"])
            if judgedHead {
                // The judged head is served as the snapshot leaves it.
                let head = try served.matrix("head_weight", rows: saved.model.gate.featureCount, columns: saved.model.gate.headWeight.columns)
                #expect(head == saved.snapshot().model.gate.headWeight && head != saved.model.gate.headWeight)
                // Saved without /sections/served, the script cannot repeat the judgement and says so.
                let old = try Self.withoutServed(checkpoint, python: python)
                let refused = MoeProcess.run(executable: python, [Self.script, old, directory.path("features.csv"), "--classes", "--no-verify"],
                                             in: nil, input: nil)
                #expect(refused.status == 1 && refused.error.contains("judges its gate head on its replayed rows"), "\(refused.error)")
            }
            // Nothing is judged here, so nothing is said, though the classes came one experience after another.
            #expect(classes.status == 0 && classes.error.isEmpty, "\(classes.error)")
            let predicted = classes.output.split(separator: "\n").map { Int($0) ?? -1 }
            let correct = zip(predicted, test).filter { $0 == $1.label }.count
            #expect(predicted.count == test.count)
            #expect(abs(Double(correct) / Double(test.count) - evalAccuracy) <= 1e-5, "script \(correct)/\(test.count), moe eval \(evalAccuracy)")

            // Row by row against the learner moe eval rebuilds, and the logits against its model.
            let learner = try Learner(checkpoint: Checkpoint.load(from: checkpoint)).snapshot()
            let x = Matrix(test.map(\.features))
            #expect(predicted == learner.predict(x))
            let logits = MoeProcess.run(executable: python, [Self.script, checkpoint, directory.path("features.csv")], in: nil, input: nil)
            #expect(logits.status == 0, "\(logits.error)")
            let printed = Matrix(logits.output.split(separator: "\n").map { $0.split(separator: ",").map { Float(String($0))! } })
            #expect(maxRelativeDifference(printed, learner.model(learner.scaler?.transform(x) ?? x)) <= 1e-5)

            // Every class's probability, calibrated, as moe predict --scores gives it.
            let scored = MoeProcess.run(executable: python, [Self.script, checkpoint, directory.path("features.csv"), "--scores"], in: nil, input: nil)
            #expect(scored.status == 0, "\(scored.error)")
            let scoreLines = scored.output.split(separator: "\n").map(String.init)
            #expect(scoreLines.first == (0..<learner.classCount).map(String.init).joined(separator: ","), "\(scoreLines.first ?? "")")
            let scores = Matrix(scoreLines.dropFirst().map { $0.split(separator: ",").map { Float(String($0))! } })
            let expected = learner.predictWithScores(x).scores
            #expect(learner.calibration.fitted != nil)
            #expect(scores.rows == expected.rows && scores.columns == expected.columns)
            let gap = zip(scores.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? 1
            // Swift weighs in Float32: the gate's logits reach hundreds, so a weight, the
            // exponential of their difference, agrees to a few parts in 10,000.
            #expect(gap <= 5e-3, "the script's scores differ from the learner's by \(gap)")
        }
    }
}
