// These tests reach internal API (@testable import), which only a debug build exposes:
// `swift test` in debug runs them; a release test build leaves them out.
#if DEBUG
import Continual
import Foundation
import Testing
import MoE
@testable import Benchmarks
import TestSupport

/// The parts of the benchmarks that can be checked without timing anything meaningful:
/// files they write, files they read, shapes and keys.
@Suite("Benchmark parts")
struct BenchmarkPartsTests {
    static let pytorch = """
        {"library": "pytorch", "version": "2.15.0", "data": "Fashion-MNIST train, first 16384 rows",
         "threads": {"1": {"128": {"train_samples_per_second": 50000.5, "inference_samples_per_second": 150000, "adam": "fused"},
                           "32": {"train_samples_per_second": 20000, "inference_samples_per_second": 90000}},
                     "2": {"128": {"train_samples_per_second": 70000, "inference_samples_per_second": 160000, "adam": "default"}}}}
        """

    @Test("a reference file from scripts/bench_reference.py is read by thread count and batch")
    func referenceFile() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("pytorch.json")
            try Self.pytorch.write(toFile: path, atomically: true, encoding: .utf8)
            let reference = try Reference.load(path: path)
            #expect(reference.library == "pytorch" && reference.version == "2.15.0")
            #expect(reference.threadCounts == [1, 2])
            #expect(reference.entry(threads: 1, batch: 128)?.trainSamplesPerSecond == 50000.5)
            #expect(reference.entry(threads: 1, batch: 32)?.adam == nil)
            #expect(reference.entry(threads: 2, batch: 32) == nil)
        }
    }

    @Test("a missing or malformed reference file is refused with the file and the fault",
          arguments: [
              ("", "not JSON of the expected shape"),
              ("{\"library\": \"pytorch\", \"version\": \"2\"}", "no 'threads' at the top level"),
              ("{\"library\": \"pytorch\", \"version\": \"2\", \"threads\": {}}", "no figures"),
              ("{\"library\": \"pytorch\", \"version\": \"2\", \"threads\": {\"two\": {}}}", "thread count 'two'"),
              ("{\"library\": \"pytorch\", \"version\": \"2\", \"threads\": {\"1\": {\"128\": {\"train_samples_per_second\": 0, \"inference_samples_per_second\": 1}}}}",
               "batch 128 at 1 threads has no positive rates"),
              ("{\"library\": \"pytorch\", \"version\": \"2\", \"threads\": {\"1\": {\"128\": {\"inference_samples_per_second\": 1}}}}",
               "no 'train_samples_per_second' at threads.1.128"),
          ])
    func malformedReference(text: String, reason: String) throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("bad.json")
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            #expect {
                _ = try Reference.load(path: path)
            } throws: { error in
                let message = "\(error)"
                return message.contains(path) && message.contains(reason)
            }
        }
        #expect {
            _ = try Reference.load(path: "/nonexistent/ref.json")
        } throws: { error in
            "\(error)".hasPrefix("cannot read the reference figures '/nonexistent/ref.json'")
        }
    }

    @Test("the comparison divides this framework's rates by the reference's")
    func comparison() throws {
        let result = TrainingBenchmark.Result(
            batchSize: 128, trainSamplesPerSecond: 60000, inferenceSamplesPerSecond: 300000, trainGFLOPS: 1, sgemmGFLOPS: 1,
            sgemmFraction: 0.8, stepMilliseconds: 2, sgemmMilliseconds: 1.6, updateMilliseconds: 0.2,
            generalSamplesPerSecond: 50000, generalSgemmFraction: 0.7)
        let entry = Reference.Entry(trainSamplesPerSecond: 50000, inferenceSamplesPerSecond: 150000, adam: "fused")
        let row = ReferenceComparison(result, threads: 1, reference: entry)
        #expect(row.trainRatio == 1.2 && row.inferenceRatio == 2)
        let table = ReferenceComparison.report([row], reference: Reference(library: "pytorch", version: "2.15.0", data: nil,
                                                                           threads: [:]))
        #expect(table.contains("PyTorch 2.15.0"))
        #expect(table.split(separator: "\n").last?.contains("1.2") == true)
    }

    @Test("the reading benchmark writes Fashion-MNIST rows as CSV, ARFF, blank-separated and svmlight and reads every file to the end",
          .enabled(if: FashionMNIST.isAvailable()))
    func reading() throws {
        try withTemporaryDirectory { dir in
            let train = FashionMNIST.files(split: .train)
            let files = try ReadingBenchmark.prepare(in: dir.url.path, images: train.images, labels: train.labels, csvBytes: 40_000)
            // The first row: the first label, then the first image's 784 pixels.
            let dataset = try CSV.load(path: files.csv)
            let reference = try FashionMNIST.load(split: .train, scaling: .raw)
            #expect(dataset.count == files.csvRows && dataset.inputWidth == 784)
            #expect(dataset.labels == Array(reference.labels.prefix(files.csvRows)))
            #expect(dataset.features.row(1) == reference.features.row(1))
            let gzip = try CSV.load(path: files.csvGzip)
            let same = gzip.features == dataset.features && gzip.labels == dataset.labels
            #expect(same)
            let arff = try CSV.load(path: files.arff)
            #expect(arff.features == dataset.features && arff.labels == dataset.labels)
            let blanks = try CSV.load(path: files.blanks)
            #expect(blanks.features == dataset.features && blanks.labels == dataset.labels)
            let svmlight = try CSV.load(path: files.svmlight)
            // Its width is the largest pixel index that is not 0 in these few rows.
            #expect(svmlight.labels == dataset.labels && svmlight.inputWidth <= 784)
            #expect((0..<dataset.count).allSatisfy { Array(svmlight.features.row($0)) == Array(dataset.features.row($0).prefix(svmlight.inputWidth)) })
            let figures = try ReadingBenchmark.run(files, repeats: 1)
            #expect(figures.map(\.format) == ["csv", "csv.gz", "arff", "blanks", "svmlight", "idx", "idx.gz"])
            #expect(figures.map(\.rows) == [files.csvRows, files.csvRows, files.csvRows, files.csvRows, files.csvRows, 60000, 60000])
            #expect(figures[0].fileBytes >= 40_000 && figures[1].fileBytes < figures[0].fileBytes)
            #expect(figures.allSatisfy { $0.rowsPerSecond > 0 && $0.seconds > 0 })
            #expect(ReadingBenchmark.report(figures).contains("rows/s"))
        }
    }

    @Test("the threads benchmark times each shape with one and two threads")
    func threads() {
        let figures = ThreadsBenchmark.run(shapes: [(8, 16, 32), (64, 64, 64)], statistics: [("dsyrk", 40, 30), ("dpotrf", 30, 30)],
                                           repeats: 1)
        let flops: [Double] = [8192, 9000, 48000, 524_288]
        #expect(figures.map(\.flops) == flops)
        #expect(figures.map(\.operation) == ["sgemm", "dpotrf", "dsyrk", "sgemm"])
        #expect(figures.allSatisfy { $0.oneThreadMicroseconds > 0 && $0.twoThreadsMicroseconds > 0 })
        #expect(ThreadsBenchmark.report(figures).contains("speedup"))
    }

    @Test("a workload is cut into consecutive batches of its first rows")
    func workload() {
        let workload = TrainingBenchmark.Workload.random(width: 4, classes: 3, rows: 10, seed: 1)
        #expect(workload.labels == [0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
        let cut = TrainingBenchmark.Workload(name: "first rows", features: workload.features, labels: workload.labels, rows: 6)
        #expect(cut.features == workload.features.rows(0..<6))
        let result = TrainingBenchmark.run(sizes: [4, 5, 3], batch: 3, workload: cut, repeats: 1, stepsPerRepeat: 2)
        #expect(result.batchSize == 3 && result.trainSamplesPerSecond > 0 && result.sgemmFraction > 0)
    }
}
#endif
