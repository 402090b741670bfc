import Foundation
import Testing
@testable import Continual

@Suite("Prequential kappa")
struct PrequentialKappaTests {
    @Test("Cohen's kappa against chance and the temporal kappa against repeating the last label, from the counts")
    func figures() {
        var tally = PrequentialKappa.Tally()
        #expect(tally.kappa == nil && tally.kappaTemporal == nil && tally.noChangeAccuracy == nil)
        // Labels 0 0 1 1 2, predicted 0 1 1 1 0: p0 = 0.6; chance (2·2 + 2·3 + 1·0) / 25 = 0.4;
        // the no-change classifier right on rows 2 and 4: 0.4.
        tally.add(labels: [0, 0, 1], predicted: [0, 1, 1])
        tally.add(labels: [1, 2], predicted: [1, 0])
        #expect(tally.confusion == [[1, 1, 0], [0, 2, 0], [1, 0, 0]] && tally.samples == 5 && tally.correct == 3)
        #expect(abs(tally.kappa! - 1.0 / 3) < 1e-12)
        #expect(tally.noChangeAccuracy == 0.4 && abs(tally.kappaTemporal! - 1.0 / 3) < 1e-12)
        #expect(tally.isValid)

        // A class beyond those seen widens the table; a learner that always answers the one
        // class of a stream has no kappa to give (chance agrees with it for certain), and one
        // of a stream whose labels all repeat has no temporal kappa.
        var late = PrequentialKappa.Tally()
        late.add(labels: [3], predicted: [0])
        #expect(late.confusion.count == 4 && late.confusion[3][0] == 1 && late.isValid)
        var one = PrequentialKappa.Tally()
        one.add(labels: [1, 1, 1], predicted: [1, 1, 1])
        #expect(one.kappa == nil && one.noChangeAccuracy == 2.0 / 3 && one.kappaTemporal == 1)
        // Worse than repeating the last label: below 0.
        var runs = PrequentialKappa.Tally()
        runs.add(labels: [0, 0, 0, 1, 1, 1], predicted: [1, 0, 1, 0, 1, 0])
        #expect(runs.kappaTemporal! < 0)
    }

    @Test("counts a crafted checkpoint gives that are not a stream's are refused, naming the section")
    func refused() throws {
        var tally = PrequentialKappa.Tally()
        tally.add(labels: [0, 1], predicted: [0, 0])
        let plugin = PrequentialKappa()
        try plugin.restore(from: try CheckpointSection(json: tally, format: "kappa-json"))
        #expect(plugin.tally == tally)
        for change in [{ (t: inout PrequentialKappa.Tally) in t.samples = 3 }, { $0.confusion[0][1] = -1 },
                       { $0.confusion = [[1, 0], [1]] }, { $0.repeated = 5 }, { $0.previous = 7 }] {
            var bad = tally
            change(&bad)
            var section = try CheckpointSection(json: bad, format: "kappa-json")
            section.origin = CheckpointOrigin(file: "paused.h5", path: "/sections/kappa")
            #expect(performing: { try plugin.restore(from: section) }, throws: {
                "\($0)".contains("/sections/kappa") && "\($0)".contains("paused.h5") && "\($0)".contains("the kappa counts are not a stream's")
            })
        }
        #expect(plugin.tally == tally)
    }
}
