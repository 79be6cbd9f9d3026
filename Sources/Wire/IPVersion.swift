/// The IP version of a decoded packet.
public enum IPVersion: Sendable, Equatable, Hashable {
    /// IPv4 (RFC 791).
    case v4
    /// IPv6 (RFC 8200).
    case v6
}
