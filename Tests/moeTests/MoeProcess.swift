import Continual
import Foundation
import MoE
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Runs the built `moe` executable as a real process.
enum MoeProcess {
    /// The `moe` built beside this test binary (`.build/<config>/moe`), or the
    /// `MOE_EXECUTABLE` environment variable.
    static let executable: String = {
        if let path = ProcessInfo.processInfo.environment["MOE_EXECUTABLE"] { return path }
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var folder = URL(fileURLWithPath: me).deletingLastPathComponent()
        // On Linux the test binary is `<config>/MoEPackageTests.xctest`; elsewhere it may
        // sit inside a bundle: walk up until a `moe` appears.
        for _ in 0..<4 {
            let candidate = folder.appendingPathComponent("moe").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            folder.deleteLastPathComponent()
        }
        return "moe"
    }()

    struct Result {
        var status: Int32
        /// True when the process ended by a signal (then `status` is the signal).
        var signalled: Bool
        var output: String
        var error: String

        /// The lines of stderr, without empty ones.
        var errorLines: [String] { error.split(separator: "\n").map(String.init) }
    }

    /// Runs `moe arguments` in `directory` and waits for it; `input` goes to its stdin.
    static func run(_ arguments: [String], in directory: String? = nil, input: String? = nil,
                    environment: [String: String] = [:]) -> Result {
        run(executable: executable, arguments, in: directory, input: input, environment: environment)
    }

    /// Runs a shell command line (`/bin/sh -c`), with `$MOE` set to the executable.
    static func shell(_ script: String, in directory: String? = nil) -> Result {
        run(executable: "/bin/sh", ["-c", script], in: directory, input: nil, environment: ["MOE": executable])
    }

    static func run(
        executable: String, _ arguments: [String], in directory: String?, input: String?,
        environment: [String: String] = [:]
    ) -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        var env = ProcessInfo.processInfo.environment
        // Tests compare processes bit for bit, and two BLAS threads can give other bits than
        // one: without a count from the caller, the default policy would read the load
        // average at each process's start, which a parallel test run moves.
        if env["MOE_BLAS_THREADS"] == nil { env["MOE_BLAS_THREADS"] = "1" }
        env.merge(environment) { $1 }
        process.environment = env
        let out = Pipe(), err = Pipe(), inp = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = inp
        do { try process.run() } catch { return Result(status: -1, signalled: false, output: "", error: "\(error)") }
        if let input { inp.fileHandleForWriting.write(Data(input.utf8)) }
        try? inp.fileHandleForWriting.close()
        // Drain stderr on another thread so neither pipe can fill up and block the child.
        let errorData = DataBox()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) { errorData.set(err.fileHandleForReading.readDataToEndOfFile()) }
        let output = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal,
                      output: String(decoding: output, as: UTF8.self), error: String(decoding: errorData.get(), as: UTF8.self))
    }

    /// The last JSON object printed on stdout.
    static func json(_ result: Result) -> [String: Any]? {
        guard let line = result.output.split(separator: "\n").last,
              let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
        return object
    }
}

/// A `Data` handed between threads.
final class DataBox: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ value: Data) { lock.withLock { data = value } }
    func get() -> Data { lock.withLock { data } }
}

/// The images the CLI tests train on.
enum TrainingData {
    /// Debian's Fashion-MNIST. A test that needs it is enabled only when it is installed
    /// (`.enabled(if: TrainingData.hasFashionMNIST, TrainingData.needsFashionMNIST)`),
    /// so it never passes on other data.
    static let fashionMNIST = FashionMNIST.defaultDirectory
    static let hasFashionMNIST = FashionMNIST.isAvailable()
    static let needsFashionMNIST: Comment = "needs Debian's Fashion-MNIST (apt-get install dataset-fashion-mnist)"

