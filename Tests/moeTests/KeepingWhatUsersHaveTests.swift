import Foundation
import Testing
import MoE
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// What a slip on the command line, an interrupt or an impossible size must not cost: the
/// user's files, the run's learning, or the process.
@Suite("moe keeps what the user has")
struct KeepingWhatUsersHaveTests {
    /// Rows of four features and three classes.
    static func writeRows(_ count: Int, seed: UInt64, to path: String) throws {
        var generator = SeededGenerator(seed: seed)
        let lines = (0..<count).map { _ in
            let x = (0..<4).map { _ in generator.nextNormal() }
            let label = (x[0] + x[1] > 0 ? 1 : 0) + (x[2] > 1 ? 1 : 0)
            return x.map { String(format: "%.4f", $0) }.joined(separator: ",") + ",\(label)"
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    @Test("a save, or predictions, never replace a file that is not theirs: the rows read, notes, the checkpoint read")
    func savesReplaceOnlyTheirOwnFiles() throws {
        try withTemporaryDirectory { dir in
            let rows = dir.path("rows.csv"), notes = dir.path("notes.txt")
            try Self.writeRows(400, seed: 1, to: rows)
            try "my notes\n".write(toFile: notes, atomically: true, encoding: .utf8)
            let before = try Data(contentsOf: URL(fileURLWithPath: rows))
            // --save naming the file being read, or notes: refused before anything is learned.
            for target in [rows, notes] {
                let r = MoeProcess.run(["stream", "--source", "csv:" + rows, "--label-column", "last", "--hidden", "8", "--save", target])
                #expect(r.status == 1)
                #expect(r.error.contains("cannot save checkpoint '\(target)': a file that is not a checkpoint is there"), "\(r.error)")
                #expect(!r.output.contains("prequential accuracy"), "learned before refusing: \(r.output)")
            }
            #expect(try Data(contentsOf: URL(fileURLWithPath: rows)) == before)
            #expect(try String(contentsOfFile: notes, encoding: .utf8) == "my notes\n")
            let folder = MoeProcess.run(["stream", "--source", "csv:" + rows, "--label-column", "last", "--save", dir.path("sub") + "/"])
            #expect(folder.status == 1 && folder.error.contains("it names a folder; give a file name"), "\(folder.error)")

            // A checkpoint is replaced by a new one (a rerun), keeping its permissions.
            let model = dir.path("m.h5")
            for _ in 0..<2 {
                let s = MoeProcess.run(["stream", "--source", "csv:" + rows, "--label-column", "last", "--hidden", "8", "--save", model])
                #expect(s.status == 0, "\(s.error)")
                chmod(model, 0o600)
            }
            let mode = try FileManager.default.attributesOfItem(atPath: model)[.posixPermissions] as? Int
            #expect(mode == 0o600)

            // Predictions over the checkpoint, over the rows, or over another checkpoint: refused.
            let other = dir.path("other.h5"), link = dir.path("link.csv")
            try FileManager.default.copyItem(atPath: model, toPath: other)
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: rows)
            let saved = try Data(contentsOf: URL(fileURLWithPath: model))
            for (target, reason) in [(model, "a file this command reads"), (rows, "a file this command reads"),
                                     (link, "'\(rows)', a file this command reads"), (other, "a checkpoint is there")] {
                let p = MoeProcess.run(["predict", model, "--source", "csv:" + rows, "--labelled", "--label-column", "last", "-o", target])
                #expect(p.status == 1, "\(p.output)")
                #expect(p.error.contains("cannot write the predictions to '\(target)'") && p.error.contains(reason), "\(p.error)")
            }
            #expect(try Data(contentsOf: URL(fileURLWithPath: model)) == saved)
            #expect(try Data(contentsOf: URL(fileURLWithPath: rows)) == before)
            let fine = MoeProcess.run(["predict", model, "--source", "csv:" + rows, "--labelled", "--label-column", "last", "-o", dir.path("answers.txt")])
            #expect(fine.status == 0, "\(fine.error)")
        }
    }

    @Test("a bare name that names a file here and one in Checkpoints/ is refused, naming both; a folder under the name is neither")
    func ambiguousNamesAreRefused() throws {
        try withTemporaryDirectory { dir in
            let rows = dir.path("rows.csv")
            try Self.writeRows(300, seed: 2, to: rows)
            let here = MoeProcess.run(["stream", "--source", "csv:" + rows, "--label-column", "last", "--hidden", "8", "--save", "./run.h5"], in: dir.url.path)
            #expect(here.status == 0, "\(here.error)")
            // Only here: the bare name reads it.
            #expect(MoeProcess.run(["inspect", "run.h5"], in: dir.url.path).status == 0)
            let saved = MoeProcess.run(["stream", "--source", "csv:" + rows, "--label-column", "last", "--hidden", "8", "--save", "run.h5"], in: dir.url.path)
            #expect(saved.status == 0 && saved.output.contains("saved Checkpoints/run.h5"), "\(saved.output)\(saved.error)")
            for command in [["eval", "run.h5", "--source", "csv:" + rows, "--label-column", "last"], ["inspect", "run.h5"]] {
                let r = MoeProcess.run(command, in: dir.url.path)
                #expect(r.status == 1)
                #expect(r.error.contains("'run.h5' names two checkpoints, 'run.h5' here and 'Checkpoints/run.h5'"), "\(r.error)")
            }
            #expect(MoeProcess.run(["inspect", "./run.h5"], in: dir.url.path).status == 0)
            #expect(MoeProcess.run(["inspect", "Checkpoints/run.h5"], in: dir.url.path).status == 0)
            // A folder of data under the checkpoint's bare name is no checkpoint: the name
            // reads Checkpoints/NAME.h5, as --save NAME wrote it.
            try FileManager.default.createDirectory(atPath: dir.path("medexp"), withIntermediateDirectories: false)
            try FileManager.default.copyItem(atPath: rows, toPath: dir.path("medexp/monday.csv"))
            let folder = MoeProcess.run(["stream", "--source", "csv:medexp/monday.csv", "--label-column", "last", "--hidden", "8",
                                         "--save", "medexp"], in: dir.url.path)
            #expect(folder.status == 0 && folder.output.contains("saved Checkpoints/medexp.h5"), "\(folder.output)\(folder.error)")
            for command in [["eval", "medexp", "--source", "csv:medexp/monday.csv", "--label-column", "last"], ["inspect", "medexp"],
                            ["stream", "--resume", "medexp", "--source", "csv:medexp/monday.csv"]] {
                let r = MoeProcess.run(command, in: dir.url.path)
                #expect(r.status == 0, "\(command): \(r.error)")
            }
            // With no checkpoint saved under it, the name still means Checkpoints/NAME.h5,
            // and the error says that file is missing.
            let missing = MoeProcess.run(["inspect", "Checkpoints"], in: dir.url.path)
            #expect(missing.status == 1 && missing.error.contains("Checkpoints/Checkpoints.h5"), "\(missing.error)")
        }
    }

    @Test("a pipe given as a checkpoint is refused at once, and sizes no machine holds are refused in a sentence")
    func pipesAndImpossibleSizes() throws {
        try withTemporaryDirectory { dir in
            let rows = dir.path("rows.csv"), pipe = dir.path("pipe.h5")
            try Self.writeRows(200, seed: 3, to: rows)
            #expect(mkfifo(pipe, 0o600) == 0)
            // No writer: opening it to read would wait for ever.
            let eval = MoeProcess.run(["eval", pipe, "--source", "csv:" + rows, "--label-column", "last"])
            #expect(eval.status == 1 && eval.error.contains("it is not a regular file"), "\(eval.error)")
            let wide = MoeProcess.run(["stream", "--source", "csv:" + rows, "--label-column", "last", "--hidden", "100000,100000"])
            #expect(wide.status == 1 && !wide.signalled, "\(wide.error)")
            #expect(wide.error.contains("the learner would need at least 160.1 GB for its weights and statistics"), "\(wide.error)")
            let config = dir.path("gate.json")
            try #"{"gate": {"classPosterior": {"features": 100000000}}}"#.write(toFile: config, atomically: true, encoding: .utf8)
            let features = MoeProcess.run(["stream", "--source", "csv:" + rows, "--label-column", "last", "--learner-config", config])
            #expect(features.status == 1 && features.error.contains("100000000 gate features"), "\(features.error)")
            let batch = MoeProcess.run(["stream", "--source", "csv:" + rows, "--label-column", "last", "--batch-size", "100000000"])
            #expect(batch.status != 0 && !batch.signalled && batch.error.contains("--batch-size must be 1 to 65536 samples"), "\(batch.error)")
        }
    }

    @Test("moe eval refuses --ignore-columns other than the learner's, and takes the same ones; an empty name is refused")
    func evalKeepsTheLearnedColumns() throws {
        try withTemporaryDirectory { dir in
            let rows = dir.path("rows.csv"), model = dir.path("m.h5")
            try Self.writeRows(400, seed: 6, to: rows)
            let s = MoeProcess.run(["stream", "--source", "csv:" + rows, "--label-column", "last", "--hidden", "8",
                                    "--ignore-columns", "3", "--save", model])
            #expect(s.status == 0, "\(s.error)")
            let other = MoeProcess.run(["eval", model, "--source", "csv:" + rows, "--ignore-columns", "1"])
            #expect(other.status == 1)
            #expect(other.error.contains("--ignore-columns 1 differs from the columns checkpoint '\(model)' learned without (3)"), "\(other.error)")
            #expect(MoeProcess.run(["eval", model, "--source", "csv:" + rows, "--ignore-columns", "3"]).status == 0)
            #expect(MoeProcess.run(["eval", model, "--source", "csv:" + rows]).status == 0)
            // An empty name left nothing out, without a word.
            for given in ["", "3,", " "] {
                let empty = MoeProcess.run(["stream", "--source", "csv:" + rows, "--label-column", "last", "--ignore-columns", given])
                #expect(empty.status != 0 && empty.error.contains("names an empty column; give 0-based indices"), "'\(given)': \(empty.error)")
            }
        }
    }

    /// A stream of 1,000 rows paused after two batches (256 rows): the file, the checkpoint
    /// and the checkpoint's bytes.
    func pausedStream(in dir: TemporaryDirectory) throws -> (rows: String, model: String, saved: Data) {
        let rows = dir.path("live.csv"), model = dir.path("live.h5")
        try Self.writeRows(1000, seed: 5, to: rows)
        let paused = MoeProcess.run(["stream", "--source", "csv:" + rows, "--label-column", "last", "--hidden", "8",
                                     "--save", model, "--stop-after-batches", "2"])
        #expect(paused.status == 0, "\(paused.error)")
        return (rows, model, try Data(contentsOf: URL(fileURLWithPath: model)))
    }

    @Test("a paused stream resumed on a file shorter than what it had read is refused, the checkpoint kept")
    func resumeOnAShorterFile() throws {
        try withTemporaryDirectory { dir in
            let (rows, model, saved) = try pausedStream(in: dir)
            try Self.writeRows(100, seed: 5, to: rows)
            let resumed = MoeProcess.run(["stream", "--resume", model])
            #expect(resumed.status == 1)
            #expect(resumed.error.contains("the file has 100 rows, fewer than the 256 the paused stream had read from it"), "\(resumed.error)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: model)) == saved)
        }
    }

    @Test("a paused stream resumed on a file whose first rows are other rows is refused; rows appended since are learned")
    func resumeOnOtherRows() throws {
        try withTemporaryDirectory { dir in
            let (rows, model, saved) = try pausedStream(in: dir)
            // As long, but other rows: before, the stream skipped 256 rows it never saw.
            try Self.writeRows(1000, seed: 6, to: rows)
            let other = MoeProcess.run(["stream", "--resume", model])
            #expect(other.status == 1)
            #expect(other.error.contains("live.csv: the file's first 256 rows are not the rows the paused stream read from it"), "\(other.error)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: model)) == saved)
            // The same rows with more after them (a file that grows): resumed.
            try Self.writeRows(1200, seed: 5, to: rows)
            let grown = MoeProcess.run(["stream", "--resume", model, "--json"])
            #expect(grown.status == 0, "\(grown.error)")
            #expect(MoeProcess.json(grown)?["samples"] as? Int == 1200, "\(grown.output)")
        }
    }

    @Test("a second signal ends at once a stream that waits for a named pipe's writer")
    func secondSignalEndsAtOnce() throws {
        try withTemporaryDirectory { dir in
            // The first SIGTERM, sent once the command has had time to set its handler, is
            // announced; the stream still waits in open(2). The second ends it with the
            // signal's status. Until 2026-12-05 it was raised on a dispatch thread that
            // blocks signals, and the process outlived any number of them.
            let script = """
                mkfifo '\(dir.path("rows"))' || exit 1
                "$MOE" stream --source csv:'\(dir.path("rows"))' > '\(dir.path("out"))' 2> '\(dir.path("err"))' &
                pid=$!
                sleep 2
                while [ ! -s '\(dir.path("err"))' ] && kill -0 $pid 2>/dev/null; do kill -TERM $pid; sleep 0.5; done
                sleep 0.5
                kill -0 $pid 2>/dev/null && echo "waiting after one"
                kill -TERM $pid
                for i in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
                if kill -0 $pid 2>/dev/null; then echo "still running"; kill -KILL $pid; fi
                wait $pid
                echo "status $?"
                """
            let run = MoeProcess.shell(script)
            #expect(run.output.contains("waiting after one") && run.output.contains("status 143") && !run.output.contains("still running"),
                    "\(run.output)\(run.error)")
            let err = try String(contentsOfFile: dir.path("err"), encoding: .utf8)
            #expect(err.contains("terminated (SIGTERM): finishing the batch being learned"), "\(err)")
        }
    }

