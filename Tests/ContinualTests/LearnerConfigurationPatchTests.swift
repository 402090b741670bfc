import Foundation
import Testing
import Continual

/// `--learner-config`: a JSON object whose keys replace the defaults, nested objects key by key.
@Suite("Learner configuration patches")
struct LearnerConfigurationPatchTests {
    func patch(_ json: String) throws(LearnerError) -> LearnerConfiguration {
        try LearnerConfiguration().patched(with: Data(json.utf8), source: "patch.json")
    }

    @Test("a nested key changes that key only")
    func nestedKey() throws {
        let c = try patch(#"{"growth": {"cooldownSamples": 256}}"#)
        var expected = LearnerConfiguration()
        expected.growth.cooldownSamples = 256
        #expect(c == expected)
    }

    @Test("an optional setting left at nil by the defaults can be set inside its object")
    func optionalInsideObject() throws {
        let c = try patch(#"{"arbiter": {"fixed": "network"}}"#)
        #expect(c.arbiter.fixed == .network)
        #expect(c.arbiter.z == LearnerConfiguration().arbiter.z && c.arbiter.halfLife == LearnerConfiguration().arbiter.halfLife)
    }

    @Test("an enumeration switches cases whole")
    func enumerationSwitches() throws {
        let c = try patch(#"{"gate": {"learned": {}}, "growth": {"enabled": false}}"#)
        #expect(c.gate == .learned && !c.growth.enabled)
        #expect(c.growth.cooldownSamples == LearnerConfiguration().growth.cooldownSamples)
    }

    @Test("input scaling: settle, winsorise, anchored, widened and trend tails can be changed or removed; a configuration saved without them reads them as off")
    func inputScalingSettle() throws {
        #expect(try patch(#"{"inputScaling": {"online": {"evidence": 32, "clip": 3, "settle": 256}}}"#).inputScaling
            == .online(evidence: 32, clip: 3, settle: 256, winsorise: nil, anchored: true, trendTails: true))
        #expect(try patch(#"{"inputScaling": {"online": {"evidence": 8, "clip": 2}}}"#).inputScaling
            == .online(evidence: 8, clip: 2, settle: 128, winsorise: nil, anchored: true, trendTails: true))
        #expect(try patch(#"{"inputScaling": {"online": {"settle": null}}}"#).inputScaling
            == .online(evidence: 32, clip: 3, settle: nil, winsorise: nil, anchored: true, trendTails: true))
        #expect(try patch(#"{"inputScaling": {"online": {"anchored": false}}}"#).inputScaling
            == .online(evidence: 32, clip: 3, settle: 128, winsorise: nil, anchored: false, trendTails: true))
        #expect(try patch(#"{"inputScaling": {"online": {"widensTails": true}}}"#).inputScaling
            == .online(evidence: 32, clip: 3, settle: 128, winsorise: nil, anchored: true, widensTails: true, trendTails: true))
        #expect(try patch(#"{"inputScaling": {"online": {"trendTails": false}}}"#).inputScaling
            == .online(evidence: 32, clip: 3, settle: 128, winsorise: nil, anchored: true))
        #expect(try patch(#"{"inputScaling": {"none": {}}}"#).inputScaling == LearnerConfiguration.InputScaling.none)
        let old = try JSONDecoder().decode(LearnerConfiguration.InputScaling.self, from: Data(#"{"online": {"evidence": 32, "clip": 3}}"#.utf8))
        #expect(old == .online(evidence: 32, clip: 3, settle: nil, winsorise: nil, anchored: false))
        #expect(try patch(#"{"inputScaling": {"online": {"winsorise": 20}}}"#).inputScaling
            == .online(evidence: 32, clip: 3, settle: 128, winsorise: 20, anchored: true, trendTails: true))
        #expect { try patch(#"{"inputScaling": {"online": {"winsorise": -1}}}"#) } throws: { "\($0)".contains("winsorising") }
        let now = LearnerConfiguration().inputScaling
        #expect(try JSONDecoder().decode(LearnerConfiguration.InputScaling.self, from: JSONEncoder().encode(now)) == now)
        #expect { try patch(#"{"inputScaling": {"online": {"evidence": 32, "clip": 3, "settle": 0}}}"#) } throws: { "\($0)".contains("settle") }
    }

    @Test("a misspelt key, a wrong type and a refused value are errors naming the key")
    func errors() {
        #expect { try patch(#"{"growth": {"cooldownSample": 1}}"#) } throws: { "\($0)".contains("growth.cooldownSample") && "\($0)".contains("patch.json") }
        #expect { try patch(#"{"arbiter": {"fixed": "oracle"}}"#) } throws: { "\($0)".contains("arbiter.fixed") }
        #expect { try patch(#"{"arbiter": {"z": -1}}"#) } throws: { "\($0)".contains("z") }
        // A refused value is said once, after the file's name.
        #expect { try patch(#"{"recentShares": {"halfLives": []}}"#) } throws: {
            "\($0)" == "invalid learner configuration: patch.json: the recent shares' half-lives must be 1 to 16 positive numbers of samples, got []"
        }
        #expect { try patch(#"[1, 2]"#) } throws: { "\($0)".contains("JSON object") }
    }
}
