import Testing
import MoE
import Continual

@Suite("Replay buffer")
struct ReplayBufferTests {
    func batch(_ start: Int, _ n: Int) -> (Matrix, [Int]) {
        (Matrix(rows: n, columns: 2, scalars: (start..<start + n).flatMap { [Float($0), -Float($0)] }), Array(start..<start + n))
    }

    @Test("keeps at most its capacity, rows and labels together")
    func bounded() {
        var buffer = ReplayBuffer(capacity: 50, width: 2, seed: 1)
        for b in 0..<40 {
            let (x, y) = batch(b * 25, 25)
            buffer.offer(features: x, labels: y)
        }
        #expect(buffer.count == 50 && buffer.seen == 1000)
        for r in 0..<buffer.count {
            #expect(buffer.features[r, 0] == Float(buffer.labels[r]))
            #expect(buffer.features[r, 1] == -Float(buffer.labels[r]))
        }
    }

    @Test("is a uniform sample of the whole stream")
    func uniform() {
        // Over many seeds, each tenth of a 1000-sample stream holds about a tenth of the buffer.
        var perDecile = [Int](repeating: 0, count: 10)
        for seed in 0..<200 {
            var buffer = ReplayBuffer(capacity: 20, width: 2, seed: UInt64(seed))
            for b in 0..<10 {
                let (x, y) = batch(b * 100, 100)
                buffer.offer(features: x, labels: y)
            }
            for label in buffer.labels { perDecile[label / 100] += 1 }
        }
        for count in perDecile { #expect(abs(count - 400) < 80, "decile count \(count) of 4000") }
    }

    @Test("capacity zero keeps nothing; sampling is seeded")
    func zeroAndSampling() {
        var empty = ReplayBuffer(capacity: 0, width: 2, seed: 1)
        let (x, y) = batch(0, 10)
        empty.offer(features: x, labels: y)
        let drawn = empty.sample(5)
        #expect(empty.isEmpty && empty.seen == 10 && drawn.labels.isEmpty)
        var a = ReplayBuffer(capacity: 8, width: 2, seed: 3), b = a
        a.offer(features: x, labels: y)
        b.offer(features: x, labels: y)
        let fromA = a.sample(4), fromB = b.sample(4)
        #expect(fromA.labels == fromB.labels)
    }
}

@Suite("Page-Hinkley")
struct PageHinkleyTests {
    @Test("fires soon after the error rate jumps, not before")
    func detects() {
        var test = PageHinkley()
        var generator = SeededGenerator(seed: 5)
        for _ in 0..<3000 {
            let fired = test.update(generator.nextUnitDouble() < 0.1 ? 1 : 0)
            #expect(!fired)
        }
        var delay: Int?
        for i in 0..<1000 where delay == nil {
            if test.update(generator.nextUnitDouble() < 0.7 ? 1 : 0) { delay = i }
        }
        #expect(delay != nil && delay! < 150)
    }

    @Test("a falling error rate is not a drift")
    func decreasing() {
        var test = PageHinkley(threshold: 20)
        var generator = SeededGenerator(seed: 6)
        for i in 0..<5000 {
            let rate = 0.8 * (1 - Double(i) / 5000)
            let fired = test.update(generator.nextUnitDouble() < rate ? 1 : 0)
            #expect(!fired)
        }
    }
}

@Suite("Growth policy")
struct GrowthPolicyTests {
    func observation(_ window: Int, error: Double, drift: Bool = false, detectors: [[Int]] = [[], []], experts: Int = 0) -> GrowthPolicy.Observation {
        .init(window: window, errorRate: error, drift: drift, detectors: detectors, experts: experts,
              parameters: 1000, expertParameters: [500, 300])
    }

    @Test("drift with persistent detectors grows at the lowest such layer")
    func growsOnDrift() {
        let policy = GrowthPolicy()
        var state = GrowthPolicy.State()
        _ = policy.decide(observation(0, error: 0.1), state: &state)
        let first = policy.decide(observation(1, error: 0.6, drift: true, detectors: [[3, 1], [7]]), state: &state)
        #expect(first.outcome == .suppressed("no hidden layer has had significant error detectors for 2 windows (best: 1)"))
        let second = policy.decide(observation(2, error: 0.5, detectors: [[3, 1, 4], [7]]), state: &state)
        #expect(second.outcome == .grow(layer: 0, detectors: [3, 1, 4]))
        #expect(second.trigger == .drift)
    }

    @Test("no trigger, no growth, even with detectors")
    func quietStream() {
        let policy = GrowthPolicy()
        var state = GrowthPolicy.State()
        for w in 0..<20 {
            let d = policy.decide(observation(w, error: 0.3 - 0.01 * Double(w), detectors: [[1], [2]]), state: &state)
            #expect(d.outcome == .none)
        }
    }

    @Test("stagnation above the threshold grows; below it does not")
    func stagnation() {
        var policy = GrowthPolicy()
        policy.patience = 3
        var state = GrowthPolicy.State()
        var outcomes: [GrowthDecision.Outcome] = []
        for w in 0..<6 { outcomes.append(policy.decide(observation(w, error: 0.6, detectors: [[], [5]]), state: &state).outcome) }
        #expect(outcomes.contains(.grow(layer: 1, detectors: [5])))
        var low = GrowthPolicy.State()
        for w in 0..<10 { #expect(policy.decide(observation(w, error: 0.05, detectors: [[1], [5]]), state: &low).outcome == .none) }
    }

    @Test("cool-down, budget and the off switch suppress with a reason")
    func suppression() {
        var policy = GrowthPolicy()
        policy.cooldownWindows = 5
        var state = GrowthPolicy.State()
        _ = policy.decide(observation(0, error: 0.5, detectors: [[1], []]), state: &state)
        #expect(policy.decide(observation(1, error: 0.5, drift: true, detectors: [[1], []]), state: &state).outcome == .grow(layer: 0, detectors: [1]))
        let cooling = policy.decide(observation(2, error: 0.9, drift: true, detectors: [[1], []]), state: &state)
        #expect(cooling.outcome == .suppressed("cool-down: last growth 1 window(s) ago, need 5"))
        let full = policy.decide(observation(9, error: 0.9, drift: true, detectors: [[1], []], experts: 8), state: &state)
        #expect(full.outcome == .suppressed("expert budget spent (8 of 8)"))
        policy.enabled = false
        var off = GrowthPolicy.State()
        #expect(policy.decide(observation(0, error: 0.9, drift: true, detectors: [[1], []]), state: &off).outcome == .suppressed("growth is disabled"))
    }
}
