/// Loading a whole CSV file (plain or gzip) into a `Dataset`.
public enum CSV {
    /// Reads every row of `path` into memory.
    ///
    /// - Parameters:
    ///   - format: label column, header and separator.
    ///   - inputWidth: the declared number of features (the network's input), if any.
    ///   - labels: declared classes, or a map that learns them (the default: integer
    ///     labels are class numbers, text labels are numbered in order of appearance).
    ///   - badRows: `.fail` throws at the first bad row; `.skip` leaves bad rows out.
    /// - Returns: the data set, with class names when the labels are text.
    public static func load(
        path: String, format: CSVFormat = CSVFormat(), inputWidth: Int? = nil, labels: LabelMap = LabelMap(),
        badRows: BadRowPolicy = .fail
    ) throws(DataError) -> Dataset {
        var source = try CSVSource(path: path, format: format, batchSize: 4096, inputWidth: inputWidth,
                                   labels: labels, badRows: badRows)
        return try Dataset(reading: &source)
    }
}
