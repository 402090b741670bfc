import Continual
import Foundation
import HDF5Kit
import MoE
import Testing
import TestSupport

@Suite("Checkpoint format")
struct CheckpointTests {
    @Test("XXH64 matches the reference implementation's vectors")
    func xxhash() {
        let bytes = (0..<2000).map { UInt8(truncatingIfNeeded: $0 * 31 + 7) }
        let expected: [(Int, UInt64)] = [
            (0, 0xEF46_DB37_51D8_E999), (1, 0xA96C_7F0C_E858_BBB7), (3, 0x56E6_9576_32A4_87F9),
            (4, 0xC60D_15B1_E3FF_8F04), (7, 0xAFBE_FC3D_6C6F_9A8E), (8, 0x3DA5_C7AA_2696_83E0),
            (15, 0xAE2A_37EB_9357_CAA7), (16, 0xA19A_D429_B02B_C413), (31, 0x4A74_F3A1_A39A_D4A1),
            (32, 0x8D57_D6A4_671C_C43D), (33, 0x62C9_FD21_ED85_7664), (63, 0x5C32_0A0D_2707_057F),
            (64, 0x7BBA_BBC4_5729_D17E), (100, 0xEFA0_AD2D_3E70_C151), (1000, 0x9959_4F48_2804_3D35),
            (2000, 0xCB72_9E96_FC64_492B),
        ]
        for (length, digest) in expected {
            #expect(XXHash64.hash(Array(bytes.prefix(length))) == digest, "length \(length)")
        }
        #expect(XXHash64.hash(Array("abc".utf8)) == 0x44BC_2CF5_AD77_0999)
    }

    @Test("Every part round-trips through the file bytes unchanged")
    func roundTrip() throws {
        let checkpoint = CheckpointFixtures.fullCheckpoint()
        let bytes = try checkpoint.encoded(name: "full.h5")
        let decoded = try Checkpoint.decode(bytes, name: "full.h5")
        #expect(decoded == checkpoint)
        #expect(decoded.metadata.formatVersion == 1)
        #expect(decoded.metadata.description == "fixture for tests")
        #expect(decoded.source == "full.h5")
        #expect(decoded.frozen == ["trunk.0.bias"])
        #expect(decoded.sections["controller"]?.children["history"] == checkpoint.sections["controller"]?.children["history"])
        // Same content, same bytes: no timestamps hide in the HDF5 objects.
        #expect(try checkpoint.encoded(name: "again.h5") == bytes)
    }

    @Test("Saved, loaded and rebuilt, the model predicts exactly the same and keeps its frozen set")
    func modelRoundTrip() throws {
        let (model, adam, _) = CheckpointFixtures.checkpointFixture()
        try withTemporaryDirectory { directory in
            let path = directory.path("model.h5")
            try Checkpoint(model: model, optimizer: adam).save(to: path)
            let loaded = try Checkpoint.load(from: path)
            let restored = try loaded.makeModel()
            #expect(restored.parameters == model.parameters)
            #expect(restored.frozen == model.frozen)
            #expect(restored.trunk.kinds == model.trunk.kinds)
            let probe = randomMatrix(5, 6, seed: 3)
            #expect(restored(probe) == model(probe))
            let restoredAdam = try loaded.makeAdam(for: restored)
            #expect(restoredAdam.firstMoments == adam.firstMoments)
            #expect(restoredAdam.secondMoments == adam.secondMoments)
            #expect(restoredAdam.steps == adam.steps)
            #expect(restoredAdam.learningRate == adam.learningRate && restoredAdam.beta2 == adam.beta2)
            #expect(try loaded.trunkLayers() == [.dense(inputs: 6, outputs: 10), .relu, .dense(inputs: 10, outputs: 3)])
        }
    }

