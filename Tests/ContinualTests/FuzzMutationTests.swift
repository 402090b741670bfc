import Foundation
import FuzzTargets
import MoE
import Testing

/// Seeded mutations of valid inputs (bit flips, interesting bytes and integers,
/// truncation, insertion, duplication, deletion, splicing) through the same targets
/// libFuzzer runs (`scripts/fuzz.sh`). Every outcome must be a reading or a typed error
/// whose message names the input; a trap fails the whole test run (run the suite with
/// `MOE_FUZZ_LAST_INPUT=<file>` to keep the input that trapped, then replay it with the
/// target's executable, e.g. `FuzzCSV <file>`).
@Suite("Fuzzing: seeded mutations of checkpoints, architectures, IDX and CSV")
struct FuzzMutationTests {
    @Test("Every changed byte of a checkpoint is refused by the header or digest checks")
    func checkpoints() throws {
        let tally = try mutate(CheckpointFuzzing.self, count: 1500, seed: 1)
        // The digest covers every byte: a mutant equal to no seed never loads.
        #expect(tally.acceptedMutants == 0)
        #expect(tally.rejected > 1400)
        #expect(tally.messagesWithout("fuzz.ckpt").isEmpty)
    }

    @Test("A mutated architecture is refused with a CheckpointError, or loads, predicts, trains and reloads")
    func architectures() throws {
        let tally = try mutate(ArchitectureFuzzing.self, count: 1000, seed: 2, json: true)
        #expect(tally.acceptedMutants > 100)
        // Past the JSON decoder, the loader's own validation refuses many.
        #expect(tally.rejectedMessages.filter { !$0.hasPrefix("not an architecture") }.count > 50)
    }

    @Test("Mutated IDX files are read or refused with a DataError naming the file")
    func idx() throws {
        let tally = try mutate(IDXFuzzing.self, count: 1500, seed: 3)
        #expect(tally.acceptedMutants > 50)
        #expect(tally.rejected > 300)
        #expect(tally.messagesWithout("images.idx", "labels.idx").isEmpty)
    }

    @Test("Mutated CSV inputs are read or refused with a DataError naming the file or stream")
    func csv() throws {
        let tally = try mutate(CSVFuzzing.self, count: 1500, seed: 4)
        #expect(tally.acceptedMutants > 200)
        #expect(tally.rejected > 200)
        #expect(tally.messagesWithout("data.csv", "standard input").isEmpty)
    }

    @Test("Mutated answers of the reader process are refused by the wire decoder, or read as checkpoints")
    func snapshotWire() throws {
        let tally = try mutate(SnapshotWireFuzzing.self, count: 1500, seed: 6)
        // Past the decoder, the checkpoint reader refuses many (changed names, types, shapes).
        #expect(tally.rejectedMessages.filter { $0.hasPrefix("checkpoint 'fuzz.ckpt'") }.count > 50)
        #expect(tally.rejectedMessages.filter { $0.contains("decode the snapshot") }.count > 300)
        #expect(tally.acceptedMutants > 10)
    }

    @Test("Crafted checkpoints past the digest go through the reader process, one error each")
    func rehashedCheckpoints() throws {
        let tally = try mutate(RehashedCheckpointFuzzing.self, count: 200, seed: 7)
        #expect(tally.rejected > 100)
        #expect(tally.messagesWithout("fuzz.ckpt").isEmpty)
    }

    @Test("Long CSV lines across a descriptor's 16 KiB read chunks, under mutation")
    func longCSVLines() throws {
        var options = CSVFuzzing.Options()
        options.reading = 2  // a descriptor: 16 KiB reads
        let row = (0..<3000).map { String($0 % 97) }.joined(separator: ",")
        let text = (0..<3).map { "\($0)," + row }.joined(separator: "\n")
        let seed = FuzzSeed(name: "long", bytes: CSVFuzzing.input(options, text: text))
        let tally = try mutate(CSVFuzzing.self, count: 60, seed: 5, seeds: [seed])
        #expect(tally.accepted + tally.rejected == 60)
        #expect(tally.acceptedMutants > 2)
    }

