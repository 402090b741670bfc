import Foundation
import MoE
import Testing
import TestSupport
import Continual

@Suite("Model growth and routing")
struct MetricGrowthTests {
    @Test func storesOnlyChangesOfSize() {
        var history = ModelGrowthHistory(capacity: 4)
        let small = ModelSize(trainableParameters: 100, frozenParameters: 0, experts: 0)
        let grown = ModelSize(trainableParameters: 30, frozenParameters: 100, experts: 1)
        for step in 1...10 { history.record(step: step, samples: step * 32, size: small) }
        for step in 11...20 { history.record(step: step, samples: step * 32, size: grown) }
        #expect(history.changes.kept.map(\.step) == [1, 11])
        #expect(history.points.map(\.step) == [1, 11, 20])
        #expect(history.current?.size.parameters == 130)
    }

    @Test func manyChangesStayBounded() {
        var history = ModelGrowthHistory(capacity: 4)
        for step in 1...100 {
            history.record(step: step, samples: step, size: ModelSize(trainableParameters: step, frozenParameters: 0, experts: 0))
        }
        #expect(history.changes.kept.count <= 4)
        #expect(history.points.last?.step == 100)
    }

    @Test func routingSharesFromGateWeights() throws {
        var routing = ExpertRouting()
        routing.record(gates: Matrix([[0.7, 0.3, 0], [0, 1, 0], [0, 0.5, 0.5]]))
        #expect(routing.counts == [1, 3, 1])
        #expect(routing.inputs == 3)
        let shares = try #require(routing.shares)
        #expect(zip(shares, [0.2, 0.6, 0.2]).allSatisfy { isClose($0, $1) })
        let weights = try #require(routing.weightShares)
        #expect(zip(weights, [0.7 / 3, 1.8 / 3, 0.5 / 3]).allSatisfy { isClose($0, $1, tolerance: 1e-6) })
    }

    @Test func routingByExpertIndexGrowsWithNewExperts() throws {
        var routing = ExpertRouting()
        #expect(routing.shares == nil)
        routing.record(expert: 0, inputs: 3)
        routing.record(expert: 2, inputs: 1, weight: 0.5)
        routing.countInputs(4)
        #expect(routing.counts == [3, 0, 1])
        #expect(routing.expertCount == 3)
        #expect(try #require(routing.shares) == [0.75, 0, 0.25])
        #expect(routing.gateWeights == [3, 0, 0.5])
    }
}
