import Wire

/// What a `block return…` rule answers the sender of a packet it drops (pf's spelling).
public enum RuleReply: String, Sendable, Hashable, CaseIterable {
    /// `block return`: a TCP RST for TCP, an ICMP unreachable for everything else.
    case `return` = "return"
    /// `block return-rst`: a TCP RST for TCP; other protocols are dropped silently.
    case rst = "return-rst"
    /// `block return-icmp` (or `return-icmp6`): an ICMP or ICMPv6 unreachable for every protocol.
    case icmp = "return-icmp"

    /// The answer to a packet of protocol `protocolNumber`, or nil for none.
    @inlinable
    public func kind(forProtocol protocolNumber: UInt8) -> ReplyKind? {
        switch (self, protocolNumber) {
        case (.return, 6), (.rst, 6): return .tcpReset
        case (.rst, _): return nil
        case (_, 6), (_, 17): return .icmpPortUnreachable
        default: return .icmpProhibited
        }
    }

    /// What it sends, in words (`explain`, `rules list`).
    public var summary: String {
        switch self {
        case .return: "a TCP RST to a TCP sender, an ICMP unreachable to any other"
        case .rst: "a TCP RST to a TCP sender (other protocols are dropped silently)"
        case .icmp: "an ICMP (ICMPv6) unreachable to the sender"
        }
    }
}
