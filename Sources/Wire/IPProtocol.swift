/// An IP protocol number (the IPv4 Protocol field, the IPv6 Next Header of the transport) and
/// its names: the lowercase name rule files and the command line use (`tcp`, `icmp6`), and the
/// name event records carry in `proto` (`TCP`, `IPv6-ICMP`, as Suricata's EVE JSON writes it).
public struct IPProtocol: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The protocol number (IANA "Assigned Internet Protocol Numbers").
    public let rawValue: UInt8

    /// The protocol with number `rawValue`; every number is a protocol.
    @inlinable
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// ICMP for IPv4 (1).
    public static let icmp = IPProtocol(rawValue: 1)
    /// TCP (6).
    public static let tcp = IPProtocol(rawValue: 6)
    /// UDP (17).
    public static let udp = IPProtocol(rawValue: 17)
    /// ICMP for IPv6 (58).
    public static let icmpv6 = IPProtocol(rawValue: 58)

    /// True for TCP and UDP, the protocols whose flows synwall names by ports.
    @inlinable
    public var hasPorts: Bool { rawValue == 6 || rawValue == 17 }

    /// Orders by number.
    @inlinable
    public static func < (lhs: IPProtocol, rhs: IPProtocol) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Lowercase names and numbers, as rule files write them (`/etc/protocols` spellings, so a
    /// rule file reads the same on every host). `icmp6` and `ipv6-icmp` both name 58, `ipencap`
    /// and `ipip` both 4.
    public static let names: [String: UInt8] = [
        "hopopt": 0, "icmp": 1, "igmp": 2, "ipencap": 4, "ipip": 4, "tcp": 6, "egp": 8, "udp": 17,
        "ipv6": 41, "rsvp": 46, "gre": 47, "esp": 50, "ah": 51, "icmp6": 58, "ipv6-icmp": 58,
        "ospf": 89, "pim": 103, "vrrp": 112, "l2tp": 115, "sctp": 132, "udplite": 136,
    ]

    /// The protocol a name in ``names`` stands for (exact, lowercase); nil for any other text.
    public init?(name: String) {
        guard let number = IPProtocol.names[name] else { return nil }
        self.init(rawValue: number)
    }

    /// The name people read and rule files take: `tcp`, `udp`, `icmp`, `icmp6`, another
    /// protocol's name from ``names`` (the first spelling when it has two), else the number.
    public var name: String {
        switch rawValue {
        case 1: return "icmp"
        case 6: return "tcp"
        case 17: return "udp"
        case 58: return "icmp6"
        case 4: return "ipencap"
        default:
            return IPProtocol.names.first { $0.value == rawValue }?.key ?? String(rawValue)
        }
    }

    /// The `proto` text of an event record: `TCP`, `UDP`, `ICMP`, `IPv6-ICMP` (IANA's
    /// keyword for 58), anything else the number in decimal.
    public var eventName: String {
        switch rawValue {
        case 6: return "TCP"
        case 17: return "UDP"
        case 1: return "ICMP"
        case 58: return "IPv6-ICMP"
        default: return String(rawValue)
        }
    }

    /// The same as ``name``.
    public var description: String { name }
}
