/// Line diffs between document revisions, printed as a unified diff (Myers' algorithm).
public enum TextDiff {
    enum Op: Equatable { case keep(String), delete(String), insert(String) }

    /// A unified diff of `old` and `new` with `context` lines around each change; empty when equal.
    public static func unified(_ old: String, _ new: String, oldLabel: String, newLabel: String, context: Int = 3) -> String {
        let a = lines(old), b = lines(new)
        let ops = diff(a, b)
        guard ops.contains(where: { if case .keep = $0 { false } else { true } }) else { return "" }
        var out = "--- \(oldLabel)\n+++ \(newLabel)\n"
        // Group changes into hunks with context.
        var i = 0
        while i < ops.count {
            guard let start = ops[i...].firstIndex(where: { if case .keep = $0 { false } else { true } }) else { break }
            var end = start
            var j = start
            while j < ops.count {
                if case .keep = ops[j] {
                    let run = ops[j...].prefix { if case .keep = $0 { true } else { false } }.count
                    if j + run >= ops.count || run > 2 * context { break }
                    j += run
                } else {
                    end = j
                    j += 1
                }
            }
            let lo = max(i, start - context), hi = min(ops.count, end + 1 + context)
            var oldStart = 1, newStart = 1
            for op in ops[..<lo] {
                switch op {
                case .keep: oldStart += 1; newStart += 1
                case .delete: oldStart += 1
                case .insert: newStart += 1
                }
            }
            var body = "", oldCount = 0, newCount = 0
            for op in ops[lo..<hi] {
                switch op {
                case let .keep(l): body += " \(l)\n"; oldCount += 1; newCount += 1
                case let .delete(l): body += "-\(l)\n"; oldCount += 1
                case let .insert(l): body += "+\(l)\n"; newCount += 1
                }
            }
            out += "@@ -\(oldCount == 0 ? oldStart - 1 : oldStart),\(oldCount) +\(newCount == 0 ? newStart - 1 : newStart),\(newCount) @@\n" + body
            i = hi
        }
        return out
    }

    static func lines(_ text: String) -> [String] {
        guard !text.isEmpty else { return [] }
        var parts = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if parts.last == "" { parts.removeLast() }
        return parts
    }

    /// Myers' O(ND) shortest edit script.
    static func diff(_ a: [String], _ b: [String]) -> [Op] {
        let n = a.count, m = b.count, max = n + m
        if max == 0 { return [] }
        var v = [Int](repeating: 0, count: 2 * max + 2)
        var trace: [[Int]] = []
        outer: for d in 0...max {
            trace.append(v)
            for k in stride(from: -d, through: d, by: 2) {
                var x = (k == -d || (k != d && v[max + k - 1] < v[max + k + 1])) ? v[max + k + 1] : v[max + k - 1] + 1
                var y = x - k
                while x < n, y < m, a[x] == b[y] { x += 1; y += 1 }
                v[max + k] = x
                if x >= n, y >= m { trace.append(v); break outer }
            }
        }
        // Backtrack.
        var ops: [Op] = []
        var x = n, y = m
        for d in stride(from: trace.count - 2, through: 0, by: -1) {
            let v = trace[d]
            let k = x - y
            let prevK = (k == -d || (k != d && v[max + k - 1] < v[max + k + 1])) ? k + 1 : k - 1
            let prevX = v[max + prevK], prevY = prevX - prevK
            while x > prevX, y > prevY { ops.append(.keep(a[x - 1])); x -= 1; y -= 1 }
            if d > 0 {
                if x == prevX { ops.append(.insert(b[y - 1])) } else { ops.append(.delete(a[x - 1])) }
            }
            x = prevX
            y = prevY
        }
        return ops.reversed()
    }
}
