import Foundation
import Testing
import TestSupport

// The figures' test reaches the moe executable's internal API (@testable import), which
// only a debug build exposes.
#if DEBUG
@testable import moe
#endif

/// `moe eval M --against OTHER`: two saved models scored on the same rows, row by row.
@Suite("moe eval --against")
struct EvalAgainstTests {
    #if DEBUG
    @Test("McNemar's exact test and the paired standard error, against figures worked by hand")
    func pairedFigures() {
        // 10 disagreements split 8 to 2: 2 P(X <= 2), X ~ B(10, 1/2) = 2 * 56 / 1024.
        #expect(abs(Eval.PairedComparison.mcNemar(8, 2) - 112.0 / 1024) < 1e-12)
        #expect(Eval.PairedComparison.mcNemar(5, 5) == 1)
        #expect(Eval.PairedComparison.mcNemar(0, 0) == 1)
        #expect(abs(Eval.PairedComparison.mcNemar(0, 3) - 0.25) < 1e-12)
        // A million disagreements neither overflow nor underflow: 2,000 apart is 2 standard
        // deviations of the split (p near 0.0455), 10,000 apart is far beyond any p shown.
        let near = Eval.PairedComparison.mcNemar(501_000, 499_000)
        #expect(near > 0.04 && near < 0.05, "\(near)")
        #expect(Eval.PairedComparison.mcNemar(505_000, 495_000) < 1e-20)
        // Rows: both right, this right only (3), the other right only (1), both wrong.
        let mine = [true, true, true, true, false, false, true]
        let theirs = [true, false, false, false, true, false, true]
        let paired = Eval.PairedComparison(checkpoint: "b", mine: mine, theirs: theirs)
        #expect(paired.correct == 3 && paired.rightWhereOtherWrong == 3 && paired.wrongWhereOtherRight == 1)
        #expect(abs(paired.difference - 2.0 / 7) < 1e-12)
        // sqrt(b + c - (b - c)^2 / n) / n = sqrt(4 - 4 / 7) / 7.
        #expect(abs(paired.standardError - (4.0 - 4.0 / 7).squareRoot() / 7) < 1e-12)
        #expect(abs(paired.pValue - 0.625) < 1e-12)
    }
    #endif

    @Test("two learners of the same rows, the classes learned in other orders, compared on a test file")
    func comparesTwoCheckpoints() throws {
        try withTemporaryDirectory { dir in
            let labels = ["a", "b", "c"]
            let train = dir.path("train.csv"), reversed = dir.path("reversed.csv"), test = dir.path("test.csv")
            let learned = PredictCommandTests.rows(600, seed: 5, labels: labels, order: [0, 1, 2, 3])
            try PredictCommandTests.write(learned, to: train)
            // The same rows backwards: another first class and another first colour, so the
            // second learner numbers its classes and text values otherwise.
            try PredictCommandTests.write(learned.reversed(), to: reversed)
            try PredictCommandTests.write(PredictCommandTests.rows(300, seed: 6, labels: labels, order: [0, 1, 2, 3]), to: test)
            let first = dir.path("first.h5"), second = dir.path("second.h5")
            for (source, model, extra) in [(train, first, [String]()), (reversed, second, ["--predictor", "discriminant"])] {
                let s = MoeProcess.run(["stream", "--source", "csv:" + source, "--label-column", "last", "--hidden", "16",
                                        "--save", model] + extra)
                #expect(s.status == 0, "\(s.error)")
            }
            func eval(_ model: String, _ options: [String] = []) throws -> [String: Any] {
                let e = MoeProcess.run(["eval", model, "--source", "csv:" + test, "--json"] + options)
                #expect(e.status == 0, "\(e.error)")
                return try #require(MoeProcess.json(e))
            }
            let alone = try eval(first), other = try eval(second)
            let paired = try eval(first, ["--against", second])
            let against = try #require(paired["against"] as? [String: Any])
            // The other's figures are its own evaluation's, and the split adds up to the gap.
            let mineRight = try #require(alone["correct"] as? Int), theirsRight = try #require(other["correct"] as? Int)
            #expect(paired["correct"] as? Int == mineRight)
            #expect(against["correct"] as? Int == theirsRight)
            let b = try #require(against["right_where_other_wrong"] as? Int)
            let c = try #require(against["wrong_where_other_right"] as? Int)
            #expect(b - c == mineRight - theirsRight)
            let p = try #require(against["p_value"] as? Double)
            #expect(p > 0 && p <= 1)
            // The other way round: the split swaps, the test is the same.
            let back = try #require(try eval(second, ["--against", first])["against"] as? [String: Any])
            #expect(back["right_where_other_wrong"] as? Int == c && back["wrong_where_other_right"] as? Int == b)
            #expect(back["p_value"] as? Double == p)
            // A model against itself: no row disagrees.
            let same = try #require(try eval(first, ["--against", first])["against"] as? [String: Any])
            #expect(same["right_where_other_wrong"] as? Int == 0 && same["p_value"] as? Double == 1)
            let text = MoeProcess.run(["eval", first, "--source", "csv:" + test, "--against", second])
            #expect(text.output.contains("of the rows where they disagree, this checkpoint is right on \(b) and the other on \(c)"), "\(text.output)")
        }
    }

