import DocketCore
import Foundation

/// A command's arguments as text, with helpers for the `KEYWORD value` options commands take.
struct Arguments: Sendable {
    let name: String
    private(set) var words: [String]

    init(name: String, words: [String]) {
        self.name = name
        self.words = words
    }

    var count: Int { words.count }
    subscript(i: Int) -> String { words[i] }

    func require(_ n: Int, atMost: Int? = nil) throws(CommandError) {
        if words.count < n || (atMost.map { words.count > $0 } ?? false) { throw .arity(name) }
    }

    /// Parses trailing `KEY value` options (and bare flags) after the first `positional` words.
    func options(after positional: Int, values: Set<String>, flags: Set<String> = [], repeating: Set<String> = []) throws(CommandError) -> Options {
        var options = Options()
        var i = positional
        while i < words.count {
            let key = words[i].uppercased()
            if flags.contains(key) {
                options.flags.insert(key)
                i += 1
            } else if values.contains(key) || repeating.contains(key) {
                guard i + 1 < words.count else { throw .syntax("\(key) needs a value") }
                if repeating.contains(key) {
                    options.repeated[key, default: []].append(words[i + 1])
                } else {
                    options.values[key] = words[i + 1]
                }
                i += 2
            } else {
                let known = (values.union(flags).union(repeating)).sorted().joined(separator: ", ")
                throw .syntax("unexpected '\(words[i])' (options: \(known.isEmpty ? "none" : known))")
            }
        }
        return options
    }

    struct Options {
        var values: [String: String] = [:]
        var flags: Set<String> = []
        var repeated: [String: [String]] = [:]

        subscript(key: String) -> String? { values[key] }

        func int(_ key: String) throws(CommandError) -> Int? {
            guard let text = values[key] else { return nil }
            guard let n = Int(text) else { throw .syntax("\(key) must be an integer, not '\(text)'") }
            return n
        }

        func date(_ key: String) throws(CommandError) -> Date? {
            guard let text = values[key] else { return nil }
            guard let d = Timestamp.parse(text) else { throw .invalid("\(key) '\(text)' is not a timestamp (write 2026-11-28T09:30:00Z or 2026-11-28)") }
            return d
        }
    }

    func int(_ i: Int, _ what: String) throws(CommandError) -> Int {
        guard let n = Int(words[i]) else { throw .syntax("\(what) must be an integer, not '\(words[i])'") }
        return n
    }
}
