import ArgumentParser
import Continual
import MoE

/// `--data`: where Fashion-MNIST's files are (`moe train`, and every command that reads
/// labelled samples).
struct DataFolderOption: ParsableArguments {
    @Option(name: .customLong("data"), help: "Folder holding Fashion-MNIST's {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] (default \(FashionMNIST.defaultDirectory)).")
    var directory: String?

    /// The folder to read.
    var folder: String { directory ?? FashionMNIST.defaultDirectory }
}

/// Where a command gets labelled samples: Fashion-MNIST (the default), or rows read
/// incrementally from a CSV file, standard input or a pair of IDX files.
///
/// Shared by `moe stream`, `moe eval` and `moe detectors`, so all accept the same options
/// with the same meaning and the same errors.
struct DataSourceOptions: ParsableArguments {
    @OptionGroup var folderOption: DataFolderOption

    @Option(help: "Read labelled rows instead of Fashion-MNIST: csv:PATH (plain or .gz; Weka's ARFF files too, known by their @relation line, and svmlight (LIBSVM) files, by their first row 'label index:value …'), stdin, or idx:IMAGES,LABELS.")
    var source: String?

    @Option(name: .customLong("label-column"), help: "With a CSV source: the label column: first, last, a 0-based index, or a header name (default first; last in an ARFF file, where Weka keeps the class).")
    var labelColumn: String?

    @Flag(help: "With a CSV source: the first line names the columns (implied by a label column given by name).")
    var header = false

    @Flag(name: .customLong("no-header"), help: "With a CSV source: the file has no header; its first line is a row (without either, a first line of names over a line of numbers is taken for a header; a model's label column by name is placed by the names it learned).")
    var noHeader = false

    @Option(help: "With a CSV source: the field separator, one character such as ';' or '|', 'tab', or 'space' (runs of spaces and tabs, as numpy's savetxt and R's write.table write; ' ' says the same) (default: found from the file's first lines among ',', ';', tab, '|' and blanks; ',' when they do not tell).")
    var separator: String?

    @Option(name: .customLong("text-indicators"), help: "With a CSV source: columns whose first value is text are categories, each value setting one of this many indicator columns (by a hash of the text); 0 makes text an error (default \(CSVFormat.defaultTextIndicators)).")
    var textIndicators: Int?

    @Option(name: .customLong("ignore-columns"), help: "With a CSV source: columns to leave out of the features, comma-separated: header names, or 0-based indices (an identifier, a timestamp).")
    var ignoreColumns: String?

