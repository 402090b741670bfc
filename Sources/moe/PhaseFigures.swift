import Continual

/// Where a stream's time and floating-point work went, by phase: the driver's reading and
/// evaluation, the learner's own phases (`LearnerProfile`), and what of the learner's time
/// no phase claims. `moe stream --json` and every row of `moe suite --json` report it.
struct PhaseFigures {
    var seconds: [String: Double]
    var flops: [String: Double]

    init(_ driver: StreamDriver<Learner>) {
        let timing = driver.timing
        let profile = driver.learner?.profile ?? LearnerProfile()
        seconds = ["read": timing.read, "reports": timing.reports, "evaluation": timing.evaluation,
                   "checkpoint": timing.checkpoint, "learner_other": max(0, timing.learn - profile.total)]
        for phase in profile.phases { seconds[phase.name] = phase.seconds }
        flops = profile.flops.merging(["evaluation": timing.evaluationFlops]) { $1 }
    }
}
