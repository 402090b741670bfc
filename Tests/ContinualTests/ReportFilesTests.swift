import Foundation
import Testing
import TestSupport
import Continual

@Suite("Report files")
struct ReportFilesTests {
    @Test func writesTheThreeFilesIntoANewDirectory() throws {
        try withTemporaryDirectory { temporary in
            let directory = temporary.url.appendingPathComponent("runs/split", isDirectory: true)
            let report = ReportFixtures.split()
            let files = try report.write(toDirectory: directory)
            #expect(files.json.lastPathComponent == "report.json")
            let decoded = try StreamReport.decode(from: Data(contentsOf: files.json))
            #expect(decoded == report)
            _ = try parseXML(String(decoding: try Data(contentsOf: files.accuracyMatrix), as: UTF8.self))
            _ = try parseXML(String(decoding: try Data(contentsOf: files.prequential), as: UTF8.self))
            // A second write replaces the files.
            try ReportFixtures.single().write(toDirectory: directory)
            #expect(try StreamReport.decode(from: Data(contentsOf: files.json)).scenario == "permuted-fmnist")
        }
    }

    @Test func aFileInTheWayIsNamed() throws {
        try withTemporaryDirectory { temporary in
            let file = temporary.url.appendingPathComponent("taken")
            try Data("x".utf8).write(to: file)
            #expect(throws: ReportError.notADirectory(path: file.path)) {
                try ReportFixtures.single().write(toDirectory: file)
            }
            let below = file.appendingPathComponent("report")
            let error = #expect(throws: ReportError.self) { try ReportFixtures.single().write(toDirectory: below) }
            guard case .cannotCreateDirectory(let path, _)? = error else {
                Issue.record("expected cannotCreateDirectory, got \(String(describing: error))")
                return
            }
            #expect(path == below.path)
            #expect(error?.description.hasPrefix("Cannot create the report directory \(below.path): ") == true)
        }
    }

    @Test func messagesNameThePath() {
        #expect(ReportError.notADirectory(path: "/r/x").description
            == "Cannot write the report into /r/x: it exists and is not a directory")
        #expect(ReportError.cannotWrite(path: "/r/report.json", reason: "Permission denied").description
            == "Cannot write the report file /r/report.json: Permission denied")
    }
}
