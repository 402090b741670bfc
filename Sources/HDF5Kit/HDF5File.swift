import CHDF5

/// An open HDF5 file, on disk or in memory.
///
/// The file is closed when the object is released or by `close()`. Groups and datasets
/// opened from it keep it alive.
///
/// ```
/// let file = try HDF5File.create(at: "weights.h5", overwrite: true)
/// let root = try file.root()
/// try root.createDataset("w", values: [1, 2, 3, 4] as [Float], shape: [2, 2])
/// try file.close()
/// ```
public final class HDF5File {
    /// The file's path, or the name given to an in-memory file; used in error messages.
    public let path: String
    var id: hid_t

    init(id: hid_t, path: String) {
        self.id = id
        self.path = path
    }

    deinit {
        if id >= 0 { withHDF5 { _ = H5Fclose(id) } }
    }

    var site: Site { Site(file: path, path: "/") }

    func liveID(_ operation: String) -> hid_t {
        precondition(id >= 0, "HDF5 file '\(path)' used after close() (\(operation))")
        return id
    }

    /// Creates a file on disk.
    ///
    /// - Parameters:
    ///   - overwrite: replace an existing file (otherwise an existing file is an error).
    ///   - userBlockSize: bytes reserved at the start of the file for the caller
    ///     (0, or a power of two of at least 512); HDF5 readers skip them.
    public static func create(at path: String, overwrite: Bool = false, userBlockSize: Int = 0) throws(HDF5Error) -> HDF5File {
        try withHDF5 { () throws(HDF5Error) -> HDF5File in
            let site = Site(file: path, path: "/")
            let fcpl = try fileCreationList(userBlockSize: userBlockSize, site: site)
            defer { H5Pclose(fcpl) }
            let flags = overwrite ? moe_H5F_ACC_TRUNC() : moe_H5F_ACC_EXCL()
            let id = try site.check(id: H5Fcreate(path, flags, fcpl, moe_H5P_DEFAULT()), "create the file")
            return HDF5File(id: id, path: path)
        }
    }

    /// Opens an existing file on disk, read-only unless `writable`.
    public static func open(at path: String, writable: Bool = false) throws(HDF5Error) -> HDF5File {
        try withHDF5 { () throws(HDF5Error) -> HDF5File in
            let site = Site(file: path, path: "/")
            let flags = writable ? moe_H5F_ACC_RDWR() : moe_H5F_ACC_RDONLY()
            let id = try site.check(id: H5Fopen(path, flags, moe_H5P_DEFAULT()), "open the file")
            return HDF5File(id: id, path: path)
        }
    }

    /// Creates a file that lives only in memory (HDF5's core driver, no backing store);
    /// `image()` returns its bytes.
    ///
    /// - Parameters:
    ///   - name: the name used in error messages (e.g. the path it will be saved to).
    ///   - expectedBytes: roughly how large the file will grow; memory is reserved in
    ///     steps of this size (at least 1 MiB), so a good guess avoids repeated copies.
    public static func createInMemory(name: String, userBlockSize: Int = 0, expectedBytes: Int = 0) throws(HDF5Error) -> HDF5File {
        try withHDF5 { () throws(HDF5Error) -> HDF5File in
            let site = Site(file: name, path: "/")
            let fcpl = try fileCreationList(userBlockSize: userBlockSize, site: site)
            defer { H5Pclose(fcpl) }
            let fapl = try coreAccessList(site: site, increment: max(1 << 20, expectedBytes))
            defer { H5Pclose(fapl) }
            let id = try site.check(id: H5Fcreate(uniqueMemoryName(), moe_H5F_ACC_EXCL(), fcpl, fapl), "create an in-memory file")
            return HDF5File(id: id, path: name)
        }
    }

