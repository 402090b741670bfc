// moe-checkpoint-reader: the child process in which the checkpoint loader of the
// Continual library lets libhdf5 parse files it does not trust
// (docs/checkpoint-format.md, "Isolated loading").
//
// It reads requests on standard input (`HDF5SnapshotRequest`: the limits, and the ids of
// two System V shared memory segments: one holding the bytes of an HDF5 file, one for the
// answer) and writes one reply per request on standard output (`HDF5SnapshotReply`; the
// snapshot, or the error, in `HDF5SnapshotWire` format is in the answer segment), until
// standard input ends. Each file is parsed in a fresh fork of this process with its own
// limits on address space and CPU time, and is killed when it runs past the wall-clock
// time; this process never calls libhdf5 on a file itself, so a crash, a hang or a
// corrupted heap in one parse cannot touch the next.
import Glibc
import HDF5Kit

if CommandLine.arguments.count > 1 || isatty(STDIN_FILENO) != 0 {
    let message = """
        moe-checkpoint-reader parses checkpoint files with libhdf5 for the moe library, which
        starts it and talks to it through its standard input and output. It is not meant to
        be run by hand; keep it in the same folder as the program that loads checkpoints
        (or on PATH, or name it in MOE_CHECKPOINT_READER).

        """
    _ = writeAll(STDERR_FILENO, Array(message.utf8))
    exit(CommandLine.arguments.contains("--help") ? 0 : 64)
}

// Descriptors the loading process did not mean to give (a pipe of another child it was
// running, say) would stay open here and keep that pipe from ever reaching its end.
closefrom(3)

// A crash of a parse must not write a core file (or wait for a crash reporter).
var noCore = rlimit(rlim_cur: 0, rlim_max: 0)
_ = setLimit(RLIMIT_CORE, &noCore)
do {
    try HDF5Library.disablePlugins()
} catch {
    _ = writeAll(STDERR_FILENO, Array("moe-checkpoint-reader: \(error)\n".utf8))
    exit(1)
}

warmUp()

while let request = readRequest() {
    guard writeAll(STDOUT_FILENO, parseInFork(request).header()) else { exit(1) }
}
exit(0)
