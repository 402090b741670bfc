// The replay program of a normal build: `FuzzSnapshotWire FILE...` runs each file through the
// target and prints the outcome. Under libFuzzer (`-DFUZZING`, scripts/fuzz.sh) there is
// no main of ours: libFuzzer's own runs the entry points in Entry.swift.
#if !FUZZING
import FuzzTargets

@main
enum Replay {
    static func main() {
        FuzzReplay.main(SnapshotWireFuzzing.self)
    }
}
#endif
