import Foundation
import Testing
import TestSupport
import Continual

@Suite("Accuracy matrix")
struct MetricAccuracyMatrixTests {
    /// A 3x3 run in which experience 0 improves while learning 1, then is forgotten.
    /// R[0][2] is a forward-transfer entry that no figure may use.
    let run = AccuracyMatrix(rows: [
        [0.6, 0.1, 0.3],
        [0.9, 0.8],
        [0.5, 0.7, 0.95],
    ])

    @Test func averagesByHand() throws {
        let averages = run.averageAccuracies
        #expect(averages.count == 3)
        #expect(isClose(try #require(averages[0]), 0.6))
        #expect(isClose(try #require(averages[1]), (0.9 + 0.8) / 2))
        #expect(isClose(try #require(averages[2]), (0.5 + 0.7 + 0.95) / 3))
        #expect(isClose(try #require(run.finalAverageAccuracy), 2.15 / 3))
    }

    @Test func backwardTransferByHand() throws {
        // ((0.5 - 0.6) + (0.7 - 0.8)) / 2
        #expect(isClose(try #require(run.backwardTransfer), -0.1))
        #expect(isClose(try #require(run.forgettingSinceFirstEvaluation), 0.1))
    }

    @Test func forgettingUsesTheBestEarlierAccuracy() throws {
        // j = 0: max(0.6, 0.9) - 0.5 = 0.4; j = 1: 0.8 - 0.7 = 0.1.
        #expect(isClose(try #require(run.forgetting), 0.25))
        // Avalanche's variant starts from R[j][j] and so sees less.
        #expect(try #require(run.forgetting) > (try #require(run.forgettingSinceFirstEvaluation)))
    }

    @Test func improvementGivesNegativeForgettingAndPositiveTransfer() throws {
        let matrix = AccuracyMatrix(rows: [[0.5], [0.7, 0.9]])
        #expect(isClose(try #require(matrix.forgetting), -0.2))
        #expect(isClose(try #require(matrix.backwardTransfer), 0.2))
    }

    @Test func oneExperienceHasNoTransferOrForgetting() throws {
        let matrix = AccuracyMatrix(rows: [[0.8]])
        #expect(isClose(try #require(matrix.finalAverageAccuracy), 0.8))
        #expect(matrix.backwardTransfer == nil)
        #expect(matrix.forgetting == nil)
        #expect(matrix.forgettingSinceFirstEvaluation == nil)
    }

    @Test func emptyMatrixHasNoFigures() {
        let matrix = AccuracyMatrix()
        #expect(matrix.lastTrainedExperience == nil)
        #expect(matrix.finalAverageAccuracy == nil)
        #expect(matrix.averageAccuracies.isEmpty)
        #expect(matrix.backwardTransfer == nil)
    }

    @Test func growsAsEntriesArriveAndWaitsForMissingOnes() throws {
        var matrix = AccuracyMatrix()
        matrix.record(correct: 9, total: 10, trainedThrough: 0, evaluatedOn: 0)
        matrix.record(0.7, trainedThrough: 1, evaluatedOn: 1)
        #expect(matrix.experienceCount == 2)
        #expect(matrix[trainedThrough: 1, evaluatedOn: 0] == nil)
        #expect(matrix.finalAverageAccuracy == nil)
        #expect(matrix.backwardTransfer == nil)
        matrix.record(0.4, trainedThrough: 1, evaluatedOn: 0)
        #expect(isClose(try #require(matrix.finalAverageAccuracy), 0.55))
        #expect(isClose(try #require(matrix.backwardTransfer), 0.4 - 0.9))
        #expect(isClose(try #require(matrix.forgetting), 0.5))
    }

    @Test func pausedStreamIsScoredOnWhatItSaw() throws {
        var matrix = AccuracyMatrix(experienceCount: 5)
        matrix.record(1.0, trainedThrough: 0, evaluatedOn: 0)
        matrix.record(0.6, trainedThrough: 1, evaluatedOn: 0)
        matrix.record(0.8, trainedThrough: 1, evaluatedOn: 1)
        matrix.record(0.1, trainedThrough: 1, evaluatedOn: 4) // forward transfer, ignored
        #expect(matrix.lastTrainedExperience == 1)
        #expect(isClose(try #require(matrix.finalAverageAccuracy), 0.7))
        #expect(isClose(try #require(matrix.forgetting), 0.4))
    }

    @Test func roundTripsThroughJSON() throws {
        let data = try JSONEncoder().encode(run)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("null"))
        #expect(try JSONDecoder().decode(AccuracyMatrix.self, from: data) == run)
    }

    @Test func rejectsMalformedJSON() {
        let ragged = Data(#"{"values": [[0.5, 0.1], [0.3]]}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(AccuracyMatrix.self, from: ragged) }
        let outOfRange = Data(#"{"values": [[1.5]]}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(AccuracyMatrix.self, from: outOfRange) }
    }
}