    /// Opens the bytes of an HDF5 file (for example one read and verified beforehand),
    /// read-only, without touching the disk. The bytes are copied.
    ///
    /// The bytes may start with a user block or, as `image()` returns them, at the
    /// superblock.
    ///
    /// - Parameter name: the name used in error messages (e.g. the path they came from).
    public static func open(image: [UInt8], name: String) throws(HDF5Error) -> HDF5File {
        let result = image.withUnsafeBytes { bytes in Result { () throws(HDF5Error) -> HDF5File in try open(image: bytes, name: name) } }
        return try result.get()
    }

    /// Opens the bytes of an HDF5 file in memory the caller owns (a mapped file, for
    /// example), read-only; HDF5 copies them, so they need to live only during the call.
    public static func open(image: UnsafeRawBufferPointer, name: String) throws(HDF5Error) -> HDF5File {
        try withHDF5 { () throws(HDF5Error) -> HDF5File in
            let site = Site(file: name, path: "/")
            guard let base = image.baseAddress, image.count > 0 else { throw site.error("open a file image", .malformed("the image is empty")) }
            let fapl = try coreAccessList(site: site, increment: 1 << 20)
            defer { H5Pclose(fapl) }
            let status = H5Pset_file_image(fapl, UnsafeMutableRawPointer(mutating: base), image.count)
            try site.check(status, "hand the file image to HDF5")
            let id = try site.check(id: H5Fopen(uniqueMemoryName(), moe_H5F_ACC_RDONLY(), fapl), "open the file image")
            return HDF5File(id: id, path: name)
        }
    }

    /// Opens the bytes of an HDF5 file read-only *where they are*, without the copy
    /// `open(image:name:)` makes: libhdf5 reads them in place (through file image
    /// callbacks that hand it this buffer instead of allocating and copying one).
    ///
    /// The bytes must stay valid and unchanged until the file and every object opened
    /// from it are closed; a read-only mapping of a file is the intended use.
    public static func open(borrowing image: UnsafeRawBufferPointer, name: String) throws(HDF5Error) -> HDF5File {
        try withHDF5 { () throws(HDF5Error) -> HDF5File in
            let site = Site(file: name, path: "/")
            guard let base = image.baseAddress, image.count > 0 else { throw site.error("open a file image", .malformed("the image is empty")) }
            let fapl = try coreAccessList(site: site, increment: 1 << 20)
            defer { H5Pclose(fapl) }
            // Every "allocation" is the caller's buffer, every copy onto itself a no-op,
            // nothing is freed or grown (the file is read-only).
            var callbacks = H5FD_file_image_callbacks_t()
            callbacks.image_malloc = { _, _, udata in udata }
            callbacks.image_memcpy = { destination, source, _, _, _ in destination == UnsafeMutableRawPointer(mutating: source) ? destination : nil }
            callbacks.image_realloc = { _, _, _, _ in nil }
            callbacks.image_free = { _, _, _ in 0 }
            callbacks.udata_copy = { udata in udata }
            callbacks.udata_free = { _ in 0 }
            callbacks.udata = UnsafeMutableRawPointer(mutating: base)
            try site.check(H5Pset_file_image_callbacks(fapl, &callbacks), "hand the file image callbacks to HDF5")
            try site.check(H5Pset_file_image(fapl, UnsafeMutableRawPointer(mutating: base), image.count), "hand the file image to HDF5")
            let id = try site.check(id: H5Fopen(uniqueMemoryName(), moe_H5F_ACC_RDONLY(), fapl), "open the file image")
            return HDF5File(id: id, path: name)
        }
    }

