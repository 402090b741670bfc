import Foundation
import Logging
import MoE
import Testing
import TestSupport
import Continual

/// Records every hook the driver calls, in order.
final class HookRecorder: StreamPlugin {
    typealias L = Learner
    var events: [String] = []
    var batches = 0

    func beforeExperience(_ driver: StreamDriver<Learner>, _ experience: ExperiencePosition) {
        events.append("begin \(experience.ordinal)")
    }
    func beforeBatch(_ driver: StreamDriver<Learner>) { events.append("before") }
    func afterBatch(_ driver: StreamDriver<Learner>, _ event: BatchEvent<Learner.StepReport>) {
        batches += 1
        events.append("after")
    }
    func afterExperience(_ driver: StreamDriver<Learner>, _ experience: ExperiencePosition) {
        events.append("end \(experience.ordinal)")
    }
    func onCheckpoint(_ driver: StreamDriver<Learner>, _ event: CheckpointEvent) {
        switch event {
        case let .saved(_, reason): events.append("saved \(reason.rawValue)")
        case let .failed(_, reason, _): events.append("failed \(reason.rawValue)")
        }
    }
    func atEnd(_ driver: StreamDriver<Learner>) { events.append("at end") }
}

/// The driver from Swift: hooks, checkpoint policy, continuing a saved learner on new rows.
@Suite("Stream driver")
struct StreamDriverTests {
    func configuration() -> LearnerConfiguration {
        var c = LearnerConfiguration()
        c.hidden = [16]
        c.gate = .classPosterior(features: 32)
        c.expertWidth = 8
        c.replayCapacity = 32
        return c
    }

    /// Two experiences of 2 classes, 48 training rows each (3 batches of 16).
    func scenario() throws -> Scenario {
        var blobs = Blobs(classes: 4, width: 6, seed: 3)
        func dataset(_ perClass: Int, _ name: String) -> Dataset {
            var features: [Float] = [], labels: [Int] = []
            for c in 0..<4 {
                let (x, y) = blobs.batch(perClass, classes: [c])
                features += x.scalars
                labels += y
            }
            return Dataset(features: Matrix(rows: labels.count, columns: 6, scalars: features), labels: labels, classCount: 4, name: name)
        }
        return try Scenario.split(train: dataset(24, "train"), test: dataset(8, "test"), seed: 1)
    }

    let source = StreamSource.scenario(.init(scenario: "blobs", experiences: 2, seed: 1, passes: 1, batchSize: 16))

    @Test("plugins see every hook in order; saves follow the policy, never twice at one position")
    func hooksInOrder() throws {
        try withTemporaryDirectory { dir in
            let recorder = HookRecorder()
            let policy = CheckpointPolicy(path: dir.path("s.h5"), everyBatches: 2)
            let driver = try StreamDriver(
                learner: try Learner(configuration: configuration(), inputWidth: 6, classCount: 1), source: source,
                scenario: try scenario(), policy: policy, plugins: [recorder])
            #expect(try driver.run() == .finished)
            let batch = ["before", "after"]
            // Batch 2 is saved periodically; batch 4 too, and batch 6 ends experience 1, which
            // is saved then (not twice); the end is at the same position (not saved again).
            let expected = ["begin 0"] + batch + batch + ["saved periodic"] + batch + ["before", "end 0", "saved experience"]
                + ["begin 1"] + batch + ["saved periodic"] + batch + batch + ["before", "end 1", "saved experience", "at end"]
            #expect(recorder.events == expected)
            #expect(driver.position.batches == 6 && driver.position.samples == 96 && driver.isFinished)
            #expect(driver.learner?.prequential.boundaries.map(\.samples) == [0, 48])
            let saved = try Checkpoint.load(from: dir.path("s.h5"))
            #expect(saved.metadata.description == "stream blobs: 2 of 2 experiences done, 96 samples learned")
            // A learner made from the first batch learns where experiences begin all the same.
            let configuration = configuration()
            let made = try StreamDriver(source: source, scenario: try scenario()) { first in
                try Learner(configuration: configuration, inputWidth: first.features.columns, classCount: 1)
            }
            try made.run()
            #expect(made.learner?.prequential == driver.learner?.prequential)
            #expect(made.learner?.model.parameters == driver.learner?.model.parameters)
            #expect(try StreamDriver<Learner>.savedStream(in: saved)?.position == driver.position)
        }
    }

