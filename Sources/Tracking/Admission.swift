import Wire

/// Decides whether a packet that would create a new flow may do so: a TCP SYN (or, with
/// pickup, a mid-stream ACK), the first UDP datagram of a flow, an ICMP echo request. The rules
/// engine implements it; the tracker asks only for such packets, after the flags check and
/// before the flood limits.
public protocol Admission {
    /// True to let `packet` start the flow `key`; false drops it with reason `policy`.
    mutating func admit(_ packet: Packet, key: FlowKey) -> Bool
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
