import DocketWire

/// How an item map prints in text.
enum ItemSummary {
    /// `PP-4  Green public procurement  [drafting, due 2026-12-28 (in 30d)]`
    static func line(_ item: RESPValue) -> String {
        let due = item.optionalText("due_at").map { ", due " + When.due($0).text } ?? ""
        let final = item.flag("final") ? ", final" : ""
        return "\(item.text("id").styled(.bold))  \(item.text("title"))  [\(item.text("state"))\(final)\(due)]"
    }

    /// The transitions out of the item's state, for a "next:" line.
    static func next(_ item: RESPValue) -> String? {
        let transitions = item.list("transitions").map(\.displayText)
        guard !transitions.isEmpty else { return nil }
        return "transitions: " + transitions.joined(separator: ", ")
            + " (see who may fire one with `docket why \(item.text("id")) \(transitions[0])`)"
    }
}

/// How an event map prints in text: `v6 2026-11-28 09:30 ana transition submit: drafting → peer-review "ready"`.
enum EventSummary {
    static func what(_ event: RESPValue) -> String {
        let type = event.text("type")
        switch type {
        case "transition":
            return "\(event.text("transition")): \(event.text("from")) → \(event.text("to"))"
        case "created":
            return "created in \(event.text("to"))"
        default:
            return type
        }
    }

    static func line(_ event: RESPValue) -> String {
        var parts = [event.text("item").styled(.bold), "v\(event.text("version"))", When.short(event.optionalText("at")),
                     event.text("actor"), what(event)]
        if let comment = event.optionalText("comment") { parts.append("“\(comment)”") }
        return parts.joined(separator: "  ")
    }
}
