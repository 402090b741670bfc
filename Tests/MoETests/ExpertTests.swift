import Foundation
import Testing
import MoE
import TestSupport

@Suite("Expert")
struct ExpertTests {
    /// Hidden activations of a pretend trunk: layer 0 is 4 x 5, layer 1 is 4 x 3.
    let input = randomMatrix(4, 6, seed: 1)
    let hidden = [randomMatrix(4, 5, seed: 2), randomMatrix(4, 3, seed: 3)]

    func expert(_ context: Expert.Context, layer: Int = 1, detectors: [Int] = [2, 0]) -> Expert {
        var g = SeededGenerator(seed: 4)
        let contextWidth = [Expert.Context.none: 0, .layerInput: layer == 0 ? 6 : 5, .layerOutput: 3][context]!
        return Expert(layer: layer, detectors: detectors, context: context, layerWidth: hidden[layer].columns,
                      contextWidth: contextWidth, hiddenWidth: 7, outputWidth: 3, classes: [1, 2], generator: &g)
    }

    @Test("reads its detectors, then its context", arguments: Expert.Context.allCases)
    func input(_ context: Expert.Context) {
        let e = expert(context)
        let u = e.input(hidden: hidden, networkInput: input)
        let detectors = hidden[1].gatherColumns([2, 0])
        let expected: Matrix = switch context {
        case .none: detectors
        case .layerInput: detectors.concatenatingColumns(hidden[0])
        case .layerOutput: detectors.concatenatingColumns(hidden[1])
        }
        #expect(u == expected)
        #expect(e.inputWidth == expected.columns)
        // A subset of rows reads exactly those rows.
        #expect(e.input(hidden: hidden, networkInput: input, rows: [3, 1]) == expected.gatherRows([3, 1]))
    }

    @Test("layer input of hidden layer 0 is the network input")
    func layerZeroContext() {
        let e = expert(.layerInput, layer: 0, detectors: [4])
        #expect(e.input(hidden: hidden, networkInput: input) == hidden[0].gatherColumns([4]).concatenatingColumns(input))
    }

    @Test("a new expert changes nothing: its output layer is zero")
    func startsAsNoCorrection() {
        let e = expert(.layerInput)
        let out = e(hidden: hidden, networkInput: input)
        #expect(out.shape == [4, 3])
        #expect(out.scalars.allSatisfy { $0 == 0 })
        #expect(e.parameterPaths == ["0.weight", "0.bias", "2.weight", "2.bias"])
        #expect(e.network.layers[0].kind == .dense(inputs: 7, outputs: 7))
        #expect(e.hiddenWidth == 7 && e.outputWidth == 3 && e.contextWidth == 5)
    }

    @Test("architecture round-trips through JSON and rebuilds the same shapes")
    func architecture() throws {
        let e = expert(.layerOutput)
        let data = try JSONEncoder().encode(e.architecture)
        let decoded = try JSONDecoder().decode(Expert.Architecture.self, from: data)
        #expect(decoded == e.architecture)
        let rebuilt = Expert(architecture: decoded)
        #expect(rebuilt.architecture == e.architecture)
        #expect(rebuilt.parameterPaths == e.parameterPaths)
        #expect(rebuilt.network.kinds == e.network.kinds)
        #expect(rebuilt.classes == [1, 2] && rebuilt.detectors == [2, 0])
    }
}