    /// Every input that once crashed a reader, with what it must do now.
    static let regressions: [String: String] = [
        // IDX sizes whose product wrapped to a negative item size passed the header
        // check; readItems then asked for an array of negative capacity (trap).
        "idx/item-size-overflow": "positive item sizes",
        // A negative class in trunkClasses passed validation; predict then indexed the
        // class-posterior gate's scores out of range (trap).
        "architecture/negative-trunk-class.json": "the trunk's classes [0, -1, 2] are not all in 0..<5",
        // An Adam step count of 4.95e27 (rehashed checkpoint, libFuzzer through the reader
        // process) trapped converting to Int in Adam.restore, in the loading process.
        "checkpoint-rehashed/adam-infinite-step": "a step count must be a whole number from 1 to 2^62, not 4.9517602e+27",
        // A header of one name over rows of two blank-separated fields, the label first:
        // taken for R's row names, the label was the row names' field and no feature was
        // left, and the first row indexed past the empty input (trap, 2026-12-05).
        "csv/row-names-without-features": "line 1: wrong dimensions 1, expected at least 2 columns",
        // A paused headerless stream resumed on its rows took its width for a saved model's:
        // a ragged row after the pause was "the saved model reads rows of 3", read in one
        // go "earlier rows have 3" (the check that a resumed stream ends as one read in one
        // go trapped, 2026-12-05, libFuzzer) ...
        "csv/resumed-ragged-row": "line 3: the row has 2 fields, but earlier rows have 3",
        // ... and a row the separator (blanks) leaves whole, that ',' splits into the
        // fields read, stopped the resumed stream as a file of another separator, where
        // read in one go it was a bad row, skipped.
        "csv/resumed-row-left-whole": "accepted: 1 batches, 1 rows of 4",
        // R's header (one name short, a name that is a number) resumed: its names were
        // compared with the learned ones one place off, the header taken for a row, and the
        // rows read before the pause were not those it had read (libFuzzer, 2026-12-05).
        "csv/resumed-row-names-header": "accepted: 1 batches, 2 rows of 1",
        // The first fix of the two above took every resumed source for a stream whose
        // rows gave its width; one a model's width began (here a declared width of 1)
        // then read on past a row that stopped it read in one go. The position now keeps
        // which it was (`widthFromModel`).
        "csv/resumed-declared-width": "line 11: split at ',' the row is one field, but at blanks it has the 2 the saved model reads",
        // A comment line at the top offered as numpy's header was split without the 0 byte
        // the parser reads past every line's end (AddressSanitizer: heap-buffer-overflow,
        // libFuzzer, 2026-12-05's ninth round, within the hour of the change).
        "csv/commented-header-unterminated": "there is no label column 'label'; the header names '2', 'cat', 'Str', 'ymvj3g', 'x'",
        // An svmlight token's name of a letter and then many digits kept adding digits to
        // its index after the letter had made it no index, past Int's range (arithmetic
        // overflow trap while the whole file was read for its width, libFuzzer, 2026-12-05's
        // eleventh round, within the hour of the change).
        "csv/svmlight-long-index-name": "line 2: the value of feature 2",
    ]

    @Test("Inputs that crashed a reader once are handled", arguments: regressions.keys.sorted())
    func regression(_ name: String) throws {
        let file = Self.fixtures.appendingPathComponent(name)
        let bytes = [UInt8](try Data(contentsOf: file))
        let target = try #require(Self.target(named: String(name.prefix { $0 != "/" })))
        let folder = FuzzFolder.temporary()
        defer { folder.remove() }
        let outcome = target.run(bytes, in: folder)
        #expect(outcome.description.contains(Self.regressions[name]!), "\(name): \(outcome)")
    }

    @Test("Every fixture under Fixtures/fuzz has an expected outcome")
    func fixturesListed() throws {
        let root = Self.fixtures
        let files = try FileManager.default.subpathsOfDirectory(atPath: root.path).filter { path in
            var isFolder: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: root.appendingPathComponent(path).path, isDirectory: &isFolder)
            return exists && !isFolder.boolValue && !path.hasSuffix(".md")
        }
        #expect(Set(files) == Set(Self.regressions.keys))
    }

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/fuzz")

    /// The target a fixture folder is named after.
    static func target(named name: String) -> (any FuzzTarget.Type)? {
        switch name {
        case "checkpoint": CheckpointFuzzing.self
        case "checkpoint-rehashed": RehashedCheckpointFuzzing.self
        case "architecture": ArchitectureFuzzing.self
        case "idx": IDXFuzzing.self
        case "csv": CSVFuzzing.self
        case "snapshot-wire": SnapshotWireFuzzing.self
        default: nil
        }
    }
}

/// What a run of mutants gave.
struct FuzzTally {
    var accepted = 0
    /// Accepted inputs that differ from every seed.
    var acceptedMutants = 0
    var rejected = 0
    var rejectedMessages: [String] = []

