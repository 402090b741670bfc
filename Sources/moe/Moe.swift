import ArgumentParser
import Foundation
import MoE

@main
struct Moe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "moe",
        abstract: "A mixture-of-experts network that keeps learning from a stream by growing.",
        discussion: """
            Error-detector neurons (negative covariance with correctness) are found at every \
            layer; experts are grown on them, old weights are frozen, and a gate routes \
            inputs to the experts. Checkpoints are HDF5 files that h5py reads too.
            """,
        subcommands: [Train.self, Stream.self, Suite.self, Eval.self, Predict.self, Inspect.self, Detectors.self, Spirals.self, Bench.self, Keygen.self, CheckpointSoak.self])

    static func main() {
        Allocator.keepLargeBuffers()
        // The thread policy measures the other processes' load from here on.
        CPUActivity.markStart()
        do {
            var command = try parseAsRoot(nil)
            try command.run()
        } catch {
            // Standard output is buffered when it is a file or a pipe: what the run said
            // before the error goes out first, so `moe … > log 2>&1` reads in order.
            fflush(nil)
            exit(withError: error)
        }
    }
}
