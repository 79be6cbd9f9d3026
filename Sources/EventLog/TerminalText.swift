/// Text made safe and tidy for a terminal or a spreadsheet: what a record holds came, in the
/// end, from packets and rule files, and must not move the cursor, recolour the screen,
/// reverse text direction or start a formula.
public enum TerminalText {
    /// `text` with every control character (C0, DEL, C1) and every bidirectional override
    /// written as a visible escape (`\x1b`, `\u{202e}`), so it prints as one inert line.
    /// With `keepingTabs`, a tab stays a tab (it moves the cursor only to the next tab stop,
    /// and a quoted source line keeps its alignment with the caret under it).
    public static func sanitize(_ text: String, keepingTabs: Bool = false) -> String {
        let isUnsafe: (Unicode.Scalar) -> Bool = { keepingTabs && $0 == "\t" ? false : Self.isUnsafe($0) }
        var needsWork = false
        for scalar in text.unicodeScalars where isUnsafe(scalar) {
            needsWork = true
            break
        }
        guard needsWork else { return text }
        var result = ""
        result.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            if isUnsafe(scalar) {
                if scalar.value < 0x100 {
                    result += "\\x" + hex(scalar.value, width: 2)
                } else {
                    result += "\\u{" + hex(scalar.value, width: 4) + "}"
                }
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// Several lines made safe: each line as by ``sanitize(_:keepingTabs:)`` with tabs kept, the
    /// line breaks (`\n`) kept. For text made of rule files, table files and labels (`check`,
    /// `explain`, `rules list`): a downloaded blocklist must not retitle or clear the terminal.
    public static func sanitizeLines(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0 != "\n" && $0 != "\t" && isUnsafe($0) }) else { return text }
        // On scalars: "\r\n" is one Character, and a split on "\n" would not see its break.
        return text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
            .map { sanitize(String(String.UnicodeScalarView($0)), keepingTabs: true) }.joined(separator: "\n")
    }

    static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00..<0x20, 0x7F..<0xA0: return true  // C0, DEL, C1 (CSI 0x9B included)
        case 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true  // bidi marks and overrides
        default: return false
        }
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
