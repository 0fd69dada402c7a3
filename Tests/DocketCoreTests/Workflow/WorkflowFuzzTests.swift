import DocketCore
import Foundation
import Testing
import Yams

/// Seeded (reproducible) random and hostile workflow definitions through the YAML loader:
/// `WorkflowDefinition.diagnose` and `load` must never crash or hang, must agree with each
/// other, must point every diagnostic at a real line, and whatever they accept must be safe
/// for the engine to run (every state entered, every transition decided, graphs rendered).
///
/// Any authenticated user can send a definition to `WORKFLOW.CHECK`, so this is the
/// server's attack surface too.
@Suite("Workflow loader fuzz", .timeLimit(.minutes(3)))
struct WorkflowFuzzTests {
    /// SplitMix64: reproducible from its seed.
    struct Generator: RandomNumberGenerator {
        private var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// What a run of the loader saw, for the printed summary.
    struct Tally {
        var executions = 0
        var accepted = 0
        var errors = 0
        var warnings = 0
        var slowest: Duration = .zero
        var slowestInput = ""
        mutating func add(_ other: Tally) {
            executions += other.executions
            accepted += other.accepted
            errors += other.errors
            warnings += other.warnings
            if other.slowest > slowest {
                slowest = other.slowest
                slowestInput = other.slowestInput
            }
        }
    }

    static let seeds: [String] = {
        var out: [String] = []
        let directory = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Workflows")
        for name in ["policy-paper", "thematic-project", "membership-application"] {
            if let text = try? String(contentsOf: directory.appendingPathComponent("\(name).yaml"), encoding: .utf8) { out.append(text) }
        }
        out.append(validYAML)
        return out
    }()

    /// Tokens that stress the loader: YAML syntax, tags, anchors and aliases, odd numbers and
    /// durations, unknown roles, non-ASCII text.
    static let tokens: [String] = [
        "", " ", "~", "null", "true", "false", "yes", "0", "-1", "1", "2", "3", "9223372036854775807", "9223372036854775808",
        "-9223372036854775808", "99999999999999999999", "1e9", "0x1F", ".inf", "NaN",
        "0d", "1d12h", "14d", "999999999w", "9999999999d", "1w1w1w1w1w1w", "12", "3x", "d", "-3d", "1d 2h",
        "drafting", "peer-review", "done", "review", "nowhere", "author", "drafter", "chair", "reviewer", "secretariat", "admin",
        "assignee", "member", "group", "root", "all", "{ min: 1, max: 0 }", "{ min: 5 }", "{ max: -1 }", "{}", "[]", "[author, ghost]",
        "&a", "*a", "&a x", "*b", "<<: *a", "? complex", "!!str", "!!binary AAAA", "!custom", "!!map", "|", ">", "|-", "'quoted''s'",
        "\"esc\\x41\\u263a\"", "\"unterminated", "'unterminated", "[", "]", "{", "}", ",", ":", "- ", "#", "%YAML 1.1", "---", "...",
        "\t", "Γειά σου", "Алматы", "თბილისი", "😀", "\u{0}", "\u{FEFF}", "\u{202E}", "a: b: c", "- - -",
    ]

    static let keys: [String] = [
        "workflow", "version", "title", "prefix", "create", "fields", "initial", "states", "on", "due", "remind", "review",
        "endorse", "visible-to", "final", "to", "by", "not", "require", "quorum", "after", "approve", "changes", "reject",
        "endorsements", "milestones", "stale-on-revision", "type", "values", "replaces", "description", "unknown-key",
    ]

    // MARK: generators

