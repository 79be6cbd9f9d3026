import Wire

/// Decides whether a packet that would create a new flow may do so: a TCP SYN (or, with
/// pickup, a mid-stream ACK), the first UDP datagram of a flow, an ICMP echo request, the first
/// packet of another protocol's flow. The rules engine implements it; the tracker asks only for
/// such packets, after the flags check and before the flood limits.
public protocol Admission {
    /// True to let `packet` start the flow `key`; false drops it with reason `policy`.
    mutating func admit(_ packet: Packet, key: FlowKey) -> Bool

    /// What to store with the flow the last `admit` let in: the admitting rule's index and the
    /// first packet's hook and interfaces (read by the tracker right after `admit` returns true).
    /// The default is `FlowOrigin()`: no rule, hook in, no interface.
    var origin: FlowOrigin { get }
}

extension Admission {
    /// No rule, hook in, no interface.
    @inlinable
    public var origin: FlowOrigin { FlowOrigin() }
}

/// Admits every new flow (running without rules): the tracker's checks still apply.
public struct AdmitAll: Admission, Sendable {
    /// An admission that says yes.
    @inlinable
    public init() {}

    /// Always true.
    @inlinable
    public mutating func admit(_ packet: Packet, key: FlowKey) -> Bool { true }
}
