import Foundation
import Testing
import Continual
import MoE

/// Runs `body` and returns the `DataError` it threw, or nil (recording an issue if it
/// threw anything else).
func dataError(_ body: () throws -> Void) -> DataError? {
    do {
        try body()
        return nil
    } catch let error as DataError {
        return error
    } catch {
        Issue.record("expected a DataError, got \(error)")
        return nil
    }
}

/// The features of the CSV file at `path` as an interrupted stream reads them: its first
/// batch of `batchSize` rows, then the rest from a second source resumed at the first's
/// position (saved through JSON, as a checkpoint keeps it).
func featuresAcrossResume(path: String, format: CSVFormat, batchSize: Int) throws -> Matrix {
    let first = try CSVSource(path: path, format: format, batchSize: batchSize)
    let head = try #require(try first.next())
    let saved = try JSONDecoder().decode(StreamPosition.self, from: JSONEncoder().encode(first.position))
    var resumed = try CSVSource(path: path, format: format, batchSize: batchSize)
    try resumed.resume(from: saved)
    return head.features.concatenatingRows(try Dataset(reading: &resumed).features)
}

/// Writes `text` as UTF-8 to `path`.
func writeText(_ text: String, to path: String) throws {
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
}

/// The bytes of the file at `path`.
func readFileBytes(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// Writes raw bytes to `path`.
func writeFileBytes(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// A tiny labelled image set: `count` images of `rows x columns` bytes with seeded
/// contents and labels `i % classes`.
func tinyImages(count: Int, rows: Int = 3, columns: Int = 2, classes: Int = 3, seed: UInt64 = 7)
    -> (images: IDXArray, labels: IDXArray)
{
    var generator = SeededGenerator(seed: seed)
    let pixels = (0..<(count * rows * columns)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
    let labels = (0..<count).map { UInt8($0 % classes) }
    return (IDXArray(dimensions: [count, rows, columns], bytes: pixels), IDXArray(dimensions: [count], bytes: labels))
}

/// Pulls every batch of `source`.
func drain(_ source: inout some BatchSource) throws -> [Batch] {
    var batches: [Batch] = []
    while let batch = try source.next() { batches.append(batch) }
    return batches
}