    @Test("A grown model (experts, widened output, class-posterior gate) round-trips exactly")
    func grownModel() throws {
        let model = CheckpointFixtures.grownModel()
        #expect(model.experts.count == 2 && model.classCount == 4)
        let checkpoint = try Checkpoint.decode(try Checkpoint(model: model).encoded(name: "grown.h5"), name: "grown.h5")
        let restored = try checkpoint.makeModel()
        #expect(try checkpoint.architecture() == model.architecture)
        #expect(restored.architecture == model.architecture)
        #expect(restored.parameters == model.parameters)
        #expect(restored.frozen == model.frozen && !model.frozen.isEmpty)
        let probe = randomMatrix(12, 5, seed: 8)
        #expect(restored(probe) == model(probe))
        #expect(restored.predict(probe) == model.predict(probe))
        #expect(checkpoint.parameters.keys.contains { $0.hasPrefix("experts.1.") })
        #expect(checkpoint.parameters.keys.contains { $0.hasPrefix("trunk.extension.0.") })
    }

    @Test("A stored architecture that cannot be built or contradicts the trunk is refused by name")
    func badStoredArchitecture() throws {
        let base = Checkpoint(model: CheckpointFixtures.grownModel())
        guard case let .string(json) = base.model.attributes["architecture"] else {
            Issue.record("no architecture attribute")
            return
        }
        func with(_ text: String) -> Checkpoint {
            var copy = base
            copy.model.attributes["architecture"] = .string(text)
            return copy
        }
        let cases: [(Checkpoint, String)] = [
            (with("{not json"), "/model@architecture cannot be decoded"),
            (with(json.replacingOccurrences(of: "\"detectors\":[1,4]", with: "\"detectors\":[1,40]")),
             "Expert 0 cannot be built: its detectors must be distinct indices in 0..<8"),
            (with(json.replacingOccurrences(of: "\"outputs\":8", with: "\"outputs\":9")),
             "/model@architecture describes the trunk"),
        ]
        for (checkpoint, fragment) in cases {
            let error = try #require(throws: CheckpointError.self) { try checkpoint.makeModel() }
            guard case .invalidArchitecture = error else {
                Issue.record("expected an architecture error, got \(error)")
                continue
            }
            #expect(error.description.contains(fragment), "\(error)")
        }
        var unknown = base
        unknown.model.attributes["experts"] = .int(1)
        #expect(throws: CheckpointError.unexpected(path: "/model@experts", file: nil)) { try unknown.makeModel() }
        var flags = base
        flags.parameters["experts.0.0.weight"]!.frozen.toggle()
        let error = try #require(throws: CheckpointError.self) { try flags.makeModel() }
        #expect(error.description.contains("attribute 'frozen' of /parameters/experts.0.0.weight"))
    }

    @Test("SGD with momentum round-trips; the wrong optimizer kind is a clear error")
    func sgd() throws {
        var generator = SeededGenerator(seed: 5)
        var model = MixtureOfExperts(sizes: [4, 5, 2], activation: .tanh, generator: &generator)
        var sgd = SGD(learningRate: 0.1, momentum: 0.5)
        let (_, gradients, _) = model.lossAndGradients(randomMatrix(3, 4, seed: 1), labels: [0, 1, 1])
        sgd.update(&model, gradients: gradients, frozen: [])
        let checkpoint = try Checkpoint.decode(try Checkpoint(model: model, optimizer: sgd).encoded(name: "sgd.h5"), name: "sgd.h5")
        let restoredModel = try checkpoint.makeModel()
        let restored = try #require(try checkpoint.makeOptimizer(for: restoredModel) as? SGD)
        #expect(restored.velocity == sgd.velocity && restored.momentum == 0.5)
        let error = try #require(throws: CheckpointError.self) { try checkpoint.makeAdam(for: restoredModel) }
        #expect(error == .wrongType(path: "/optimizer@kind", expected: "'adam'", actual: "'sgd'", file: "sgd.h5"))
        #expect(error.description.contains("sgd.h5"))
    }

