import Continual

/// Checks shared by the stream targets: read a source to its end, and compare a stream
/// read in one go with the same stream stopped after some batches and resumed from its
/// saved position.
enum StreamChecks {
    /// The batches of `source` up to its end, and the error that stopped it, if any.
    static func drain(_ source: inout some BatchSource) -> (batches: [Batch], error: DataError?) {
        var batches: [Batch] = []
        do throws(DataError) {
            while let batch = try source.next() { batches.append(batch) }
            return (batches, nil)
        } catch {
            return (batches, error)
        }
    }

    /// Reads the stream `open()` gives in one go; then again, stopping after `stop`
    /// batches, resuming a freshly opened stream from the saved position and reading
    /// on. Both readings must give the same batches and end the same way (a property of
    /// `resume(from:)` that users rely on after a crash).
    static func readAndResume<Source: BatchSource>(
        stop: Int, _ open: () throws(DataError) -> Source
    ) -> FuzzOutcome {
        var whole: Source
        do { whole = try open() } catch { return .rejected(error.description) }
        let (all, end) = drain(&whole)

        var first = reopen(open)
        var head: [Batch] = []
        do throws(DataError) {
            while head.count < stop, let batch = try first.next() { head.append(batch) }
        } catch {
            precondition(head == all && error == end, "a second reading of the same stream differs")
            return outcome(all, end)
        }
        precondition(head == Array(all.prefix(head.count)), "a second reading of the same stream differs")
        var resumed = reopen(open)
        do throws(DataError) {
            try resumed.resume(from: first.position)
        } catch {
            preconditionFailure("resuming after \(head.count) good batches failed: \(error)")
        }
        let (rest, restEnd) = drain(&resumed)
        precondition(head + rest == all,
                     "a stream resumed after \(head.count) batches gives \(rest.count) more batches, read in one go \(all.count - head.count)")
        precondition(restEnd == end,
                     "a stream resumed after \(head.count) batches ends with \(restEnd.map(\.description) ?? "no error"), read in one go with \(end.map(\.description) ?? "no error")")
        return outcome(all, end)
    }

    static func outcome(_ batches: [Batch], _ error: DataError?) -> FuzzOutcome {
        if let error { return .rejected(error.description) }
        let rows = batches.reduce(0) { $0 + $1.labels.count }
        return .accepted("\(batches.count) batches, \(rows) rows of \(batches.first?.features.columns ?? 0)")
    }

    private static func reopen<Source>(_ open: () throws(DataError) -> Source) -> Source {
        do { return try open() } catch { preconditionFailure("the same stream opened once but not twice: \(error)") }
    }
}
