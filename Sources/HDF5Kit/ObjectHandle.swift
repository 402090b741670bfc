import CHDF5

/// The one owner of an open group or dataset id; closes it in `deinit`.
final class ObjectHandle {
    private(set) var id: hid_t
    let site: Site
    /// Keeps the file open while the object is.
    let file: HDF5File

    init(id: hid_t, site: Site, file: HDF5File) {
        self.id = id
        self.site = site
        self.file = file
    }

    deinit {
        if id >= 0 { withHDF5 { _ = H5Oclose(id) } }
    }

    /// The id, or a precondition failure after `close()`. Under the lock.
    func live(_ operation: String) -> hid_t {
        precondition(id >= 0, "HDF5 object '\(site.path)' in '\(site.file)' used after close() (\(operation))")
        return id
    }

    func close() throws(HDF5Error) {
        try withHDF5 { () throws(HDF5Error) in
            guard id >= 0 else { return }
            let status = H5Oclose(id)
            id = -1
            try site.check(status, "close the object")
        }
    }

    /// Opens the child `name`, checking that it is a hard link to an object of type
    /// `expected` (soft and external links are not followed). Under the lock.
    func openChild(_ name: String, expected: H5I_type_t, what: String) throws(HDF5Error) -> ObjectHandle {
        let operation = "open \(what) '\(name)'"
        try validateName(name, at: site, operation)
        let childSite = site.child(name)
        let parent = live(operation)
        let exists = H5Lexists(parent, name, moe_H5P_DEFAULT())
        if exists < 0 { throw childSite.error(operation) }
        if exists == 0 { throw childSite.error(operation, .notFound) }
        var info = H5L_info_t()
        try childSite.check(H5Lget_info(parent, name, &info, moe_H5P_DEFAULT()), operation)
        guard info.type == H5L_TYPE_HARD else {
            throw childSite.error(operation, .malformed("it is a \(info.type == H5L_TYPE_SOFT ? "soft" : "external") link; only hard links are followed"))
        }
        let id = try childSite.check(id: H5Oopen(parent, name, moe_H5P_DEFAULT()), operation)
        let type = H5Iget_type(id)
        guard type == expected else {
            _ = H5Oclose(id)
            throw childSite.error(operation, .typeMismatch(expected: what, found: objectTypeName(type)))
        }
        return ObjectHandle(id: id, site: childSite, file: file)
    }
}

func objectTypeName(_ type: H5I_type_t) -> String {
    switch type {
    case H5I_GROUP: "group"
    case H5I_DATASET: "dataset"
    case H5I_DATATYPE: "named datatype"
    default: "unknown object"
    }
}

extension ObjectHandle {
    /// The object's address in its file: two links lead to the same object exactly when
    /// the addresses are equal. Under the lock.
    func address(_ operation: String) throws(HDF5Error) -> UInt64 {
        var info = H5O_info_t()
        try site.check(H5Oget_info2(live(operation), &info, UInt32(H5O_INFO_BASIC)), operation)
        return UInt64(info.addr)
    }
}
