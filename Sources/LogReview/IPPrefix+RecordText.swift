import Wire

extension IPPrefix {
    /// Whether the address a record writes as `text` (UTF-8) falls inside this prefix; false for
    /// text that is no address. An IPv4 prefix also covers IPv4-mapped IPv6 text
    /// (`::ffff:203.0.113.7`, the same address in `Wire`); an IPv6 prefix compares all 128 bits
    /// of any IPv6 text, mapped ones included, and never matches a dotted quad.
    public func contains(addressText text: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let address = IPAddress(utf8: text) else { return false }
        if isIPv4 { return address.isIPv4 && contains(address) }
        guard text.contains(UInt8(ascii: ":")) else { return false }
        return self.address <= address && address <= lastAddress
    }

    /// Whether the address in `text` falls inside this prefix; see
    /// ``contains(addressText:)-(UnsafeBufferPointer<UInt8>)``.
    public func contains(addressText text: String) -> Bool {
        var copy = text
        return copy.withUTF8 { contains(addressText: $0) }
    }
}
