/// What synwall sends back to the sender of a packet a `block return…` rule refused.
public enum ReplyKind: Sendable, Hashable {
    /// A TCP RST (RST|ACK for a segment without ACK), as the closed port of a host would.
    case tcpReset
    /// ICMP destination unreachable, port unreachable (ICMPv6: type 1 code 4).
    case icmpPortUnreachable
    /// ICMP destination unreachable, communication administratively prohibited (code 13;
    /// ICMPv6: type 1 code 1).
    case icmpProhibited
}
