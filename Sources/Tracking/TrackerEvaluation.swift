import Wire

/// The first phase of tracking a packet: either the tracker decided on its own, or the packet
/// would start a flow and the admission must be asked first (`ConnectionTracker.evaluate`).
/// The second phase (`ConnectionTracker.createFlow`) takes the request and the admission's
/// ruling; nothing is carried between the two phases but this value.
@usableFromInline
enum TrackerEvaluation {
    /// The packet's result: the tracker needs no one else's say.
    case decided(TrackResult)
    /// The packet would start a flow: ask the admission.
    case needsAdmission(NewFlowRequest)

    /// A drop decided by the tracker.
    @inline(__always)
    static func drop(_ reason: DropReason, _ event: TrackerEvent?, state: ConnectionState? = nil) -> TrackerEvaluation {
        .decided(.drop(reason, event, state: state))
    }

    /// An accept decided by the tracker.
    @inline(__always)
    static func accept(_ state: ConnectionState?, _ event: TrackerEvent? = nil) -> TrackerEvaluation {
        .decided(.accept(state, event))
    }
}

/// What kind of flow a packet awaiting admission would create.
enum NewFlowKind: UInt8 {
    case tcpSyn
    case tcpPickup
    case udp
    case icmpEcho
    case other
}

/// A packet's request to start a flow, between the two phases of tracking: what phase one
/// learned that phase two needs besides the packet (whose flow key `FlowKey.make(for:)` gives
/// again: the request stays small, so the common case, a decided packet, stays cheap). Valid
/// only until the tracker's next mutating call (it may name a table entry).
@usableFromInline
struct NewFlowRequest {
    /// The flow key's hash in the table.
    var hash: UInt64
    /// An entry the new connection replaces (TIME_WAIT or CLOSE reuse), or -1.
    var reuseIndex: Int32
    var kind: NewFlowKind
    /// The packet runs from the key's high endpoint to its low one (its sender is high).
    var reversed: Bool
    /// The event to report when the flow is created.
    var event: TrackerEvent?

    init(kind: NewFlowKind, hash: UInt64, reversed: Bool, reuseIndex: Int32 = -1, event: TrackerEvent? = nil) {
        self.hash = hash
        self.reuseIndex = reuseIndex
        self.kind = kind
        self.reversed = reversed
        self.event = event
    }
}
