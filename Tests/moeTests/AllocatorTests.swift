// This test reaches the moe executable's internal API (@testable import), which only a
// debug build exposes: swift build -c release --build-tests compiles none of it.
#if DEBUG
@testable import moe
import Testing

@Suite("The moe process's allocator settings")
struct AllocatorTests {
    @Test("glibc takes the thresholds that keep large buffers in the heap")
    func thresholdsTaken() {
        #expect(Allocator.keepLargeBuffers())
    }
}
#endif
