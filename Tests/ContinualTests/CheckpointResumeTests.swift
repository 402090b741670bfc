import Continual
import MoE
import Testing
import TestSupport

@Suite("Checkpoint resume")
struct CheckpointResumeTests {
    @Test("N steps, save, load, M steps is bit-identical to N+M steps without stopping")
    func exactResume() throws {
        let n = 5, m = 7
        var (model, adam, data) = CheckpointFixtures.checkpointFixture(steps: 0, seed: 21)
        var reference = (model: model, adam: adam, data: data)
        for _ in 0..<(n + m) { CheckpointFixtures.trainingStep(&reference.model, &reference.adam, &reference.data) }

        for _ in 0..<n { CheckpointFixtures.trainingStep(&model, &adam, &data) }
        try withTemporaryDirectory { directory in
            let path = directory.path("resume.h5")
            let training = Checkpoint.TrainingState(counters: ["step": Int64(n)], generators: ["data": data.state])
            try Checkpoint(model: model, optimizer: adam, training: training).save(to: path)

            let loaded = try Checkpoint.load(from: path)
            var resumed = try loaded.makeModel()
            var resumedAdam = try loaded.makeAdam(for: resumed)
            var resumedData = try loaded.generator("data")
            #expect(loaded.training?.counters["step"] == Int64(n))
            for _ in 0..<m { CheckpointFixtures.trainingStep(&resumed, &resumedAdam, &resumedData) }

            #expect(resumed.parameters == reference.model.parameters)
            #expect(resumed.frozen == reference.model.frozen)
            #expect(resumedAdam.firstMoments == reference.adam.firstMoments)
            #expect(resumedAdam.secondMoments == reference.adam.secondMoments)
            #expect(resumedAdam.steps == reference.adam.steps)
            #expect(resumedData == reference.data)
            let probe = randomMatrix(16, 6, seed: 77)
            #expect(resumed(probe) == reference.model(probe))
            // And training did move the model: the comparison is not between two copies of the start.
            #expect(resumed.parameters != model.parameters)
        }
    }
}
