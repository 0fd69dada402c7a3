import Foundation

/// What `docket-bench populate` created, saved so the scenarios can find it.
public struct Population: Codable, Sendable, Hashable {
    /// The working group every bench item belongs to.
    public var group: String
    /// The author of every item; holds the secretariat role.
    public var secretariat: Credentials
    /// Chair of the group (accepts papers after review).
    public var chair: Credentials
    /// Reviewers in the group (vote on items under review).
    public var reviewers: [Credentials]
    /// Member governments the secretariat endorses for.
    public var members: [String]
    /// Thematic projects the `fire`, `get` and `mixed` scenarios use.
    public var projects: ItemIDs
    /// Policy papers open for endorsement (the `mixed` scenario's endorsements).
    public var papers: [String]

    public init(group: String, secretariat: Credentials, chair: Credentials, reviewers: [Credentials],
                members: [String], projects: ItemIDs, papers: [String]) {
        self.group = group
        self.secretariat = secretariat
        self.chair = chair
        self.reviewers = reviewers
        self.members = members
        self.projects = projects
        self.papers = papers
    }

    public static func load(_ path: String) throws -> Population {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BenchError("no population at \(path): run `docket-bench populate` first")
        }
        do {
            return try JSONDecoder().decode(Population.self, from: data)
        } catch {
            throw BenchError("\(path) is not a population file: \(error)")
        }
    }

    public func save(_ path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        try encoder.encode(self).write(to: URL(fileURLWithPath: path))
    }
}

/// Item ids as runs of numbers under a prefix (`TP-1` ... `TP-10000`), so a million ids
/// take a few bytes.
public struct ItemIDs: Codable, Sendable, Hashable {
    public struct Run: Codable, Sendable, Hashable {
        public var first: Int
        public var last: Int
        public init(_ first: Int, _ last: Int) {
            self.first = first
            self.last = last
        }
        public var count: Int { last - first + 1 }
    }

    public var prefix: String
    public var runs: [Run]

    public init(prefix: String, runs: [Run] = []) {
        self.prefix = prefix
        self.runs = runs
    }

    /// Compresses item numbers into runs.
    public init(prefix: String, numbers: [Int]) {
        self.prefix = prefix
        runs = []
        for n in numbers.sorted() {
            if let last = runs.last, n == last.last + 1 {
                runs[runs.count - 1].last = n
            } else if let last = runs.last, n == last.last {
                continue
            } else {
                runs.append(Run(n, n))
            }
        }
    }

    public var count: Int { runs.reduce(0) { $0 + $1.count } }

    /// The id at `index` in `0..<count`.
    public func id(at index: Int) -> String {
        "\(prefix)-\(number(at: index))"
    }

    public func number(at index: Int) -> Int {
        var i = index
        for run in runs {
            if i < run.count { return run.first + i }
            i -= run.count
        }
        preconditionFailure("item index \(index) out of range 0..<\(count)")
    }

    /// The number of an id of this prefix (`TP-12` → 12).
    public func number(of id: String) -> Int? {
        guard id.hasPrefix(prefix + "-") else { return nil }
        return Int(id.dropFirst(prefix.count + 1))
    }

    /// The first `n` ids (all when n is 0 or larger than the count).
    public func prefix(_ n: Int) -> ItemIDs {
        guard n > 0, n < count else { return self }
        var out = ItemIDs(prefix: prefix)
        var left = n
        for run in runs where left > 0 {
            let take = min(left, run.count)
            out.runs.append(Run(run.first, run.first + take - 1))
            left -= take
        }
        return out
    }

    public func adding(_ numbers: [Int]) -> ItemIDs {
        var all: [Int] = []
        all.reserveCapacity(count + numbers.count)
        for run in runs { all.append(contentsOf: run.first...run.last) }
        all.append(contentsOf: numbers)
        return ItemIDs(prefix: prefix, numbers: all)
    }
}

/// A failure the tool reports in one line.
public struct BenchError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) {
        self.description = description
    }
}
