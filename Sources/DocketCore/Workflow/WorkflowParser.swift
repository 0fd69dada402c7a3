import Foundation
import Yams

/// Reads a workflow definition from YAML, keeping the line and column of every node so that
/// each problem can be reported where it is.
///
/// The parser only checks shape (types, required keys, known values); `WorkflowChecker`
/// checks meaning (targets, reachability, guards).
public struct WorkflowParser {
    public var file: String?
    var diagnostics: [Diagnostic] = []
    var locations = SourceLocations()

    public init(file: String? = nil) { self.file = file }

    /// Parses `yaml`. Returns the definition (nil if its shape is too broken to check further)
    /// and every diagnostic found on the way.
    public static func parse(_ yaml: String, file: String? = nil) -> (WorkflowDefinition?, [Diagnostic]) {
        var parser = WorkflowParser(file: file)
        let definition = parser.parse(yaml)
        return (definition, parser.diagnostics)
    }

    static let topKeys: Set = ["workflow", "version", "title", "prefix", "create", "fields", "initial", "states", "description"]
    static let stateKeys: Set = ["on", "due", "remind", "review", "endorse", "visible-to", "final", "title", "description", "replaces"]
    static let transitionKeys: Set = ["to", "by", "not", "require", "quorum", "after", "title", "description"]
    static let quorumKeys: Set = ["approve", "changes", "reject", "endorsements", "milestones"]
    static let reviewKeys: Set = ["by", "not", "stale-on-revision"]
    static let fieldKeys: Set = ["type", "title", "values", "description"]

    /// The largest definition read, in bytes. The shipped ones are a few KiB; anything near
    /// this is a mistake or an attempt to keep the server busy parsing.
    public static let maximumSize = 1 << 20

