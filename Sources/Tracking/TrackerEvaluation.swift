import Wire

/// The first phase of tracking a packet: either the tracker decided on its own, or the packet
/// would start a flow and the admission must be asked first (`ConnectionTracker.evaluate`).
/// The second phase (`ConnectionTracker.createFlow`) takes the request and the admission's
/// ruling; nothing is carried between the two phases but this value.
@usableFromInline
enum TrackerEvaluation {
    /// The packet's result: the tracker needs no one else's say.
    case decided(TrackResult)
    /// The packet would start the flow `NewFlowRequest.key`: ask the admission.
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

/// A packet's request to start a flow, between the two phases of tracking: everything phase
/// one learned that phase two needs. Valid only until the tracker's next mutating call (it
/// may name a table entry).
@usableFromInline
struct NewFlowRequest {
    var kind: NewFlowKind
    /// The flow's key and its hash in the table.
    @usableFromInline var key: FlowKey
    var hash: UInt64
    /// The packet runs from the key's high endpoint to its low one (its sender is high).
    var reversed: Bool
    /// An entry the new connection replaces (TIME_WAIT or CLOSE reuse), or -1.
    var reuseIndex = -1
    /// The event to report when the flow is created.
    var event: TrackerEvent?
}
