#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MoE

/// The two ways a fuzz executable runs a target: under libFuzzer (built by
/// `scripts/fuzz.sh` with `--sanitize=fuzzer -DFUZZING`, which calls `fuzz` for every
/// input), or as a plain program that replays input files given as arguments (a normal
/// build), printing each outcome; a crash input crashes it the same way.
public enum FuzzReplay {
    /// The folder one fuzzing process writes its input files to.
    private static let processFolder = FuzzFolder.temporary()

    /// Runs one libFuzzer input (`LLVMFuzzerTestOneInput`).
    public static func fuzz(_ target: any FuzzTarget.Type, _ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
        let input = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
        _ = target.run(input, in: processFolder)
        return 0
    }

    /// `LLVMFuzzerInitialize`: with `MOE_FUZZ_WRITE_SEEDS=<folder>` in the environment,
    /// writes the target's seeds there and exits (how `scripts/fuzz.sh` makes a corpus
    /// with the fuzzer binary itself).
    public static func initialize(_ target: any FuzzTarget.Type) -> Int32 {
        if let folder = getenv("MOE_FUZZ_WRITE_SEEDS") {
            exit(writeSeeds(target, to: String(cString: folder)))
        }
        // libFuzzer ends with exit() when its time is up (a crash leaves the folder behind).
        atexit { FuzzReplay.processFolder.remove() }
        return 0
    }

    /// The replay program: `<executable> [--write-seeds FOLDER] [FILE...]`.
    public static func main(_ target: any FuzzTarget.Type) -> Never {
        var arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "--write-seeds", arguments.count == 2 {
            exit(writeSeeds(target, to: arguments[1]))
        }
        if arguments.isEmpty || arguments.first?.hasPrefix("-") == true {
            print("""
                usage: \(CommandLine.arguments[0]) FILE...        run each file through the \(target.name) target
                       \(CommandLine.arguments[0]) --write-seeds FOLDER
                """)
            exit(arguments.isEmpty ? 64 : 0)
        }
        let folder = FuzzFolder.temporary()
        arguments.sort()
        for path in arguments {
            guard let handle = fopen(path, "rb") else {
                print("\(path): cannot open: \(String(cString: strerror(errno)))")
                folder.remove()
                exit(1)
            }
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = fread(&chunk, 1, chunk.count, handle)
                if n == 0 { break }
                bytes += chunk[0..<n]
            }
            fclose(handle)
            print("\(path): \(target.run(bytes, in: folder))")
        }
        folder.remove()
        exit(0)
    }

    private static func writeSeeds(_ target: any FuzzTarget.Type, to path: String) -> Int32 {
        var prefix = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            prefix += "/" + part
            mkdir(prefix, 0o755)
        }
        let folder = FuzzFolder(path: path)
        let seeds = target.seeds()
        for seed in seeds { folder.write(seed.bytes, named: seed.name) }
        print("\(seeds.count) \(target.name) seeds written to \(path)")
        return 0
    }
}

extension FuzzReplay {
    /// `LLVMFuzzerCustomMutator` for JSON inputs: half the time a `JSONMutator` mutation
    /// (splicing from `donors`), otherwise libFuzzer's own byte mutations.
    public static func mutateJSON(
        _ data: UnsafeMutablePointer<UInt8>, _ size: Int, _ maxSize: Int, _ seed: UInt32, donors: [[UInt8]]
    ) -> Int {
        var generator = SeededGenerator(seed: UInt64(seed))
        if generator.nextInt(below: 2) == 0,
           let mutant = JSONMutator.mutate(Array(UnsafeBufferPointer(start: data, count: size)),
                                           donors: donors, using: &generator),
           mutant.count <= maxSize {
            mutant.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: mutant.count) }
            return mutant.count
        }
        return libFuzzerMutate(data, size, maxSize)
    }

    /// libFuzzer's `LLVMFuzzerMutate`, looked up at run time (absent from normal builds).
    private static let libFuzzerMutate: @convention(c) (UnsafeMutablePointer<UInt8>, Int, Int) -> Int = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "LLVMFuzzerMutate") else {
            return { _, size, _ in size }
        }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<UInt8>, Int, Int) -> Int).self)
    }()
}
