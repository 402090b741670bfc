import Foundation
import MoE
import Testing
@testable import Continual

@Suite("The learner's course follows its gate")
struct LearnerCourseTests {
    /// Eight features, two of which decide the label by their product's sign (a parity the
    /// networks learn better than a gate over 64 random features, so the arbiter has
    /// answers other than the gate's to choose while learning); then a third class, far
    /// away on two other features, arrives and grows an expert.
    /// With `fourthBatches`, a fourth class, far away on two more features, comes after
    /// `thirdBatches` batches of the third (the same draws as without it until then).
    static func stream(thirdBatches: Int = 12, fourthBatches: Int = 0) -> [(Matrix, [Int])] {
        var g = SeededGenerator(seed: 17)
        func batch(_ n: Int, newest: Int) -> (Matrix, [Int]) {
            var x = Matrix(rows: n, columns: 8)
            var labels: [Int] = []
            for r in 0..<n {
                for j in 0..<8 { x[r, j] = g.nextNormal() }
                let pick = newest >= 2 ? g.nextInt(below: 3) : -1
                if pick == 0 {
                    x[r, 3] += 5
                    x[r, 4] += 5
                    labels.append(2)
                } else if newest >= 3 && pick == 1 {
                    x[r, 5] += 5
                    x[r, 6] += 5
                    labels.append(3)
                } else {
                    labels.append(x[r, 0] * x[r, 1] > 0 ? 1 : 0)
                }
            }
            return (x, labels)
        }
        return (0..<24).map { _ in batch(32, newest: 1) } + (0..<thirdBatches).map { _ in batch(32, newest: 2) }
            + (0..<fourthBatches).map { _ in batch(32, newest: 3) }
    }

    static func learner(_ change: (inout LearnerConfiguration) -> Void = { _ in }) throws -> Learner {
        var c = LearnerConfiguration.small()
        c.replayCapacity = 200
        change(&c)
        var learner = try Learner(configuration: c, inputWidth: 8, classCount: 3)
        for (x, y) in stream() { _ = try learner.observe(features: x, labels: y) }
        return learner
    }

    /// Everything the learner learned: weights, pairs, the gate's statistics, the detectors'.
    static func learned(_ l: Learner) -> [[Double]] {
        [l.model.parameters.sorted { $0.key < $1.key }.flatMap { $0.value.scalars.map(Double.init) },
         l.model.gatePairs.flatMap { [Double($0.slot), Double($0.label)] },
         l.statistics?.counts ?? [],
         l.tracker.state.namedArrays.sorted { $0.0 < $1.0 }.flatMap(\.1)]
    }

    @Test("the mixture learns what the gate alone learns, bit for bit, while it serves other answers")
    func mixtureLearnsAsItsGate() throws {
        let mixture = try Self.learner()
        let gateAlone = try Self.learner { $0.predictor = .discriminant }
        // The mixture served answers other than the gate's (its prequential record and
        // the gate's own differ), and grew.
        let course = try #require(mixture.course)
        #expect(mixture.prequential.correct != course.correct)
        #expect(mixture.model.experts.count >= 1)
        #expect(gateAlone.course == nil)
        #expect(Self.learned(mixture) == Self.learned(gateAlone))
        #expect(mixture.model.experts.count == gateAlone.model.experts.count)
        // Following the served answers instead (configurations saved before the setting),
        // the two learn different things.
        let served = try Self.learner { $0.courseFollowsGate = nil }
        #expect(served.course == nil)
        #expect(Self.learned(served) != Self.learned(gateAlone))
    }

    @Test("the gate's record is saved: a resumed learner grows and answers as the uninterrupted one")
    func courseSavedAndResumed() throws {
        var c = LearnerConfiguration.small()
        c.replayCapacity = 200
        let batches = Self.stream()
        var whole = try Learner(configuration: c, inputWidth: 8, classCount: 3)
        var first = try Learner(configuration: c, inputWidth: 8, classCount: 3)
        for (i, (x, y)) in batches.enumerated() {
            _ = try whole.observe(features: x, labels: y)
            if i < 20 { _ = try first.observe(features: x, labels: y) }
        }
        var resumed = try Learner(checkpoint: Checkpoint.decode(try first.checkpoint().encoded()))
        #expect(resumed.course == first.course)
        for (x, y) in batches.dropFirst(20) { _ = try resumed.observe(features: x, labels: y) }
        #expect(resumed.course == whole.course && Self.learned(resumed) == Self.learned(whole))

        // A state that contradicts its configuration is refused, naming what is missing.
        let crafted = try first.checkpoint().changingLearnerState { $0["course"] = nil }
        #expect { try Learner(checkpoint: crafted) } throws: {
            "\($0)".contains("/sections/learner/state") && "\($0)".contains("no record of the gate's answers")
        }
    }
}