    /// The bytes of the file after a flush, *without* the user block: a file on disk is
    /// `userBlockSize` bytes of the caller's followed by exactly these bytes (HDF5's
    /// addresses are relative to the end of the user block).
    ///
    /// - Parameter leadingBytes: zero bytes to put before the image (room for the
    ///   caller's user block, saving a copy of the whole image).
    public func image(leadingBytes: Int = 0) throws(HDF5Error) -> [UInt8] {
        precondition(leadingBytes >= 0, "leadingBytes must be non-negative")
        return try withHDF5 { () throws(HDF5Error) -> [UInt8] in
            let id = liveID("image")
            try site.check(H5Fflush(id, H5F_SCOPE_GLOBAL), "flush before taking the file image")
            let size = H5Fget_file_image(id, nil, 0)
            guard size > 0 else { throw site.error("measure the file image") }
            var copied = -1
            let bytes = [UInt8](unsafeUninitializedCapacity: leadingBytes + size) { buffer, count in
                let raw = UnsafeMutableRawBufferPointer(buffer)
                copied = H5Fget_file_image(id, raw.baseAddress! + leadingBytes, size)
                // Every byte must be initialized, whatever HDF5 did.
                let filled = copied == size ? leadingBytes : leadingBytes + size
                UnsafeMutableRawBufferPointer(rebasing: raw[0..<filled]).initializeMemory(as: UInt8.self, repeating: 0)
                count = leadingBytes + size
            }
            guard copied == size else { throw site.error("copy the file image") }
            return bytes
        }
    }

    /// The size of the user block at the start of the file (0 when there is none).
    public func userBlockSize() throws(HDF5Error) -> Int {
        try withHDF5 { () throws(HDF5Error) -> Int in
            let fcpl = try site.check(id: H5Fget_create_plist(liveID("userBlockSize")), "read the file creation properties")
            defer { H5Pclose(fcpl) }
            var size: hsize_t = 0
            try site.check(H5Pget_userblock(fcpl, &size), "read the user block size")
            return Int(size)
        }
    }

    /// The root group `/`.
    public func root() throws(HDF5Error) -> HDF5Group {
        try withHDF5 { () throws(HDF5Error) -> HDF5Group in
            let id = try site.check(id: H5Gopen2(liveID("root"), "/", moe_H5P_DEFAULT()), "open the root group")
            return HDF5Group(handle: ObjectHandle(id: id, site: site, file: self))
        }
    }

    /// Writes buffered data to the file (or to the memory image).
    public func flush() throws(HDF5Error) {
        try withHDF5 { () throws(HDF5Error) in
            try site.check(H5Fflush(liveID("flush"), H5F_SCOPE_GLOBAL), "flush the file")
        }
    }

    /// Closes the file now, reporting failures (`deinit` closes silently). Objects still
    /// open keep the underlying file open until they are released.
    public func close() throws(HDF5Error) {
        try withHDF5 { () throws(HDF5Error) in
            guard id >= 0 else { return }
            let status = H5Fclose(id)
            id = -1
            try site.check(status, "close the file")
        }
    }
}

/// A creation property list with the given user block; the caller closes it.
private func fileCreationList(userBlockSize: Int, site: Site) throws(HDF5Error) -> hid_t {
    precondition(userBlockSize == 0 || (userBlockSize >= 512 && userBlockSize & (userBlockSize - 1) == 0),
                 "An HDF5 user block must be 0 or a power of two of at least 512 bytes, got \(userBlockSize)")
    let fcpl = try site.check(id: H5Pcreate(moe_H5P_FILE_CREATE()), "create file creation properties")
    if userBlockSize > 0 {
        let status = H5Pset_userblock(fcpl, hsize_t(userBlockSize))
        if status < 0 {
            H5Pclose(fcpl)
            throw site.error("reserve a user block of \(userBlockSize) bytes")
        }
    }
    return fcpl
}

/// An access property list for the in-memory (core) driver without a backing store.
private func coreAccessList(site: Site, increment: Int) throws(HDF5Error) -> hid_t {
    let fapl = try site.check(id: H5Pcreate(moe_H5P_FILE_ACCESS()), "create file access properties")
    if H5Pset_fapl_core(fapl, increment, false) < 0 {
        H5Pclose(fapl)
        throw site.error("select the in-memory driver")
    }
    return fapl
}

nonisolated(unsafe) private var memoryFileCounter = 0

/// A name no other in-memory file uses (HDF5 identifies open files by name). Under the lock.
private func uniqueMemoryName() -> String {
    memoryFileCounter += 1
    return "moe-hdf5kit-memory-\(memoryFileCounter)"
}
