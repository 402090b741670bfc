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
    /// The observation after a batch of 128 first-visit samples, `batch` batches into the stream.
    func observation(_ batch: Int, errors: Int = 10, error: Double = 0.1, novelty: Bool = false, drift: Bool = false,
                     detectors: [[Int]] = [[], []], experts: Int = 0) -> GrowthPolicy.Observation {
        .init(samples: 128 * (batch + 1), batchSamples: 128, novelty: novelty, drift: drift, batchErrors: errors,
              errorRate: error, detectors: detectors, experts: experts, parameters: 1000, expertParameters: [500, 300])
    }

    @Test("a drift on which most samples are wrong grows at the lowest layer with detectors")
    func growsOnDrift() {
        let policy = GrowthPolicy()
        var state = GrowthPolicy.State()
        for b in 0..<8 { _ = policy.decide(observation(b), state: &state) }
        let first = policy.decide(observation(8, errors: 120, error: 0.3, drift: true, detectors: [[], []]), state: &state)
        #expect(first.outcome == .suppressed("no hidden layer has significant error detectors"))
        #expect(first.trigger == .drift)
        let second = policy.decide(observation(9, errors: 110, error: 0.5, detectors: [[3, 1, 4], [7]]), state: &state)
        #expect(second.outcome == .grow(layer: 0, detectors: [3, 1, 4]))
        #expect(second.trigger == .drift)
        #expect(state.lastGrowthSample == 128 * 10)
    }

    @Test("a drift on which the slot in charge stays mostly right does not grow")
    func calmDrift() {
        let policy = GrowthPolicy()
        var state = GrowthPolicy.State()
        for b in 0..<8 { _ = policy.decide(observation(b), state: &state) }
        let d = policy.decide(observation(8, errors: 40, error: 0.2, drift: true, detectors: [[1], []]), state: &state)
        #expect(d.outcome == .suppressed("the error rate since the drift, 0.312, is at most 0.5: the slot in charge keeps adapting"))
        #expect(state.pendingDriftSample == nil)
    }

    @Test("novelty grows at once when the cool-down has passed")
    func novelty() {
        let policy = GrowthPolicy()
        var state = GrowthPolicy.State()
        let early = policy.decide(observation(2, novelty: true, detectors: [[2], []]), state: &state)
        #expect(early.outcome == .suppressed("cool-down: the slot in charge has learned from 384 samples since the last growth, needs 512"))
        let later = policy.decide(observation(3, novelty: true, detectors: [[2], []]), state: &state)
        #expect(later.outcome == .grow(layer: 0, detectors: [2]))
        #expect(later.trigger == .novelty)
    }

    @Test("no trigger, no growth, even with detectors")
    func quietStream() {
        let policy = GrowthPolicy()
        var state = GrowthPolicy.State()
        for b in 0..<200 {
            let d = policy.decide(observation(b, error: 0.3 - 0.001 * Double(b), detectors: [[1], [2]]), state: &state)
            #expect(d.outcome == .none && d.trigger == nil)
        }
    }

    @Test("stagnation above the threshold grows; below it does not")
    func stagnation() {
        var policy = GrowthPolicy()
        policy.patienceSamples = 3 * 128
        var state = GrowthPolicy.State()
        var outcomes: [GrowthDecision.Outcome] = []
        for b in 0..<6 { outcomes.append(policy.decide(observation(b, error: 0.6, detectors: [[], [5]]), state: &state).outcome) }
        #expect(outcomes.contains(.grow(layer: 1, detectors: [5])))
        var low = GrowthPolicy.State()
        for b in 0..<10 { #expect(policy.decide(observation(b, error: 0.05, detectors: [[1], [5]]), state: &low).outcome == .none) }
    }

    @Test("cool-down, budget and the off switch suppress with a reason")
    func suppression() {
        var policy = GrowthPolicy()
        policy.cooldownSamples = 5 * 128
        var state = GrowthPolicy.State()
        #expect(policy.decide(observation(5, novelty: true, detectors: [[1], []]), state: &state).outcome == .grow(layer: 0, detectors: [1]))
        let cooling = policy.decide(observation(6, novelty: true, detectors: [[1], []]), state: &state)
        #expect(cooling.outcome == .suppressed("cool-down: the slot in charge has learned from 128 samples since the last growth, needs 640"))
        let full = policy.decide(observation(20, novelty: true, detectors: [[1], []], experts: 8), state: &state)
        #expect(full.outcome == .suppressed("expert budget spent (8 of 8)"))
        policy.maxParameters = 1200
        let heavy = policy.decide(observation(40, novelty: true, detectors: [[1], []]), state: &state)
        #expect(heavy.outcome == .suppressed("parameter budget: 1000 + 500 would exceed 1200"))
        policy.enabled = false
        var off = GrowthPolicy.State()
        #expect(policy.decide(observation(9, novelty: true, detectors: [[1], []]), state: &off).outcome == .suppressed("growth is disabled"))
    }

    @Test("invalid policies are refused with a sentence")
    func invalid() {
        var policy = GrowthPolicy()
        policy.cooldownSamples = -1
        #expect(throws: LearnerError.invalidConfiguration("the growth cool-down must be >= 0 samples, got -1")) { try policy.validate() }
    }
}
