import Foundation

extension StreamReport {
    /// The files ``write(toDirectory:)`` produces.
    public struct Files: Sendable, Equatable {
        /// `report.json`: the whole report.
        public var json: URL
        /// `accuracy-matrix.svg`: the heat map.
        public var accuracyMatrix: URL
        /// `prequential.svg`: accuracy over the stream with growth events.
        public var prequential: URL
    }

    /// Writes `report.json`, `accuracy-matrix.svg` and `prequential.svg` into `directory`,
    /// creating it (and its parents) if needed. Existing files of those names are replaced.
    ///
    /// - Throws: ``ReportError`` naming the directory or file that cannot be written.
    @discardableResult
    public func write(toDirectory directory: URL) throws(ReportError) -> Files {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: directory.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw .notADirectory(path: directory.path) }
        } else {
            do {
                try manager.createDirectory(at: directory, withIntermediateDirectories: true)
            } catch {
                throw .cannotCreateDirectory(path: directory.path, reason: Self.reason(error))
            }
        }
        let files = Files(
            json: directory.appendingPathComponent("report.json"),
            accuracyMatrix: directory.appendingPathComponent("accuracy-matrix.svg"),
            prequential: directory.appendingPathComponent("prequential.svg"))
        try Self.write(try jsonData(), to: files.json)
        try Self.write(Data(accuracyMatrixSVG().utf8), to: files.accuracyMatrix)
        try Self.write(Data(prequentialSVG().utf8), to: files.prequential)
        return files
    }

    private static func write(_ data: Data, to url: URL) throws(ReportError) {
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            throw .cannotWrite(path: url.path, reason: reason(error))
        }
    }

    /// The underlying POSIX reason when Foundation has one ("Permission denied"), rather
    /// than Foundation's generic sentence.
    private static func reason(_ error: any Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError,
           underlying.domain == NSPOSIXErrorDomain, let code = POSIXErrorCode(rawValue: Int32(underlying.code)) {
            return String(cString: strerror(code.rawValue))
        }
        return nsError.localizedDescription
    }
}
