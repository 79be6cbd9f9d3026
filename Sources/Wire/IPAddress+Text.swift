// Text forms of IPAddress: parsing (dotted quad, every RFC 4291 §2.2 IPv6 form) and
// formatting (dotted quad, RFC 5952 canonical IPv6). Not on the packet path.

extension IPAddress: CustomStringConvertible, LosslessStringConvertible {
    /// Parses `"192.0.2.1"` or any valid IPv6 text form (`"2001:db8::1"`, `"::ffff:192.0.2.1"`,
    /// full or compressed, any case). Returns nil for anything else: leading zeros in a dotted
    /// quad, zone suffixes (`%eth0`), prefixes (`/24`) and surrounding spaces are rejected.
    public init?(_ text: String) {
        var text = text
        guard let parsed = text.withUTF8({ IPAddress.parse($0) }) else { return nil }
        self = parsed
    }

    /// Parses UTF-8 text as ``init(_:)`` does, without making a `String` first (for readers
    /// that scan lines as bytes). Nil for anything that is not an address.
    public init?(utf8 text: UnsafeBufferPointer<UInt8>) {
        guard let parsed = IPAddress.parse(text) else { return nil }
        self = parsed
    }

    /// A dotted quad for IPv4 (and IPv4-mapped IPv6), else the RFC 5952 canonical IPv6 form:
    /// lowercase hex, no leading zeros, the longest run of two or more zero groups (the first
    /// on a tie) written `::`.
    public var description: String {
        if let v4 = ipv4 { return IPAddress.dottedQuad(v4) }
        return IPAddress.ipv6Text(high: high, low: low)
    }