    /// Rejection messages that name none of `names`.
    func messagesWithout(_ names: String...) -> [String] {
        rejectedMessages.filter { message in !names.contains { message.contains($0) } }
    }
}

/// Runs `count` mutants of the target's seeds (or `seeds`) and tallies the outcomes.
/// With `json`, three in four mutants come from `JSONMutator` (valid JSON, changed values).
func mutate(
    _ target: any FuzzTarget.Type, count: Int, seed: UInt64, seeds given: [FuzzSeed]? = nil, json: Bool = false
) throws -> FuzzTally {
    let seeds = (given ?? target.seeds()).map(\.bytes)
    let folder = FuzzFolder.temporary()
    defer { folder.remove() }
    var mutator = Mutator(seed: seed)
    var tally = FuzzTally()
    for _ in 0..<count {
        var input = mutator.mutant(of: seeds)
        if json && mutator.int(4) != 0 {
            input = seeds[mutator.int(seeds.count)]
            for _ in 0...mutator.int(3) {
                input = JSONMutator.mutate(input, donors: seeds, using: &mutator.generator) ?? input
            }
        }
        if let dump = ProcessInfo.processInfo.environment["MOE_FUZZ_LAST_INPUT"] {
            // A trap ends the process: this file then holds the input that caused it.
            try Data(input).write(to: URL(fileURLWithPath: dump))
        }
        let outcome = target.run(input, in: folder)
        switch outcome {
        case .accepted:
            tally.accepted += 1
            if !seeds.contains(input) { tally.acceptedMutants += 1 }
        case let .rejected(message):
            tally.rejected += 1
            #expect(!message.isEmpty)
            tally.rejectedMessages.append(message)
        }
    }
    return tally
}

/// libFuzzer's basic mutations, seeded: 1 to 3 of them stacked on a seed.
struct Mutator {
    var generator: SeededGenerator

    init(seed: UInt64) {
        generator = SeededGenerator(seed: seed)
    }

    static let interestingBytes: [UInt8] = [0, 1, 0x7F, 0x80, 0xFF, 0x0A, 0x0D, 0x2C, 0x22, 0x2D, 0x2E, 0x65, 0x20, 0x09]
    static let interestingWords: [UInt32] = [0, 1, 2, 0x7F, 0xFF, 0x8000, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF]

    mutating func mutant(of seeds: [[UInt8]]) -> [UInt8] {
        var bytes = seeds[int(seeds.count)]
        for _ in 0...int(3) { mutate(&bytes, seeds: seeds) }
        return bytes
    }

    mutating func mutate(_ bytes: inout [UInt8], seeds: [[UInt8]]) {
        switch int(8) {
        case 0 where !bytes.isEmpty:  // flip bits
            for _ in 0...int(3) { bytes[int(bytes.count)] ^= 1 << UInt8(int(8)) }
        case 1 where !bytes.isEmpty:  // an interesting byte
            bytes[int(bytes.count)] = Self.interestingBytes[int(Self.interestingBytes.count)]
        case 2 where bytes.count >= 4:  // an interesting 32-bit integer, either byte order
            let at = int(bytes.count - 3), word = Self.interestingWords[int(Self.interestingWords.count)]
            let big = int(2) == 0
            for k in 0..<4 { bytes[at + k] = UInt8(truncatingIfNeeded: word >> UInt32(8 * (big ? 3 - k : k))) }
        case 3:  // truncate
            bytes.removeSubrange(int(bytes.count + 1)...)
        case 4:  // insert random bytes
            let at = int(bytes.count + 1)
            bytes.insert(contentsOf: (0...int(16)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }, at: at)
        case 5 where !bytes.isEmpty:  // duplicate a chunk elsewhere
            let start = int(bytes.count), length = 1 + int(min(64, bytes.count - start))
            let chunk = Array(bytes[start..<(start + length)])
            bytes.insert(contentsOf: chunk, at: int(bytes.count + 1))
        case 6 where !bytes.isEmpty:  // delete a range
            let start = int(bytes.count)
            bytes.removeSubrange(start..<min(bytes.count, start + 1 + int(32)))
        default:  // splice: a prefix of this input and a suffix of another seed
            let other = seeds[int(seeds.count)]
            bytes = Array(bytes.prefix(int(bytes.count + 1))) + other.suffix(int(other.count + 1))
        }
    }

    /// A uniform integer in 0..<n.
    mutating func int(_ n: Int) -> Int { generator.nextInt(below: n) }
}