    /// `--ignore-columns` as a list.
    var ignoredColumns: [String] {
        (ignoreColumns ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    @Option(name: .customLong("missing"), help: "With a CSV source: what a missing value in a numeric column ('', '?', 'NA', ...) becomes: mean (its column's mean so far in the stream, the default) or error.")
    var missing: MissingChoice?

    enum MissingChoice: String, ExpressibleByArgument, CaseIterable {
        case mean, error
    }

    /// `--separator` as a character, or nil when it is not one a CSV file can use.
    var separatorCharacter: Character? {
        guard let separator else { return "," }
        let character: Character? = separator == "tab" || separator == "\\t" ? "\t"
            : ["space", "blank", "blanks", "whitespace"].contains(separator.lowercased()) ? CSVFormat.blankSeparator
            : (separator.count == 1 ? separator.first : nil)
        return character.flatMap { CSVFormat.canSeparate($0) ? $0 : nil }
    }

    /// Where the samples come from.
    enum Source: Equatable {
        case fashionMNIST
        case csv(String)
        case standardInput
        case idx(images: String, labels: String)
    }

    var parsedSource: Source? {
        guard let source else { return .fashionMNIST }
        if source == "stdin" || source == "csv:-" { return .standardInput }
        if source.hasPrefix("csv:"), source.count > 4 { return .csv(String(source.dropFirst(4))) }
        if source.hasPrefix("idx:") {
            let files = source.dropFirst(4).split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if files.count == 2, files.allSatisfy({ !$0.isEmpty }) { return .idx(images: files[0], labels: files[1]) }
        }
        return nil
    }

    /// True when rows come from a file or standard input rather than Fashion-MNIST.
    var hasSource: Bool { source != nil }

    /// The Fashion-MNIST folder given with `--data`, if any.
    var dataDirectory: String? { folderOption.directory }
    /// The Fashion-MNIST folder.
    var folder: String { folderOption.folder }

    func validate() throws {
        guard parsedSource != nil else {
            throw ValidationError("--source must be csv:PATH, stdin or idx:IMAGES,LABELS, got '\(source ?? "")'")
        }
        if let textIndicators, textIndicators < 0 || textIndicators > 4096 {
            throw ValidationError("--text-indicators must be 0 (text refused) to 4096, got \(textIndicators)")
        }
        // An empty name (pandas' index column has none) left nothing out, without a word.
        if let ignoreColumns, ignoreColumns.split(separator: ",", omittingEmptySubsequences: false)
            .contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
            throw ValidationError("--ignore-columns '\(ignoreColumns)' names an empty column; give 0-based indices for columns without a name (pandas' index column is 0)")
        }
        switch parsedSource {
        case .csv?, .standardInput?: break
        default:
            if textIndicators != nil || missing != nil || ignoreColumns != nil {
                throw ValidationError("--text-indicators, --missing and --ignore-columns describe a CSV source; give --source csv:PATH or stdin")
            }
        }
        if source == nil && (labelColumn != nil || header || noHeader || separator != nil) {
            throw ValidationError("--label-column, --header, --no-header and --separator describe a CSV source; give --source csv:PATH or stdin")
        }
        if case .idx = parsedSource, labelColumn != nil || header || noHeader || separator != nil {
            throw ValidationError("--label-column, --header, --no-header and --separator describe a CSV source; IDX files keep their labels in their own file")
        }
        if header && noHeader {
            throw ValidationError("--header and --no-header say opposite things; give one")
        }
        if separatorCharacter == nil {
            throw ValidationError("--separator must be one character that cannot be part of a number, a quote or a line end (such as ';', '|' or 'tab'), got '\(separator ?? "")'")
        }
    }

    /// The label column when `--label-column` is not given and no saved stream gives one
    /// (`moe eval`, `moe predict` of a model that learned no CSV layout): the first, or in an ARFF file
    /// the attribute a KEEL file's `@outputs` line names, else the last (Weka's and MOA's
    /// class attribute is the last by convention). A stream leaves the choice to its
    /// reader (`streamSource`), which needs no look ahead in the file.
    var defaultLabelColumn: String {
        guard case let .csv(path)? = parsedSource, CSVSource.isARFF(path: path) else { return "first" }
        return CSVSource.arffClassAttribute(path: path) ?? "last"
    }

    var format: CSVFormat { layout(labelColumn: LabelColumn(argument: labelColumn ?? defaultLabelColumn)) }

    /// The layout the options give, with `labelColumn`.
    private func layout(labelColumn: LabelColumn) -> CSVFormat {
        CSVFormat(labelColumn: labelColumn, hasHeader: header,
                  separator: separator == nil ? nil : separatorCharacter ?? ",",
                  textIndicators: textIndicators ?? CSVFormat.defaultTextIndicators, imputesMissing: missing != .error,
                  ignoredColumns: ignoredColumns, detectsHeader: !noHeader)
    }

    /// `layout` told that the file has no header when `--no-header` is given, whatever
    /// the saved stream's header or label column by name (the names it learned place it).
    private func withHeaderChoice(_ layout: CSVFormat) -> CSVFormat {
        guard noHeader else { return layout }
        var layout = layout
        layout.hasHeader = false
        layout.detectsHeader = false
        return layout
    }

    /// The source as a stream of batches, or nil for Fashion-MNIST. A CSV source without
    /// any option of its layout takes the layout of `like` (the stream a checkpoint
    /// saved) when there is one; with some, still its label column unless
    /// `--label-column` is given.
    func streamSource(batchSize: Int, badRows: BadRowPolicy, like saved: StreamSource? = nil) -> StreamSource? {
        // Without --label-column, the reader chooses it as the file shows itself
        // (`CSVFormat.choosesLabelColumn`), the file opened once: a pipe is read once. A
        // continued stream takes the saved stream's (below).
        var layout = self.layout(labelColumn: labelColumn.map(LabelColumn.init(argument:)) ?? .first)
        if case .csv? = saved {} else { layout.choosesLabelColumn = labelColumn == nil }
        if case let .csv(previous)? = saved {
            if labelColumn == nil && !header && !noHeader && separator == nil && textIndicators == nil && missing == nil
                && ignoreColumns == nil {
                layout = previous.format
            } else {
                layout = withHeaderChoice(withSavedLabelColumn(layout, from: previous.format))
            }
        }
        switch parsedSource! {
        case .fashionMNIST: return nil
        case let .csv(path):
            return .csv(.init(path: path, labelColumn: layout.labelColumn, hasHeader: layout.hasHeader,
                              separator: layout.detectsSeparator ? nil : layout.separator, batchSize: batchSize, badRows: badRows,
                              textIndicators: layout.textIndicators, imputesMissing: layout.imputesMissing,
                              ignoredColumns: layout.ignoredColumns, detectsHeader: layout.detectsHeader,
                              choosesLabelColumn: layout.choosesLabelColumn))
        case .standardInput:
            return .csv(.init(path: nil, labelColumn: layout.labelColumn, hasHeader: layout.hasHeader,
                              separator: layout.detectsSeparator ? nil : layout.separator, batchSize: batchSize, badRows: badRows,
                              textIndicators: layout.textIndicators, imputesMissing: layout.imputesMissing,
                              ignoredColumns: layout.ignoredColumns, detectsHeader: layout.detectsHeader,
                              choosesLabelColumn: layout.choosesLabelColumn))
        case let .idx(images, labels):
            return .idx(.init(images: images, labels: labels, batchSize: batchSize, badRows: badRows))
        }
    }

    /// The layout to read a CSV file for a model: the text columns of the stream it learned
    /// from (and their indicators), and the means its missing values take; without a saved
    /// stream, the first row decides. Without `--label-column`, the label column is that
    /// stream's (a model streamed with `--label-column last` took the label of its test
    /// file for a feature before, and stopped at it); without `--header`, `--no-header`
    /// and `--separator`, its header and separator too. Refused: other columns left out
    /// than the learner's (they would shift every feature after them, an evaluation that
    /// was answered without a word), and another count of text indicators.
    func columns(of checkpoint: Checkpoint, file: String) throws(CommandFailure) -> (CSVFormat, CSVTextLayout?, CSVImputation?) {
        var layout = format
        guard let saved = checkpoint.csvColumns else { return (layout, nil, nil) }
        if ignoreColumns != nil, Set(saved.format.ignoredColumns) != Set(ignoredColumns) {
            let shown = { (list: [String]) in list.isEmpty ? "none" : list.joined(separator: ",") }
            throw CommandFailure("--ignore-columns \(shown(ignoredColumns)) differs from the columns checkpoint '\(file)' "
                + "learned without (\(shown(saved.format.ignoredColumns))): it reads the columns it learned from; drop the option")
        }
        try refuseOtherTextIndicators(saved: saved.format, file: file)
        layout = withSavedLabelColumn(layout, from: saved.format)
        if !header && !noHeader && separator == nil {
            layout.hasHeader = layout.hasHeader || saved.format.hasHeader
            layout.detectsHeader = saved.format.detectsHeader
            layout.separator = saved.format.separator
            layout.detectsSeparator = saved.format.detectsSeparator
        }
        layout = withHeaderChoice(layout)
        layout.textIndicators = saved.format.textIndicators
        if ignoreColumns == nil { layout.ignoredColumns = saved.format.ignoredColumns }
        // The means of the stream it learned from, or none: a missing value is then an error.
        layout.imputesMissing = missing != .error && saved.imputation != nil
        return (layout, saved.text, saved.imputation)
    }

    /// Refuses `--text-indicators` other than the count the checkpoint's stream read its
    /// text columns with: the learner's inputs are that wide. `moe eval` and `moe predict`
    /// read with the saved count and said nothing of the option; a continued stream
    /// stopped at its first row with a count of features.
    func refuseOtherTextIndicators(saved format: CSVFormat?, file: String) throws(CommandFailure) {
        guard let given = textIndicators, let saved = format?.textIndicators, given != saved else { return }
        throw CommandFailure("--text-indicators \(given) differs from the \(saved) indicator columns per text column checkpoint '\(file)' "
            + "learned with: its inputs are as wide as they made them; drop the option")
    }

    /// Refuses `--label-column NAME` given to continue a learner when NAME is a column the
    /// saved stream learned as a feature (`names`, its header's names): every row's label
    /// would be read from a feature, and a numeric one gave the learner a new class per
    /// value, without a word. A name the learned header lacks (a renamed label) is read.
    func refuseLabelOnLearnedFeature(saved format: CSVFormat, names: [String]?, file: String) throws(CommandFailure) {
        guard let given = labelColumn, case let .name(wanted) = LabelColumn(argument: given), let names,
              let learnedLabel = format.labelColumn.name(among: names),
              let named = CSVSource.field(named: wanted, in: names).map({ names[$0] }),
              CSVSource.columnKey(named) != CSVSource.columnKey(learnedLabel) else { return }
        throw CommandFailure("--label-column \(wanted) names '\(named)', a column checkpoint '\(file)' learned as a feature; its label "
            + "column is '\(learnedLabel)': drop the option (a continued stream reads the label the model learned), or give the "
            + "label column's name in the new file")
    }

    /// `layout` with the saved stream's label column when `--label-column` is not given (a
    /// label column by name implies a header).
    private func withSavedLabelColumn(_ layout: CSVFormat, from saved: CSVFormat) -> CSVFormat {
        guard labelColumn == nil else { return layout }
        var layout = layout
        layout.labelColumn = saved.labelColumn
        layout.choosesLabelColumn = saved.choosesLabelColumn
        if case .name = saved.labelColumn { layout.hasHeader = true }
        return layout
    }

    /// The model's classes as a label map: integer labels `0..<k` are class numbers;
    /// names (a stream of named labels saves them as the checkpoint's classes) are matched
    /// by name. Declared (a label the model does not know is an error), or with
    /// `unknownLabels` learned: such a label gets a class index the model never predicts.
    func labelMap(_ checkpoint: Checkpoint, unknownLabels: Bool = false) -> LabelMap {
        let names: [String]
        switch checkpoint.classes {
        case let .integers(labels) where labels == (0..<Int64(labels.count)).map { $0 }:
            return unknownLabels ? LabelMap(learning: .integers) : .integers(classCount: labels.count)
        case let .integers(labels) where Set(labels).count == labels.count:
            // Aliases (labels -1 and 1 of a binary set): matched by number, "+1" as "1".
            let map = LabelMap.integers(labels: labels.map { Int($0) })
            return unknownLabels ? map.opened : map
        case let .integers(labels):
            names = labels.map(String.init)
        case let .strings(labels):
            names = labels
        }
        guard unknownLabels else { return .names(names) }
        var learned = LabelMap(learning: .names)
        for name in names { _ = try? learned.classIndex(of: name, at: DataLocation(source: "checkpoint")) }
        return learned
    }

    /// Hands every batch of the chosen data to `body` (features as the model reads them,
    /// labels as class indices) and returns the data's name and the label map it read
    /// with (whose classes from `model.classCount` on are labels the model does not know).
    ///
    /// Errors (a missing folder, a width the model does not know, a bad row) are one line
    /// naming the file, or `file` for the checkpoint. A label the model does not know is
    /// an error too, unless `unknownLabels` (then its class index is `classCount` or more).
    ///
    /// With `rowsLackLabels` (`moe predict`), the CSV rows have every column of the
    /// training file but its label column (`CSVSource.readWithoutLabelColumn`), and the
    /// labels handed to `body` mean nothing; with `labelsUnread`, they have it and its
    /// values are not read (`CSVSource.readsLabels`), a missing class included.
    ///
    /// With `badRows` `.skip` (`moe eval --skip-bad-rows`), a CSV row that would stop the
    /// reading is skipped and counted in the returned `skipped`.
    ///
    /// With `keptColumns` (`moe predict --keep-columns`), `kept` is called before `body`
    /// with their names as the file's header writes them and their text in each row of
    /// the batch.
    func forEachBatch(
        for model: MixtureOfExperts, of checkpoint: Checkpoint, file: String, unknownLabels: Bool = false,
        rowsLackLabels: Bool = false, labelsUnread: Bool = false, badRows: BadRowPolicy = .fail, keptColumns: [String] = [],
        warn: (String) -> Void = { _ in }, kept: ([String], [[String]]) -> Void = { _, _ in }, _ body: (Matrix, [Int]) -> Void
    ) throws(CommandFailure) -> (name: String, labels: LabelMap, columnName: (Int) -> String?, skipped: SkippedRows) {
        var stream: any BatchSource
        var columnName: (Int) -> String? = { _ in nil }
        var csvRead: CSVSource?
        let labelMap = labelMap(checkpoint, unknownLabels: unknownLabels)
        // A CSV file or standard input, read for the model alike.
        func prepare(_ csv: CSVSource) throws(CommandFailure) -> CSVSource {
            if rowsLackLabels { try withoutLabels(csv, labels: labelMap) }
            csv.readsLabels = !labelsUnread
            csv.labelColumnPlace = labelColumn == nil ? .learned : .file
            csv.keptColumns = keptColumns
            columnName = csv.columnName(ofFeature:)
            csvRead = csv
            return csv
        }
        switch parsedSource! {
        case .fashionMNIST:
            let test = try failingClearly { try FashionMNIST.load(split: .test, directory: folder) }
            do {
                try test.requireInputWidth(model.inputWidth)
                if !unknownLabels { try test.requireLabels(below: model.classCount) }
            } catch {
                // A learner streamed from a file, read without --source: say where its rows
                // came from rather than the widths alone ("784 features per sample, but 90").
                if source == nil, let saved = try? StreamDriver<Learner>.savedStream(in: checkpoint), case let .csv(settings) = saved.source {
                    throw CommandFailure("checkpoint '\(file)' learned from the rows of \(settings.path.map { "'\($0)'" } ?? "standard input") "
                        + "(\(model.inputWidth) features), not from Fashion-MNIST, which is read when no --source is given: "
                        + "give the rows with --source csv:FILE")
                }
                throw CommandFailure("checkpoint '\(file)' cannot be evaluated on \(test.name): \(error)")
            }
            stream = DatasetSource(dataset: test, batchSize: 4096)
        case let .csv(path):
            let (readFormat, text, imputation) = try columns(of: checkpoint, file: file)
            let csv = try failingClearly {
                try CSVSource(path: path, format: readFormat, batchSize: 4096, inputWidth: model.inputWidth, labels: labelMap,
                              badRows: badRows, text: text, imputation: imputation, learnsColumns: text == nil)
            }
            stream = try prepare(csv)
        case .standardInput:
            let (readFormat, text, imputation) = try columns(of: checkpoint, file: file)
            let csv = try failingClearly {
                try CSVSource.standardInput(format: readFormat, batchSize: 4096, inputWidth: model.inputWidth, labels: labelMap,
                                            badRows: badRows, text: text, imputation: imputation, learnsColumns: text == nil)
            }
            stream = try prepare(csv)
        case let .idx(images, labels):
            stream = try failingClearly {
                try IDXSource(images: images, labels: labels, batchSize: 4096, classCount: unknownLabels ? nil : model.classCount,
                              inputWidth: model.inputWidth)
            }
        }
        try failingClearly {
            while let batch = try stream.next() {
                if let csv = csvRead, !keptColumns.isEmpty { kept(csv.keptNames, csv.keptText) }
                body(batch.features, batch.labels)
            }
        }
        if let csv = csvRead, let label = csv.labelColumnInHeader {
            warn("\(csv.name): its header names the label column, '\(label)': read as --labelled reads it, its values not read")
        }
        if let placed = csvRead?.columnsPlacedByName, let csv = csvRead { warn(placed.sentence(source: csv.name)) }
        if let csv = csvRead, !csv.textInBlankColumns.isEmpty {
            warn(CSVSource.sentence(textInBlank: csv.textInBlankColumns, name: csv.fieldName))
        }
        if let unseen = csvRead?.unseenText, unseen.count > 0, let csv = csvRead {
            let shown = unseen.examples.map { "'\($0.value)' in \(csv.fieldName($0.column))" }.joined(separator: ", ")
            warn("\(unseen.count) text value\(unseen.count == 1 ? "" : "s") the learner never saw (\(shown)\(unseen.more ? ", …" : "")) "
                + "read as missing: it has no indicator for \(unseen.count == 1 ? "it" : "them")")
        }
        return (stream.name, stream.labelMap, columnName, csvRead?.position.skipped ?? SkippedRows())
    }

    /// Tells `csv` that its rows lack the label column: each gets the model's first class
    /// there.
    private func withoutLabels(_ csv: CSVSource, labels: LabelMap) throws(CommandFailure) {
        try failingClearly { try csv.readWithoutLabelColumn(placeholder: labels.label(of: 0)) }
    }
}