    /// A definition built from random parts. Half are meant to be valid (a chain of states
    /// with extra edges, guards that fit); the other half break some rule at random.
    static func structured(_ rng: inout Generator) -> String {
        let clean = Bool.random(using: &rng)
        func pick(_ options: [String]) -> String { options.randomElement(using: &rng)! }
        func chance(_ n: Int) -> Bool { Int.random(in: 0..<n, using: &rng) == 0 }
        /// A rule broken, in the broken half only.
        func breakIt(_ n: Int) -> Bool { !clean && chance(n) }
        let stateCount = Int.random(in: 2...8, using: &rng)
        var states = (0..<stateCount).map { "s\($0)" }
        if breakIt(8) { states.append("s0") }   // a duplicate key
        let goodRoles = ["author", "drafter", "chair", "reviewer", "secretariat", "admin"]
        let roles = clean ? goodRoles : goodRoles + ["assignee", "member", "group", "ghost"]
        let voters = clean ? ["reviewer", "chair", "secretariat"] : roles
        let goodDurations = ["1d", "14d", "12h", "30m", "1d12h", "2w", "45s", "36500d"]
        let durations = clean ? goodDurations : goodDurations + ["0d", "999999999w", "9999999999d", "nope", "36501d", "5200w"]
        let fieldTypes = clean ? ["text", "document", "number", "date"] : ["text", "document", "number", "date", "choice", "blob"]
        var lines: [String] = []
        lines.append("workflow: \(breakIt(10) ? pick(tokens) : "fuzz-\(Int.random(in: 0...99, using: &rng))")")
        lines.append("version: \(breakIt(6) ? pick(tokens) : String(Int.random(in: 1...5, using: &rng)))")
        lines.append("title: \(breakIt(6) ? pick(tokens) : "Fuzzed workflow")")
        lines.append("prefix: \(breakIt(6) ? pick(tokens) : pick(clean ? ["FZ", "F1", "ABCDEFGH"] : ["FZ", "ABCDEFGHI", "fz", "1F"]))")
        if chance(2) { lines.append("create: [\((0..<Int.random(in: 1...3, using: &rng)).map { _ in pick(clean ? ["drafter", "chair", "secretariat"] : roles) }.joined(separator: ", "))]") }
        lines.append("fields:")
        var fieldNames: [String] = []
        for i in 0..<Int.random(in: 0...4, using: &rng) {
            let name = breakIt(10) ? pick(tokens) : "f\(i)"
            fieldNames.append(name)
            let type = pick(fieldTypes)
            lines.append("  \(name): { type: \(type)\(type == "choice" && !breakIt(4) ? ", values: [a, b]" : "") }")
        }
        lines.append("initial: \(breakIt(10) ? pick(tokens) : states[0])")
        lines.append("states:")
        for (index, state) in states.enumerated() {
            let last = index == states.count - 1
            let final = last || breakIt(4)
            if final {
                lines.append(breakIt(4) ? "  \(state): { final: \(pick(["yes", "no", "maybe"])) }" : "  \(state): { final: true }")
                if !breakIt(6) { continue }
            } else {
                lines.append("  \(state):")
            }
            lines.append("    due: \(pick(durations))")
            if chance(3) { lines.append("    remind: [\(pick(durations)), \(pick(durations))]") }
            if chance(3) { lines.append("    visible-to: [\(pick(roles)), \(pick(roles))]") }
            let review = chance(3)
            if review { lines.append("    review: { by: [\(pick(voters))], not: [\(pick(roles))], stale-on-revision: \(pick(clean ? ["true", "false"] : ["true", "1"])) }") }
            let endorse = chance(4)
            if endorse { lines.append("    endorse: \(clean ? "true" : pick(["true", "false", "sometimes"]))") }
            if breakIt(6) { lines.append("    \(pick(keys)): \(pick(tokens))") }
            lines.append("    on:")
            // The chain to the next state keeps every state reachable and able to finish.
            var targets = [states[min(index + 1, states.count - 1)]]
            for _ in 0..<Int.random(in: 0...2, using: &rng) { targets.append(breakIt(6) ? pick(tokens) : states.randomElement(using: &rng)!) }
            for (t, target) in targets.enumerated() {
                var parts = ["to: \(target)"]
                if chance(4) {
                    parts.append("after: \(pick(durations))")
                    if breakIt(4) { parts.append("by: [\(pick(roles))]") }
                } else if !breakIt(8) {
                    parts.append("by: [\(pick(roles)), \(pick(roles))]")
                }
                if chance(3) { parts.append("not: [\(pick(roles))]") }
                if chance(3), let field = fieldNames.randomElement(using: &rng) ?? (clean ? nil : "ghost") { parts.append("require: [\(field)]") }
                var quorum: [String] = []
                if review || breakIt(4) {
                    quorum.append("approve: \(pick(clean ? ["2", "0", "{ min: 1, max: 3 }"] : ["-1", "{ min: 1, max: 0 }", "9223372036854775807"]))")
                    if chance(2) { quorum.append("reject: 0") }
                }
                if endorse || breakIt(4) { quorum.append("endorsements: \(pick(clean ? ["3", "{ min: 2 }"] : ["x", "-3"]))") }
                if chance(6) { quorum.append("milestones: \(pick(clean ? ["all", "2"] : ["-2", "some"]))") }
                if breakIt(8) { quorum.append("\(pick(keys)): 1") }
                if !quorum.isEmpty, chance(2) { parts.append("quorum: { \(quorum.joined(separator: ", ")) }") }
                lines.append("      t\(t)\(breakIt(12) ? "_X" : ""): { \(parts.joined(separator: ", ")) }")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Line, token and byte mutations of a seed.
    static func mutate(_ input: String, _ rng: inout Generator) -> String {
        var lines = input.components(separatedBy: "\n")
        for _ in 0..<Int.random(in: 1...5, using: &rng) {
            guard !lines.isEmpty else { lines = [tokens.randomElement(using: &rng)!]; continue }
            let i = Int.random(in: 0..<lines.count, using: &rng)
            switch Int.random(in: 0..<10, using: &rng) {
            case 0: lines.remove(at: i)
            case 1: lines.insert(lines[i], at: i)
            case 2: lines.swapAt(i, Int.random(in: 0..<lines.count, using: &rng))
            case 3: lines[i] = String(repeating: " ", count: Int.random(in: 0...6, using: &rng)) + lines[i].trimmingCharacters(in: .whitespaces)
            case 4:
                // Replace the value after a colon with a token.
                if let colon = lines[i].firstIndex(of: ":") {
                    lines[i] = String(lines[i][...colon]) + " " + tokens.randomElement(using: &rng)!
                }
            case 5:
                lines.insert(String(repeating: " ", count: 2 * Int.random(in: 0...3, using: &rng))
                    + "\(keys.randomElement(using: &rng)!): \(tokens.randomElement(using: &rng)!)", at: i)
            case 6:
                var scalars = Array(lines[i].unicodeScalars)
                if !scalars.isEmpty {
                    let j = Int.random(in: 0..<scalars.count, using: &rng)
                    let replacement = tokens.randomElement(using: &rng)!.unicodeScalars
                    scalars.replaceSubrange(j...j, with: replacement)
                    var s = String.UnicodeScalarView()
                    s.append(contentsOf: scalars)
                    lines[i] = String(s)
                }
            case 7:
                // Copy a block of lines somewhere else (duplicate keys, misplaced sections).
                let j = Int.random(in: i..<min(lines.count, i + 6), using: &rng)
                lines.insert(contentsOf: lines[i...j], at: Int.random(in: 0...lines.count, using: &rng))
            case 8: lines = Array(lines[..<i])
            default:
                lines[i] += " " + tokens.randomElement(using: &rng)!
            }
        }
        return lines.joined(separator: "\n")
    }

    // MARK: the contract

    /// Runs the loader on `yaml` and checks everything it promises. Returns what it saw.
    static func exercise(_ yaml: String, label: String) -> Tally {
        var tally = Tally()
        let start = ContinuousClock.now
        let diagnostics = WorkflowDefinition.diagnose(yaml: yaml)
        tally.executions = 1
        // YAML breaks lines at \n, \r\n, a lone \r, NEL, LS and PS.
        var lineCount = 1
        var previous: UInt8 = 0
        for b in yaml.utf8 {
            if (b == 10 && previous != 13) || b == 13 || (b == 0x85 && previous == 0xC2) || ((b == 0xA8 || b == 0xA9) && previous == 0x80) { lineCount += 1 }
            previous = b
        }
        for d in diagnostics {
            if d.line < 1 || d.column < 1 || d.line > lineCount + 1 || d.message.isEmpty {
                Issue.record("\(label): diagnostic outside the input (\(lineCount) lines): \(d) for \(yaml.debugDescription.prefix(2000))")
                break
            }
        }
        tally.errors = diagnostics.errors.count
        tally.warnings = diagnostics.count - diagnostics.errors.count
        // The same input gives the same answer (checked on a sample: it doubles the cost).
        if yaml.utf8.count % 4 == 0, WorkflowDefinition.diagnose(yaml: yaml) != diagnostics { Issue.record("\(label): diagnose is not deterministic for \(yaml.debugDescription.prefix(2000))") }
        do {
            let (definition, warnings) = try WorkflowDefinition.load(yaml: yaml)
            if diagnostics.hasErrors { Issue.record("\(label): load accepted what diagnose refused: \(diagnostics)") }
            if warnings.hasErrors { Issue.record("\(label): load returned errors as warnings") }
            tally.accepted = 1
            checkAccepted(definition, label: label, yaml: yaml)
        } catch {
            if !diagnostics.hasErrors { Issue.record("\(label): load refused what diagnose accepted: \(error)") }
            if error.diagnostics.errors.isEmpty { Issue.record("\(label): a refusal without an error") }
        }
        let elapsed = ContinuousClock.now - start
        if elapsed > tally.slowest {
            tally.slowest = elapsed
            tally.slowestInput = label
        }
        return tally
    }

    /// An accepted definition is one the engine and the store can run: every name it refers
    /// to exists, every state can be entered now (due times and timers fit the store's
    /// microsecond timestamps), every transition can be decided, and graphs render.
    static func checkAccepted(_ d: WorkflowDefinition, label: String, yaml: String) {
        let names = d.states.map(\.name)
        #expect(Set(names).count == names.count, "\(label): duplicate state names accepted")
        #expect(d.state(d.initial) != nil, "\(label): initial state missing")
        #expect(!d.prefix.isEmpty && d.prefix.count <= 8, "\(label): prefix \(d.prefix)")
        #expect(d.version >= 1)
        let now = Date(timeIntervalSince1970: 1_790_000_000)
        var item = ItemSnapshot(id: "\(d.prefix)-1", workflow: d.name, workflowVersion: d.version, title: "t", group: "g",
                                state: d.initial, version: 1, author: "ana", createdAt: now, stateSince: now)
        let actors = [
            Actor(handle: "ana", groupRoles: ["g": [.drafter]]),
            Actor(handle: "dilnoza", groupRoles: ["g": [.chair, .reviewer]]),
            Actor(handle: "sec", globalRoles: [.secretariat]),
            Actor.system,
        ]
        let create = Engine.decideCreate(d, NewItem(title: "t", group: "g"), actor: actors[0], now: now)
        if let change = create.change, case let .created(_, dueAt, timers, _) = change {
            _ = dueAt?.epochMicroseconds
            _ = timers.map(\.fireAt.epochMicroseconds)
        }
        let known = Set(names)
        for (index, state) in d.states.enumerated() {
            for t in state.transitions {
                #expect(known.contains(t.to), "\(label): transition \(t.name) leads to unknown \(t.to)")
            }
            // Deciding looks states up by name; a sample is enough for huge definitions.
            guard index < 100 else { continue }
            let entry = Engine.enter(state, at: now)
            // The store keeps timestamps as integer microseconds.
            _ = entry.dueAt.map { Timestamp.format($0) }
            _ = entry.dueAt?.epochMicroseconds
            _ = entry.timers.map(\.fireAt.epochMicroseconds)
            item.state = state.name
            item.stateSince = now
            for t in state.transitions.prefix(50) {
                for actor in actors {
                    let later = now.addingTimeInterval(Double(t.after?.seconds ?? 0))
                    let decision = Engine.decide(d, item, actor: actor, command: .fire(transition: t.name, comment: nil), now: later)
                    if let change = decision.change, case let .transition(_, dueAt, timers) = change {
                        _ = dueAt?.epochMicroseconds
                        _ = timers.map(\.fireAt.epochMicroseconds)
                    }
                }
            }
            _ = Engine.decide(d, item, actor: actors[1], command: .vote(.approve, comment: nil), now: now)
            _ = Engine.canSee(d, item, actor: actors[2])
        }
        for format in WorkflowGraph.Format.allCases { #expect(!WorkflowGraph.render(d, as: format).isEmpty) }
    }

    // MARK: tests

    @Test("structured random definitions: no crash, diagnose and load agree, accepted ones run")
    func structuredDefinitions() {
        var rng = Generator(seed: 0xD0C_4E7)
        var tally = Tally()
        for n in 0..<800 {
            tally.add(Self.exercise(Self.structured(&rng), label: "structured #\(n)"))
        }
        print("workflow fuzz (structured): \(tally.executions) executions, \(tally.accepted) accepted, \(tally.errors) errors and "
              + "\(tally.warnings) warnings reported; slowest \(tally.slowest) (\(tally.slowestInput))")
        // The generator keeps enough structure that both outcomes are common.
        #expect(tally.accepted > 100)
        #expect(tally.executions - tally.accepted > 100)
    }

    @Test("mutated shipped definitions: no crash, diagnose and load agree, accepted ones run")
    func mutatedDefinitions() {
        var rng = Generator(seed: 0x5EED_7A3)
        var tally = Tally()
        for n in 0..<1_000 {
            let seed = Self.seeds[n % Self.seeds.count]
            var input = Self.mutate(seed, &rng)
            if n % 4 == 0 { input = Self.mutate(input, &rng) }
            tally.add(Self.exercise(input, label: "mutated #\(n)"))
        }
        print("workflow fuzz (mutated): \(tally.executions) executions, \(tally.accepted) accepted, \(tally.errors) errors and "
              + "\(tally.warnings) warnings reported; slowest \(tally.slowest) (\(tally.slowestInput))")
        #expect(tally.accepted > 20)
        #expect(tally.executions - tally.accepted > 400)
    }

    @Test("random bytes read as text: refused with diagnostics, never a crash")
    func randomText() {
        var rng = Generator(seed: 0xB17E5)
        let alphabet = Array("workflow: states: on: to: by: [ ] { } , : - ? & * ! | > ' \" # % @ ` \t \n \r\n 0123456789 abc".unicodeScalars)
        var tally = Tally()
        for n in 0..<1_000 {
            var scalars = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0...200, using: &rng) {
                if Int.random(in: 0..<6, using: &rng) == 0 {
                    scalars.append(Unicode.Scalar(UInt32.random(in: 1...0xD7FF, using: &rng)) ?? "x")
                } else {
                    scalars.append(alphabet.randomElement(using: &rng)!)
                }
            }
            tally.add(Self.exercise(String(scalars), label: "text #\(n)"))
        }
        print("workflow fuzz (random text): \(tally.executions) executions, \(tally.accepted) accepted, \(tally.errors) errors reported; "
              + "slowest \(tally.slowest) (\(tally.slowestInput))")
        #expect(tally.errors >= tally.executions - tally.accepted)
    }

    /// Inputs built to exhaust time, memory or stack: each must be answered (almost always
    /// refused) without a crash or a hang.
    static func hostile() -> [(String, String)] {
        let base = validYAML
        var cases: [(String, String)] = []
        // "Billion laughs": each alias doubles the size ten times over. Used as a mapping key,
        // any hashing or comparison of keys would walk 10^12 nodes.
        var laughs = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for i in 1...12 { laughs += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n" }
        cases.append(("alias bomb as a value", base + "\ndescription: *a12\n" + laughs))
        cases.append(("alias bomb as a key", laughs + "? *a12\n: boom\n" + base))
        cases.append(("alias bomb as a flow key", laughs + "states: { *a12 : x, *a11 : y }\n"))
        cases.append(("alias bomb in a sequence of roles", laughs + base.replacingOccurrences(of: "by: [author]", with: "by: *a12")))
        cases.append(("self-referencing alias", "a: &a [*a]\n" + base))
        cases.append(("merge key with alias", "x: &x { to: done, by: [chair] }\n" + base.replacingOccurrences(of: "{ to: done, by: [chair], quorum: { approve: 2, reject: 0 } }", with: "{ <<: *x }")))
        // Deep nesting, flow and block.
        cases.append(("flow nesting 100,000 deep", "workflow: " + String(repeating: "[", count: 100_000)))
        cases.append(("flow nesting 999 deep, closed", "workflow: x\nstates: " + String(repeating: "[", count: 999) + String(repeating: "]", count: 999) + "\n"))
        cases.append(("flow mapping nesting 999 deep as a key", "? " + String(repeating: "{a: ", count: 999) + "b" + String(repeating: "}", count: 999) + "\n: c\n"))
        cases.append(("block nesting 1,000 deep", (0..<1_000).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n") + " v\n"))
        cases.append(("sequence nesting 50,000 deep", String(repeating: "- ", count: 50_000) + "x\n"))
        // Size.
        let manyStates = (0..<3_000).map { "  s\($0):\n    due: 1d\n    on:\n      next: { to: s\($0 + 1), by: [chair] }" }.joined(separator: "\n")
        cases.append(("3,000 states in a chain", "workflow: long\nversion: 1\nprefix: LG\ninitial: s0\nstates:\n" + manyStates + "\n  s3000: { final: true }\n"))
        let wide = (0..<2_000).map { "      t\($0): { to: done, by: [chair] }" }.joined(separator: "\n")
        cases.append(("2,000 transitions out of one state", "workflow: wide\nprefix: WD\ninitial: a\nstates:\n  a:\n    due: 1d\n    on:\n" + wide + "\n  done: { final: true }\n"))
        cases.append(("20,000 duplicate keys", "workflow: dup\n" + String(repeating: "prefix: DP\n", count: 20_000)))
        cases.append(("30,000 unknown keys", "workflow: keys\n" + (0..<30_000).map { "k\($0): v" }.joined(separator: "\n")))
        cases.append(("a 900 KiB title", base.replacingOccurrences(of: "title: Sample", with: "title: " + String(repeating: "x", count: 900 << 10))))
        cases.append(("a 16 MiB definition, over the 1 MiB limit", base + "description: " + String(repeating: "x", count: 16 << 20) + "\n"))
        cases.append(("a 900 KiB state name", base + "  " + String(repeating: "s", count: 900 << 10) + ": { final: true }\n"))
        cases.append(("100,000 roles", base.replacingOccurrences(of: "by: [author]", with: "by: [" + Array(repeating: "author", count: 100_000).joined(separator: ",") + "]")))
        cases.append(("100,000 reminders", base.replacingOccurrences(of: "    due: 7d\n    on:\n      submit", with: "    due: 7d\n    remind: [" + Array(repeating: "1d", count: 100_000).joined(separator: ",") + "]\n    on:\n      submit")))
        // Numbers and durations at and past their limits.
        cases.append(("a duration past Int64 when summed", base.replacingOccurrences(of: "due: 7d", with: "due: " + String(repeating: "999999999w", count: 16_000))))
        cases.append(("a due time past the year 9999", base.replacingOccurrences(of: "due: 7d", with: "due: 999999999w")))
        cases.append(("a timed transition a million years out", base.replacingOccurrences(of: "after: 30d", with: "after: 52000000w")))
        cases.append(("a version of Int.max", base.replacingOccurrences(of: "version: 1", with: "version: 9223372036854775807")))
        cases.append(("a quorum of Int.max", base.replacingOccurrences(of: "approve: 2", with: "approve: 9223372036854775807")))
        cases.append(("milestones: Int.max", base.replacingOccurrences(of: "quorum: { approve: 2, reject: 0 }", with: "quorum: { milestones: 9223372036854775807 }")))
        // Text oddities.
        cases.append(("NUL bytes", base.replacingOccurrences(of: "Sample", with: "Sam\u{0}ple")))
        cases.append(("a byte order mark and CRLF", "\u{FEFF}" + base.replacingOccurrences(of: "\n", with: "\r\n")))
        cases.append(("lone CRs", base.replacingOccurrences(of: "\n", with: "\r")))
        cases.append(("tabs for indentation", base.replacingOccurrences(of: "  ", with: "\t")))
        cases.append(("right-to-left override in names", base.replacingOccurrences(of: "drafting", with: "draf\u{202E}ting")))
        cases.append(("many documents", String(repeating: base + "\n---\n", count: 200)))
        cases.append(("directives and tags", "%YAML 1.2\n%TAG !e! tag:example.com,2000:\n--- !e!workflow\n" + base))
        cases.append(("binary tag", base.replacingOccurrences(of: "title: Sample", with: "title: !!binary " + String(repeating: "QUFB", count: 10_000))))
        cases.append(("empty", ""))
        cases.append(("only a comment", "# nothing\n"))
        cases.append(("a scalar document", "just text"))
        cases.append(("a sequence document", "- a\n- b\n"))
        return cases
    }

    @Test("hostile definitions: alias bombs, deep nesting, huge sizes and numbers")
    func hostileDefinitions() {
        var tally = Tally()
        for (name, yaml) in Self.hostile() {
            let start = ContinuousClock.now
            _ = WorkflowDefinition.diagnose(yaml: yaml)
            print("workflow fuzz (hostile): \(name): diagnosed in \(ContinuousClock.now - start)")
            let one = Self.exercise(yaml, label: name)
            print("workflow fuzz (hostile): \(name): \(one.accepted == 1 ? "accepted" : "refused"), \(one.errors) errors, \(one.slowest)")
            tally.add(one)
        }
        print("workflow fuzz (hostile): \(tally.executions) inputs, \(tally.accepted) accepted; slowest \(tally.slowest) (\(tally.slowestInput))")
        #expect(tally.executions == Self.hostile().count)
    }

    // MARK: the alias guard

    @Test("aliases are found wherever YAML allows a node; text with * and & is left alone")
    func aliasScanner() {
        let flagged = [
            "a: *x", "a: &x 1\nb: *x", "- *x", "[*x]", "[a, *x]", "{a: *x}", "{*x : 1}", "? *x\n: 1", "*x : 1", "a: !!str *x",
            "a: &y *x", "--- *x", "a:\n  - b\n  - *x", "a: [\n  *x ]", "a: \"q\"\nb: *x", "a: |\n  text\nb: *x", "- a: |\n  *x : 1",
            "a: 'it''s'\nb: *x", "a: \"multi\n  line\"\nb: *x", "a: b # c\nd: *x", "a: x\r*y : 1", "a: x\u{2028}*y : 1",
            "<<: *x", "a: [b, {c: *x}]", "a: { b: c }\nd: *x", "  *x: 1", "a:\t*x",
        ]
        for text in flagged {
            #expect(YAMLAliasScanner.firstAlias(in: text) != nil, "missed the alias in \(text.debugDescription)")
        }
        let clean = [
            "title: R&D *draft* & more", "title: \"a *b &c\"", "title: 'x *y'", "description: |\n  *bold* text\n  & more\nprefix: AB",
            "a: b # *x", "# *x", "title: 5 * 3", "title: a*b", "title: a:*b", "a: >-\n  *x\n\n  *y\n", "title: \"say \\\"*x\\\"\"",
            "title: 'it''s *x'", "a: [b*c, d&e]", "note: see *appendix*",
        ]
        for text in clean {
            #expect(YAMLAliasScanner.firstAlias(in: text) == nil, "\(text.debugDescription) has no alias")
        }
        // Where the alias is: line and column, 1-based.
        #expect(YAMLAliasScanner.firstAlias(in: "a: 1\nb: [c, *d]") == YAMLAliasScanner.Mark(line: 2, column: 8))
        #expect(WorkflowDefinition.diagnose(yaml: "a: 1\nb: [c, *d]").first?.message.contains("aliases") == true)
    }

    /// The guard against YAML's own reading: wherever the YAML library meets an alias (an
    /// undefined one is an error it names), the scanner must have reported one.
    @Test("the alias guard never misses an alias the YAML library sees (differential fuzz)")
    func aliasScannerDifferential() {
        var rng = Generator(seed: 0xA11A5)
        let inserts = ["*a", " *a", "*a ", "&a ", ": *a", "- *a", "[*a]", "{*a: 1}", "? *a", "\"x*a\"", "'*a'", "# *a", "|\n  *a",
                       "*a : b", "!!str *a", ", *a", "\n*a: 1", "\n  - *a", "\n? *a\n: 1", " #", "'", "\"", "[", "{", "]", "}", ">\n",
                       "\n---\n", "\n--- *a\n", "\u{85}*a", "\r*a", "\t*a", "a*", "&", "*", "!tag ", "%", ":", "::", " - ", "\\"]
        var found = 0, missed = 0, undefined = 0, falsePositives = 0, clean = 0
        for n in 0..<2_000 {
            var text = Array(Self.seeds[n % Self.seeds.count].prefix(600))
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let at = Int.random(in: 0...text.count, using: &rng)
                text.insert(contentsOf: inserts.randomElement(using: &rng)!, at: at)
            }
            let yaml = String(text)
            let scanned = YAMLAliasScanner.firstAlias(in: yaml)
            if scanned != nil { found += 1 }
            do {
                _ = try Yams.compose(yaml: yaml)
                if scanned != nil { falsePositives += 1 } else { clean += 1 }
            } catch let YamlError.composer(_, problem, _, _) where problem.contains("undefined alias") {
                undefined += 1
                if scanned == nil {
                    missed += 1
                    Issue.record("the YAML library found an alias the scanner missed in \(yaml.debugDescription)")
                }
            } catch {}
        }
        print("alias guard differential: \(2_000) inputs, \(found) with an alias reported, \(undefined) aliases seen by the YAML library, "
              + "\(missed) missed; \(falsePositives) reported where the YAML library composed the text, \(clean) clean and composed")
        #expect(undefined > 50, "the fuzz placed too few aliases where YAML reads them")
    }
}