    mutating func parse(_ yaml: String) -> WorkflowDefinition? {
        let size = yaml.utf8.count
        if size > Self.maximumSize {
            report(.error, nil, "the definition is \(size) bytes; a workflow definition may have at most \(Self.maximumSize) bytes (1 MiB)")
            return nil
        }
        // Aliases can stand for exponentially large trees that the YAML library would walk
        // while composing: refuse them before it sees the text.
        if let alias = YAMLAliasScanner.firstAlias(in: yaml) {
            diagnostics.append(Diagnostic(.error, line: alias.line, column: alias.column,
                                          "YAML aliases (*name) are not allowed in a workflow definition: write the value out in full", file: file))
            return nil
        }
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                report(.error, nil, "the definition is empty")
                return nil
            }
            root = node
        } catch let error as YamlError {
            reportYAML(error)
            return nil
        } catch {
            report(.error, nil, "not valid YAML: \(error)")
            return nil
        }
        guard let top = mapping(root, "", "the definition") else { return nil }
        locations[""] = location(root)
        unknownKeys(top, allowed: Self.topKeys, path: "", what: "the definition")

        let name = requiredString(top, "workflow", path: "workflow")
        if let name, !Self.isSlug(name) {
            report(.error, top["workflow"], "workflow name \"\(name)\" must be lowercase letters, digits and hyphens")
        }
        let version = int(top["version"], path: "version", what: "version") ?? 1
        if version < 1 { report(.error, top["version"], "version must be 1 or more") }
        let title = string(top["title"], path: "title", what: "title") ?? name ?? ""
        let prefix = requiredString(top, "prefix", path: "prefix") ?? ""
        if !prefix.isEmpty, !(prefix.count <= 8 && prefix.allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber) }
            && prefix.first!.isLetter) {
            report(.error, top["prefix"], "prefix \"\(prefix)\" must be 1 to 8 capital letters or digits, starting with a letter")
        }
        let create = roles(top["create"], path: "create", what: "create")
        let fields = parseFields(top["fields"])
        let initial = requiredString(top, "initial", path: "initial") ?? ""
        let states = parseStates(top["states"])

        guard let name, diagnostics.errors.isEmpty || states != nil else { return nil }
        return WorkflowDefinition(
            name: name, version: version, title: title, prefix: prefix, create: create,
            fields: fields, initial: initial, states: states ?? [], locations: locations
        )
    }

    // MARK: fields and states

    mutating func parseFields(_ node: Node?) -> [FieldDefinition] {
        guard let node, let map = mapping(node, "fields", "fields") else { return [] }
        var result: [FieldDefinition] = []
        for (keyNode, value) in map {
            guard let name = keyNode.string else { continue }
            let path = "fields.\(name)"
            locations[path] = location(keyNode)
            if !Self.isSlug(name, allowUnderscore: true) {
                report(.error, keyNode, "field name \"\(name)\" must be lowercase letters, digits, hyphens or underscores")
            }
            var typeName: String?
            var title: String?
            var values: [String] = []
            if let short = value.scalar?.string, !short.isEmpty {
                typeName = short   // `summary: text`
            } else if let fmap = mapping(value, path, "field \"\(name)\"") {
                unknownKeys(fmap, allowed: Self.fieldKeys, path: path, what: "field \"\(name)\"")
                typeName = string(fmap["type"], path: path + ".type", what: "field \"\(name)\" type")
                title = string(fmap["title"], path: path + ".title", what: "field \"\(name)\" title")
                values = strings(fmap["values"], path: path + ".values", what: "field \"\(name)\" values")
            }
            let type: FieldDefinition.FieldType
            switch typeName ?? "text" {
            case "text": type = .text
            case "document": type = .document
            case "number": type = .number
            case "date": type = .date
            case "choice":
                if values.isEmpty { report(.error, value, "field \"\(name)\" of type choice needs `values`") }
                type = .choice(values)
            case let other:
                report(.error, value, "field \"\(name)\": unknown type \"\(other)\" (expected text, document, number, date or choice)")
                type = .text
            }
            result.append(FieldDefinition(name: name, type: type, title: title))
        }
        return result
    }

    mutating func parseStates(_ node: Node?) -> [StateDefinition]? {
        guard let node else {
            report(.error, nil, "the definition has no `states`")
            return nil
        }
        guard let map = mapping(node, "states", "states") else { return nil }
        var states: [StateDefinition] = []
        for (keyNode, value) in map {
            guard let name = keyNode.string else { continue }
            let path = "states.\(name)"
            locations[path] = location(keyNode)
            if !Self.isSlug(name) {
                report(.error, keyNode, "state name \"\(name)\" must be lowercase letters, digits and hyphens")
            }
            let what = "state \"\(name)\""
            guard let smap = mapping(value, path, what) else {
                states.append(StateDefinition(name: name))
                continue
            }
            unknownKeys(smap, allowed: Self.stateKeys, path: path, what: what)
            var state = StateDefinition(name: name)
            state.title = string(smap["title"], path: path + ".title", what: "\(what) title")
            state.final = bool(smap["final"], path: path + ".final", what: "\(what) final") ?? false
            state.endorse = bool(smap["endorse"], path: path + ".endorse", what: "\(what) endorse") ?? false
            state.replaces = strings(smap["replaces"], path: path + ".replaces", what: "\(what) replaces")
            state.due = duration(smap["due"], path: path + ".due", what: "\(what) due")
            state.remind = sequence(smap["remind"], path: path + ".remind", what: "\(what) remind").compactMap {
                duration($0, path: path + ".remind", what: "\(what) remind")
            }
            if smap["visible-to"] != nil {
                state.visibleTo = roles(smap["visible-to"], path: path + ".visible-to", what: "\(what) visible-to")
            }
            if let review = smap["review"] {
                state.review = parseReview(review, path: path + ".review", what: what)
            }
            if let on = smap["on"], let onMap = mapping(on, path + ".on", "\(what) `on`") {
                locations[path + ".on"] = location(on)
                for (tKey, tValue) in onMap {
                    guard let tName = tKey.string else { continue }
                    state.transitions.append(parseTransition(tName, tKey, tValue, statePath: path, state: name))
                }
            }
            states.append(state)
        }
        return states
    }

    mutating func parseReview(_ node: Node, path: String, what: String) -> ReviewPolicy? {
        locations[path] = location(node)
        guard let map = mapping(node, path, "\(what) review") else { return nil }
        unknownKeys(map, allowed: Self.reviewKeys, path: path, what: "\(what) review")
        let by = roles(map["by"], path: path + ".by", what: "\(what) review by")
        if map["by"] == nil { report(.error, node, "\(what): review needs `by` (the roles that vote)") }
        return ReviewPolicy(
            by: by,
            not: roles(map["not"], path: path + ".not", what: "\(what) review not"),
            staleOnRevision: bool(map["stale-on-revision"], path: path + ".stale-on-revision", what: "\(what) stale-on-revision") ?? false
        )
    }

    mutating func parseTransition(_ name: String, _ key: Node, _ node: Node, statePath: String, state: String) -> TransitionDefinition {
        let path = "\(statePath).on.\(name)"
        let what = "transition \"\(name)\" of state \"\(state)\""
        locations[path] = location(key)
        if !Self.isSlug(name) {
            report(.error, key, "transition name \"\(name)\" must be lowercase letters, digits and hyphens")
        }
        var transition = TransitionDefinition(name: name, to: "")
        guard let map = mapping(node, path, what) else { return transition }
        unknownKeys(map, allowed: Self.transitionKeys, path: path, what: what)
        if let to = string(map["to"], path: path + ".to", what: "\(what) `to`") {
            transition.to = to
        } else {
            report(.error, node, "\(what) has no `to`")
        }
        transition.by = roles(map["by"], path: path + ".by", what: "\(what) `by`")
        transition.not = roles(map["not"], path: path + ".not", what: "\(what) `not`")
        transition.require = strings(map["require"], path: path + ".require", what: "\(what) `require`")
        transition.after = duration(map["after"], path: path + ".after", what: "\(what) `after`")
        if let q = map["quorum"] {
            transition.quorum = parseQuorum(q, path: path + ".quorum", what: what)
        }
        return transition
    }

    mutating func parseQuorum(_ node: Node, path: String, what: String) -> Quorum? {
        locations[path] = location(node)
        guard let map = mapping(node, path, "\(what) quorum") else { return nil }
        unknownKeys(map, allowed: Self.quorumKeys, path: path, what: "\(what) quorum")
        var quorum = Quorum()
        quorum.approve = bound(map["approve"], path: path + ".approve", what: "\(what) quorum approve", plain: .min)
        quorum.changes = bound(map["changes"], path: path + ".changes", what: "\(what) quorum changes", plain: .max)
        quorum.reject = bound(map["reject"], path: path + ".reject", what: "\(what) quorum reject", plain: .max)
        quorum.endorsements = bound(map["endorsements"], path: path + ".endorsements", what: "\(what) quorum endorsements", plain: .min)
        if let m = map["milestones"] {
            locations[path + ".milestones"] = location(m)
            if m.string == "all" {
                quorum.milestones = .all
            } else if let n = m.int, n >= 0 {
                quorum.milestones = .atLeast(n)
            } else {
                report(.error, m, "\(what) quorum milestones must be `all` or a number")
            }
        }
        return quorum
    }

    enum PlainBound { case min, max }

    mutating func bound(_ node: Node?, path: String, what: String, plain: PlainBound) -> Quorum.Bound? {
        guard let node else { return nil }
        locations[path] = location(node)
        if let n = node.scalar.flatMap({ Int($0.string) }) {
            guard n >= 0 else {
                report(.error, node, "\(what) must not be negative")
                return nil
            }
            return plain == .min ? Quorum.Bound(min: n) : Quorum.Bound(max: n)
        }
        if let map = node.mapping {
            let lo = int(map["min"], path: path, what: "\(what) min")
            let hi = int(map["max"], path: path, what: "\(what) max")
            if lo == nil, hi == nil { report(.error, node, "\(what) needs `min` or `max`") }
            if let lo, let hi, lo > hi { report(.error, node, "\(what): min \(lo) is above max \(hi)") }
            return Quorum.Bound(min: lo, max: hi)
        }
        report(.error, node, "\(what) must be a number or `{ min: n, max: n }`")
        return nil
    }
}
