import CHDF5

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one lock around every libhdf5 call.
///
/// libhdf5's serial build is not safe to call from two threads at once, so every entry
/// point of this module takes this lock. It is recursive because handles close in
/// `deinit`, which may run while the lock is already held.
private let hdf5Lock = RecursiveLock()

/// A recursive pthread mutex. (HDF5Kit does without Foundation, so that the reader
/// process, which links only HDF5Kit, stays small and forks fast.)
private final class RecursiveLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init() {
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_RECURSIVE))
        pthread_mutex_init(mutex, &attributes)
        pthread_mutexattr_destroy(&attributes)
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }
}

/// How deeply the lock is held (it is recursive); only read and written under the lock.
nonisolated(unsafe) private var lockDepth = 0

/// Runs `body` while holding the HDF5 lock, with HDF5's printing of error stacks to
/// stderr switched off (failures are reported as `HDF5Error` instead).
///
/// The thread-safe builds of libhdf5 keep the automatic-printing setting per thread, so
/// it is switched off on every outermost entry, whichever thread makes it.
@inline(__always)
func withHDF5<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
    hdf5Lock.lock()
    lockDepth += 1
    defer {
        lockDepth -= 1
        hdf5Lock.unlock()
    }
    if lockDepth == 1 {
        _ = H5Eset_auto2(hid_t(moe_H5E_DEFAULT()), nil, nil)
    }
    return try body()
}

/// Collects the current thread's HDF5 error stack as readable lines, innermost first.
/// Must be called under the lock, right after the failing call.
func captureErrorStack() -> [String] {
    final class Lines { var values: [String] = [] }
    let lines = Lines()
    let callback: H5E_walk2_t = { _, description, context in
        guard let description, let context else { return 0 }
        let lines = Unmanaged<Lines>.fromOpaque(context).takeUnretainedValue()
        let frame = description.pointee
        let function = frame.func_name.map { String(cString: $0) } ?? "?"
        let detail = frame.desc.map { String(cString: $0) } ?? ""
        let major = errorMessage(frame.maj_num)
        let minor = errorMessage(frame.min_num)
        var line = "\(function)(): \(detail)"
        if !major.isEmpty || !minor.isEmpty { line += " [\(major): \(minor)]" }
        lines.values.append(line)
        return 0
    }
    _ = withExtendedLifetime(lines) {
        H5Ewalk2(hid_t(moe_H5E_DEFAULT()), H5E_WALK_DOWNWARD, callback,
                 Unmanaged.passUnretained(lines).toOpaque())
    }
    _ = H5Eclear2(hid_t(moe_H5E_DEFAULT()))
    return lines.values
}

/// The text of an HDF5 error message id (major or minor).
private func errorMessage(_ id: hid_t) -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    let length = buffer.withUnsafeMutableBufferPointer { H5Eget_msg(id, nil, $0.baseAddress, 256) }
    guard length > 0 else { return "" }
    return String(decoding: buffer.prefix(min(Int(length), 255)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Where an operation happens, for error messages; creates errors and checks results.
struct Site {
    let file: String
    let path: String

    /// An error for `operation`; without a reason, HDF5's current error stack.
    func error(_ operation: String, _ reason: HDF5Error.Reason? = nil) -> HDF5Error {
        HDF5Error(file: file, path: path, operation: operation, reason: reason ?? .library(stack: captureErrorStack()))
    }

    /// Throws HDF5's error when `status` is negative.
    func check(_ status: herr_t, _ operation: @autoclosure () -> String) throws(HDF5Error) {
        if status < 0 { throw error(operation()) }
    }

    /// Returns `id`, or throws HDF5's error when it is negative.
    func check(id: hid_t, _ operation: @autoclosure () -> String) throws(HDF5Error) -> hid_t {
        if id < 0 { throw error(operation()) }
        return id
    }

    /// The site of a child object.
    func child(_ name: String) -> Site {
        Site(file: file, path: path == "/" ? "/" + name : path + "/" + name)
    }

    /// The site of an attribute of this object.
    func attribute(_ name: String) -> Site {
        Site(file: file, path: path + "@" + name)
    }
}

/// Checks that `name` can name one link or attribute (no path separators).
func validateName(_ name: String, at site: Site, _ operation: String) throws(HDF5Error) {
    if name.isEmpty || name == "." || name.contains("/") || name.utf8.contains(0) {
        throw site.error(operation, .invalidName(name))
    }
}

/// Process-wide settings of libhdf5.
public enum HDF5Library {
    /// Stops libhdf5 from loading dynamic plugins: a file may name a filter that libhdf5
    /// would otherwise look for as a shared library on its plugin path and load. A
    /// program about to parse untrusted files calls this first.
    public static func disablePlugins() throws(HDF5Error) {
        try withHDF5 { () throws(HDF5Error) in
            try Site(file: "", path: "/").check(H5PLset_loading_state(0), "disable plugin loading")
        }
    }
}
