import Foundation

extension LearnerConfiguration {
    /// The configuration with the keys of a JSON object put in place: nested objects are
    /// merged key by key (`{"growth": {"cooldownSamples": 256}}` changes one threshold);
    /// an enumeration's value (`{"inputScaling": {"none": {}}}`) and arrays replace the old
    /// value whole; `null` clears an optional setting. The result is validated.
    ///
    /// - Parameters:
    ///   - json: The JSON object.
    ///   - source: What the JSON is called in errors (its file).
    /// - Throws: `LearnerError.invalidConfiguration` naming the source and the key at fault:
    ///   JSON that is not an object, a key the configuration does not have, a value of the
    ///   wrong type, or a value `validate()` refuses.
    public func patched(with json: Data, source: String) throws(LearnerError) -> LearnerConfiguration {
        func fail(_ reason: String) -> LearnerError { .invalidConfiguration("\(source): \(reason)") }
        let patch: [String: Any]
        let base: [String: Any]
        do {
            guard let object = try JSONSerialization.jsonObject(with: json) as? [String: Any] else {
                throw fail("the learner configuration must be a JSON object")
            }
            patch = object
            base = try JSONSerialization.jsonObject(with: JSONEncoder().encode(self)) as! [String: Any]
        } catch let error as LearnerError {
            throw error
        } catch {
            throw fail("not JSON: \(error.localizedDescription)")
        }
        func merge(_ old: [String: Any], _ new: [String: Any]) -> [String: Any] {
            var result = old
            for (key, value) in new {
                // Objects merge key by key (a key absent from the base is an optional
                // setting left at nil, such as arbiter.fixed); a one-key object replacing
                // another one-key object is an enum switching cases (gate: learned).
                if let before = old[key] as? [String: Any], let after = value as? [String: Any],
                   !(before.count == 1 && after.count == 1 && before.keys != after.keys) {
                    result[key] = merge(before, after)
                } else {
                    result[key] = value
                }
            }
            return result
        }
        let configuration: LearnerConfiguration
        do {
            let data = try JSONSerialization.data(withJSONObject: merge(base, patch))
            configuration = try JSONDecoder().decode(LearnerConfiguration.self, from: data)
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.dataCorrupted(context) {
            throw fail("the value at '\(context.codingPath.map(\.stringValue).joined(separator: "."))' is not valid: \(context.debugDescription)")
        } catch let DecodingError.keyNotFound(key, context) {
            throw fail("'\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))' is missing")
        } catch {
            throw fail("\(error)")
        }
        // A key the decoder ignored is a typo: it would silently change nothing.
        let decoded = (try? JSONSerialization.jsonObject(with: JSONEncoder().encode(configuration))) as? [String: Any] ?? [:]
        // A null clears an optional setting the defaults have (inputScaling.online.settle).
        func unknown(_ given: [String: Any], _ known: [String: Any], _ defaults: [String: Any], path: String) -> String? {
            for key in given.keys.sorted() {
                let here = path.isEmpty ? key : "\(path).\(key)"
                if given[key] is NSNull && known[key] == nil && defaults[key] != nil { continue }
                guard let value = known[key] else { return here }
                if let inner = given[key] as? [String: Any], let knownInner = value as? [String: Any],
                   let found = unknown(inner, knownInner, defaults[key] as? [String: Any] ?? [:], path: here) { return found }
            }
            return nil
        }
        if let key = unknown(patch, decoded, base, path: "") {
            throw fail("the learner configuration has no key '\(key)'")
        }
        do {
            try configuration.validate()
        } catch {
            // The reason alone: the error's own description would say "invalid learner
            // configuration" a second time.
            if case let .invalidConfiguration(reason) = error { throw fail(reason) }
            throw fail(error.description)
        }
        return configuration
    }
}
