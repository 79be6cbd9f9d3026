import Tracking

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
