/// ANSI styles, applied only when ``Terminal/colorEnabled``.
enum Style: String, Sendable {
    case bold = "1"
    case dim = "2"
    case red = "31"
    case green = "32"
    case yellow = "33"
    case blue = "34"
    case magenta = "35"
    case cyan = "36"

    /// `text` wrapped in this style's escape codes, or `text` itself without colour.
    func apply(_ text: String, enabled: Bool = Terminal.colorEnabled) -> String {
        guard enabled, !text.isEmpty else { return text }
        return "\u{1B}[\(rawValue)m\(text)\u{1B}[0m"
    }
}

extension String {
    func styled(_ style: Style?) -> String { style?.apply(self) ?? self }
}
