import Wire

/// One direction's window-tracking values, for display.
public struct WindowSnapshot: Sendable, Equatable {
    /// Highest sequence number sent plus one (`seq + len`, SYN and FIN counted).
    public var end: UInt32
    /// Right edge the peer may send up to.
    public var maxEnd: UInt32
    /// Largest scaled window it advertised.
    public var maxWindow: UInt32
    /// Highest ack it sent (0 before any).
    public var maxAck: UInt32
    /// Window-scale shift in use.
    public var scale: UInt8
}

/// A copy of one tracked flow, for `synwall conns` (not for the packet path).
public struct ConnectionSnapshot: Sendable, Equatable {
    /// The direction-normalised key.
    public var key: FlowKey
    /// The flow's state.
    public var state: ConnectionState
    /// The side that opened the flow, and its port (for ICMP echo, the identifier).
    public var initiatorAddress: IPAddress
    public var initiatorPort: UInt16
    /// The other side.
    public var responderAddress: IPAddress
    public var responderPort: UInt16
    /// IP protocol number.
    public var proto: UInt8
    /// When it expires if idle: whole seconds of the injected clock.
    public var expiresAtSeconds: UInt64
    /// TCP only: each side's window tracking.
    public var initiatorWindow: WindowSnapshot?
    public var responderWindow: WindowSnapshot?
}
