/// Formats raw IP addresses for event records, for callers that hold bytes rather than text.
///
/// IPv6 follows RFC 5952: lowercase hex, no leading zeros, the longest run of two or more zero
/// groups (the first on a tie) written `::`, and IPv4-mapped addresses as `::ffff:192.0.2.1`.
/// The text is built in place in the new string's storage: an IPv4 address (at most 15 bytes)
/// fits Swift's small-string form and allocates nothing.
public enum AddressText {
    /// The text of a 4-byte (IPv4) or 16-byte (IPv6) address in network byte order, or nil for
    /// any other length.
    public static func format(_ bytes: UnsafeRawBufferPointer) -> String? {
        switch bytes.count {
        case 4:
            return String(unsafeUninitializedCapacity: 15) { text in
                var length = 0
                appendIPv4(bytes[0], bytes[1], bytes[2], bytes[3], into: text, at: &length)
                return length
            }
        case 16:
            return String(unsafeUninitializedCapacity: 45) { text in
                var length = 0
                appendIPv6(bytes, into: text, at: &length)
                return length
            }
        default:
            return nil
        }
    }

    /// The text of a 4- or 16-byte address; see ``format(_:)-(UnsafeRawBufferPointer)``.
    public static func format(_ bytes: [UInt8]) -> String? {
        bytes.withUnsafeBytes { format($0) }
    }

    /// The dotted-quad text of an IPv4 address given as a host-order integer
    /// (`0xC000_0201` is `192.0.2.1`).
    public static func format(ipv4 address: UInt32) -> String {
        String(unsafeUninitializedCapacity: 15) { text in
            var length = 0
            appendIPv4(UInt8(address >> 24), UInt8(address >> 16 & 0xFF), UInt8(address >> 8 & 0xFF),
                       UInt8(address & 0xFF), into: text, at: &length)
            return length
        }
    }

    @inline(__always)
    private static func appendDecimal(_ value: UInt8, into text: UnsafeMutableBufferPointer<UInt8>, at length: inout Int) {
        if value >= 100 {
            text[length] = UInt8(ascii: "0") + value / 100
            length += 1
        }
        if value >= 10 {
            text[length] = UInt8(ascii: "0") + value / 10 % 10
            length += 1
        }
        text[length] = UInt8(ascii: "0") + value % 10
        length += 1
    }

    private static func appendIPv4(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8,
                                   into text: UnsafeMutableBufferPointer<UInt8>, at length: inout Int) {
        appendDecimal(a, into: text, at: &length)
        text[length] = UInt8(ascii: ".")
        length += 1
        appendDecimal(b, into: text, at: &length)
        text[length] = UInt8(ascii: ".")
        length += 1
        appendDecimal(c, into: text, at: &length)
        text[length] = UInt8(ascii: ".")
        length += 1
        appendDecimal(d, into: text, at: &length)
    }

    private static func appendIPv6(_ bytes: UnsafeRawBufferPointer, into text: UnsafeMutableBufferPointer<UInt8>,
                                   at length: inout Int) {
        @inline(__always) func group(_ i: Int) -> UInt16 { UInt16(bytes[2 * i]) << 8 | UInt16(bytes[2 * i + 1]) }

        // IPv4-mapped (::ffff:a.b.c.d).
        if group(0) == 0 && group(1) == 0 && group(2) == 0 && group(3) == 0 && group(4) == 0 && group(5) == 0xFFFF {
            for byte in "::ffff:".utf8 {
                text[length] = byte
                length += 1
            }
            appendIPv4(bytes[12], bytes[13], bytes[14], bytes[15], into: text, at: &length)
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
                text[length] = UInt8(ascii: ":")
                text[length + 1] = UInt8(ascii: ":")
                length += 2
                i += bestLength
                continue
            }
            if i > 0 && i != bestStart + bestLength {
                text[length] = UInt8(ascii: ":")
                length += 1
            }
            appendHex(group(i), into: text, at: &length)
            i += 1
        }
    }

    @inline(__always)
    private static func appendHex(_ value: UInt16, into text: UnsafeMutableBufferPointer<UInt8>, at length: inout Int) {
        var started = false
        var shift = 12
        while shift >= 0 {
            let digit = UInt8(value >> UInt16(shift) & 0xF)
            if digit != 0 || started || shift == 0 {
                text[length] = digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10
                length += 1
                started = true
            }
            shift -= 4
        }
    }
}