    @Test("rows the two cannot share are refused with a sentence: standard input, other label columns, columns the other cannot read, a missing file")
    func refusals() throws {
        try withTemporaryDirectory { dir in
            let labels = ["a", "b"]
            let train = dir.path("train.csv"), test = dir.path("test.csv")
            try PredictCommandTests.write(PredictCommandTests.rows(300, seed: 7, labels: labels, order: [0, 1, 2, 3]), to: train)
            try PredictCommandTests.write(PredictCommandTests.rows(100, seed: 8, labels: labels, order: [0, 1, 2, 3]), to: test)
            let model = dir.path("m.h5"), colour = dir.path("colour.h5")
            #expect(MoeProcess.run(["stream", "--source", "csv:" + train, "--label-column", "last", "--hidden", "8",
                                    "--save", model]).status == 0)
            // A model of the same file whose label is the colour column.
            #expect(MoeProcess.run(["stream", "--source", "csv:" + train, "--label-column", "2", "--hidden", "8",
                                    "--save", colour]).status == 0)
            let rows = try String(contentsOfFile: test, encoding: .utf8)
            let piped = MoeProcess.run(["eval", model, "--source", "stdin", "--label-column", "last", "--against", model], input: rows)
            #expect(piped.status != 0)
            #expect(piped.error.contains("--against reads the rows twice"), "\(piped.error)")
            let columns = MoeProcess.run(["eval", model, "--source", "csv:" + test, "--against", colour])
            #expect(columns.status != 0)
            #expect(columns.error.contains("is labelled") && columns.error.contains("--label-column"), "\(columns.error)")
            // A model that learned the colour as a number: every text colour of the test rows
            // stops its reading, or with --skip-bad-rows leaves it other rows than this one's.
            let numeric = dir.path("numeric.csv"), numbers = dir.path("numbers.h5")
            try PredictCommandTests.write(PredictCommandTests.rows(300, seed: 9, labels: labels, order: [0, 1, 2, 3]).map { row in
                [row[0], row[1], String(["red", "green", "blue"].firstIndex(of: row[2])!), row[3]]
            }, to: numeric)
            #expect(MoeProcess.run(["stream", "--source", "csv:" + numeric, "--label-column", "last", "--hidden", "8",
                                    "--save", numbers]).status == 0)
            let unread = MoeProcess.run(["eval", model, "--source", "csv:" + test, "--label-column", "last", "--against", numbers])
            #expect(unread.status != 0)
            #expect(unread.error.contains("numbers.h5' reads the rows as it learned its own columns, and could not")
                    && unread.error.contains("not a number"), "\(unread.error)")
            // One row of a number there: the text model reads it as a colour it never saw.
            let mixed = dir.path("mixed.csv")
            try (rows + "\n1.0,0.5,2,a\n").write(toFile: mixed, atomically: true, encoding: .utf8)
            let skipped = MoeProcess.run(["eval", model, "--source", "csv:" + mixed, "--label-column", "last", "--against", numbers,
                                          "--skip-bad-rows"])
            #expect(skipped.status != 0)
            #expect(skipped.error.contains("read 1 row of") && skipped.error.contains("cannot be compared row by row"), "\(skipped.error)")
            let missing = MoeProcess.run(["eval", model, "--source", "csv:" + test, "--against", dir.path("none.h5")])
            #expect(missing.status != 0)
            #expect(missing.error.contains("none.h5"), "\(missing.error)")
        }
    }
}
