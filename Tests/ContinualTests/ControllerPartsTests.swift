import Foundation
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

    @Test("forgetting a tag drops its rows and restarts the reservoir from the rest")
    func forgetTag() {
        var buffer = ReplayBuffer(capacity: 10, width: 2, seed: 3)
        let (x, y) = batch(0, 30)
        buffer.offer(features: x, labels: y, tags: y.map { $0 % 3 == 0 ? 1 : 0 })
        let kept = buffer.tags.filter { $0 == 0 }.count
        #expect(kept < buffer.count)
        buffer.forget(tag: 1)
        #expect(buffer.count == kept && buffer.seen == kept && buffer.tags.allSatisfy { $0 == 0 })
        for r in 0..<buffer.count { #expect(buffer.features[r, 0] == Float(buffer.labels[r])) }
        // The freed rows take the next samples.
        let (more, labels) = batch(100, 10 - kept)
        buffer.offer(features: more, labels: labels, tags: labels.map { _ in 2 })
        #expect(buffer.count == 10 && buffer.tags.filter { $0 == 2 }.count == 10 - kept)
        buffer.forget(tag: 7)
        #expect(buffer.count == 10)
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

    @Test("stagnation counts only while the error rate stays at or above its threshold, on windows of enough samples")
    func stagnationNeedsItsRate() {
        // A first row answered right, then a slot that learns well (error 0.13) for 10,000
        // samples, then errors above one half: growth waits for the patience from there.
        func stream(_ policy: GrowthPolicy) -> [GrowthDecision] {
            var state = GrowthPolicy.State()
            var decisions: [GrowthDecision] = []
            let detectors = [[], [5]] as [[Int]]
            var first = observation(0, detectors: detectors)
            (first.samples, first.batchSamples, first.errorRate, first.errorRateSamples) = (1, 1, 0, 1)
            decisions.append(policy.decide(first, state: &state))
            for b in 1..<80 { decisions.append(policy.decide(observation(b, error: 0.13, detectors: detectors), state: &state)) }
            for b in 80..<160 { decisions.append(policy.decide(observation(b, error: 0.55, detectors: detectors), state: &state)) }
            return decisions
        }
        let grown = { (d: [GrowthDecision]) in d.firstIndex { if case .grow = $0.outcome { true } else { false } } }
        // 8,192 samples above one half: 64 batches after the rise at batch 80.
        let now = stream(GrowthPolicy())
        #expect(grown(now) == 80 + 64, "\(String(describing: grown(now)))")
        #expect(now[80 + 64].trigger == .stagnation)
        // Configurations saved before the rule counted from the first row, against a best
        // of 0: the first batch above one half grew.
        var old = GrowthPolicy()
        old.stagnationEvidence = nil
        #expect(grown(stream(old)) == 80)
        // A window of fewer samples than the evidence asks for is not judged: a slot at
        // 0.6 from its first row stagnates only from the first judged window on.
        var state = GrowthPolicy.State()
        var young = observation(0, error: 0.6, detectors: [[], [5]])
        young.errorRateSamples = 128
        _ = GrowthPolicy().decide(young, state: &state)
        #expect(state.bestErrorRate == nil && state.samplesWithoutImprovement == 0)
        var bad = GrowthPolicy()
        bad.stagnationEvidence = 0
        #expect(throws: LearnerError.self) { try bad.validate() }
    }

    @Test("stagnation on inputs that did not move since the error rose is held back; on inputs that moved it grows")
    func stagnationNeedsMovedInputs() throws {
        var policy = GrowthPolicy()
        policy.patienceSamples = 3 * 128
        func stream(_ policy: GrowthPolicy, shift: Double?) -> (decisions: [GrowthDecision], state: GrowthPolicy.State) {
            var state = GrowthPolicy.State()
            var decisions: [GrowthDecision] = []
            for b in 0..<12 {
                var o = observation(b, error: 0.6, detectors: [[], [5]])
                o.stagnationInputShift = shift
                decisions.append(policy.decide(o, state: &state))
            }
            return (decisions, state)
        }
        let grows = { (d: [GrowthDecision]) in d.contains { $0.outcome == .grow(layer: 1, detectors: [5]) } }
        // Inputs as before: held back with the shift in the reason, and the count starts over
        // (one suppression per patience, not one per batch).
        let still = stream(policy, shift: 1.2)
        #expect(!grows(still.decisions))
        let held = still.decisions.filter { $0.trigger == .stagnation }
        #expect(held.count == 3, "\(held.map(\.sample))")
        #expect(held.allSatisfy {
            $0.outcome == .suppressed("the error rate stays at or above 0.5 on inputs that look as before: since it rose they moved 1.2 standard deviations, fewer than 3; no gate could route a new expert, so the slot in charge keeps adapting")
        })
        #expect(still.state.bestErrorRate != nil)
        // Inputs that moved, or not measured (no scaler), grow as before.
        #expect(grows(stream(policy, shift: 4.5).decisions))
        #expect(grows(stream(policy, shift: nil).decisions))
        // Configurations saved before the rule, or without the input-shift condition, grow.
        var old = policy
        old.stagnationNeedsInputShift = nil
        #expect(grows(stream(old, shift: 1.2).decisions))
        var unconditioned = policy
        unconditioned.minimumInputShift = nil
        #expect(grows(stream(unconditioned, shift: 1.2).decisions))
        // A policy saved before the rule reads it as off.
        var saved = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(GrowthPolicy())) as? [String: Any])
        #expect(saved["stagnationNeedsInputShift"] as? Bool == true)
        saved["stagnationNeedsInputShift"] = nil
        #expect(try JSONDecoder().decode(GrowthPolicy.self, from: JSONSerialization.data(withJSONObject: saved)).stagnationNeedsInputShift == nil)
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

    @Test("a drift whose inputs did not move is a new concept: growth waits, pending, until they move")
    func conceptDrift() {
        let policy = GrowthPolicy()
        var state = GrowthPolicy.State()
        for b in 0..<8 { _ = policy.decide(observation(b), state: &state) }
        var still = observation(8, errors: 120, error: 0.3, drift: true, detectors: [[2], []])
        still.inputShift = 0.4
        let held = policy.decide(still, state: &state)
        #expect(held.outcome == .suppressed("the labels changed, not the inputs: since the drift they moved 0.4 standard deviations, fewer than 3; no gate could route a new expert, so the slot in charge keeps adapting"))
        #expect(state.pendingDriftSample == 128 * 9)
        var moved = observation(9, errors: 120, error: 0.4, detectors: [[2], []])
        moved.inputShift = 12
        #expect(policy.decide(moved, state: &state).outcome == .grow(layer: 0, detectors: [2]))
        // Unmeasured (no scaler) or switched off: the drift grows as before.
        var unmeasured = GrowthPolicy.State()
        for b in 0..<8 { _ = policy.decide(observation(b), state: &unmeasured) }
        #expect(policy.decide(observation(8, errors: 120, error: 0.3, drift: true, detectors: [[2], []]), state: &unmeasured).outcome
                == .grow(layer: 0, detectors: [2]))
        var off = policy
        off.minimumInputShift = nil
        var offState = GrowthPolicy.State()
        for b in 0..<8 { _ = off.decide(observation(b), state: &offState) }
        #expect(off.decide(still, state: &offState).outcome == .grow(layer: 0, detectors: [2]))
        // Novelty never asks: new labels are routed by their class.
        var novel = observation(20, novelty: true, detectors: [[2], []])
        novel.inputShift = 0
        var fresh = GrowthPolicy.State()
        #expect(policy.decide(novel, state: &fresh).outcome == .grow(layer: 0, detectors: [2]))
    }

    @Test("a drift soon after new labels arrived is their learning curve: the old labels' replay is kept")
    func noveltyExplainsDrift() throws {
        let policy = GrowthPolicy()
        // New labels, growth held back (no detectors); then a drift whose inputs did not
        // move at batch 8 (1152 samples). The cool-down is 512 samples.
        func run(_ policy: GrowthPolicy, noveltyAt: Int?) -> GrowthDecision {
            var state = GrowthPolicy.State()
            for b in 0..<8 {
                _ = policy.decide(observation(b, novelty: b == noveltyAt, detectors: [[], []]), state: &state)
            }
            var still = observation(8, errors: 120, error: 0.3, drift: true, detectors: [[2], []])
            still.inputShift = 0.4
            return policy.decide(still, state: &state)
        }
        let early = run(policy, noveltyAt: 3)
        #expect(early.newConcept == true, "new labels 640 samples before the drift: a new concept")
        let recent = run(policy, noveltyAt: 5)
        #expect(recent.newConcept == nil && recent.outcome == early.outcome, "new labels 384 samples before: their learning curve")
        var old = policy
        old.noveltyExplainsDrift = nil
        #expect(run(old, noveltyAt: 5).newConcept == true)
        // Saved before it existed: off.
        var object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(policy)) as? [String: Any])
        #expect(object["noveltyExplainsDrift"] as? Bool == true)
        object["noveltyExplainsDrift"] = nil
        #expect(try JSONDecoder().decode(GrowthPolicy.self, from: JSONSerialization.data(withJSONObject: object)).noveltyExplainsDrift == nil)
    }

    @Test("a drift in a stream whose labels come in runs is a run of other labels: the replay is kept")
    func runsExplainDrift() throws {
        let policy = GrowthPolicy()
        func run(_ policy: GrowthPolicy, runs: Bool) -> GrowthDecision {
            var state = GrowthPolicy.State()
            for b in 0..<8 { _ = policy.decide(observation(b, detectors: [[], []]), state: &state) }
            var still = observation(8, errors: 120, error: 0.3, drift: true, detectors: [[2], []])
            still.inputShift = 0.4
            still.labelsComeInRuns = runs
            return policy.decide(still, state: &state)
        }
        let shuffled = run(policy, runs: false), inRuns = run(policy, runs: true)
        #expect(shuffled.newConcept == true, "labels that do not come in runs: a new concept")
        #expect(inRuns.newConcept == nil && inRuns.outcome == shuffled.outcome, "in runs: growth waits as well, the replay is kept")
        var old = policy
        old.runsExplainDrift = nil
        #expect(run(old, runs: true).newConcept == true)
        // Saved before it existed: off.
        var object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(policy)) as? [String: Any])
        #expect(object["runsExplainDrift"] as? Bool == true)
        object["runsExplainDrift"] = nil
        #expect(try JSONDecoder().decode(GrowthPolicy.self, from: JSONSerialization.data(withJSONObject: object)).runsExplainDrift == nil)
    }

    @Test("a drift whose inputs moved, but too little to route, is a slow drift: no growth, the replay kept until they look as before")
    func slowDriftKeepsReplay() throws {
        let policy = GrowthPolicy()
        // A drift at batch 8 whose inputs moved `shifts[i]` deviations at its i-th batch.
        func run(_ policy: GrowthPolicy, shifts: [Double]) -> [GrowthDecision] {
            var state = GrowthPolicy.State()
            for b in 0..<8 { _ = policy.decide(observation(b, detectors: [[], []]), state: &state) }
            return shifts.enumerated().map { i, shift in
                var o = observation(8 + i, errors: 120, error: 0.3, drift: i == 0, detectors: [[2], []])
                o.inputShift = shift
                return policy.decide(o, state: &state)
            }
        }
        let slow = run(policy, shifts: [2.5, 2.7])
        #expect(slow.allSatisfy { $0.newConcept == nil })
        #expect(slow[0].outcome == .suppressed("the inputs drift slowly: since the drift they moved 2.5 standard deviations, at least 2 and fewer than 3; no gate could route a new expert, so the slot in charge keeps adapting and keeps its replayed samples"))
        // Still pending: a later batch whose inputs look as before finds the change of
        // concept once; inputs that move far enough grow.
        let settled = run(policy, shifts: [2.5, 1.1, 0.9])
        #expect(settled.map { $0.newConcept == true } == [false, true, false])
        #expect(settled[1].outcome == .suppressed("the labels changed, not the inputs: since the drift they moved 1.1 standard deviations, fewer than 3; no gate could route a new expert, so the slot in charge keeps adapting"))
        #expect(run(policy, shifts: [2.5, 3.5]).last?.outcome == .grow(layer: 0, detectors: [2]))
        // Saved before it existed: every such drift is a change of concept.
        var old = policy
        old.conceptMaximumShift = nil
        #expect(run(old, shifts: [2.5]).first?.newConcept == true)
        var object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(policy)) as? [String: Any])
        #expect(object["conceptMaximumShift"] as? Double == 2)
        object["conceptMaximumShift"] = nil
        #expect(try JSONDecoder().decode(GrowthPolicy.self, from: JSONSerialization.data(withJSONObject: object)).conceptMaximumShift == nil)
        var bad = policy
        bad.conceptMaximumShift = .infinity
        #expect(throws: LearnerError.invalidConfiguration("the concept's maximum input shift must be a finite number of standard deviations (or null), got inf")) {
            try bad.validate()
        }
    }

    @Test("a drift whose inputs moved as a whole but not within their classes is a change in the labels' mix: no growth, the replay kept")
    func classConditionalShift() throws {
        let policy = GrowthPolicy()
        func run(_ policy: GrowthPolicy, within: Double?) -> GrowthDecision {
            var state = GrowthPolicy.State()
            for b in 0..<8 { _ = policy.decide(observation(b, detectors: [[], []]), state: &state) }
            var run = observation(8, errors: 120, error: 0.3, drift: true, detectors: [[2], []])
            run.inputShift = 12.7
            run.classInputShift = within
            return policy.decide(run, state: &state)
        }
        let mix = run(policy, within: 0.4)
        #expect(mix.outcome == .suppressed("the labels' mix changed, not the domain: since the drift the inputs moved 12.7 standard deviations as a whole but 0.4 within their classes, fewer than 3; the gate tells the classes apart, so the slot in charge keeps adapting"))
        #expect(mix.newConcept == nil)
        #expect(run(policy, within: 9).outcome == .grow(layer: 0, detectors: [2]), "moved within their classes: a new domain")
        #expect(run(policy, within: nil).outcome == .grow(layer: 0, detectors: [2]), "no class to compare: the inputs as a whole decide")
        var old = policy
        old.classConditionalShift = nil
        #expect(run(old, within: 0.4).outcome == .grow(layer: 0, detectors: [2]))
        // Saved before it existed: off.
        var object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(policy)) as? [String: Any])
        #expect(object["classConditionalShift"] as? Bool == true)
        object["classConditionalShift"] = nil
        #expect(try JSONDecoder().decode(GrowthPolicy.self, from: JSONSerialization.data(withJSONObject: object)).classConditionalShift == nil)
    }

    @Test("invalid policies are refused with a sentence")
    func invalid() {
        var policy = GrowthPolicy()
        policy.cooldownSamples = -1
        #expect(throws: LearnerError.invalidConfiguration("the growth cool-down must be >= 0 samples, got -1")) { try policy.validate() }
        var shift = GrowthPolicy()
        shift.minimumInputShift = .nan
        #expect(throws: LearnerError.invalidConfiguration("the minimum input shift must be a finite number of standard deviations (or null), got nan")) {
            try shift.validate()
        }
    }

    @Test("a policy saved before the input-shift condition existed reads without it")
    func oldPolicy() throws {
        let encoded = try JSONEncoder().encode(GrowthPolicy())
        var object = try #require(try JSONSerialization.jsonObject(with: encoded) as? [String: Any])
        #expect(object["minimumInputShift"] as? Double == 3)
        object["minimumInputShift"] = nil
        let old = try JSONDecoder().decode(GrowthPolicy.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(old.minimumInputShift == nil)
    }
}