    /// The dotted quad of `v4`, written in place in the new string's storage: at most 15 bytes,
    /// which Swift's small-string form holds, so nothing is allocated (an event per dropped
    /// packet formats its addresses).
    static func dottedQuad(_ v4: UInt32) -> String {
        String(unsafeUninitializedCapacity: 15) { text in
            var length = 0
            for shift in stride(from: 24, through: 0, by: -8) {
                if shift < 24 {
                    text[length] = UInt8(ascii: ".")
                    length += 1
                }
                let value = UInt8(truncatingIfNeeded: v4 >> UInt32(shift))
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
            return length
        }
    }

    /// The RFC 5952 text of an IPv6 address, written in place like ``dottedQuad(_:)`` (at
    /// most 39 bytes: one allocation, no intermediate arrays).
    static func ipv6Text(high: UInt64, low: UInt64) -> String {
        @inline(__always) func group(_ index: Int) -> UInt16 {
            UInt16(truncatingIfNeeded: (index < 4 ? high : low) >> UInt64(48 - 16 * (index & 3)))
        }
        // The longest run of zero groups, at least two long; the first one wins a tie.
        var bestStart = -1, bestLength = 0, runStart = -1
        for index in 0...8 {
            if index < 8, group(index) == 0 {
                if runStart < 0 { runStart = index }
            } else if runStart >= 0 {
                let length = index - runStart
                if length > bestLength { bestStart = runStart; bestLength = length }
                runStart = -1
            }
        }
        if bestLength < 2 { bestStart = -1 }

        return String(unsafeUninitializedCapacity: 39) { text in
            var length = 0
            var index = 0
            while index < 8 {
                if index == bestStart {
                    text[length] = UInt8(ascii: ":")
                    text[length + 1] = UInt8(ascii: ":")
                    length += 2
                    index += bestLength
                    continue
                }
                if index > 0, index != bestStart + bestLength || bestStart < 0 {
                    text[length] = UInt8(ascii: ":")
                    length += 1
                }
                // Lowercase hex without leading zeros.
                let value = group(index)
                var shift = 12
                while shift > 0 && value >> UInt16(shift) == 0 { shift -= 4 }
                while shift >= 0 {
                    let digit = UInt8(truncatingIfNeeded: value >> UInt16(shift) & 0xF)
                    text[length] = digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10
                    length += 1
                    shift -= 4
                }
                index += 1
            }
            return length
        }
    }

    static func parse(_ utf8: UnsafeBufferPointer<UInt8>) -> IPAddress? {
        guard !utf8.isEmpty else { return nil }
        if utf8.contains(UInt8(ascii: ":")) {
            return parseIPv6(utf8)
        }
        return parseIPv4(utf8, 0, utf8.count).map { IPAddress(ipv4: $0) }
    }

    /// A strict dotted quad in `utf8[start..<end]`: four decimal parts 0…255, no leading zeros.
    static func parseIPv4(_ utf8: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> UInt32? {
        var value: UInt32 = 0
        var part: UInt32 = 0
        var digits = 0
        var parts = 0
        var index = start
        while index <= end {
            let character: UInt8 = index < end ? utf8[index] : UInt8(ascii: ".")
            if character == UInt8(ascii: ".") {
                guard digits > 0 else { return nil }
                value = value << 8 | part
                parts += 1
                part = 0
                digits = 0
            } else if character >= UInt8(ascii: "0"), character <= UInt8(ascii: "9") {
                if digits > 0 && part == 0 { return nil }  // leading zero
                part = part * 10 + UInt32(character - UInt8(ascii: "0"))
                digits += 1
                guard part <= 255 else { return nil }
            } else {
                return nil
            }
            index += 1
        }
        return parts == 4 ? value : nil
    }

    static func parseIPv6(_ utf8: UnsafeBufferPointer<UInt8>) -> IPAddress? {
        let colon = UInt8(ascii: ":")
        let count = utf8.count
        // Find the one "::", if any.
        var gap = -1
        var index = 0
        while index + 1 < count {
            if utf8[index] == colon && utf8[index + 1] == colon {
                guard gap < 0 else { return nil }
                gap = index
                index += 2
            } else {
                index += 1
            }
        }
        var groups = [UInt16](repeating: 0, count: 8)
        if gap < 0 {
            guard let head = groups8(utf8, 0, count, allowIPv4: true), head.count == 8 else { return nil }
            groups = head
        } else {
            guard let head = groups8(utf8, 0, gap, allowIPv4: false),
                  let tail = groups8(utf8, gap + 2, count, allowIPv4: true),
                  head.count + tail.count <= 7 else { return nil }
            for (offset, group) in head.enumerated() { groups[offset] = group }
            for (offset, group) in tail.enumerated() { groups[8 - tail.count + offset] = group }
        }
        var high: UInt64 = 0, low: UInt64 = 0
        for index in 0..<4 { high = high << 16 | UInt64(groups[index]) }
        for index in 4..<8 { low = low << 16 | UInt64(groups[index]) }
        return IPAddress(high: high, low: low)
    }

    /// The colon-separated groups in `utf8[start..<end]` (empty for an empty range); the last
    /// one may be a dotted quad when `allowIPv4` (it counts as two groups).
    static func groups8(_ utf8: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, allowIPv4: Bool) -> [UInt16]? {
        var groups: [UInt16] = []
        guard start < end else { return groups }
        var pieceStart = start
        var index = start
        while index <= end {
            if index == end || utf8[index] == UInt8(ascii: ":") {
                guard index > pieceStart else { return nil }  // empty group
                if let group = hexGroup(utf8, pieceStart, index) {
                    groups.append(group)
                } else if allowIPv4, index == end, let v4 = parseIPv4(utf8, pieceStart, index) {
                    groups.append(UInt16(truncatingIfNeeded: v4 >> 16))
                    groups.append(UInt16(truncatingIfNeeded: v4))
                } else {
                    return nil
                }
                guard groups.count <= 8 else { return nil }
                pieceStart = index + 1
            }
            index += 1
        }
        return groups
    }

    /// One to four hex digits in `utf8[start..<end]`.
    static func hexGroup(_ utf8: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> UInt16? {
        guard end > start, end - start <= 4 else { return nil }
        var value: UInt16 = 0
        for index in start..<end {
            let character = utf8[index]
            let digit: UInt8
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = character - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = character - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = character - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt16(digit)
        }
        return value
    }
}
