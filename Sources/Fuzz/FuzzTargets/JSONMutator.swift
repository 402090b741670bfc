import Foundation
import MoE

/// Mutations of JSON text that keep it JSON: a value replaced by an interesting number,
/// a Boolean, a string or a subtree of another document; a key or array element removed
/// or repeated. Byte mutations of JSON almost always break its syntax, so they rarely
/// reach the code that reads the decoded values; these do.
public enum JSONMutator {
    static var numbers: [Any] { [
        0, 1, 2, 3, 4, 5, 7, 8, 16, -1, -2, 255, 1 << 16, 1 << 24, (1 << 24) + 1, 1 << 31, (1 << 31) - 1,
        1 << 32, Int.max, Int.min, 0.5, -0.5, 1e300,
    ] }

    /// A mutant of `bytes`, or nil when `bytes` is not a JSON object or array. Mostly
    /// keeps the kind of the value it changes (numbers stay numbers, arrays arrays, an
    /// object may become the same object of another document), so that most mutants
    /// still decode; one in ten puts anything anywhere.
    /// `donors` are documents whose values and strings may be spliced in.
    public static func mutate(_ bytes: [UInt8], donors: [[UInt8]], using generator: inout SeededGenerator) -> [UInt8]? {
        guard var root = try? JSONSerialization.jsonObject(with: Data(bytes)), root is [String: Any] || root is [Any] else {
            return nil
        }
        let donorTrees = donors.compactMap { try? JSONSerialization.jsonObject(with: Data($0)) }
        let paths = Self.paths(in: root, prefix: [])
        let path = paths[generator.nextInt(below: paths.count)]
        let node = Self.value(in: root, at: path)!
        // The same place in another document, if it has one.
        let donated = donorTrees.isEmpty ? nil : Self.value(in: donorTrees[generator.nextInt(below: donorTrees.count)], at: path)
        var value: Any?
        if generator.nextInt(below: 10) == 0 {
            // Anything at all: a number, a Boolean, a string, any subtree of another document, removal.
            switch generator.nextInt(below: 5) {
            case 0: value = numbers[generator.nextInt(below: numbers.count)]
            case 1: value = generator.nextInt(below: 2) == 0
            case 2: value = Self.anyString(donorTrees, &generator)
            case 3 where !donorTrees.isEmpty:
                let donor = donorTrees[generator.nextInt(below: donorTrees.count)]
                let donorPaths = Self.paths(in: donor, prefix: [])
                value = Self.value(in: donor, at: donorPaths[generator.nextInt(below: donorPaths.count)])
            default: value = nil
            }
        } else if let number = node as? NSNumber, !(node is String) {
            // Keep the kind of number: a Boolean flips, an integer becomes an interesting or nearby one.
            switch String(cString: number.objCType) {
            case "c": value = !number.boolValue
            case "d", "f": value = [0, -1, 0.5, 1e30, -1e30, 3.4e38][generator.nextInt(below: 6)] as Double
            default:
                let n = number.intValue
                let nearby = [n &+ 1, n &- 1, n &* 2, -n, n / 2]
                value = generator.nextInt(below: 2) == 0 ? nearby[generator.nextInt(below: nearby.count)]
                    : numbers[generator.nextInt(below: 20)]
            }
        } else if node is String {
            value = Self.anyString(donorTrees, &generator)
        } else if var array = node as? [Any] {
            switch generator.nextInt(below: 4) {
            case 0 where !array.isEmpty: array.remove(at: generator.nextInt(below: array.count))
            case 1 where !array.isEmpty: array.insert(array[generator.nextInt(below: array.count)], at: generator.nextInt(below: array.count + 1))
            case 2: if let other = donated as? [Any], !other.isEmpty { array.append(other[generator.nextInt(below: other.count)]) }
            default: array = []
            }
            value = array
        } else if var object = node as? [String: Any] {
            if let donated, generator.nextInt(below: 2) == 0 {
                value = donated
            } else {
                let keys = object.keys.sorted()
                if !keys.isEmpty { object[keys[generator.nextInt(below: keys.count)]] = nil }
                value = object
            }
        } else {
            value = node
        }
        if path.isEmpty {
            guard let value, value is [String: Any] || value is [Any] else { return serialized(root) }
            return serialized(value)
        }
        root = Self.replacing(in: root, at: path, with: value) ?? root
        return serialized(root)
    }

    private static func anyString(_ trees: [Any], _ generator: inout SeededGenerator) -> String {
        let strings = trees.flatMap { Self.strings(in: $0) } + ["", "x"]
        return strings[generator.nextInt(below: strings.count)]
    }

    private static func serialized(_ root: Any) -> [UInt8]? {
        (try? JSONSerialization.data(withJSONObject: root, options: [.sortedKeys])).map(Array.init)
    }

    /// Every path (object keys and array indices) in `tree`, the empty path included.
    static func paths(in tree: Any, prefix: [AnyHashable]) -> [[AnyHashable]] {
        var result = [prefix]
        if let object = tree as? [String: Any] {
            for key in object.keys.sorted() { result += paths(in: object[key]!, prefix: prefix + [key]) }
        } else if let array = tree as? [Any] {
            for (i, element) in array.enumerated() { result += paths(in: element, prefix: prefix + [i]) }
        }
        return result
    }

    static func strings(in tree: Any) -> [String] {
        if let string = tree as? String { return [string] }
        if let object = tree as? [String: Any] { return object.keys.sorted().flatMap { [$0] + strings(in: object[$0]!) } }
        if let array = tree as? [Any] { return array.flatMap { strings(in: $0) } }
        return []
    }

    static func value(in tree: Any, at path: some Collection<AnyHashable>) -> Any? {
        guard let first = path.first else { return tree }
        if let key = first as? String, let object = tree as? [String: Any], let child = object[key] {
            return value(in: child, at: path.dropFirst())
        }
        if let index = first as? Int, let array = tree as? [Any], array.indices.contains(index) {
            return value(in: array[index], at: path.dropFirst())
        }
        return nil
    }

    /// `tree` with the value at `path` replaced (removed when `new` is nil).
    static func replacing(in tree: Any, at path: some Collection<AnyHashable>, with new: Any?) -> Any? {
        guard let first = path.first else { return new }
        if let key = first as? String, var object = tree as? [String: Any], let child = object[key] {
            object[key] = path.count == 1 ? new : replacing(in: child, at: path.dropFirst(), with: new)
            return object
        }
        if let index = first as? Int, var array = tree as? [Any], array.indices.contains(index) {
            if path.count == 1 {
                if let new { array[index] = new } else { array.remove(at: index) }
            } else if let replaced = replacing(in: array[index], at: path.dropFirst(), with: new) {
                array[index] = replaced
            }
            return array
        }
        return tree
    }
}