    @Test("Missing, unexpected and wrongly shaped parameters are distinct errors naming path and shapes")
    func parameterMismatches() throws {
        let base = try Checkpoint.decode(try Checkpoint(model: CheckpointFixtures.checkpointFixture().model).encoded(name: "p.h5"), name: "p.h5")

        var missing = base
        missing.parameters["trunk.2.bias"] = nil
        let e1 = try #require(throws: CheckpointError.self) { try missing.makeModel() }
        #expect(e1 == .missingParameter(path: "trunk.2.bias", expectedShape: [1, 3], file: "p.h5"))
        #expect(e1.description == "checkpoint 'p.h5' lacks parameter 'trunk.2.bias' (the architecture needs shape [1, 3])")

        var unexpected = base
        unexpected.parameters["trunk.9.weight"] = .init(Matrix(rows: 2, columns: 2))
        let e2 = try #require(throws: CheckpointError.self) { try unexpected.makeModel() }
        #expect(e2 == .unexpectedParameter(path: "trunk.9.weight", shape: [2, 2], file: "p.h5"))

        var wrong = base
        wrong.parameters["trunk.0.weight"] = .init(Matrix(rows: 6, columns: 9))
        let e3 = try #require(throws: CheckpointError.self) { try wrong.makeModel() }
        #expect(e3 == .wrongShape(path: "trunk.0.weight", expected: [6, 10], actual: [6, 9], file: "p.h5"))
        #expect(e3.description == "checkpoint 'p.h5': parameter 'trunk.0.weight' has shape [6, 9] but [6, 10] is expected")

        // The same errors come out of a file written with the bad parameter.
        let bytes = try wrong.encoded(name: "wrong.h5")
        let e4 = try #require(throws: CheckpointError.self) { try Checkpoint.decode(bytes, name: "wrong.h5").makeModel() }
        #expect(e4 == .wrongShape(path: "trunk.0.weight", expected: [6, 10], actual: [6, 9], file: "wrong.h5"))
    }