    @Test("a periodic save that fails is reported and the stream goes on; a failing last save stops the run")
    func failingSaves() throws {
        try withTemporaryDirectory { dir in
            // A folder where the checkpoint should be: every save fails.
            let path = dir.path("taken.h5")
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            let recorder = HookRecorder()
            let driver = try StreamDriver(
                learner: try Learner(configuration: configuration(), inputWidth: 6, classCount: 1), source: source,
                scenario: try scenario(), policy: CheckpointPolicy(path: path, everyBatches: 1, atEachExperience: false),
                plugins: [recorder])
            #expect(throws: CheckpointError.self) { try driver.run() }
            #expect(recorder.events.filter { $0 == "failed periodic" }.count == 6)
            #expect(recorder.events.suffix(2) == ["at end", "failed end"])
            #expect(recorder.batches == 6 && driver.isFinished)
            // A missing folder is refused before anything is learned.
            #expect(throws: StreamError.saveFolderMissing(path: dir.path("no/s.h5"), folder: dir.path("no"))) {
                try StreamDriver(learner: try Learner(configuration: configuration(), inputWidth: 6, classCount: 1), source: source,
                                 scenario: try scenario(), policy: CheckpointPolicy(path: dir.path("no/s.h5")))
            }
        }
    }

    @Test("Learner(checkpoint:) continued on new rows: class names keep their indices, new names get new ones")
    func continueOnNewRows() throws {
        try withTemporaryDirectory { dir in
            var blobs = Blobs(classes: 3, width: 4, seed: 8)
            func rows(_ n: Int, _ classes: [Int]) -> String {
                let (x, y) = blobs.batch(n, classes: classes)
                return (0..<n).map { r in (x.row(r).map { "\($0)" } + [["cat", "dog", "eel"][y[r]]]).joined(separator: ",") }
                    .joined(separator: "\n") + "\n"
            }
            try rows(64, [0, 1]).write(toFile: dir.path("monday.csv"), atomically: true, encoding: .utf8)
            try rows(64, [1, 2]).write(toFile: dir.path("tuesday.csv"), atomically: true, encoding: .utf8)
            let policy = CheckpointPolicy(path: dir.path("mine.h5"))
            let configuration = configuration()
            let monday = try StreamDriver(source: .csv(.init(path: dir.path("monday.csv"), labelColumn: .last, batchSize: 16)),
                                          policy: policy) { first in
                try Learner(configuration: configuration, inputWidth: first.features.columns, classCount: 1)
            }
            try monday.run()
            let saved = try Checkpoint.load(from: dir.path("mine.h5"))
            let learner = try Learner(checkpoint: saved)
            #expect(learner.counters.samples == 64)
            let tuesday = try StreamDriver(continuing: saved, learner: learner,
                                           on: .csv(.init(path: dir.path("tuesday.csv"), labelColumn: .last, batchSize: 16)),
                                           policy: policy)
            #expect(tuesday.continuing == dir.path("mine.h5"))
            try tuesday.run()
            #expect(tuesday.position.source.labelMap.names == ["cat", "dog", "eel"])
            #expect(tuesday.learner?.seenClasses == [0, 1, 2] && tuesday.learner?.counters.samples == 128)
            #expect(try Checkpoint.load(from: dir.path("mine.h5")).classes == .strings(["cat", "dog", "eel"]))
            // Rows of another width are refused, naming both sides.
            try "1,2,cat\n".write(toFile: dir.path("narrow.csv"), atomically: true, encoding: .utf8)
            let narrow = try StreamDriver(continuing: saved, learner: learner,
                                          on: .csv(.init(path: dir.path("narrow.csv"), labelColumn: .last)))
            #expect(throws: StreamError.widthMismatch(source: dir.path("narrow.csv") + ", line 1", expected: 4, actual: 2,
                                                      checkpoint: dir.path("mine.h5"))) { try narrow.run() }
        }
    }

    @Test("the saved stream description round-trips as flat JSON for every kind of source")
    func descriptions() throws {
        let sources: [StreamSource] = [
            source, .joint(.init(scenario: "split-fmnist", dataDirectory: "data")),
            .csv(.init(path: "a.csv", labelColumn: .name("y"), hasHeader: true, separator: ";", batchSize: 7, badRows: .skip)),
            .csv(.init(path: nil)), .idx(.init(images: "i.gz", labels: "l.gz", scaling: .raw)),
            .trainingSet(.init(limit: 100, batchSize: 32, epochs: 3, shuffleSeed: 9)),
        ]
        for s in sources {
            let json = try JSONEncoder().encode(s)
            #expect(try JSONDecoder().decode(StreamSource.self, from: json) == s)
            let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
            #expect(object["kind"] is String && object["batchSize"] is Int)
        }
        #expect(sources.map(\.name) == ["blobs", "split-fmnist-joint", "csv:a.csv", "stdin", "idx:i.gz,l.gz", "Fashion-MNIST train"])

        // A damaged stream section is named, with what is wrong in it.
        let learner = try Learner(configuration: configuration(), inputWidth: 6, classCount: 2)
        var checkpoint = learner.checkpoint(description: "", sections: [
            "stream": try CheckpointSection(json: ["source": StreamSource.csv(.init(path: "x.csv"))], format: "stream-json"),
        ])
        checkpoint = try Checkpoint.decode(try checkpoint.encoded(name: "damaged.h5"), name: "damaged.h5")
        let error = try #require(throws: CheckpointError.self) { try StreamDriver(resuming: checkpoint, learner: learner) }
        #expect(error.description.contains("/sections/stream/state"), "\(error)")
        #expect(error.description.contains("has no 'position'"), "\(error)")
        // A learner saved without a stream has nothing to resume.
        #expect(throws: StreamError.noStream(checkpoint: "<memory>")) {
            try StreamDriver(resuming: learner.checkpoint(description: "", sections: [:]), learner: learner)
        }
    }
}
