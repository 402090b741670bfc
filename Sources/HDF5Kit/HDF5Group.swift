import CHDF5

/// A group: a folder of named datasets and groups, with attributes.
public final class HDF5Group {
    let handle: ObjectHandle

    init(handle: ObjectHandle) {
        self.handle = handle
    }

    /// The file this group belongs to.
    public var file: HDF5File { handle.file }
    /// The group's path in the file (`/`, `/model/trunk`).
    public var path: String { handle.site.path }
    /// The group's attributes.
    public var attributes: HDF5Attributes { HDF5Attributes(handle: handle) }

    /// One entry of a group.
    public struct Child: Equatable, Sendable {
        public enum Kind: Equatable, Sendable {
            case group, dataset
            /// A named datatype or another object kind.
            case other
            /// A soft or external link (never followed).
            case link
        }
        public var name: String
        public var kind: Kind

        public init(name: String, kind: Kind) {
            self.name = name
            self.kind = kind
        }
    }

    /// Creates the subgroup `name`.
    @discardableResult
    public func createGroup(_ name: String) throws(HDF5Error) -> HDF5Group {
        try withHDF5 { () throws(HDF5Error) -> HDF5Group in
            let operation = "create group '\(name)'"
            try validateName(name, at: handle.site, operation)
            let site = handle.site.child(name)
            let gcpl = try site.check(id: H5Pcreate(moe_H5P_GROUP_CREATE()), operation)
            defer { H5Pclose(gcpl) }
            // No modification times: the same content gives the same bytes.
            try site.check(H5Pset_obj_track_times(gcpl, false), operation)
            let id = try site.check(
                id: H5Gcreate2(handle.live(operation), name, moe_H5P_DEFAULT(), gcpl, moe_H5P_DEFAULT()), operation)
            return HDF5Group(handle: ObjectHandle(id: id, site: site, file: handle.file))
        }
    }

    /// Opens the subgroup `name` (an error if it is missing or not a group).
    public func group(_ name: String) throws(HDF5Error) -> HDF5Group {
        try withHDF5 { () throws(HDF5Error) -> HDF5Group in
            HDF5Group(handle: try handle.openChild(name, expected: H5I_GROUP, what: "group"))
        }
    }

    /// Opens the dataset `name` (an error if it is missing or not a dataset).
    public func dataset(_ name: String) throws(HDF5Error) -> HDF5Dataset {
        try withHDF5 { () throws(HDF5Error) -> HDF5Dataset in
            HDF5Dataset(handle: try handle.openChild(name, expected: H5I_DATASET, what: "dataset"))
        }
    }

    /// Whether the group has a child (of any kind) called `name`.
    public func contains(_ name: String) throws(HDF5Error) -> Bool {
        try withHDF5 { () throws(HDF5Error) -> Bool in
            let operation = "check whether '\(name)' exists"
            try validateName(name, at: handle.site, operation)
            let result = H5Lexists(handle.live(operation), name, moe_H5P_DEFAULT())
            if result < 0 { throw handle.site.child(name).error(operation) }
            return result > 0
        }
    }

    /// The group's children in name order, with their kinds.
    public func children() throws(HDF5Error) -> [Child] {
        try withHDF5 { () throws(HDF5Error) -> [Child] in
            final class Collected { var links: [(String, H5L_type_t)] = [] }
            let collected = Collected()
            let callback: H5L_iterate_t = { _, name, info, context in
                guard let name, let info, let context else { return -1 }
                let box = Unmanaged<Collected>.fromOpaque(context).takeUnretainedValue()
                box.links.append((String(cString: name), info.pointee.type))
                return 0
            }
            let operation = "list the group's children"
            let id = handle.live(operation)
            let status = withExtendedLifetime(collected) {
                H5Literate(id, H5_INDEX_NAME, H5_ITER_INC, nil, callback, Unmanaged.passUnretained(collected).toOpaque())
            }
            try handle.site.check(status, operation)
            var result: [Child] = []
            for (name, type) in collected.links {
                guard type == H5L_TYPE_HARD else {
                    result.append(Child(name: name, kind: .link))
                    continue
                }
                let object = H5Oopen(id, name, moe_H5P_DEFAULT())
                if object < 0 { throw handle.site.child(name).error("open '\(name)' while listing") }
                let kind: Child.Kind
                switch H5Iget_type(object) {
                case H5I_GROUP: kind = .group
                case H5I_DATASET: kind = .dataset
                default: kind = .other
                }
                _ = H5Oclose(object)
                result.append(Child(name: name, kind: kind))
            }
            return result
        }
    }

    /// Numeric datasets of at least this many bytes are stored compressed by default.
    public static let compressionThresholdBytes = 64 << 10

