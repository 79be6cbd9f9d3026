/// Formats raw IP addresses for event records, for callers that hold bytes rather than text.
///
/// IPv6 follows RFC 5952: lowercase hex, no leading zeros, the longest run of two or more zero
/// groups (the first on a tie) written `::`, and IPv4-mapped addresses as `::ffff:192.0.2.1`.
public enum AddressText {
    /// The text of a 4-byte (IPv4) or 16-byte (IPv6) address in network byte order, or nil for
    /// any other length.
    public static func format(_ bytes: UnsafeRawBufferPointer) -> String? {
        var text: [UInt8] = []
        text.reserveCapacity(46)
        switch bytes.count {
        case 4:
            appendIPv4(bytes[0], bytes[1], bytes[2], bytes[3], into: &text)
        case 16:
            appendIPv6(bytes, into: &text)
        default:
            return nil
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The text of a 4- or 16-byte address; see ``format(_:)-(UnsafeRawBufferPointer)``.
    public static func format(_ bytes: [UInt8]) -> String? {
        bytes.withUnsafeBytes { format($0) }
    }

    /// The dotted-quad text of an IPv4 address given as a host-order integer
    /// (`0xC000_0201` is `192.0.2.1`).
    public static func format(ipv4 address: UInt32) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(15)
        appendIPv4(UInt8(address >> 24), UInt8(address >> 16 & 0xFF), UInt8(address >> 8 & 0xFF), UInt8(address & 0xFF),
                   into: &text)
        return String(decoding: text, as: UTF8.self)
    }

    private static func appendIPv4(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, into text: inout [UInt8]) {
        EventTimestamp.appendDigits(UInt64(a), width: 1, into: &text)
        text.append(UInt8(ascii: "."))
        EventTimestamp.appendDigits(UInt64(b), width: 1, into: &text)
        text.append(UInt8(ascii: "."))
        EventTimestamp.appendDigits(UInt64(c), width: 1, into: &text)
        text.append(UInt8(ascii: "."))
        EventTimestamp.appendDigits(UInt64(d), width: 1, into: &text)
    }

    private static func appendIPv6(_ bytes: UnsafeRawBufferPointer, into text: inout [UInt8]) {
        func group(_ i: Int) -> UInt16 { UInt16(bytes[2 * i]) << 8 | UInt16(bytes[2 * i + 1]) }

        // IPv4-mapped (::ffff:a.b.c.d).
        if (0..<5).allSatisfy({ group($0) == 0 }) && group(5) == 0xFFFF {
            text.append(contentsOf: Array("::ffff:".utf8))
            appendIPv4(bytes[12], bytes[13], bytes[14], bytes[15], into: &text)
            return
        }

        // The longest run of zero groups, at least two long; the first one on a tie.
        var bestStart = -1, bestLength = 0, runStart = -1
        for i in 0...8 {
            if i < 8 && group(i) == 0 {
                if runStart < 0 { runStart = i }
            } else if runStart >= 0 {
                if i - runStart > bestLength {
                    bestStart = runStart
                    bestLength = i - runStart
                }
                runStart = -1
            }
        }
        if bestLength < 2 { bestStart = -1 }

        var i = 0
        while i < 8 {
            if i == bestStart {
                text.append(contentsOf: [UInt8(ascii: ":"), UInt8(ascii: ":")])
                i += bestLength
                continue
            }
            if i > 0 && i != bestStart + bestLength { text.append(UInt8(ascii: ":")) }
            appendHex(group(i), into: &text)
            i += 1
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    private static func appendHex(_ value: UInt16, into text: inout [UInt8]) {
        var started = false
        for shift in stride(from: 12, through: 0, by: -4) {
            let digit = Int(value >> UInt16(shift) & 0xF)
            if digit != 0 || started || shift == 0 {
                text.append(hexDigits[digit])
                started = true
            }
        }
    }
}