@Suite("Input moments")
struct InputMomentsTests {
    /// The scaler's moments after `rows`, fed in batches of 50.
    func moments(_ rows: [[Float]]) -> InputMoments {
        var scaler = InputScaler(width: rows[0].count)
        for start in stride(from: 0, to: rows.count, by: 50) {
            let part = Array(rows[start..<min(rows.count, start + 50)])
            scaler.update(Matrix(rows: part.count, columns: part[0].count, scalars: part.flatMap { $0 }))
        }
        return InputMoments(scaler)
    }

    func normal(_ generator: inout SeededGenerator, mean: Float = 0) -> Float {
        let u = Float.random(in: Float.ulpOfOne..<1, using: &generator), v = Float.random(in: 0..<1, using: &generator)
        return mean + (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }

    @Test("removing a batch gives the moments of the rows before it")
    func removing() {
        var g = SeededGenerator(seed: 3)
        let rows = (0..<300).map { _ in [normal(&g), 100 * normal(&g, mean: 5), 7] }
        let all = moments(rows), before = moments(Array(rows.prefix(250)))
        let batch = Array(rows.suffix(50))
        let removed = all.removing(Matrix(rows: 50, columns: 3, scalars: batch.flatMap { $0 }))
        #expect(removed.count == before.count)
        for j in 0..<3 {
            #expect(abs(removed.mean[j] - before.mean[j]) <= 1e-9 * max(1, abs(before.mean[j])))
            #expect(abs(removed.squares[j] - before.squares[j]) <= 1e-9 * max(1, before.squares[j]))
        }
    }

    @Test("adding a batch gives the moments of the rows with it, and removing it undoes that")
    func adding() {
        var g = SeededGenerator(seed: 4)
        let rows = (0..<300).map { _ in [normal(&g), 100 * normal(&g, mean: 5), 7] }
        let batch = Matrix(rows: 50, columns: 3, scalars: rows.suffix(50).flatMap { $0 })
        let all = moments(rows), before = moments(Array(rows.prefix(250)))
        let added = before.adding(batch)
        #expect(added.count == all.count)
        for j in 0..<3 {
            #expect(abs(added.mean[j] - all.mean[j]) <= 1e-9 * max(1, abs(all.mean[j])))
            #expect(abs(added.squares[j] - all.squares[j]) <= 1e-9 * max(1, all.squares[j]))
        }
        let fromNothing = InputMoments.empty(width: 3).adding(batch)
        #expect(fromNothing.count == 50 && abs(fromNothing.mean[2] - 7) < 1e-12 && fromNothing.squares[2] == 0)
        #expect(added.isValid(width: 3) && !added.isValid(width: 4))
        #expect(!InputMoments(count: 1, mean: [0, .nan, 0], squares: [0, 0, 0]).isValid(width: 3))
        #expect(!InputMoments(count: 1, mean: [0, 0, 0], squares: [0, -1, 0]).isValid(width: 3))
    }

    @Test("by class, a change in the labels' mix does not move the inputs; a new domain does")
    func shiftByClass() throws {
        var g = SeededGenerator(seed: 8)
        // Two classes far apart; the reference is mostly class 0, the rows since only class 1.
        func rows(_ n: Int, label: Int, moved: Float = 0) -> [(Int, [Float])] {
            (0..<n).map { _ in (label, (0..<12).map { j in normal(&g, mean: (label == 0 ? 0 : 4) + (j < 6 ? moved : 0)) }) }
        }
        func byClass(_ rows: [(Int, [Float])]) -> [Int: InputMoments] {
            var result: [Int: InputMoments] = [:]
            for label in Set(rows.map(\.0)) { result[label] = moments(rows.filter { $0.0 == label }.map(\.1)) }
            return result
        }
        let before = rows(900, label: 0) + rows(100, label: 1)
        let reference = byClass(before)
        let run = rows(300, label: 1)
        // As a whole the inputs moved far; within class 1 they did not.
        #expect(try #require(moments(before.map(\.1) + run.map(\.1)).shift(since: moments(before.map(\.1)))) > 30)
        let mix = try #require(InputMoments.shift(byClass: byClass(before + run), since: reference))
        #expect(abs(mix) < 3, "a run of class 1 moved \(mix) within its class")
        // A new domain moves the inputs within their class.
        let domain = try #require(InputMoments.shift(byClass: byClass(before + rows(300, label: 1, moved: 0.5)), since: reference))
        #expect(domain > 5)
        // A class seen only since has nothing to compare with; nothing since, nothing either.
        #expect(InputMoments.shift(byClass: byClass(before + rows(50, label: 2)), since: reference) == nil)
        #expect(InputMoments.shift(byClass: reference, since: reference) == nil)
        #expect(InputMoments.shift(byClass: [:], since: [:]) == nil)
    }

    @Test("the shift stays near zero when only the labels could have changed, and is large when the inputs move")
    func shift() throws {
        var g = SeededGenerator(seed: 5)
        let before = (0..<2000).map { _ in (0..<20).map { _ in normal(&g) } }
        let same = (0..<500).map { _ in (0..<20).map { _ in normal(&g) } }
        let moved = (0..<500).map { _ in (0..<20).map { j in normal(&g, mean: j < 10 ? 0.5 : 0) } }
        let reference = moments(before)
        let still = try #require(moments(before + same).shift(since: reference))
        #expect(abs(still) < 3)
        let far = try #require(moments(before + moved).shift(since: reference))
        #expect(far > 30)
        // Two features of 48 moving by one standard deviation: the mean dilutes it, the largest does not.
        let wide = (0..<2000).map { _ in (0..<48).map { _ in normal(&g) } }
        let sparse = (0..<80).map { _ in (0..<48).map { j in normal(&g, mean: j < 2 ? 1 : 0) } }
        #expect(try #require(moments(wide + sparse).shift(since: moments(wide))) > 5)
        let quiet = (0..<80).map { _ in (0..<48).map { _ in normal(&g) } }
        #expect(try #require(moments(wide + quiet).shift(since: moments(wide))) < 3)
        // The deviate of a tail.
        #expect(abs(InputMoments.normalQuantile(upperTail: 0.00135) - 3) < 0.01)
        #expect(InputMoments.normalQuantile(upperTail: 0.7) == 0)
        // A feature constant before that varies since is a shift; one constant throughout is left out.
        let constant = (0..<200).map { _ in [normal(&g), 1] }
        let varies = (0..<200).map { _ in [normal(&g), normal(&g)] }
        let base = moments(constant)
        #expect(try #require(moments(constant + varies).shift(since: base)) > 30)
        #expect(abs(try #require(moments(constant + constant).shift(since: base))) < 3)
        #expect(base.shift(since: base) == nil)
    }
}

@Suite("Answer arbiter")
struct AnswerArbiterTests {
    /// Samples of one slot, each with (gate right, network right, product right), `count`
    /// times; the prior is right where the gate is unless said otherwise. Their labels
    /// alternate between two classes (counts kept on one class choose nothing).
    func record(_ arbiter: inout AnswerArbiter, _ outcomes: [(count: Int, gate: Bool, network: Bool, product: Bool)],
                prior: Bool? = nil) {
        for o in outcomes {
            for _ in 0..<o.count {
                let label = (arbiter.visits.first ?? 0) % 2
                arbiter.record(slot: 0, label: label, gate: o.gate, network: o.network, product: o.product, prior: prior ?? o.gate)
            }
        }
    }

