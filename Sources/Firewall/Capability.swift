/// A Linux capability, by its kernel number (capabilities(7)).
public struct Capability: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The kernel's number (CAP_NET_ADMIN is 12).
    public let number: Int

    /// Creates a capability from its kernel number (0-63).
    public init(number: Int) { self.number = number }

    /// CAP_NET_ADMIN: NFQUEUE sockets, their verdicts, and iptables/nft rules.
    public static let netAdmin = Capability(number: 12)
    /// CAP_NET_RAW: iptables' legacy backend talks to the kernel through a raw socket.
    public static let netRaw = Capability(number: 13)

    /// `cap_net_admin` for the ones synwall names, `cap_N` otherwise.
    public var description: String {
        switch number {
        case 12: return "cap_net_admin"
        case 13: return "cap_net_raw"
        default: return "cap_\(number)"
        }
    }

    public static func < (a: Capability, b: Capability) -> Bool { a.number < b.number }

    /// The kernel's bit mask for a set of capabilities (bit N = capability N).
    public static func mask<S: Sequence>(_ capabilities: S) -> UInt64 where S.Element == Capability {
        capabilities.reduce(0) { $0 | (1 << UInt64($1.number)) }
    }
}