    @Test("an interrupt ends the batch, saves the stream as a pause and exits 130; resumed, it ends as a stream never interrupted")
    func interruptSavesAndResumes() throws {
        try withTemporaryDirectory { dir in
            let rows = dir.path("rows.csv")
            try Self.writeRows(30_000, seed: 4, to: rows)
            let options = ["--source", "csv:" + rows, "--label-column", "last", "--hidden", "16"]
            let whole = MoeProcess.run(["stream"] + options + ["--save", dir.path("whole.h5")])
            #expect(whole.status == 0, "\(whole.error)")
            // The signal is sent once the stream has learned (its first periodic save exists),
            // so that its handler is in place, or at once if moe ended before (the status
            // then says so); the script reports moe's exit status.
            let model = dir.path("stopped.h5")
            let script = """
                "$MOE" stream \(options.map { "'\($0)'" }.joined(separator: " ")) --save '\(model)' --checkpoint-every 20 > '\(dir.path("out"))' 2> '\(dir.path("err"))' &
                pid=$!
                while [ ! -s '\(model)' ] && kill -0 $pid 2>/dev/null; do sleep 0.05; done
                kill -INT $pid
                wait $pid
                echo "status $?"
                """
            let run = MoeProcess.shell(script)
            #expect(run.output.contains("status 130"), "\(run.output)\(run.error)")
            let err = try String(contentsOfFile: dir.path("err"), encoding: .utf8)
            #expect(err.contains("interrupted (SIGINT): finishing the batch being learned, then saving"), "\(err)")
            let out = try String(contentsOfFile: dir.path("out"), encoding: .utf8)
            #expect(out.contains("paused: ") && out.contains("continue with moe stream --resume \(model)"), "\(out)")
            let resumed = MoeProcess.run(["stream", "--resume", model])
            #expect(resumed.status == 0, "\(resumed.error)")
            let digests = { (file: String) in MoeProcess.json(MoeProcess.run(["inspect", file, "--json"]))?["parameter_digests"] as? [String: String] }
            let expected = try #require(digests(dir.path("whole.h5")))
            #expect(digests(model) == expected)
        }
    }
}
