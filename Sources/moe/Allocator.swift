#if canImport(Glibc)
import Glibc
#endif

/// How the `moe` process asks glibc to keep its large buffers.
///
/// glibc serves an allocation above its mmap threshold (128 KiB at first) with a fresh
/// mapping and unmaps it when it is freed, and returns freed heap memory to the kernel
/// above its trim threshold; the kernel then zero-fills and faults in the pages of the
/// next such buffer. A stream allocates the same large buffers batch after batch (the
/// gate's features, 1 MB per batch of 128; activations, gradients, the refit's 32 MB
/// copy of the scatter), so it paid page faults and zero-filling on each: 2.3% of the
/// main job's samples in `perf`. With both thresholds high, freed buffers are reused
/// from the heap. Measured on Split Fashion-MNIST, two threads, runs in turn: 7.03,
/// 7.00, 6.78 s before, 6.85, 6.60, 6.48 s after; the same bits, and the same peak
/// resident memory (about 535 MB, most of it the data set).
enum Allocator {
    /// Large buffers stay in the heap up to this size.
    static let mmapThreshold: Int32 = 256 << 20
    /// Free memory at the top of the heap is kept up to this size.
    static let trimThreshold: Int32 = 512 << 20

    /// `mallopt`'s parameters, from glibc's `<malloc.h>` (not part of Swift's Glibc module).
    static let mmapThresholdParameter: Int32 = -3
    static let trimThresholdParameter: Int32 = -1

    /// Raises both thresholds; returns whether glibc took them (false elsewhere).
    @discardableResult
    static func keepLargeBuffers() -> Bool {
        #if canImport(Glibc)
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(nil, "mallopt") else { return false }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        return mallopt(mmapThresholdParameter, mmapThreshold) == 1 && mallopt(trimThresholdParameter, trimThreshold) == 1
        #else
        return false
        #endif
    }
}