    /// Creates a 1-D or 2-D numeric dataset from row-major `values`.
    ///
    /// Datasets of at least ``compressionThresholdBytes`` are stored in chunks of about
    /// 256 KiB with HDF5's byte shuffle and deflate (level 1) filters, both built into
    /// libhdf5 and read by any HDF5 reader (h5py included) without a plugin; `compressed`
    /// overrides the choice. Compression never changes a value.
    ///
    /// - Precondition: `shape` has one or two dimensions whose product is `values.count`.
    @discardableResult
    public func createDataset<T: HDF5Scalar>(
        _ name: String, values: [T], shape: [Int], compressed: Bool? = nil
    ) throws(HDF5Error) -> HDF5Dataset {
        precondition(shape.count == 1 || shape.count == 2, "Datasets are 1-D or 2-D, got shape \(shape) for '\(name)'")
        precondition(shape.allSatisfy { $0 >= 0 } && shape.reduce(1, *) == values.count,
                     "Shape \(shape) does not hold \(values.count) values for '\(name)'")
        let bytes = values.count * MemoryLayout<T>.stride
        let compress = (compressed ?? (bytes >= Self.compressionThresholdBytes)) && values.count > 0
        return try withHDF5 { () throws(HDF5Error) -> HDF5Dataset in
            let type = T.hdf5ElementType
            // Without libhdf5's deflate filter (a build without zlib) the data is stored plain.
            let chunk = compress && H5Zfilter_avail(H5Z_filter_t(1)) > 0
                ? Self.chunkShape(shape, elementSize: MemoryLayout<T>.stride) : nil
            let dataset = try createDataset(name, fileType: type.fileType, shape: shape, what: "\(type) dataset", chunk: chunk)
            if let chunk, 1.littleEndian == 1 {
                // The filters run on every core and the chunks are written as they are: the
                // file types are the little-endian forms of the memory types, so the bytes
                // need no conversion (on a big-endian machine libhdf5 converts and filters).
                try HDF5ChunkFilters.write(
                    dataset: dataset.handle.id, bytes: values.withUnsafeBytes { Array($0) }, shape: shape, chunk: chunk,
                    elementSize: MemoryLayout<T>.stride, site: dataset.handle.site)
            } else if !values.isEmpty {
                let status = values.withUnsafeBytes {
                    H5Dwrite(dataset.handle.id, type.memoryType, moe_H5S_ALL(), moe_H5S_ALL(), moe_H5P_DEFAULT(), $0.baseAddress)
                }
                try dataset.handle.site.check(status, "write \(values.count) \(type) values")
            }
            return dataset
        }
    }

    /// Creates a 1-D dataset of variable-length UTF-8 strings (h5py reads them as `str`).
    @discardableResult
    public func createDataset(_ name: String, strings: [String]) throws(HDF5Error) -> HDF5Dataset {
        try withHDF5 { () throws(HDF5Error) -> HDF5Dataset in
            if let index = strings.firstIndex(where: { $0.utf8.contains(0) }) {
                throw handle.site.child(name).error("create string dataset '\(name)'", .malformed("string \(index) contains a NUL character, which HDF5 strings cannot hold"))
            }
            let type = makeStringType()
            defer { H5Tclose(type) }
            let dataset = try createDataset(name, fileType: type, shape: [strings.count], what: "string dataset")
            if !strings.isEmpty {
                let status = withCStrings(strings) { pointers in
                    pointers.withUnsafeBufferPointer {
                        H5Dwrite(dataset.handle.id, type, moe_H5S_ALL(), moe_H5S_ALL(), moe_H5P_DEFAULT(), $0.baseAddress)
                    }
                }
                try dataset.handle.site.check(status, "write \(strings.count) strings")
            }
            return dataset
        }
    }

    /// Chunks of about 256 KiB: whole rows of a 2-D dataset, a run of a 1-D one.
    static func chunkShape(_ shape: [Int], elementSize: Int) -> [Int] {
        let target = max(1, (256 << 10) / max(elementSize, 1))
        if shape.count == 1 { return [min(shape[0], target)] }
        let rows = max(1, target / max(shape[1], 1))
        return [min(shape[0], rows), shape[1]]
    }

    /// Creates an empty dataset: contiguous, or in chunks of `chunk` (positive sizes) with
    /// the shuffle and deflate filters. Under the lock.
    private func createDataset(
        _ name: String, fileType: hid_t, shape: [Int], what: String, chunk: [Int]? = nil
    ) throws(HDF5Error) -> HDF5Dataset {
        let operation = "create \(what) '\(name)' of shape \(shape)"
        try validateName(name, at: handle.site, operation)
        let site = handle.site.child(name)
        let dims = shape.map { hsize_t($0) }
        let space = try site.check(id: H5Screate_simple(Int32(dims.count), dims, nil), operation)
        defer { H5Sclose(space) }
        let dcpl = try site.check(id: H5Pcreate(moe_H5P_DATASET_CREATE()), operation)
        defer { H5Pclose(dcpl) }
        try site.check(H5Pset_obj_track_times(dcpl, false), operation)
        if let chunk {
            let dims = chunk.map { hsize_t($0) }
            try site.check(H5Pset_chunk(dcpl, Int32(dims.count), dims), operation)
            try site.check(H5Pset_shuffle(dcpl), operation)
            try site.check(H5Pset_deflate(dcpl, 1), operation)
        }
        let id = try site.check(
            id: H5Dcreate2(handle.live(operation), name, fileType, space, moe_H5P_DEFAULT(), dcpl, moe_H5P_DEFAULT()),
            operation)
        return HDF5Dataset(handle: ObjectHandle(id: id, site: site, file: handle.file))
    }

    /// Closes the group now, reporting failures (`deinit` closes silently).
    public func close() throws(HDF5Error) {
        try handle.close()
    }
}