    @Test("Architectures that cannot be built are rejected before anything is allocated")
    func badArchitectures() throws {
        let base = Checkpoint(model: CheckpointFixtures.checkpointFixture().model)
        func withTrunk(_ kinds: [String], _ sizes: [Int64]) -> Checkpoint {
            var copy = base
            copy.model.attributes["architecture"] = nil  // a trunk-only file, as written before experts existed
            copy.model.children["trunk"]!.datasets["kinds"] = .strings(kinds)
            copy.model.children["trunk"]!.datasets["sizes"] = .int64(sizes, shape: [kinds.count, 2])
            return copy
        }
        let cases: [(Checkpoint, String)] = [
            (withTrunk(["dense", "relu", "dense"], [6, 10, 0, 0, 11, 3]), "takes 11 inputs but the layer before gives 10"),
            (withTrunk(["dense", "gelu", "dense"], [6, 10, 0, 0, 10, 3]), "unknown kind 'gelu'"),
            (withTrunk(["dense", "relu", "dense"], [6, 10, 0, 0, 10, 1 << 40]), "sizes must be"),
            (withTrunk(["relu", "dense"], [0, 0, 6, 3]), "comes before any dense layer"),
            (withTrunk(["dense", "relu", "dense"], [6, 4_000_000, 0, 0, 4_000_000, 3]), "needs at least 28000000 parameters, far more than the 103 stored"),
        ]
        for (checkpoint, fragment) in cases {
            let error = try #require(throws: CheckpointError.self) { try checkpoint.makeModel() }
            guard case .invalidArchitecture = error else {
                Issue.record("expected an architecture error, got \(error)")
                continue
            }
            #expect(error.description.contains(fragment), "\(error)")
        }
        var sizes = base
        sizes.model.attributes["architecture"] = nil
        sizes.model.children["trunk"]!.datasets["sizes"] = .int64([6, 10, 0, 0], shape: [2, 2])
        #expect(throws: CheckpointError.wrongShape(path: "/model/trunk/sizes", expected: [3, 2], actual: [2, 2], file: nil)) {
            try sizes.makeModel()
        }
    }

    @Test("Optimizer state that does not fit the model is refused")
    func optimizerMismatch() throws {
        let (model, adam, _) = CheckpointFixtures.checkpointFixture()
        var checkpoint = Checkpoint(model: model, optimizer: adam)
        checkpoint.optimizer!.state["m/trunk.7.weight"] = Matrix(rows: 1, columns: 1)
        let e1 = try #require(throws: CheckpointError.self) { try checkpoint.makeAdam(for: model) }
        #expect(e1 == .invalidValue(path: "/optimizer/state/m/trunk.7.weight", reason: "the model has no parameter 'trunk.7.weight'", file: nil))
        checkpoint = Checkpoint(model: model, optimizer: adam)
        checkpoint.optimizer!.state["v/trunk.0.weight"] = Matrix(rows: 2, columns: 2)
        let e2 = try #require(throws: CheckpointError.self) { try checkpoint.makeAdam(for: model) }
        #expect(e2 == .wrongShape(path: "/optimizer/state/v/trunk.0.weight", expected: [6, 10], actual: [2, 2], file: nil))
        checkpoint = Checkpoint(model: model, optimizer: adam)
        checkpoint.optimizer!.hyperparameters["beta1"] = 1.5
        let e3 = try #require(throws: CheckpointError.self) { try checkpoint.makeAdam(for: model) }
        #expect(e3.description.contains("beta1") && e3.description.contains("[0, 1)"))
        checkpoint.optimizer!.hyperparameters["beta1"] = nil
        #expect(throws: CheckpointError.missing(path: "/optimizer/hyperparameters@beta1", file: nil)) { try checkpoint.makeAdam(for: model) }
    }

    @Test("Section accessors name the file and the full path of what is missing or wrong")
    func sectionAccessors() throws {
        let checkpoint = try Checkpoint.decode(try CheckpointFixtures.fullCheckpoint().encoded(name: "s.h5"), name: "s.h5")
        let controller = try checkpoint.section("controller")
        #expect(try controller.doubles("mean", count: 3) == [0.5, -1.25, 3])
        #expect(try controller.doubles("comoment", shape: [2, 2]) == [1, 2, 3, 4])
        #expect(try controller.matrix("buffer", rows: 3, columns: 2) == Matrix([[1, 2], [3, 4], [5, 6]]))
        #expect(try controller.unsigned("seeds") == [UInt64.max, 1])
        #expect(try controller.int("count") == 42)
        #expect(try controller.child("history").string("json").contains("expert 0"))

        let missing = try #require(throws: CheckpointError.self) { try controller.doubles("variance") }
        #expect(missing == .missing(path: "/sections/controller/variance", file: "s.h5"))
        #expect(missing.description == "checkpoint 's.h5' has no /sections/controller/variance")
        let type = try #require(throws: CheckpointError.self) { try controller.matrix("mean") }
        #expect(type == .wrongType(path: "/sections/controller/mean", expected: "float32", actual: "float64", file: "s.h5"))
        let shape = try #require(throws: CheckpointError.self) { try controller.doubles("mean", count: 4) }
        #expect(shape == .wrongShape(path: "/sections/controller/mean", expected: [4], actual: [3], file: "s.h5"))
        let attribute = try #require(throws: CheckpointError.self) { try controller.child("history").int("json") }
        #expect(attribute.description == "checkpoint 's.h5': attribute 'json' of /sections/controller/history should be an integer but is a string")
        #expect(throws: CheckpointError.missing(path: "/sections/learner", file: "s.h5")) { try checkpoint.section("learner") }
        let generator = try checkpoint.generator("data")
        #expect(generator.state == checkpoint.training?.generators["data"])
    }

    @Test("Atomic save replaces the old file, cleans temporaries of dead writers, and leaves no debris on failure")
    func atomicSave() throws {
        let (model, adam, _) = CheckpointFixtures.checkpointFixture()
        try withTemporaryDirectory { directory in
            let path = directory.path("run.h5")
            try Checkpoint(model: model, description: "first").save(to: path)
            // A writer that died mid-save (its pid is not alive) and one still running (ours).
            let dead = directory.path(".run.h5.tmp-2147483000-abc")
            let alive = directory.path(".run.h5.tmp-\(ProcessInfo.processInfo.processIdentifier)-def")
            try Data([1, 2, 3]).write(to: URL(fileURLWithPath: dead))
            try Data([4, 5, 6]).write(to: URL(fileURLWithPath: alive))
            #expect(try Checkpoint.load(from: path).metadata.description == "first")

            try Checkpoint(model: model, optimizer: adam, description: "second").save(to: path)
            #expect(try Checkpoint.load(from: path).metadata.description == "second")
            let entries = try FileManager.default.contentsOfDirectory(atPath: directory.url.path).sorted()
            #expect(entries == [".run.h5.tmp-\(ProcessInfo.processInfo.processIdentifier)-def", "run.h5"])

            // Saving over a folder fails cleanly: the error names the file, nothing is left behind.
            let folder = directory.path("folder.h5")
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
            let error = try #require(throws: CheckpointError.self) { try Checkpoint(model: model).save(to: folder) }
            guard case .writeFailed(file: folder, _) = error else {
                Issue.record("expected writeFailed, got \(error)")
                return
            }
            #expect(!(try FileManager.default.contentsOfDirectory(atPath: directory.url.path)).contains { $0.hasPrefix(".folder.h5.tmp-") })
            let nowhere = try #require(throws: CheckpointError.self) { try Checkpoint(model: model).save(to: directory.path("no/such/x.h5")) }
            #expect(nowhere.description.contains("does not exist"))
        }
    }

    @Test("h5py reads the layout the format document describes",
          .enabled(if: CheckpointFixtures.python != nil, CheckpointFixtures.needsPython))
    func h5pyLayout() throws {
        let python = try #require(CheckpointFixtures.python)
        try withTemporaryDirectory { directory in
            let path = directory.path("layout.h5")
            try CheckpointFixtures.fullCheckpoint().save(to: path)
            let script = """
            import h5py, sys
            f = h5py.File(sys.argv[1], "r")
            assert f.userblock_size == 512
            assert f.attrs["format"] == "moe-checkpoint" and int(f.attrs["format_version"]) == 1
            assert isinstance(f.attrs["description"], str) and f.attrs["created"].endswith("Z")
            assert list(f["model/trunk/kinds"].asstr()[()]) == ["dense", "relu", "dense"]
            assert f["parameters/trunk.0.weight"].shape == (6, 10)
            assert int(f["parameters/trunk.0.bias"].attrs["frozen"]) == 1
            assert int(f["parameters/trunk.0.weight"].attrs["frozen"]) == 0
            assert list(f["classes"].asstr()[()]) == ["cat", "dog", "eel"]
            assert f["optimizer"].attrs["kind"] == "adam"
            assert abs(f["optimizer/hyperparameters"].attrs["learning_rate"] - 0.01) < 1e-9
            assert f["optimizer/state/m/trunk.0.weight"].shape == (6, 10)
            assert f["optimizer/state/t/trunk.2.bias"][0, 0] == 3
            assert int(f["training/counters"].attrs["step"]) == 3
            assert f["training/generators/data"].dtype.name == "uint64"
            assert f["sections/controller/comoment"].shape == (2, 2)
            assert f["sections/controller"].attrs["note"] == "Ünïcode ☃"
            print("ok")
            """
            let result = CheckpointFixtures.runProgram(python, ["-c", script, path])
            #expect(result.status == 0, "h5py: \(result.error)")
        }
    }
}

