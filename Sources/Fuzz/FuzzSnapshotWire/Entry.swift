import FuzzTargets

// libFuzzer's entry points. In a normal build they are ordinary exported functions
// nobody calls; scripts/fuzz.sh builds them with `--sanitize=fuzzer`, where libFuzzer's
// own main calls them.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    FuzzReplay.fuzz(SnapshotWireFuzzing.self, data, size)
}

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(
    _ argc: UnsafeMutablePointer<Int32>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?
) -> Int32 {
    FuzzReplay.initialize(SnapshotWireFuzzing.self)
}
