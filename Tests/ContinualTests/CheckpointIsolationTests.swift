#if DEBUG
@testable import Continual
#else
import Continual
#endif
import Foundation
import HDF5Kit
import MoE
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// libhdf5 parses checkpoints in the reader process: crafted files that crash or hang it
/// there give one clear error, and the process that loads lives on.
@Suite("Checkpoint isolation")
struct CheckpointIsolationTests {
    static let crafted = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/crafted")

    /// The crafted fixtures whose name starts with `prefix`.
    static func fixtures(_ prefix: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: crafted.path)) ?? []
        return names.filter { $0.hasPrefix(prefix) && $0.hasSuffix(".h5") }.sorted()
    }

    @Test("An isolated load gives the same checkpoint as an in-process load")
    func sameResult() throws {
        var grown = Checkpoint(model: CheckpointFixtures.grownModel(), description: "grown")
        grown.metadata.created = "2025-01-01T00:00:00.000Z"
        for (name, bytes) in [("full.h5", try CheckpointFixtures.fullCheckpoint().encoded(name: "full.h5")),
                              ("grown.h5", try grown.encoded(name: "grown.h5")),
                              ("golden-v1.h5", [UInt8](try Data(contentsOf: CheckpointFixtures.repositoryRoot.appendingPathComponent("Checkpoints/golden-v1.h5"))))] {
            let isolated = try Checkpoint.decode(bytes, name: name)
            let local = try Checkpoint.decode(bytes, name: name, parsing: .inProcess)
            #expect(isolated == local, "\(name)")
            #expect(isolated.source == name)
            #expect(try isolated.makeModel().parameters == local.makeModel().parameters)
        }
    }

    @Test("Errors inside a well-formed file are the same whichever process parses it")
    func sameErrors() throws {
        let memory = try HDF5File.createInMemory(name: "inner", userBlockSize: 512)
        let root = try memory.root()
        try root.attributes.set("format", .string("moe-checkpoint"))
        try root.attributes.set("format_version", .int64(1))
        try root.createDataset("classes", values: [1.5] as [Double], shape: [1])
        let bytes = CheckpointFixtures.withHeader(try memory.image())
        let isolated = try #require(throws: CheckpointError.self) { try Checkpoint.decode(bytes, name: "e.h5") }
        let local = try #require(throws: CheckpointError.self) { try Checkpoint.decode(bytes, name: "e.h5", parsing: .inProcess) }
        #expect(isolated == local)
        #expect(isolated == .missing(path: "/@library_version", file: "e.h5"))
    }

    @Test("Crafted files that crash libhdf5 give an error naming the file; this process lives on",
          arguments: fixtures("crash-"))
    func crashes(_ name: String) throws {
        let path = Self.crafted.appendingPathComponent(name).path
        let start = ContinuousClock.now
        let error = try #require(throws: CheckpointError.self) { try Checkpoint.load(from: path) }
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(error.description.contains(path))
        // In the reader, a crash (or, where the heap lies differently, an HDF5 error).
        switch error {
        case .readerFailed(file: path, reason: .crashed), .hdf5: break
        default: Issue.record("\(name): \(error)")
        }
        // The reader is still there for the next file.
        #expect(try Checkpoint.load(from: CheckpointFixtures.repositoryRoot.appendingPathComponent("Checkpoints/golden-v1.h5").path).parameters.count == 4)
    }

    @Test("Crafted files that hang libhdf5 are stopped at the timeout", arguments: fixtures("hang-"))
    func hangs(_ name: String) throws {
        let path = Self.crafted.appendingPathComponent(name).path
        let start = ContinuousClock.now
        let limits = CheckpointReaderLimits(timeoutSeconds: 1)
        let error = try #require(throws: CheckpointError.self) { try Checkpoint.load(from: path, parsing: .isolated(limits)) }
        #expect(ContinuousClock.now - start < .seconds(5))
        // The wall clock and the CPU time limit are both 1 s: on a fast machine the loop
        // can use up its CPU second before the parent's clock says so.
        switch error {
        case .readerFailed(file: path, reason: .timedOut(seconds: 1)), .readerFailed(file: path, reason: .cpuLimit(seconds: 1)), .hdf5: break
        default: Issue.record("\(name): \(error)")
        }
    }

    @Test("A stored size beyond Int.max is an HDF5 error in either process (it trapped in HDF5Kit once)")
    func storageSizeRegression() throws {
        let path = Self.crafted.appendingPathComponent("regression-storage-size.h5").path
        for parsing in [CheckpointParsing.inProcess, .isolated] {
            let error = try #require(throws: CheckpointError.self) { try Checkpoint.load(from: path, parsing: parsing) }
            guard case let .hdf5(inner) = error else {
                Issue.record("\(parsing): \(error)")
                continue
            }
            #expect(inner.file == path && inner.path == "/model/trunk/sizes")
            #expect(inner.reason == .malformed("the file stores 13618885273168379952 bytes but shape [3, 2] needs 48"))
        }
    }

    @Test("A parse that loops is stopped by its CPU time limit")
    func cpuLimit() throws {
        let hangs = Self.fixtures("hang-")
        // The first hang fixture that loops in the reader too (some fail there instead).
        var stopped = false
        for name in hangs where !stopped {
            let path = Self.crafted.appendingPathComponent(name).path
            let limits = CheckpointReaderLimits(timeoutSeconds: 20, cpuSeconds: 1)
            let error = try #require(throws: CheckpointError.self) { try Checkpoint.load(from: path, parsing: .isolated(limits)) }
            if case .readerFailed(file: path, reason: .cpuLimit(seconds: 1)) = error {
                stopped = true
                #expect(error.description.contains("used up the reader's CPU time limit of 1 s"))
            }
        }
        #expect(stopped, "no hang fixture reached the CPU limit")
    }

    @Test("The crafted files crash or hang libhdf5 in a process that parses them itself")
    func craftedInProcess() throws {
        // The replay program of the checkpoint fuzz target, built beside the tests.
        let folder = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "").deletingLastPathComponent()
        let replay = folder.appendingPathComponent("FuzzCheckpoint").path
        guard FileManager.default.isExecutableFile(atPath: replay) else {
            print("skipped: \(replay) is not built (swift build builds it)")
            return
        }
        var running: [(String, Process)] = []
        for name in Self.fixtures("crash-") + Self.fixtures("hang-") {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: replay)
            process.arguments = [Self.crafted.appendingPathComponent(name).path]
            process.environment = ["MOE_FUZZ_PARSING": "in-process", "SWIFT_BACKTRACE": "enable=no"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            running.append((name, process))
        }
        // Crashes end at once; hangs are still running after two seconds.
        Thread.sleep(forTimeInterval: 2)
        for (name, process) in running {
            if name.hasPrefix("hang-") {
                #expect(process.isRunning, "\(name) finished in process")
                // SIGKILL: the test runner's threads block SIGTERM, and its children inherit that.
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            } else {
                process.waitUntilExit()
                #expect(process.terminationReason == .uncaughtSignal, "\(name) ended with status \(process.terminationStatus)")
            }
        }
    }

    @Test("Memory and answer limits: a parse that needs more is an error, never a partial checkpoint")
    func memoryAndAnswerLimits() throws {
        var generator = SeededGenerator(seed: 3)
        let model = MixtureOfExperts(sizes: [1000, 1000, 2], generator: &generator)
        let bytes = try Checkpoint(model: model).encoded(name: "big.h5")
        // Numbers go straight from the file into the answer; 200,000 strings need memory
        // in the reader, far beyond an allowance of 64 KiB.
        let strings = CheckpointSection(datasets: ["names": .strings((0..<200_000).map { "name \($0)" })])
        let wordy = try Checkpoint(model: model, sections: ["names": strings]).encoded(name: "wordy.h5")
        let tight = CheckpointReaderLimits(memoryBytes: 1 << 16)
        let memory = try #require(throws: CheckpointError.self) { try Checkpoint.decode(wordy, name: "wordy.h5", parsing: .isolated(tight)) }
        switch memory {
        case .readerFailed(file: "wordy.h5", reason: .crashed), .hdf5(_): break
        default: Issue.record("\(memory)")
        }
        #expect(memory.description.contains("wordy.h5"))
        #expect(try Checkpoint.decode(wordy, name: "wordy.h5").sections["names"] == strings)
        let small = CheckpointReaderLimits(answerBytes: 1000)
        let answer = try #require(throws: CheckpointError.self) { try Checkpoint.decode(bytes, name: "big.h5", parsing: .isolated(small)) }
        #expect(answer == .readerFailed(file: "big.h5", reason: .answerTooLarge(limit: 1000)))
        #expect(try Checkpoint.decode(bytes, name: "big.h5").parameters == Checkpoint(model: model).parameters)
    }

    @Test("Loads from many threads at once take turns in the reader and all succeed")
    func concurrentLoads() throws {
        let bytes = try CheckpointFixtures.fullCheckpoint().encoded(name: "c.h5")
        let expected = try Checkpoint.decode(bytes, name: "c.h5", parsing: .inProcess)
        let failures = Counter()
        DispatchQueue.concurrentPerform(iterations: 16) { _ in
            if (try? Checkpoint.decode(bytes, name: "c.h5")) != expected { failures.add() }
        }
        #expect(failures.value == 0)
    }

    // These two reach the reader process's internal API: debug builds only.
    #if DEBUG
    @Test("A reader killed between loads is started again")
    func restart() throws {
        let reader = CheckpointReaderProcess()
        let bytes = try CheckpointFixtures.fullCheckpoint().encoded(name: "r.h5")
        _ = try reader.snapshot(of: bytes, name: "r.h5", limits: CheckpointReaderLimits())
        let first = try #require(reader.processID)
        kill(first, SIGKILL)
        Thread.sleep(forTimeInterval: 0.2)
        let snapshot = try reader.snapshot(of: bytes, name: "r.h5", limits: CheckpointReaderLimits())
        #expect(snapshot == (try HDF5File.open(image: bytes, name: "r.h5").snapshot()))
        #expect(reader.processID != first)
    }

    @Test("The reader program is found beside the running program, then on PATH, or where MOE_CHECKPOINT_READER says")
    func locate() throws {
        let built = try CheckpointReaderProcess.locate()
        #expect(built.hasSuffix("/moe-checkpoint-reader"))
        let folder = (built as NSString).deletingLastPathComponent
        #expect(try CheckpointReaderProcess.locate(environment: { _ in nil }, folders: ["/nonexistent", folder]) == built)
        #expect(try CheckpointReaderProcess.locate(environment: { $0 == "PATH" ? "/nonexistent:" + folder : nil }, folders: []) == built)
        let named = try CheckpointReaderProcess.locate(environment: { $0 == "MOE_CHECKPOINT_READER" ? built : nil }, folders: [])
        #expect(named == built)
        let missing = try #require(throws: CheckpointReaderFailure.self) {
            try CheckpointReaderProcess.locate(environment: { $0 == "PATH" ? "/nowhere" : nil }, folders: ["/nonexistent"])
        }
        #expect(missing == .notFound(searched: ["/nonexistent", "/nowhere"]))
        #expect(missing.description.contains("swift build --product moe-checkpoint-reader"))
        let wrong = try #require(throws: CheckpointReaderFailure.self) {
            try CheckpointReaderProcess.locate(environment: { $0 == "MOE_CHECKPOINT_READER" ? "/no/reader" : nil }, folders: [folder])
        }
        #expect(wrong.description.contains("/no/reader (from MOE_CHECKPOINT_READER)"))
        let error = CheckpointError.readerFailed(file: "x.h5", reason: missing)
        #expect(error.description.hasPrefix("checkpoint 'x.h5' could not be read in isolation: the reader program 'moe-checkpoint-reader' was not found"))
    }
    #endif
}

/// A count shared between threads.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
