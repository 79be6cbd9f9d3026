/// An address prefix such as `192.0.2.0/24` or `2001:db8::/32`; a bare address is a prefix
/// of full length (/32 or /128). The one prefix type of synwall: rule tables, `conns`
/// filters and `synwall log --src/--dst` all take it.
public struct IPPrefix: Sendable, Hashable, CustomStringConvertible {
    /// The first address of the prefix (host bits cleared).
    public let address: IPAddress
    /// Prefix length: 0…32 for IPv4, 0…128 for IPv6.
    public let length: Int

    /// A prefix from an address and a length; host bits of `address` are cleared. Nil when
    /// the length is out of range for the family.
    public init?(address: IPAddress, length: Int) {
        let maximum = address.isIPv4 ? 32 : 128
        guard length >= 0, length <= maximum else { return nil }
        self.length = length
        self.address = IPPrefix.mask(address, length: length)
    }

    /// Parses `ADDRESS` or `ADDRESS/LENGTH`. Nil when it is neither.
    public init?(_ text: String) {
        guard let parsed = IPPrefix.parse(text), case .success(let prefix) = parsed else { return nil }
        self = prefix
    }

    /// True for an IPv4 prefix.
    public var isIPv4: Bool { address.isIPv4 }

    /// True for a single address (/32 or /128).
    public var isHost: Bool { length == (isIPv4 ? 32 : 128) }

    /// The last address of the prefix.
    public var lastAddress: IPAddress {
        if let v4 = address.ipv4 {
            let hostBits: UInt32 = length == 0 ? UInt32.max : (length == 32 ? 0 : UInt32.max >> UInt32(length))
            return IPAddress(ipv4: v4 | hostBits)
        }
        let (highMask, lowMask) = IPPrefix.hostMasks(length)
        return IPAddress(high: address.high | highMask, low: address.low | lowMask)
    }

    /// True when `other` lies inside this prefix.
    public func contains(_ other: IPAddress) -> Bool {
        other.isIPv4 == isIPv4 && address <= other && other <= lastAddress
    }

    /// `192.0.2.0/24`; a full-length prefix prints as the bare address.
    public var description: String {
        length == (isIPv4 ? 32 : 128) ? address.description : "\(address)/\(length)"
    }

    /// Why a text is not a prefix.
    package enum ParseFailure: Error, Equatable {
        /// Not an address at all.
        case notAnAddress
        /// A length outside 0…32 (IPv4) or 0…128 (IPv6); holds the text and the maximum.
        case badLength(String, maximum: Int)
    }

    /// Parses text, also reporting whether host bits had to be cleared; nil when the text
    /// does not look like an address (so callers can try other readings).
    package static func parse(_ text: String) -> Result<IPPrefix, ParseFailure>? {
        guard let first = text.unicodeScalars.first,
              first.properties.isASCIIHexDigit || first == ":" else { return nil }
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(String(parts[0])) else { return nil }
        let maximum = address.isIPv4 ? 32 : 128
        guard parts.count == 2 else {
            return .success(IPPrefix(exact: address, length: maximum))
        }
        let lengthText = String(parts[1])
        guard !lengthText.isEmpty, lengthText.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), lengthText.utf8.count <= 3,
              let length = Int(lengthText), length <= maximum,
              let prefix = IPPrefix(address: address, length: length) else {
            return .failure(.badLength(lengthText, maximum: maximum))
        }
        return .success(prefix)
    }

    /// True when `text` names an address with bits set below its prefix length.
    package static func hasHostBits(_ text: String) -> Bool {
        let parts = text.split(separator: "/", maxSplits: 1)
        guard parts.count == 2, let address = IPAddress(String(parts[0])), let length = Int(parts[1]) else { return false }
        return IPPrefix.mask(address, length: length) != address
    }

    private init(exact address: IPAddress, length: Int) {
        self.address = address
        self.length = length
    }

    static func mask(_ address: IPAddress, length: Int) -> IPAddress {
        if let v4 = address.ipv4 {
            let mask: UInt32 = length == 0 ? 0 : (length >= 32 ? UInt32.max : ~(UInt32.max >> UInt32(length)))
            return IPAddress(ipv4: v4 & mask)
        }
        let (highMask, lowMask) = hostMasks(length)
        return IPAddress(high: address.high & ~highMask, low: address.low & ~lowMask)
    }

    /// Masks of the host bits of a /length IPv6 prefix, per half.
    static func hostMasks(_ length: Int) -> (UInt64, UInt64) {
        let clamped = max(0, min(128, length))
        let highMask: UInt64 = clamped >= 64 ? 0 : (clamped == 0 ? UInt64.max : UInt64.max >> UInt64(clamped))
        let lowMask: UInt64 = clamped <= 64 ? UInt64.max : (clamped == 128 ? 0 : UInt64.max >> UInt64(clamped - 64))
        return (highMask, lowMask)
    }
}
