import Rules
import Tracking
import Wire

/// The decision for one packet, with what is needed to report it.
public struct Decision: Sendable {
    public var verdict: Verdict
    /// Set when `verdict` is `.drop`.
    public var reason: DropReason?
    /// nil when the packet could not be decoded.
    public var summary: PacketSummary?
    /// The decoder's complaint when `reason` is `.malformed` or `.fragment`.
    public var anomaly: DecodeAnomaly?
    /// The flow's state after the packet, when the tracker found or made one.
    public var state: ConnectionState?
    /// The tracker's finer event (why it dropped, or an anomaly on an accepted packet).
    public var trackerEvent: TrackerEvent?
    /// What the rules decided, when this packet asked them (a new flow).
    public var rule: RuleDecision?
    /// The ranges the packet failed, when a window check dropped it.
    public var windowBounds: WindowBounds?
    /// A fragment whose verdict waits for the rest of its datagram: give it no verdict now
    /// (`verdict` says drop only so that nothing can pass it by mistake); it comes later
    /// through `Pipeline.takeFragmentVerdicts`.
    public var isHeld = false
    /// Set when this packet starts or ends its connection's offload (docs/offload.md).
    public var offload: OffloadChange?

    @inlinable
    public init(verdict: Verdict, reason: DropReason? = nil, summary: PacketSummary? = nil,
                anomaly: DecodeAnomaly? = nil, state: ConnectionState? = nil, trackerEvent: TrackerEvent? = nil)
    {
        self.verdict = verdict
        self.reason = reason
        self.summary = summary
        self.anomaly = anomaly
        self.state = state
        self.trackerEvent = trackerEvent
    }

    /// The decision for a packet the tracker judged: `result`, and `rule`, the rules'
    /// decision when this packet asked them (it would start a flow). The one place a tracked
    /// packet's decision is made: a flow the rules refused is dropped with the rules' reason
    /// (`rate_limited` for a connection-rate limit, else `policy`).
    @inlinable @inline(__always)
    public init(tracked result: TrackResult, summary: PacketSummary, rule: RuleDecision?) {
        verdict = result.verdict
        reason = result.reason
        if reason == .policy, let ruled = rule?.dropReason { reason = ruled }
        self.summary = summary
        state = result.state
        trackerEvent = result.event
        self.rule = rule
        windowBounds = result.windowBounds
        offload = result.offload
    }

    /// Whether this decision is worth an event in the log: every drop, a new connection whose
    /// rule says `log`, and a passed packet the tracker found suspicious.
    public var isEvent: Bool {
        !isHeld && (verdict == .drop || rule?.log == true || trackerEvent?.isSuspicious == true)
    }
}
