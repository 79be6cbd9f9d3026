#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An address or a CIDR prefix to match record addresses against: `203.0.113.7`,
/// `203.0.113.0/24`, `2001:db8::/32`. IPv4 and IPv6 never match each other, except that an
/// IPv4 prefix also matches IPv4-mapped IPv6 text (`::ffff:203.0.113.7`).
public struct IPPrefix: Sendable, Equatable, CustomStringConvertible {
    /// 4 or 16 bytes, host bits cleared.
    public let bytes: [UInt8]
    /// The prefix length in bits.
    public let length: Int

    /// Parses `text`; nil when it is not an address with an optional `/length` in range.
    public init?(_ text: String) {
        var addressText = Substring(text)
        var length: Int?
        if let slash = text.firstIndex(of: "/") {
            addressText = text[..<slash]
            guard let bits = Int(text[text.index(after: slash)...]), bits >= 0 else { return nil }
            length = bits
        }
        guard let address = IPPrefix.parseAddress(String(addressText)) else { return nil }
        let maximum = address.count * 8
        let bits = length ?? maximum
        guard bits <= maximum else { return nil }
        var masked = address
        for index in 0..<masked.count {
            let keep = max(0, min(8, bits - index * 8))
            masked[index] &= keep == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - keep))
        }
        bytes = masked
        self.length = bits
    }

    /// Whether the address in `text` (as records write it) falls inside this prefix; false
    /// for text that is not an address.
    public func contains(_ text: String) -> Bool {
        var copy = text
        return copy.withUTF8 { contains(bytes: $0) }
    }

    /// Whether the address written in `bytes` (UTF-8 text) falls inside this prefix.
    func contains(bytes text: UnsafeBufferPointer<UInt8>) -> Bool {
        var address = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        return withUnsafeMutableBytes(of: &address) { raw -> Bool in
            guard let count = IPPrefix.parseAddress(bytes: text, into: raw) else { return false }
            var start = 0
            if count == 16 && bytes.count == 4 {
                // IPv4-mapped IPv6: ::ffff:a.b.c.d
                for index in 0..<10 where raw[index] != 0 { return false }
                guard raw[10] == 0xFF, raw[11] == 0xFF else { return false }
                start = 12
            } else if count != bytes.count {
                return false
            }
            var remaining = length
            var index = 0
            while remaining > 0 {
                let keep = min(8, remaining)
                let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - keep))
                if raw[start + index] & mask != bytes[index] { return false }
                remaining -= keep
                index += 1
            }
            return true
        }
    }

    public var description: String {
        let text = AddressText.format(bytes) ?? "?"
        return length == bytes.count * 8 ? text : "\(text)/\(length)"
    }

    /// The bytes of an IPv4 or IPv6 address in text, or nil.
    static func parseAddress(_ text: String) -> [UInt8]? {
        var raw = [UInt8](repeating: 0, count: 16)
        let count = raw.withUnsafeMutableBytes { parseAddress(text, into: $0) }
        guard let count else { return nil }
        return Array(raw.prefix(count))
    }

    /// Parses into `raw` (16 bytes at least); returns 4 or 16, or nil.
    static func parseAddress(_ text: String, into raw: UnsafeMutableRawBufferPointer) -> Int? {
        var copy = text
        return copy.withUTF8 { parseAddress(bytes: $0, into: raw) }
    }

    /// Parses UTF-8 `text` into `raw` (16 bytes at least); returns 4 or 16, or nil. IPv4
    /// dotted quads are parsed here (the common case, fast); IPv6 by `inet_pton`.
    static func parseAddress(bytes text: UnsafeBufferPointer<UInt8>, into raw: UnsafeMutableRawBufferPointer) -> Int? {
        var value = 0
        var octets = 0
        var digits = 0
        var isIPv4 = true
        var hasColon = false
        for byte in text {
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                // Past three digits it is no octet: stop growing (a long run of digits overflowed).
                if digits < 3 { value = value * 10 + Int(byte - UInt8(ascii: "0")) }
                digits += 1
                if value > 255 || digits > 3 { isIPv4 = false }
            } else if byte == UInt8(ascii: ".") && digits > 0 && octets < 3 && isIPv4 {
                raw[octets] = UInt8(value)
                octets += 1
                value = 0
                digits = 0
            } else {
                if byte == UInt8(ascii: ":") { hasColon = true }
                isIPv4 = false
            }
        }
        if isIPv4 {
            guard octets == 3, digits > 0 else { return nil }
            raw[3] = UInt8(value)
            return 4
        }
        guard hasColon, text.count < 64, let base = raw.baseAddress else { return nil }
        // inet_pton wants a C string: copy to a small stack buffer with its terminator.
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer -> Int? in
            for (index, byte) in text.enumerated() { buffer[index] = CChar(bitPattern: byte) }
            buffer[text.count] = 0
            guard let cString = buffer.baseAddress else { return nil }
            return inet_pton(AF_INET6, cString, base) == 1 ? 16 : nil
        }
    }
}
