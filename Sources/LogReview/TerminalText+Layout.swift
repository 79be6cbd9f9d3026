import EventLog

// The layout the review's views share: columns padded to a width, ANSI colours.

extension TerminalText {
    /// Pads `text` with spaces to `width` characters, on the right (or the left when
    /// `alignRight`).
    static func pad(_ text: String, to width: Int, alignRight: Bool = false) -> String {
        let count = text.count
        guard count < width else { return text }
        let spaces = String(repeating: " ", count: width - count)
        return alignRight ? spaces + text : text + spaces
    }

    /// ANSI colours used by the table, the top list and the histogram.
    enum Color: String {
        case bold = "1", dim = "2", red = "31", green = "32", yellow = "33", magenta = "35", cyan = "36"

        func wrap(_ text: String) -> String { "\u{1B}[\(rawValue)m\(text)\u{1B}[0m" }
    }
}