    @Test("of the answers significantly better than the gate, the one with more answers right wins")
    func moreRightWins() {
        var arbiter = AnswerArbiter()
        #expect(arbiter.answer(slot: 0) == .gate)
        // The network: 60 right where the gate is wrong, 20 wrong where it is right (+40,
        // 4.5 standard errors). The product: +30 and -2 (+28, but 4.9 standard errors).
        record(&arbiter, [(30, false, true, true), (30, false, true, false), (2, true, false, false), (18, true, false, true)])
        #expect(arbiter.network[0].advantage < arbiter.product[0].advantage)
        #expect(arbiter.answer(slot: 0) == .network)
        // On a holdout, the same rule without fading.
        var holdout = AnswerArbiter()
        let gate = [Bool](repeating: false, count: 60) + [Bool](repeating: true, count: 20)
        let network = [Bool](repeating: true, count: 60) + [Bool](repeating: false, count: 20)
        let product = [Bool](repeating: true, count: 30) + [Bool](repeating: false, count: 30) + [Bool](repeating: false, count: 2)
            + [Bool](repeating: true, count: 18)
        holdout.decide(slot: 0, gate: gate, network: network, product: product, prior: gate)
        #expect(holdout.answer(slot: 0) == .network)
    }

    @Test("the slot's most frequent class answers where every learned answer is worse than it")
    func priorWhenNothingLearns() throws {
        var arbiter = AnswerArbiter()
        // Noisy, imbalanced data: the prior right 80 times where the gate is wrong, the
        // network right 40 of those and wrong 10 times where the gate is right.
        record(&arbiter, [(40, false, true, false), (40, false, false, false)], prior: true)
        record(&arbiter, [(10, true, false, true)], prior: false)
        #expect(arbiter.answer(slot: 0) == .prior)
        // Saved before the prior was a candidate: it starts counting, and the rest is kept.
        var old = try JSONSerialization.jsonObject(with: JSONEncoder().encode(arbiter)) as! [String: Any]
        old.removeValue(forKey: "prior")
        var read = try JSONDecoder().decode(AnswerArbiter.self, from: JSONSerialization.data(withJSONObject: old))
        #expect(read.prior.isEmpty && read.network == arbiter.network && read.answer(slot: 0) == .network)
        read.record(slot: 0, label: 0, gate: true, network: true, product: true, prior: true)
        #expect(read.prior.count == 1)
    }

    @Test("a shrinkage blend significantly more often right takes over; one significantly worse stops being tried")
    func shrinkageChoice() throws {
        var choice = ShrinkageChoice(blends: [0, 0.25, 0.5])
        #expect(choice.current == 0 && choice.candidates == [1, 2] && choice.currentShrinkage == .oas)
        // Blend 0.5 wrong on 10 rows the current head gets right: 3.2 standard errors behind.
        let current = [Bool](repeating: true, count: 10) + [Bool](repeating: false, count: 10)
        #expect(choice.record(current: current, candidates: [1: current, 2: [Bool](repeating: false, count: 20)], samples: 100) == nil)
        #expect(choice.candidates == [1] && choice.current == 0 && choice.retryAt[2] == 200)
        // Tried again, with fresh counts, once the statistics hold twice the samples.
        choice.wake(samples: 199)
        #expect(choice.candidates == [1])
        choice.wake(samples: 200)
        #expect(choice.candidates == [1, 2] && choice.tallies[2].wins == 0 && choice.tallies[2].losses == 0 && choice.retryAt[2] == nil)
        // Blend 0.25 right on the 10 rows the current head gets wrong: it takes over, and
        // every other blend is tried again against it.
        #expect(choice.record(current: current, candidates: [1: [Bool](repeating: true, count: 20)], samples: 120) == 1)
        #expect(choice.current == 1 && choice.candidates == [0, 2] && choice.currentShrinkage == .oasToward(0.25))
        #expect(choice.tallies.allSatisfy { $0.wins == 0 && $0.losses == 0 })
        // Settled: OAS, nothing else tried, and the head changes.
        var settled = choice
        let changed = settled.settle()
        #expect(changed && settled.blends == [0] && !settled.choosing && settled.currentShrinkage == .oas)
        let again = settled.settle()
        #expect(!again)
        // Read back whole; flags that disagree with the blends are refused.
        let data = try JSONEncoder().encode(choice)
        #expect(try JSONDecoder().decode(ShrinkageChoice.self, from: data) == choice)
        var object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        object["active"] = [true]
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(ShrinkageChoice.self, from: JSONSerialization.data(withJSONObject: object))
        }
    }

