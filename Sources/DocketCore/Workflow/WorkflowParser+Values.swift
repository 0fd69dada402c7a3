import Foundation
import Yams

extension WorkflowParser {
    mutating func report(_ severity: Diagnostic.Severity, _ node: Node?, _ message: String) {
        let mark = node.flatMap(location) ?? SourceLocations.Location(line: 1, column: 1)
        diagnostics.append(Diagnostic(severity, line: mark.line, column: mark.column, message, file: file))
    }

    mutating func reportYAML(_ error: YamlError) {
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            let text = [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
            diagnostics.append(Diagnostic(.error, line: mark.line, column: mark.column, "YAML: \(text)", file: file))
        case let .duplicatedKeysInMapping(duplicates, context):
            diagnostics.append(Diagnostic(
                .error, line: context.mark.line, column: context.mark.column,
                "YAML: duplicate key \(duplicates.map { "\"\($0)\"" }.joined(separator: ", ")) in a mapping", file: file))
        case let .reader(problem, _, _, _):
            diagnostics.append(Diagnostic(.error, line: 1, column: 1, "YAML: \(problem)", file: file))
        default:
            diagnostics.append(Diagnostic(.error, line: 1, column: 1, "YAML: \(error)", file: file))
        }
    }

    func location(_ node: Node) -> SourceLocations.Location? {
        node.mark.map { SourceLocations.Location(line: $0.line, column: $0.column) }
    }

    static func isSlug(_ text: String, allowUnderscore: Bool = false) -> Bool {
        guard let first = text.first, first.isASCII, first.isLowercase || first.isNumber else { return false }
        return text.allSatisfy {
            $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || (allowUnderscore && $0 == "_"))
        }
    }

    mutating func mapping(_ node: Node, _ path: String, _ what: String) -> Node.Mapping? {
        if let map = node.mapping { return map }
        if node.scalar?.string.isEmpty == true { return Node.Mapping([]) }
        report(.error, node, "\(what) must be a mapping of keys to values")
        return nil
    }

    /// Most unknown keys reported one by one in a mapping; the rest are counted in one warning.
    static let unknownKeysShown = 10

    mutating func unknownKeys(_ map: Node.Mapping, allowed: Set<String>, path: String, what: String) {
        let unknown = map.filter { key, _ in key.string.map { !allowed.contains($0) } ?? false }
        guard !unknown.isEmpty else { return }
        let known = allowed.sorted().joined(separator: ", ")
        for (key, _) in unknown.prefix(Self.unknownKeysShown) {
            report(.warning, key, "\(what): unknown key \"\(key.string ?? "")\" is ignored (known keys: \(known))")
        }
        if unknown.count > Self.unknownKeysShown {
            report(.warning, unknown[Self.unknownKeysShown].key, "\(what): \(unknown.count - Self.unknownKeysShown) more unknown keys are ignored")
        }
    }

    mutating func requiredString(_ map: Node.Mapping, _ key: String, path: String) -> String? {
        guard let node = map[key] else {
            report(.error, nil, "the definition has no `\(key)`")
            return nil
        }
        return string(node, path: path, what: key)
    }

    mutating func string(_ node: Node?, path: String, what: String) -> String? {
        guard let node else { return nil }
        locations[path] = location(node)
        guard let scalar = node.scalar, !scalar.string.isEmpty else {
            report(.error, node, "\(what) must be a plain value")
            return nil
        }
        return scalar.string
    }

    mutating func int(_ node: Node?, path: String, what: String) -> Int? {
        guard let node else { return nil }
        locations[path] = location(node)
        guard let value = node.scalar.flatMap({ Int($0.string) }) else {
            report(.error, node, "\(what) must be a whole number")
            return nil
        }
        return value
    }

    mutating func bool(_ node: Node?, path: String, what: String) -> Bool? {
        guard let node else { return nil }
        locations[path] = location(node)
        switch node.scalar?.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            report(.error, node, "\(what) must be true or false")
            return nil
        }
    }

    mutating func duration(_ node: Node?, path: String, what: String) -> WorkflowDuration? {
        guard let node else { return nil }
        locations[path] = location(node)
        guard let text = node.scalar?.string, let value = WorkflowDuration(text) else {
            report(.error, node, "\(what): \"\(node.scalar?.string ?? "?")\" is not a duration (write 14d, 12h, 30m or 1d12h; at most 36500d)")
            return nil
        }
        return value
    }

    /// A sequence, or a single scalar taken as a sequence of one.
    mutating func sequence(_ node: Node?, path: String, what: String) -> [Node] {
        guard let node else { return [] }
        locations[path] = location(node)
        if let seq = node.sequence { return Array(seq) }
        if node.scalar != nil { return [node] }
        report(.error, node, "\(what) must be a list")
        return []
    }

    mutating func strings(_ node: Node?, path: String, what: String) -> [String] {
        sequence(node, path: path, what: what).compactMap { item in
            guard let text = item.scalar?.string, !text.isEmpty else {
                report(.error, item, "\(what): each entry must be a plain value")
                return nil
            }
            return text
        }
    }

    /// Role names; unknown ones are reported here with their position.
    mutating func roles(_ node: Node?, path: String, what: String) -> [Role] {
        sequence(node, path: path, what: what).compactMap { item in
            guard let text = item.scalar?.string else {
                report(.error, item, "\(what): each role must be a plain value")
                return nil
            }
            guard let role = Role(rawValue: text) else {
                let known = Role.allCases.map(\.rawValue).joined(separator: ", ")
                report(.error, item, "\(what): unknown role \"\(text)\" (known roles: \(known))")
                return nil
            }
            return role
        }
    }
}