@Suite("Checkpoint summary")
struct CheckpointSummaryTests {
    @Test("The summary lists parameters with shapes and frozen flags, counts, optimizer and sections")
    func summary() throws {
        let checkpoint = try Checkpoint.decode(try CheckpointFixtures.fullCheckpoint().encoded(name: "sum.h5"), name: "sum.h5")
        let summary = checkpoint.summary
        #expect(summary.file == "sum.h5" && summary.formatVersion == 1)
        #expect(summary.trunkLayers == ["dense(6->10)", "relu", "dense(10->3)"])
        #expect(summary.parameters.map(\.path) == ["trunk.0.bias", "trunk.0.weight", "trunk.2.bias", "trunk.2.weight"])
        #expect(summary.frozenParameterCount == 10 && summary.trainableParameterCount == 93)
        #expect(summary.optimizer == "adam" && summary.optimizerStateEntries == 9)
        #expect(summary.classes == ["cat", "dog", "eel"])
        #expect(summary.sections.contains(CheckpointSummary.SectionEntry(path: "/sections/controller/comoment", kind: "float64", shape: [2, 2], value: "")))
        let text = summary.description
        #expect(text.contains("checkpoint 'sum.h5': format version 1"))
        #expect(text.contains("trunk.0.bias    1x10  frozen"))
        #expect(text.contains("103 scalars, 93 trainable, 10 frozen"))
        let json = try JSONEncoder().encode(summary)
        #expect(try JSONDecoder().decode(CheckpointSummary.self, from: json) == summary)
    }
}