    /// A small synthetic set in Fashion-MNIST's IDX layout (2000 training and 500 test
    /// images of 28x28, 10 classes): loads in milliseconds, for runs that only need *some*
    /// data of that shape.
    static let synthetic: String = {
        // Deterministic content in a fixed folder, written atomically: concurrent test
        // processes may share it, and later runs reuse it.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("moe-cli-synthetic-v1").path
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        writeSynthetic(split: "train", count: 2000, seed: 1, folder: folder)
        writeSynthetic(split: "t10k", count: 500, seed: 2, folder: folder)
        return folder
    }()

    /// 28x28 images whose class decides which of ten horizontal bands is bright, plus noise.
    static func writeSynthetic(split: String, count: Int, seed: UInt64, folder: String) {
        let imagesPath = folder + "/\(split)-images-idx3-ubyte", labelsPath = folder + "/\(split)-labels-idx1-ubyte"
        let size = (try? FileManager.default.attributesOfItem(atPath: imagesPath)[.size] as? Int) ?? nil
        if size == 16 + count * 784 && FileManager.default.fileExists(atPath: labelsPath) { return }
        var generator = SeededGenerator(seed: seed)
        var images: [UInt8] = [0, 0, 8, 3] + bigEndian(count) + bigEndian(28) + bigEndian(28)
        var labels: [UInt8] = [0, 0, 8, 1] + bigEndian(count)
        for _ in 0..<count {
            let label = generator.nextInt(below: 10)
            labels.append(UInt8(label))
            for row in 0..<28 {
                for _ in 0..<28 {
                    let bright = row / 3 == label || (label == 9 && row >= 27)
                    images.append(UInt8(min(255, (bright ? 160 : 20) + generator.nextInt(below: 80))))
                }
            }
        }
        try? Data(labels).write(to: URL(fileURLWithPath: labelsPath), options: .atomic)
        try? Data(images).write(to: URL(fileURLWithPath: imagesPath), options: .atomic)
    }

    private static func bigEndian(_ value: Int) -> [UInt8] {
        withUnsafeBytes(of: UInt32(value).bigEndian) { Array($0) }
    }
}

/// The repository's root (for `Checkpoints/golden-v1.h5`).
let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A file another tool writes (svmlight, JSON Lines) run beside the same rows written as
/// CSV, through `moe stream` and `moe eval`: `train.<format>` and `train.csv` in `dir` are
/// streamed with `arguments` and saved as `<format>.h5` and `csv.h5`; each learner is
/// scored on its own `test.<…>` file, and the format's also on `testInput` from standard
/// input.
struct BesideCSV {
    /// The two `moe stream` runs, by format (`format` and `"csv"`).
    var streams: [String: MoeProcess.Result] = [:]
    var prequential: [String: Double] = [:]
    /// The test rows each learner got right, and the format's from standard input.
    var correct: Int?, csvCorrect: Int?, pipedCorrect: Int?
    /// What the three `moe eval` runs said on stderr.
    var evalErrors = "", pipedError = ""

    init(format: String, in dir: TemporaryDirectory, arguments: [String], testInput: String) {
        for kind in [format, "csv"] {
            let s = MoeProcess.run(["stream", "--source", "csv:" + dir.path("train.\(kind)")] + arguments
                                   + ["--save", dir.path("\(kind).h5"), "--json"])
            streams[kind] = s
            prequential[kind] = MoeProcess.json(s)?["prequential_accuracy"] as? Double
        }
        let e = MoeProcess.run(["eval", dir.path("\(format).h5"), "--source", "csv:" + dir.path("test.\(format)"), "--json"])
        let c = MoeProcess.run(["eval", dir.path("csv.h5"), "--source", "csv:" + dir.path("test.csv"), "--json"])
        let piped = MoeProcess.run(["eval", dir.path("\(format).h5"), "--source", "stdin", "--json"], input: testInput)
        correct = MoeProcess.json(e)?["correct"] as? Int
        csvCorrect = MoeProcess.json(c)?["correct"] as? Int
        pipedCorrect = MoeProcess.json(piped)?["correct"] as? Int
        evalErrors = e.error + c.error
        pipedError = piped.error
    }
}
