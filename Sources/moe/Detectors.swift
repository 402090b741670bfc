import ArgumentParser
import Continual
import Foundation
import MoE

struct Detectors: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find a checkpoint's error detectors: hidden neurons whose activation covaries negatively with being right.",
        discussion: """
            The model runs over the data (Fashion-MNIST's test split, or CSV rows with \
            --source); a CovarianceTracker gathers, for every hidden neuron, its covariance \
            with correctness (or with the per-sample loss, --target loss). A neuron is a \
            detector when rho <= -MIN-RHO, t <= -MIN-T and it survives the false-discovery \
            guard over all hidden neurons (METHOD.md section 1; docs/algorithm.md). One \
            table per hidden layer: neuron, rho, t, n and the one-sided p-value.
            """)

    @Argument(help: "The checkpoint file (a bare name means Checkpoints/NAME.h5).")
    var checkpoint: String

    @OptionGroup var data: DataSourceOptions

    @OptionGroup var keys: CheckpointKeyOptions

    @Option(name: .customLong("min-rho"), help: "Smallest |rho| that makes a detector, in [0, 1].")
    var minimumCorrelation: Double = ErrorDetectors().minimumCorrelation

    @Option(name: .customLong("min-t"), help: "Smallest |t| that makes a detector.")
    var minimumT: Double = ErrorDetectors().minimumT

    @Option(name: .customLong("false-discovery"), help: "Guard over all tested neurons: bh:Q (Benjamini-Hochberg at rate Q), bonferroni:ALPHA, or none.")
    var falseDiscovery: String = "bh:0.05"

    @Option(help: "What activations are correlated with: correctness or loss.")
    var target: TargetArgument = .correctness

    @OptionGroup var output: JSONOutputOption

    enum TargetArgument: String, ExpressibleByArgument, CaseIterable {
        case correctness, loss

        var target: CovarianceTracker.Target { self == .loss ? .loss : .correctness }
    }

    func validate() throws {
        guard minimumCorrelation >= 0 && minimumCorrelation <= 1 else {
            throw ValidationError("--min-rho must be between 0 and 1, got \(minimumCorrelation)")
        }
        guard minimumT >= 0 && minimumT.isFinite else {
            throw ValidationError("--min-t must be a non-negative number, got \(minimumT)")
        }
        guard parsedFalseDiscovery != nil else {
            throw ValidationError("--false-discovery must be bh:Q or bonferroni:ALPHA with a rate in (0, 1), or none; got '\(falseDiscovery)'")
        }
    }

    var parsedFalseDiscovery: ErrorDetectors.FalseDiscoveryControl? {
        if falseDiscovery == "none" { return ErrorDetectors.FalseDiscoveryControl.none }
        let parts = falseDiscovery.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let rate = Double(parts[1]), rate > 0, rate < 1 else { return nil }
        switch parts[0] {
        case "bh": return .benjaminiHochberg(rate: rate)
        case "bonferroni": return .bonferroni(familyWiseRate: rate)
        default: return nil
        }
    }

    /// The report with what only the command knows, flattened into one object.
    struct Output: Encodable {
        var report: DetectorReport
        var checkpoint: String
        var data: String
        var samples: Int
        var accuracy: Double
        var detectorCount: Int

        enum Keys: String, CodingKey { case checkpoint, data, samples, accuracy, detectorCount }

        func encode(to encoder: any Encoder) throws {
            try report.encode(to: encoder)
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(checkpoint, forKey: .checkpoint)
            try container.encode(data, forKey: .data)
            try container.encode(samples, forKey: .samples)
            try container.encode(accuracy, forKey: .accuracy)
            try container.encode(detectorCount, forKey: .detectorCount)
        }
    }

    func run() throws {
        let console = Console(json: output.json)
        let loaded = try loadCheckpoint(checkpoint, keys: keys)
        let file = loaded.source ?? checkpoint
        let model = try failingClearly { try loaded.makeModel() }
        guard model.hiddenLayerCount > 0 else {
            throw CommandFailure("checkpoint '\(file)' has no hidden layer, so it has no neurons to test")
        }
        var tracker = CovarianceTracker(model: model, target: target.target)
        var correct = 0
        let dataName = try data.forEachBatch(for: model, of: loaded, file: file) { features, labels in
            let right = tracker.update(model.forward(features), labels: labels)
            correct += right.reduce(0) { $0 + ($1 ? 1 : 0) }
        }.name
        let samples = tracker.samplesSeen
        guard samples > 0 else { throw CommandFailure("\(dataName) holds no samples") }
        let rule = ErrorDetectors(minimumCorrelation: minimumCorrelation, minimumT: minimumT, falseDiscovery: parsedFalseDiscovery!)
        let report = rule.report(tracker)
        let accuracy = Double(correct) / Double(samples)
        let widths = model.trunk.hiddenWidths.map(String.init).joined(separator: ",")
        console.say("checkpoint \(file): \(model.inputWidth) inputs, hidden widths \(widths), \(model.classCount) classes, \(model.experts.count) expert(s)")
        console.say("\(samples) samples of \(dataName), accuracy \(fixed(accuracy))")
        console.say(report.table())
        try console.emit(Output(report: report, checkpoint: file, data: dataName, samples: samples,
                                accuracy: accuracy, detectorCount: report.count))
    }
}
