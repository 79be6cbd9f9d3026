import Tracking

/// Which way a packet travels through the host, from the netfilter hook that queued it.
public enum Direction: String, Sendable, Hashable, CaseIterable {
    /// To this host (INPUT hook).
    case `in`
    /// From this host (OUTPUT hook).
    case out
    /// Through this host, routed between interfaces (FORWARD hook).
    case forward

    /// 0, 1, 2: an index for per-direction arrays.
    @inlinable
    public var index: Int {
        switch self {
        case .in: return 0
        case .out: return 1
        case .forward: return 2
        }
    }

    /// One bit per direction, for rule masks.
    @inlinable
    var bit: UInt8 { UInt8(1) << UInt8(index) }
}

/// What a rule does with the new connections it matches.
public enum RuleAction: String, Sendable, Hashable {
    /// Let the connection start; the tracker then judges each of its packets (keep state).
    case pass
    /// Drop the packet; no state is created.
    case block

    /// The verdict this action gives.
    public var verdict: Verdict { self == .pass ? .accept : .drop }
}

/// An address family a rule is restricted to.
public enum AddressFamily: String, Sendable, Hashable {
    /// IPv4 (`inet`).
    case inet
    /// IPv6 (`inet6`).
    case inet6
}
