import Continual
import HDF5Kit

/// The parent's side of isolated loading, without libhdf5: the wire decoder that reads
/// the reader process's answer (`HDF5SnapshotWire.decode`), then the checkpoint reader
/// and everything a loaded checkpoint is used for.
///
/// The input is an answer as the reader process would send it. Whatever the bytes, the
/// decoder must refuse them with an `HDF5Error` or give a snapshot whose encoding is the
/// same bytes (the format is canonical); a snapshot then reads as a checkpoint or is
/// refused with a `CheckpointError`. Mutations of the seeds (the answers for the
/// checkpoint seeds) reach every branch of the reader without a child process, so this
/// runs far faster than the checkpoint targets.
public enum SnapshotWireFuzzing: FuzzTarget {
    public static let name = "snapshot-wire"

    public static func run(_ input: [UInt8], in folder: FuzzFolder) -> FuzzOutcome {
        let answer: Result<HDF5Snapshot, HDF5Error>
        do {
            answer = try HDF5SnapshotWire.decode(input, name: "fuzz.ckpt")
        } catch {
            return .rejected(error.description)
        }
        precondition(HDF5SnapshotWire.encode(answer) == input, "an accepted answer does not encode to the same bytes")
        switch answer {
        case let .failure(error):
            return .rejected("an error answer: \(error)")
        case let .success(snapshot):
            do throws(CheckpointError) {
                return .accepted(try CheckpointFuzzing.exercise(try Checkpoint.read(snapshot, name: "fuzz.ckpt")))
            } catch {
                return .rejected(error.description)
            }
        }
    }

    public static func seeds() -> [FuzzSeed] {
        var seeds = CheckpointFuzzing.seeds().map { seed in
            do {
                let snapshot = try HDF5File.open(image: seed.bytes, name: seed.name).snapshot()
                return FuzzSeed(name: seed.name + ".answer", bytes: HDF5SnapshotWire.encode(.success(snapshot)))
            } catch {
                preconditionFailure("the seed \(seed.name) does not snapshot: \(error)")
            }
        }
        let error = HDF5Error(file: "fuzz.ckpt", path: "/parameters", operation: "list the group's children",
                              reason: .library(stack: ["H5Literate(): link iteration failed [Links: Iteration failed]"]))
        seeds.append(FuzzSeed(name: "error.answer", bytes: HDF5SnapshotWire.encode(.failure(error))))
        return seeds
    }
}