    @Test("narrow heads are tried beside the blends and stay in the choice once the blends settle")
    func narrowHeadsOutliveTheBlends() throws {
        var choice = ShrinkageChoice(blends: [0, 0.5], leading: [512, 128])
        #expect(choice.blends == [0, 0.5, 0, 0] && choice.leading == [nil, nil, 512, 128] && choice.candidates == [1, 2, 3])
        #expect(choice.blending && choice.shrinkage(3) == .oas)
        // The 128-feature head right on 10 rows the current head gets wrong: it answers.
        let current = [Bool](repeating: true, count: 10) + [Bool](repeating: false, count: 10)
        #expect(choice.record(current: current, candidates: [3: [Bool](repeating: true, count: 20)], samples: 20) == 3)
        // The blends settle: OAS over all the features replaces them, the narrow head
        // answering keeps answering, and both others are tried against it afresh.
        var settled = choice
        let changed = settled.settle()
        #expect(!changed)
        #expect(settled.blends == [0, 0, 0] && settled.leading == [nil, 512, 128] && settled.current == 2)
        #expect(settled.candidates == [0, 1] && settled.choosing && !settled.blending)
        let again = settled.settle()
        #expect(!again && settled.leading == [nil, 512, 128])
        // OAS answering when they settle: it keeps answering.
        var plain = ShrinkageChoice(blends: [0, 0.5], leading: [128])
        let unchanged = plain.settle()
        #expect(!unchanged && plain.current == 0 && plain.blends == [0, 0] && plain.candidates == [1])
        // A blend answering when they settle: OAS over all the features takes over.
        var blended = ShrinkageChoice(blends: [0, 0.5], leading: [128])
        _ = blended.record(current: current, candidates: [1: [Bool](repeating: true, count: 20)], samples: 20)
        #expect(blended.current == 1)
        let ended = blended.settle()
        #expect(ended && blended.current == 0 && blended.leading == [nil, 128] && blended.candidates == [1])
        // Read back whole; a choice saved before narrow heads has none; a feature count
        // of 0 is refused.
        let data = try JSONEncoder().encode(settled)
        #expect(try JSONDecoder().decode(ShrinkageChoice.self, from: data) == settled)
        var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(ShrinkageChoice(blends: [0, 0.25]))) as! [String: Any]
        object.removeValue(forKey: "leading")
        #expect(try JSONDecoder().decode(ShrinkageChoice.self, from: JSONSerialization.data(withJSONObject: object)).leading == [nil, nil])
        object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        object["leading"] = [NSNull(), 0, 128]
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(ShrinkageChoice.self, from: JSONSerialization.data(withJSONObject: object))
        }
    }

    @Test("a class new to the stream makes a narrow head give way to OAS over all the features; old choices keep theirs")
    func narrowHeadWidens() throws {
        var choice = ShrinkageChoice(blends: [0], leading: [128, 32])
        #expect(choice.widensForNewClasses)
        // OAS over all the features answering: nothing changes.
        #expect(choice.widen() == nil && choice.current == 0)
        // The 32-feature head wins, then a new class arrives: OAS answers again, and both
        // narrow heads are tried against it with fresh counts.
        let current = [Bool](repeating: true, count: 10) + [Bool](repeating: false, count: 10)
        #expect(choice.record(current: current, candidates: [2: [Bool](repeating: true, count: 20)], samples: 20) == 2)
        _ = choice.record(current: current, candidates: [0: current, 1: current], samples: 40)
        #expect(choice.widen() == 0)
        #expect(choice.current == 0 && choice.candidates == [1, 2] && choice.leading[choice.current] == nil)
        #expect(choice.tallies.allSatisfy { $0.wins == 0 && $0.losses == 0 } && choice.retryAt.allSatisfy { $0 == nil })
        // Saved and read back, it still widens; saved before the rule existed, it keeps its head.
        let data = try JSONEncoder().encode(choice)
        #expect(try JSONDecoder().decode(ShrinkageChoice.self, from: data) == choice)
        var narrow = ShrinkageChoice(blends: [0], leading: [32])
        _ = narrow.record(current: current, candidates: [1: [Bool](repeating: true, count: 20)], samples: 20)
        var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(narrow)) as! [String: Any]
        object.removeValue(forKey: "widensForNewClasses")
        var old = try JSONDecoder().decode(ShrinkageChoice.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(!old.widensForNewClasses && old.current == 1)
        #expect(old.widen() == nil && old.current == 1)
    }

    @Test("a head the counts chose gives way when plain OAS is significantly ahead of it on the replayed rows; judgements come as the samples double or pairs arrive")
    func judgedOnReplayedRows() throws {
        var choice = ShrinkageChoice(blends: [0, 0.5], leading: [32])
        #expect(choice.judgesRunsOnReplayedRows && choice.plain == 0)
        // Plain OAS answering: nothing to judge.
        #expect(!choice.judgementDue(samples: 10, classes: 2))
        // The counts choose the head over 32 features: a judgement is due at once.
        let half = [Bool](repeating: true, count: 10) + [Bool](repeating: false, count: 10)
        #expect(choice.record(current: half, candidates: [2: [Bool](repeating: true, count: 20)], samples: 20) == 2)
        #expect(choice.judgedAt == nil && choice.judgementDue(samples: 20, classes: 2))
        // Rows the narrow head gets right: the first 20 of 40.
        let narrow = [Bool](repeating: true, count: 20) + [Bool](repeating: false, count: 20)
        func plainAhead(_ wins: Int, _ losses: Int) -> [Bool] {
            var right = narrow
            for r in 0..<losses { right[r] = false }
            for r in 20..<(20 + wins) { right[r] = true }
            return right
        }
        // Plain OAS 5 rows ahead and 2 behind (1.13 standard errors): the narrow head stays.
        let kept = choice.judge(right: [0: plainAhead(5, 2), 2: narrow], samples: 100, classes: 2)
        #expect(!kept && choice.current == 2 && choice.judgedAt == 100 && choice.judgedClasses == 2)
        // Not due again until the samples double or a pair arrives; before predicting, on any sample since.
        #expect(!choice.judgementDue(samples: 199, classes: 2))
        #expect(choice.judgementDue(samples: 200, classes: 2) && choice.judgementDue(samples: 101, classes: 3))
        #expect(choice.judgementDue(samples: 101, classes: 2, beforePredicting: true))
        #expect(!choice.judgementDue(samples: 100, classes: 2, beforePredicting: true))
        // Without plain OAS's rows there is nothing to compare with.
        let unanswered = choice.judge(right: [2: narrow], samples: 150, classes: 2)
        #expect(!unanswered && choice.current == 2)
        // 9 ahead and 1 behind (2.53): plain OAS answers, the narrow head is dropped until
        // the samples double, and nothing is due while plain OAS answers.
        let dropped = choice.judge(right: [0: plainAhead(9, 1), 2: narrow], samples: 200, classes: 3)
        #expect(dropped && choice.current == 0 && !choice.active[2] && choice.retryAt[2] == 400 && choice.active[1])
        #expect(!choice.judgementDue(samples: 1000, classes: 9, beforePredicting: true))
        // Saved and read back, the same; saved before judgements existed, none is ever due.
        var judged = ShrinkageChoice(blends: [0], leading: [32])
        _ = judged.record(current: half, candidates: [1: [Bool](repeating: true, count: 20)], samples: 20)
        _ = judged.judge(right: [0: narrow, 1: narrow], samples: 40, classes: 2)
        let data = try JSONEncoder().encode(judged)
        #expect(try JSONDecoder().decode(ShrinkageChoice.self, from: data) == judged && judged.judgedAt == 40)
        var object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        for key in ["judgesRunsOnReplayedRows", "judgedAt", "judgedClasses"] { object.removeValue(forKey: key) }
        let old = try JSONDecoder().decode(ShrinkageChoice.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(!old.judgesRunsOnReplayedRows && old.judgedAt == nil && old.current == 1)
        #expect(!old.judgementDue(samples: 1000, classes: 9))
        // A judgement at a negative sample count is refused.
        object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        object["judgedAt"] = -1.0
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(ShrinkageChoice.self, from: JSONSerialization.data(withJSONObject: object))
        }
    }

    @Test("a candidate the caller excludes cannot win its counts; choices saved before held rows existed do not check them")
    func excludedCandidates() throws {
        var choice = ShrinkageChoice(blends: [0], leading: [128, 32])
        #expect(choice.checksHeldRows)
        let current = [Bool](repeating: true, count: 10) + [Bool](repeating: false, count: 10)
        let better = [Bool](repeating: true, count: 20)
        // Both narrow heads win their counts; 2 is excluded, so 1 answers.
        var excluding = choice
        #expect(excluding.record(current: current, candidates: [1: better, 2: better], samples: 20, excluding: [2]) == 1)
        // Both excluded: nothing changes, and the counts are kept for the next batch.
        #expect(choice.record(current: current, candidates: [1: better, 2: better], samples: 20, excluding: [1, 2]) == nil)
        #expect(choice.current == 0 && choice.tallies[1].wins > 9.9 && choice.tallies[2].wins > 9.9)
        #expect(choice.record(current: current, candidates: [1: current, 2: current], samples: 40) == 1)
        var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(choice)) as! [String: Any]
        #expect(object["checksHeldRows"] as? Bool == true)
        object.removeValue(forKey: "checksHeldRows")
        let old = try JSONDecoder().decode(ShrinkageChoice.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(!old.checksHeldRows)
    }

    @Test("a vetoed answer gives way to the next the counts find better than the gate, a decided one as well")
    func vetoFallsBack() {
        var arbiter = AnswerArbiter()
        // The network +60, the product +40, both against no loss: both significant.
        record(&arbiter, [(40, false, true, true), (20, false, true, false)])
        #expect(arbiter.answer(slot: 0) == .network)
        // The network lost on the stopped classes' replayed rows: the product answers.
        arbiter.check(slot: 0, gate: [true], network: [false], product: [true], prior: [false])
        #expect(arbiter.answer(slot: 0) == .product && arbiter.checkedCountedAnswer(slot: 0) == .product)
        arbiter.check(slot: 0, gate: [true], network: [false], product: [false], prior: [false])
        #expect(arbiter.answer(slot: 0) == .gate)
        // A holdout's decision that the check vetoes gives way to the counts' checked choice.
        var decided = arbiter
        decided.check(slot: 0, gate: [true], network: [true], product: [false], prior: [false])
        decided.decide(slot: 0, gate: [false, false], network: [false, false], product: [true, true], prior: [false, false])
        #expect(decided.decidedAnswer(slot: 0) == .product && decided.answer(slot: 0) == .network)
    }

    @Test("a holdout that cannot tell leaves the slot to the counts; one where the gate is ahead takes it from them")
    func holdoutDefersToCounts() throws {
        var arbiter = AnswerArbiter()
        // The counts: the prior right 80 times where the gate is wrong, wrong 10 times
        // where it is right (7.4 standard errors).
        record(&arbiter, [(80, false, false, false)], prior: true)
        record(&arbiter, [(10, true, true, true)], prior: false)
        #expect(arbiter.answer(slot: 0) == .prior)
        // A holdout of 20 rows where the prior is ahead by one row in three disagreements
        // (0.58 standard errors): it cannot tell, and the counts keep choosing.
        let gate = [false, false, true] + [Bool](repeating: true, count: 17)
        let prior = [true, true, false] + [Bool](repeating: true, count: 17)
        var deferred = arbiter
        deferred.decide(slot: 0, gate: gate, network: gate, product: gate, prior: prior)
        #expect(deferred.decidedAnswer(slot: 0) == nil && deferred.answer(slot: 0) == .prior)
        // The gate ahead of the prior by 4 rows to 0 (2 standard errors): the gate decided.
        let allRight = [Bool](repeating: true, count: 20)
        let priorBehind = [false, false, false, false] + [Bool](repeating: true, count: 16)
        var taken = arbiter
        taken.decide(slot: 0, gate: allRight, network: allRight, product: allRight, prior: priorBehind)
        #expect(taken.decidedAnswer(slot: 0) == .gate && taken.answer(slot: 0) == .gate)
        // An answer ahead on the holdout is decided whatever the counts say of the prior
        // (the network's counts, level with the gate, do not hold it back).
        var won = arbiter
        won.decide(slot: 0, gate: priorBehind, network: allRight, product: priorBehind, prior: priorBehind)
        #expect(won.decidedAnswer(slot: 0) == .network && won.answer(slot: 0) == .network)
        // Settings saved before the rule: a holdout that cannot tell decides the gate.
        var old = try JSONSerialization.jsonObject(with: JSONEncoder().encode(arbiter)) as! [String: Any]
        var settings = old["settings"] as! [String: Any]
        settings.removeValue(forKey: "holdoutDefersToCounts")
        old["settings"] = settings
        var read = try JSONDecoder().decode(AnswerArbiter.self, from: JSONSerialization.data(withJSONObject: old))
        #expect(!read.settings.holdoutDefersToCounts)
        read.decide(slot: 0, gate: gate, network: gate, product: gate, prior: prior)
        #expect(read.decidedAnswer(slot: 0) == .gate && read.answer(slot: 0) == .gate)
    }

    @Test("a holdout's choice that the counts have significantly behind the gate gives way, and the gate answers")
    func holdoutYieldsToCounts() throws {
        // The counts: the network right 30 times where the gate is wrong, wrong 60 times
        // where it is right (-3.2 standard errors); the product and the prior as the gate.
        var arbiter = AnswerArbiter()
        record(&arbiter, [(30, false, true, false), (60, true, false, true)])
        #expect(arbiter.answer(slot: 0) == .gate)
        // A holdout of 20 rows where the network is ahead 4 to 0 (2 standard errors).
        let allRight = [Bool](repeating: true, count: 20)
        let gateBehind = [false, false, false, false] + [Bool](repeating: true, count: 16)
        var yielded = arbiter
        yielded.decide(slot: 0, gate: gateBehind, network: allRight, product: gateBehind, prior: gateBehind)
        #expect(yielded.decidedAnswer(slot: 0) == nil && yielded.answer(slot: 0) == .gate)
        // Counts that cannot tell (the network level with the gate): the holdout decides.
        var level = AnswerArbiter()
        record(&level, [(30, false, true, false), (30, true, false, true)])
        level.decide(slot: 0, gate: gateBehind, network: allRight, product: gateBehind, prior: gateBehind)
        #expect(level.decidedAnswer(slot: 0) == .network && level.answer(slot: 0) == .network)
        // Counts behind by less than `holdoutZ` (-0.6 standard errors): the holdout decides.
        var close = AnswerArbiter()
        record(&close, [(30, false, true, false), (35, true, false, true)])
        close.decide(slot: 0, gate: gateBehind, network: allRight, product: gateBehind, prior: gateBehind)
        #expect(close.decidedAnswer(slot: 0) == .network)
        // Counts of one class measure nothing: the holdout decides.
        var oneClass = AnswerArbiter()
        for _ in 0..<90 { oneClass.record(slot: 0, label: 0, gate: true, network: false, product: true, prior: true) }
        oneClass.decide(slot: 0, gate: gateBehind, network: allRight, product: gateBehind, prior: gateBehind)
        #expect(oneClass.decidedAnswer(slot: 0) == .network)
        // Settings saved before the rule: the holdout decides whatever the counts say.
        var read = AnswerArbiter(settings: try readAsSavedWithout(["holdoutYieldsToCounts"], AnswerArbiter.Settings()))
        #expect(!read.settings.holdoutYieldsToCounts)
        record(&read, [(30, false, true, false), (60, true, false, true)])
        read.decide(slot: 0, gate: gateBehind, network: allRight, product: gateBehind, prior: gateBehind)
        #expect(read.decidedAnswer(slot: 0) == .network && read.answer(slot: 0) == .network)
    }

    @Test("held rows weighed to the slot's classes: a lead won on an over-represented class is not a lead")
    func weighedHoldout() throws {
        // 36 held rows: 30 of class A, where the network is right and the gate wrong on
        // 10, and 6 of class B, where the gate is right and the network wrong on 2.
        let gate = [Bool](repeating: false, count: 10) + [Bool](repeating: true, count: 20)
            + [true, true] + [Bool](repeating: true, count: 4)
        let network = [Bool](repeating: true, count: 30) + [false, false] + [Bool](repeating: true, count: 4)
        // Unweighed, 10 to 2 (2.3 standard errors): the network is decided.
        var plain = AnswerArbiter()
        #expect(plain.settings.weighsHeldRowsByClass)
        plain.decide(slot: 0, gate: gate, network: network, product: gate, prior: gate)
        #expect(plain.decidedAnswer(slot: 0) == .network)
        // Weighed to a slot of half A and half B (A rows 0.6 each, B rows 3): 6 to 6.
        let weights = [Double](repeating: 0.6, count: 30) + [Double](repeating: 3, count: 6)
        let tally = AnswerArbiter.tally(gate: gate, network, weights: weights)
        #expect(abs(tally.surplus) < 1e-12 && abs(tally.advantage) < 1e-12)
        var weighed = AnswerArbiter()
        weighed.decide(slot: 0, gate: gate, network: network, product: gate, prior: gate, weights: weights)
        #expect(weighed.decidedAnswer(slot: 0) == .gate)
        // The weighed tally's advantage is the weighed lead over its own standard error.
        let lead = AnswerArbiter.tally(gate: [false, false, true], [true, true, false], weights: [1, 2, 4])
        let expected: Double = -1 / Double(21).squareRoot()
        #expect(abs(lead.advantage - expected) < 1e-12 && abs(lead.surplus + 1) < 1e-12)
        // Weights of 1 give the unweighed tally.
        let ones = AnswerArbiter.tally(gate: gate, network, weights: [Double](repeating: 1, count: 36))
        #expect(ones.wins == 10 && ones.losses == 2)
        let none = AnswerArbiter.tally(gate: [true], [true], weights: [5])
        #expect(none.wins == 0 && none.losses == 0)
        // Settings saved before the rule read it as off.
        #expect(!(try readAsSavedWithout(["weighsHeldRowsByClass"], AnswerArbiter.Settings())).weighsHeldRowsByClass)
    }

    @Test("a slot's labels come in runs when consecutive visits share their label beyond chance")
    func labelRuns() throws {
        func arbiter(_ labels: [Int], slot: Int = 0) -> AnswerArbiter {
            var a = AnswerArbiter()
            for y in labels { a.record(slot: slot, label: y, gate: true, network: true, product: true, prior: true) }
            return a
        }
        // Blocks of 20 rows, four classes taking turns: 380 repeats of 399 pairs where
        // chance gives 100.
        let blocks = (0..<400).map { ($0 / 20) % 4 }
        #expect(arbiter(blocks).labelsComeInRuns(slot: 0) && arbiter(blocks).repeats == [380])
        // Shuffled (seeded), alternating, one class, too few visits, another slot: no runs.
        var generator = SeededGenerator(seed: 3)
        let shuffled = blocks.shuffled(using: &generator)
        #expect(!arbiter(shuffled).labelsComeInRuns(slot: 0))
        #expect(!arbiter((0..<400).map { $0 % 2 }).labelsComeInRuns(slot: 0))
        #expect(!arbiter([Int](repeating: 1, count: 400)).labelsComeInRuns(slot: 0))
        #expect(!arbiter([0]).labelsComeInRuns(slot: 0) && !arbiter(blocks).labelsComeInRuns(slot: 1))
        // Runs are counted per slot: a slot's visits between another's do not break them.
        var two = AnswerArbiter()
        for (i, y) in blocks.enumerated() {
            two.record(slot: 0, label: y, gate: true, network: true, product: true, prior: true)
            two.record(slot: 1, label: i % 2, gate: true, network: true, product: true, prior: true)
        }
        #expect(two.labelsComeInRuns(slot: 0) && !two.labelsComeInRuns(slot: 1))
        // Saved and read back; saved before runs were counted, they start from nothing.
        let data = try JSONEncoder().encode(two)
        #expect(try JSONDecoder().decode(AnswerArbiter.self, from: data) == two)
        let read = try readAsSavedWithout(["repeats", "lastLabel"], two)
        #expect(read.repeats.isEmpty && !read.labelsComeInRuns(slot: 0))
        // Counts that do not agree with the visits are refused.
        var old = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        old["repeats"] = [1, 2, 3]
        old["lastLabel"] = [0, 0, 0]
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(AnswerArbiter.self, from: JSONSerialization.data(withJSONObject: old)) }
        // A check key saved before runs were in it reads them as absent.
        let key = AnswerArbiter.CheckKey(answer: .network, stopped: [], headSamples: 1, headShrinkage: 0, runs: true)
        #expect(try readAsSavedWithout(["runs"], key).runs == false)
    }

    @Test("labels drawn at random whose shares changed come in runs over the whole history, not now; blocks come in runs either way")
    func recentLabelRuns() throws {
        func arbiter(_ labels: [Int], halfLife: Double = 4096) -> AnswerArbiter {
            var settings = AnswerArbiter.Settings()
            settings.halfLife = halfLife
            var a = AnswerArbiter(settings: settings)
            for y in labels { a.record(slot: 0, label: y, gate: true, network: true, product: true, prior: true) }
            return a
        }
        // Two concepts of 30,000 rows each, the labels drawn at random: 0.65 of class 0,
        // then 0.35. The pooled shares predict too few repeats; the faded ones forget the
        // first concept.
        var generator = SeededGenerator(seed: 11)
        let concepts = (0..<60_000).map { t in Double.random(in: 0..<1, using: &generator) < (t < 30_000 ? 0.65 : 0.35) ? 0 : 1 }
        let changed = arbiter(concepts)
        #expect(changed.labelsComeInRuns(slot: 0))
        #expect(!changed.labelsComeInRecentRuns(slot: 0))
        #expect(!arbiter(Array(concepts.prefix(30_000))).labelsComeInRecentRuns(slot: 0))
        // Blocks of 200 rows of one class, two classes taking turns: runs either way.
        let blocks = (0..<4_000).map { ($0 / 200) % 2 }
        #expect(arbiter(blocks).labelsComeInRuns(slot: 0) && arbiter(blocks).labelsComeInRecentRuns(slot: 0))
        // No slot, one visit: no runs.
        #expect(!arbiter([0]).labelsComeInRecentRuns(slot: 0) && !arbiter(blocks).labelsComeInRecentRuns(slot: 1))
        // Weights scaled down every 400 half-lives: a half-life of 64 samples passes it
        // twice in 60,000 and still finds blocks of 10; one of a sample, ten times in 4,000.
        let fast = arbiter((0..<60_000).map { ($0 / 10) % 2 }, halfLife: 64)
        #expect(fast.recentRuns[0].next <= 0x1p400 && fast.labelsComeInRecentRuns(slot: 0))
        let tiny = arbiter(Array(concepts.prefix(4_000)), halfLife: 1)
        #expect(tiny.recentRuns[0].total.isFinite && tiny.recentRuns[0].squares.isFinite && tiny.recentRuns[0].next <= 0x1p400)
        // Saved and read back; saved before they were counted, they start from nothing.
        // One class so far: the shares' sums round to a chance of repeats of 1, never
        // above it, and the variance stays 0 (a state once refused on loading).
        let one = arbiter([Int](repeating: 1, count: 5_000))
        #expect(one.recentRuns[0].variance == 0 && !one.labelsComeInRecentRuns(slot: 0))
        #expect(try JSONDecoder().decode(AnswerArbiter.self, from: JSONEncoder().encode(one)) == one)
        #expect(try JSONDecoder().decode(AnswerArbiter.self, from: JSONEncoder().encode(changed)) == changed)
        let read = try readAsSavedWithout(["recentRuns"], arbiter(blocks))
        #expect(read.recentRuns.isEmpty && !read.labelsComeInRecentRuns(slot: 0) && read.labelsComeInRuns(slot: 0))
        // Crafted counts are refused with the slot and the fault.
        var crafted = try JSONSerialization.jsonObject(with: JSONEncoder().encode(arbiter(blocks))) as! [String: Any]
        var runs = (crafted["recentRuns"] as! [[String: Any]])[0]
        runs["variance"] = -1
        crafted["recentRuns"] = [runs]
        #expect {
            try JSONDecoder().decode(AnswerArbiter.self, from: JSONSerialization.data(withJSONObject: crafted))
        } throws: { error in
            "\(error)".contains("the arbiter's recent runs of slot 0 hold negative weights, sums or variance")
        }
        runs["variance"] = 1
        runs["next"] = 0
        crafted["recentRuns"] = [runs]
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(AnswerArbiter.self, from: JSONSerialization.data(withJSONObject: crafted)) }
        // The growth policy asks for recent runs; policies saved before ask the whole history.
        var object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(GrowthPolicy())) as? [String: Any])
        #expect(object["recentRuns"] as? Bool == true)
        object["recentRuns"] = nil
        #expect(try JSONDecoder().decode(GrowthPolicy.self, from: JSONSerialization.data(withJSONObject: object)).recentRuns == nil)
    }

    @Test("an answer significantly worse than the gate on all the slot's replayed samples, weighed by class, is vetoed")
    func replayedRowsVeto() throws {
        var arbiter = AnswerArbiter()
        #expect(arbiter.settings.checksReplayedRows)
        // Counts won by the network on the class the stream shows (no class has stopped).
        for _ in 0..<40 {
            arbiter.record(slot: 0, label: 0, gate: false, network: true, product: false, prior: false)
            arbiter.record(slot: 0, label: 1, gate: true, network: true, product: true, prior: true)
        }
        #expect(arbiter.stoppedClasses(slot: 0) == [] && arbiter.answer(slot: 0) == .network)
        // On 12 replayed rows of class 1 the network is wrong where the gate is right: 12
        // losses (3.5 standard errors), the product 2 losses (1.4). The network is vetoed
        // and the product, which the counts do not find better than the gate, is not the
        // answer either: the gate answers.
        let gate = [Bool](repeating: true, count: 12)
        let network = [Bool](repeating: false, count: 12)
        let product = [false, false] + [Bool](repeating: true, count: 10)
        let ones = [Double](repeating: 1, count: 12)
        let none = [Bool](repeating: false, count: 12)
        arbiter.check(slot: 0, gate: gate, network: network, product: product, prior: none, replayed: (stopped: none, weights: ones))
        #expect(arbiter.answer(slot: 0) == .gate && arbiter.countedAnswer(slot: 0) == .network)
        let check = try #require(arbiter.stoppedCheck[0])
        #expect(check.network.wins == 0 && check.network.losses == 0 && check.replayed?[.network]?.losses == 12)
        // A holdout's decision is not vetoed on all the replayed rows (its own rows were
        // ones nothing learned from); the stopped classes' rows still veto it.
        var decided = arbiter
        decided.decide(slot: 0, gate: [false, false, false], network: [true, true, true], product: [false, false, false],
                       prior: [false, false, false])
        #expect(decided.decidedAnswer(slot: 0) == .network && decided.answer(slot: 0) == .network)
        #expect(decided.vetoed(.network, slot: 0) && !decided.vetoed(.network, slot: 0, onReplayedRows: false))
        // Behind by `replayedZ` (1) standard errors or less: it stands (a check on replayed
        // rows vetoes with evidence, not on a row). Two losses (1.41) veto it; settings saved
        // before `replayedZ` existed veto with `z` (1.5), and keep it.
        #expect(arbiter.settings.replayedZ == 1 && arbiter.settings.z == 1.5)
        let oneLoss = [false] + [Bool](repeating: true, count: 11)
        arbiter.check(slot: 0, gate: gate, network: oneLoss, product: product, prior: none, replayed: (stopped: none, weights: ones))
        #expect(arbiter.answer(slot: 0) == .network)
        arbiter.check(slot: 0, gate: gate, network: product, product: product, prior: none, replayed: (stopped: none, weights: ones))
        #expect(arbiter.answer(slot: 0) == .gate)
        let older = try JSONDecoder().decode(AnswerArbiter.self, from: JSONEncoder().encode(arbiter).withoutSetting("replayedZ"))
        #expect(older.settings.replayedZ == 1.5 && older.answer(slot: 0) == .network)
        // A quantile a user sets below 0 or not a number is refused with a sentence.
        for bad in [-1.0, .nan] {
            var settings = AnswerArbiter.Settings()
            settings.replayedZ = bad
            #expect(throws: LearnerError.invalidConfiguration("the arbiter's replayed-row z must be >= 0, got \(bad)")) {
                try settings.validate()
            }
        }
        // The rows count with their weights: 4 losses and 2 wins are 0.82 standard errors
        // behind unweighed, and 1.82 with the losses' class at weight 3 and the wins' at 0.5.
        let mixed = [false, false, false, false, true, true] + [Bool](repeating: true, count: 6)
        let gateMixed = [true, true, true, true, false, false] + [Bool](repeating: true, count: 6)
        arbiter.check(slot: 0, gate: gateMixed, network: mixed, product: gateMixed, prior: none, replayed: (stopped: none, weights: ones))
        #expect(arbiter.answer(slot: 0) == .network)
        let weights = [3.0, 3, 3, 3, 0.5, 0.5] + [Double](repeating: 1, count: 6)
        arbiter.check(slot: 0, gate: gateMixed, network: mixed, product: gateMixed, prior: none, replayed: (stopped: none, weights: weights))
        #expect(arbiter.answer(slot: 0) == .gate)
        // Rows of stopped classes among them are still checked as before: lost, vetoed.
        let firstTwo = [true, true] + [Bool](repeating: false, count: 10)
        arbiter.check(slot: 0, gate: gate, network: product, product: gate, prior: none, replayed: (stopped: firstTwo, weights: ones))
        #expect(arbiter.stoppedCheck[0]?.network.losses == 2 && arbiter.answer(slot: 0) == .gate)
        // Saved and read back whole; a check and settings saved before it read as not checked, off.
        let data = try JSONEncoder().encode(arbiter)
        #expect(try JSONDecoder().decode(AnswerArbiter.self, from: data) == arbiter)
        #expect(try readAsSavedWithout(["replayed"], check).replayed == nil)
        // Written in one order, whatever the dictionary's (which changes with the process).
        let written = try JSONSerialization.jsonObject(with: JSONEncoder().encode(check)) as! [String: Any]
        #expect((written["replayed"] as! [Any]).compactMap { $0 as? String } == ["network", "product", "prior"])
        #expect(!(try readAsSavedWithout(["checksReplayedRows"], AnswerArbiter.Settings())).checksReplayedRows)
    }

    @Test("counts kept on one class choose nothing: the gate answers until a second class comes")
    func countsNeedTwoClasses() throws {
        var arbiter = AnswerArbiter()
        #expect(arbiter.settings.countsNeedTwoClasses)
        // Thirty visits of class 2 where the network and the prior name it and the gate
        // does not: 30 to 0 in the counts, which a slot of one class cannot trust.
        for _ in 0..<30 { arbiter.record(slot: 1, label: 2, gate: false, network: true, product: false, prior: true) }
        #expect(arbiter.network[1].advantage > 5 && arbiter.countedAnswer(slot: 1) == .gate && arbiter.answer(slot: 1) == .gate)
        // Settings saved before the rule existed let the counts choose.
        let older = try JSONDecoder().decode(AnswerArbiter.self, from: JSONEncoder().encode(arbiter).withoutSetting("countsNeedTwoClasses"))
        #expect(!older.settings.countsNeedTwoClasses && older.answer(slot: 1) == .network)
        // A second class in the slot's first visits: the counts choose again.
        arbiter.record(slot: 1, label: 0, gate: true, network: true, product: true, prior: false)
        #expect(arbiter.answer(slot: 1) == .network)
        // A holdout's decision is not the counts': it stands in a slot of one class.
        var decided = AnswerArbiter()
        for _ in 0..<30 { decided.record(slot: 0, label: 2, gate: false, network: true, product: false, prior: true) }
        decided.decide(slot: 0, gate: [false, false, false], network: [true, true, true], product: [false, false, false],
                       prior: [false, false, false])
        #expect(decided.answer(slot: 0) == .network)
    }

    @Test("where the counts cannot judge the prior, it answers when it beat the gate on the replayed rows; the stream's most frequent class when it beat the mixture")
    func priorJudgedOnReplayedRows() throws {
        var arbiter = AnswerArbiter()
        #expect(arbiter.settings.judgesPriorOnReplayedRows && arbiter.settings.holdoutZ == 1)
        // Slot 0 shuffled (two classes taking turns at random), slot 1 of one class: only
        // slot 1's counts cannot judge a prior.
        var g = SeededGenerator(seed: 3)
        for _ in 0..<200 {
            arbiter.record(slot: 0, label: g.nextInt(below: 2), gate: true, network: true, product: true, prior: true)
        }
        for _ in 0..<50 { arbiter.record(slot: 1, label: 2, gate: true, network: true, product: true, prior: true) }
        #expect(!arbiter.countsCannotJudgePrior(slot: 0) && arbiter.countsCannotJudgePrior(slot: 1))
        #expect(!arbiter.countsCannotJudgePrior(slot: 2))
        // The stream's class shares, which the replayed rows are weighed to: the first
        // visits of every slot.
        let shares = arbiter.streamClassShares
        #expect(shares.keys.sorted() == [0, 1, 2] && abs(shares[2]! - 0.2) < 1e-12 && abs(shares.values.reduce(0, +) - 1) < 1e-12)
        // The prior ahead by 12 to 2 (2.67 standard errors) in both slots: only slot 1 answers with it.
        let gate = [Bool](repeating: true, count: 2) + [Bool](repeating: false, count: 12) + [Bool](repeating: true, count: 10)
        let prior = [Bool](repeating: false, count: 2) + [Bool](repeating: true, count: 12) + [Bool](repeating: true, count: 10)
        let ones = [Double](repeating: 1, count: gate.count)
        arbiter.notePriorJudged(slot: 0, gate: gate, prior: prior, weights: ones)
        arbiter.notePriorJudged(slot: 1, gate: gate, prior: prior, weights: ones)
        #expect(arbiter.priorJudged[1]?.advantage ?? 0 > 2.6)
        #expect(arbiter.answer(slot: 0) == .gate && arbiter.answer(slot: 1) == .prior)
        // Ahead by 6 to 4 (0.63 standard errors) is not enough; nor 12 to 2 where the two
        // rows the prior lost count five times as much (12 to 10, 0.25).
        let close = [Bool](repeating: false, count: 6) + [Bool](repeating: true, count: 4)
        arbiter.notePriorJudged(slot: 1, gate: close.map { !$0 }, prior: close, weights: close.map { _ in 1 })
        #expect(arbiter.answer(slot: 1) == .gate)
        arbiter.notePriorJudged(slot: 1, gate: gate, prior: prior, weights: [5, 5] + ones.dropFirst(2))
        #expect(arbiter.answer(slot: 1) == .gate)
        // A holdout's decision stands: rows nothing learned from judged it.
        arbiter.notePriorJudged(slot: 1, gate: gate, prior: prior, weights: ones)
        arbiter.decide(slot: 1, gate: [true, true, true], network: [true, true, true], product: [true, true, true],
                       prior: [true, true, true])
        #expect(arbiter.answer(slot: 1) == .gate && !arbiter.answersFromCounts(slot: 1))
        // The stream's most frequent class: answers while a slot's counts cannot judge it.
        #expect(!arbiter.answersMostFrequent)
        arbiter.noteMostFrequentJudged(mixture: gate, mostFrequent: prior, weights: ones)
        #expect(!arbiter.answersMostFrequent)   // slot 1 is decided now, slot 0 is shuffled
        var inRuns = AnswerArbiter()
        for _ in 0..<50 { inRuns.record(slot: 0, label: 0, gate: true, network: true, product: true, prior: true) }
        for _ in 0..<50 { inRuns.record(slot: 0, label: 1, gate: true, network: true, product: true, prior: false) }
        #expect(inRuns.labelsComeInRuns(slot: 0) && inRuns.countsCannotJudgePrior(slot: 0))
        inRuns.noteMostFrequentJudged(mixture: gate, mostFrequent: prior, weights: ones)
        #expect(inRuns.answersMostFrequent)
        inRuns.noteMostFrequentJudged(mixture: nil, mostFrequent: [], weights: [])
        #expect(!inRuns.answersMostFrequent)
        // A slot shuffled in a stream whose labels come in runs in another: its counts
        // favour the class of the moment as much, and cannot judge its prior either. A
        // prior they chose gives way when the gate led by more than one standard error.
        var mixed = inRuns
        for _ in 0..<200 {
            let y = g.nextInt(below: 10) == 0 ? 1 : 0
            mixed.record(slot: 1, label: y, gate: y == 1, network: false, product: false, prior: y == 0)
        }
        #expect(!mixed.labelsComeInRuns(slot: 1) && mixed.countsCannotJudgePrior(slot: 1))
        #expect(mixed.answer(slot: 1) == .prior)
        mixed.notePriorJudged(slot: 1, gate: close.map { !$0 }, prior: close, weights: close.map { _ in 1 })
        // The gate ahead by 6 to 4 (0.63 standard errors): not enough to overrule the counts.
        let lead = mixed.priorLeadOnReplayedRows(slot: 1) ?? 0
        #expect(lead < 0 && lead > -1 && mixed.answer(slot: 1) == .prior)
        mixed.notePriorJudged(slot: 1, gate: prior, prior: gate, weights: ones)
        #expect(mixed.priorLeadOnReplayedRows(slot: 1)! < -2 && mixed.answer(slot: 1) == .gate)
        // Saved and read back, the same; saved before the judgement existed, it is off and
        // nothing was judged.
        inRuns.noteMostFrequentJudged(mixture: gate, mostFrequent: prior, weights: ones)
        inRuns.notePriorJudged(slot: 0, gate: gate, prior: prior, weights: ones)
        let again = try JSONDecoder().decode(AnswerArbiter.self, from: JSONEncoder().encode(inRuns))
        #expect(again == inRuns && again.answer(slot: 0) == .prior && again.answersMostFrequent)
        let older = try readAsSavedWithout(["priorJudged", "mostFrequentJudged"], inRuns)
        #expect(older.priorJudged.isEmpty && older.mostFrequentJudged == nil && older.answer(slot: 0) == .gate)
        let olderSettings = try JSONDecoder().decode(AnswerArbiter.self, from: JSONEncoder().encode(inRuns)
            .withoutSetting("judgesPriorOnReplayedRows"))
        #expect(!olderSettings.settings.judgesPriorOnReplayedRows)
        #expect(olderSettings.answer(slot: 0) == .gate && !olderSettings.answersMostFrequent)
    }

    @Test("a prior the counts chose in a shuffled slot gives way when the gate led it on the replayed rows; they never give it")
    func countedPriorJudgedOnReplayedRows() throws {
        var arbiter = AnswerArbiter()
        #expect(arbiter.settings.judgesCountedPrior)
        // Slot 0 shuffled, its counts for the prior: 40 rows only it got right, 10 only the gate.
        var g = SeededGenerator(seed: 5)
        for i in 0..<200 {
            let y = g.nextInt(below: 2)
            let priorRight = i < 40 || i >= 50
            arbiter.record(slot: 0, label: y, gate: i >= 40, network: false, product: false, prior: priorRight)
        }
        #expect(!arbiter.countsCannotJudgePrior(slot: 0) && arbiter.answer(slot: 0) == .prior)
        #expect(arbiter.countedPriorJudgedSlots == [0] && arbiter.priorJudgedSlots.isEmpty)
        #expect(arbiter.countedPriorLeadOnReplayedRows(slot: 0) == nil)
        // The gate ahead by 6 to 4 on the replayed rows (0.63 standard errors): the prior stays.
        let close = [Bool](repeating: false, count: 6) + [Bool](repeating: true, count: 4)
        let ones = close.map { _ in 1.0 }
        arbiter.noteCountedPriorJudged(slot: 0, gate: close.map { !$0 }, prior: close, weights: ones)
        #expect(arbiter.countedPriorLeadOnReplayedRows(slot: 0)! < 0 && arbiter.answer(slot: 0) == .prior)
        // Ahead by 12 to 2 (2.67 standard errors): the gate answers.
        let gate = [Bool](repeating: true, count: 12) + [Bool](repeating: false, count: 2)
        let prior = gate.map { !$0 }
        arbiter.noteCountedPriorJudged(slot: 0, gate: gate, prior: prior, weights: gate.map { _ in 1 })
        #expect(arbiter.countedPriorLeadOnReplayedRows(slot: 0)! < -2.6 && arbiter.answer(slot: 0) == .gate)
        // Still judged (the counts still choose it), and saved and read back the same.
        #expect(arbiter.countedPriorJudgedSlots == [0])
        let again = try JSONDecoder().decode(AnswerArbiter.self, from: JSONEncoder().encode(arbiter))
        #expect(again == arbiter && again.answer(slot: 0) == .gate)
        // The replayed rows never give the prior a slot whose counts did not choose it.
        var gateSlot = AnswerArbiter()
        for _ in 0..<200 {
            gateSlot.record(slot: 0, label: g.nextInt(below: 2), gate: true, network: false, product: false, prior: false)
        }
        #expect(gateSlot.countedPriorJudgedSlots.isEmpty)
        gateSlot.noteCountedPriorJudged(slot: 0, gate: prior, prior: gate, weights: gate.map { _ in 1 })
        #expect(gateSlot.countedPriorLeadOnReplayedRows(slot: 0)! > 2.6 && gateSlot.answer(slot: 0) == .gate)
        // Settings saved before the judgement existed read it as off: the counts' prior answers.
        let older = try JSONDecoder().decode(AnswerArbiter.self, from: JSONEncoder().encode(arbiter)
            .withoutSetting("judgesCountedPrior"))
        #expect(!older.settings.judgesCountedPrior && older.countedPriorJudgedSlots.isEmpty)
        #expect(older.countedPriorLeadOnReplayedRows(slot: 0) == nil && older.answer(slot: 0) == .prior)
        let unjudged = try readAsSavedWithout(["countedPriorJudged"], arbiter)
        #expect(unjudged.countedPriorJudged.isEmpty && unjudged.answer(slot: 0) == .prior)
    }

    @Test("a class the slot stopped seeing is one its share would have shown in the window; an answer worse there is vetoed")
    func stoppedClasses() throws {
        var arbiter = AnswerArbiter()
        // One sample of class 2, class 0 for 100 visits, class 1 for 60: the window is
        // min(512, 161 / 2) = 80 visits, and class 0 has not come for 60 (not stopped).
        // After 45 more of class 1 the window is 103 and class 0 has not come for 105 (its
        // share would have put 50 there: stopped); class 2 (0.5 there) is rare, not stopped.
        arbiter.record(slot: 0, label: 2, gate: true, network: true, product: true, prior: true)
        for _ in 0..<100 { arbiter.record(slot: 0, label: 0, gate: false, network: true, product: false, prior: false) }
        for _ in 0..<60 { arbiter.record(slot: 0, label: 1, gate: false, network: true, product: false, prior: false) }
        #expect(arbiter.stoppedClasses(slot: 0) == [])
        for _ in 0..<45 { arbiter.record(slot: 0, label: 1, gate: false, network: true, product: false, prior: false) }
        #expect(arbiter.stoppedClasses(slot: 0) == [0])
        #expect(arbiter.stoppedClasses(slot: 1) == [])
        // The counts choose the network; the replayed samples of class 0 say it forgot them.
        #expect(arbiter.answer(slot: 0) == .network && arbiter.countedAnswer(slot: 0) == .network)
        arbiter.check(slot: 0, gate: [true, true, true, false], network: [false, false, true, true],
                      product: [true, true, true, true], prior: [false, false, false, false])
        #expect(arbiter.answer(slot: 0) == .gate && arbiter.countedAnswer(slot: 0) == .network)
        // Not worse there: the counts' answer stands; nothing to check lifts the veto too.
        arbiter.check(slot: 0, gate: [true, false], network: [false, true], product: [true, true], prior: [false, false])
        #expect(arbiter.answer(slot: 0) == .network)
        arbiter.check(slot: 0, gate: [true, true], network: [false, false], product: [true, true], prior: [false, false])
        #expect(arbiter.answer(slot: 0) == .gate)
        arbiter.check(slot: 0, gate: nil, network: [], product: [], prior: [])
        #expect(arbiter.answer(slot: 0) == .network)
        // A holdout's decision is vetoed the same way.
        var decided = arbiter
        decided.decide(slot: 0, gate: [false, false], network: [false, false], product: [true, true], prior: [false, false])
        #expect(decided.decidedAnswer(slot: 0) == .product && decided.answer(slot: 0) == .product)
        decided.check(slot: 0, gate: [true], network: [true], product: [false], prior: [false])
        #expect(decided.answer(slot: 0) == .network)  // the counts' choice, which the check does not veto
        // A check is made again only when what it compares moved.
        let key = AnswerArbiter.CheckKey(answer: .network, stopped: [0], headSamples: 206, headShrinkage: 0)
        #expect(!arbiter.wasChecked(slot: 0, with: key))
        arbiter.noteChecked(slot: 0, with: key)
        #expect(arbiter.wasChecked(slot: 0, with: key))
        #expect(!arbiter.wasChecked(slot: 0, with: AnswerArbiter.CheckKey(answer: .network, stopped: [0], headSamples: 412, headShrinkage: 0)))
        #expect(!arbiter.wasChecked(slot: 1, with: key))
        // Saved and read back whole; saved before the check existed, it starts counting.
        let data = try JSONEncoder().encode(arbiter)
        #expect(try JSONDecoder().decode(AnswerArbiter.self, from: data) == arbiter)
        var old = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        for key in ["visits", "classSamples", "lastVisit", "stoppedCheck", "checkedWith", "repeats", "lastLabel"] { old.removeValue(forKey: key) }
        var settings = old["settings"] as! [String: Any]
        settings.removeValue(forKey: "checksStoppedClasses")
        settings.removeValue(forKey: "stoppedWindow")
        old["settings"] = settings
        let read = try JSONDecoder().decode(AnswerArbiter.self, from: JSONSerialization.data(withJSONObject: old))
        #expect(read.visits.isEmpty && read.stoppedClasses(slot: 0) == [] && !read.settings.checksStoppedClasses
                && !read.wasChecked(slot: 0, with: key))
        // A window of no samples is refused with a sentence.
        var settings0 = AnswerArbiter.Settings()
        settings0.stoppedWindow = 0
        #expect(throws: LearnerError.invalidConfiguration("the arbiter's stopped-class window must be at least 1 sample, got 0")) {
            try settings0.validate()
        }
        // Counts that disagree in length are refused.
        old["visits"] = [3]
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(AnswerArbiter.self, from: JSONSerialization.data(withJSONObject: old)) }
    }

    @Test("without a significant advantage the gate answers")
    func gateByDefault() {
        var arbiter = AnswerArbiter()
        record(&arbiter, [(11, false, true, true), (9, true, false, false)])
        #expect(arbiter.answer(slot: 0) == .gate)
        record(&arbiter, [(40, false, false, true)])
        #expect(arbiter.answer(slot: 0) == .product)
    }
}

/// `value` as a file saved before `keys` existed reads it back: encoded as JSON, the keys
/// taken out of the top-level object, decoded.
func readAsSavedWithout<T: Codable>(_ keys: [String], _ value: T) throws -> T {
    var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(value)) as! [String: Any]
    for key in keys { object.removeValue(forKey: key) }
    return try JSONDecoder().decode(T.self, from: JSONSerialization.data(withJSONObject: object))
}
