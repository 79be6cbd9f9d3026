/// The tracker's judgement of one packet.
public struct TrackResult: Sendable, Equatable {
    /// Accept or drop.
    public var verdict: Verdict
    /// Why the packet is dropped; nil when accepted.
    public var reason: DropReason?
    /// The flow's state after the packet (for a deleted or replaced entry, its last state; nil
    /// when no flow was found or the packet is not tracked).
    public var state: ConnectionState?
    /// The finer event for the log: why a drop happened, or an anomaly seen on an accepted packet.
    public var event: TrackerEvent?
    /// True when this packet created the flow's entry (or replaced an old one on reuse).
    public var created: Bool
    /// Set when this accepted packet starts or ends its connection's offload: the verdict asks
    /// the kernel to mark the connection (docs/offload.md).
    public var offload: OffloadChange?
    /// The acceptable ranges the packet failed, when a window check dropped it (nil otherwise):
    /// for the event log's `seq_min`…`ack_max`.
    public var windowBounds: WindowBounds?

    /// A result from its parts.
    @inlinable
    public init(verdict: Verdict, reason: DropReason? = nil, state: ConnectionState? = nil,
                event: TrackerEvent? = nil, created: Bool = false) {
        self.verdict = verdict
        self.reason = reason
        self.state = state
        self.event = event
        self.created = created
    }

    /// A drop.
    @inlinable
    static func drop(_ reason: DropReason, _ event: TrackerEvent?, state: ConnectionState? = nil,
                     bounds: WindowBounds? = nil) -> TrackResult {
        var result = TrackResult(verdict: .drop, reason: reason, state: state, event: event)
        result.windowBounds = bounds
        return result
    }

    /// An accept.
    @inlinable
    static func accept(_ state: ConnectionState?, _ event: TrackerEvent? = nil, created: Bool = false) -> TrackResult {
        TrackResult(verdict: .accept, state: state, event: event, created: created)
    }
}
