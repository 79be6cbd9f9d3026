// Connections restored from the state file (docs/state-file.md, "Resuming"). While synwall was
// down their peers went on sending, so the saved windows are behind. Each direction's window
// is learned again from its first segment after the restart — but not from just any segment:
// sequence and acknowledgment numbers only move forward, so a segment that lies more than a
// window *behind* what was saved is refused (a spoofer without the connection's numbers fails
// half of the time on each). The scaling and SACK agreements are kept: they cannot change
// mid-connection. Unlike `set tcp pickup`, nothing new is adopted: only flows in the file.

extension ConnectionTracker {
    /// The result of looking at a resuming connection's segment.
    struct ResumeStep {
        /// A refusal, or nil to go on with the ordinary checks.
        var drop: TrackResult?
        /// False while the other direction's end is still the stale saved one.
        var checkAck: Bool
        /// `state_resumed` on the connection's first segment after the restart.
        var event: TrackerEvent?
    }

    /// How far behind the saved numbers a resuming segment may lie: a window (retransmissions
    /// of data sent before the stop), at least the ACK slack Linux allows.
    @inline(__always)
    static func resumeSlack(_ sender: DirectionState, _ receiver: DirectionState) -> UInt32 {
        max(receiver.maxWindow, sender.maxWindow, TCPWindow.minimumAckWindow)
    }

    /// For an ACK or FIN on a connection with `ResumeFlags.resuming` set: learns the sender's
    /// direction again when this is its first segment since the restart.
    mutating func resume(_ index: Int, _ state: ConnectionState, _ segment: TCPSegment,
                         fromInitiator: Bool) -> ResumeStep {
        let own = fromInitiator ? ConnectionEntry.ResumeFlags.initiator : ConnectionEntry.ResumeFlags.responder
        let other = fromInitiator ? ConnectionEntry.ResumeFlags.responder : ConnectionEntry.ResumeFlags.initiator
        var event: TrackerEvent?
        if table[index].resumeFlags & own != 0 {
            var sender = fromInitiator ? table[index].initiator : table[index].responder
            var receiver = fromInitiator ? table[index].responder : table[index].initiator
            let slack = Self.resumeSlack(sender, receiver)
            if SequenceNumber.before(segment.end, sender.end &- slack) {
                statistics.resumeRefused += 1
                return ResumeStep(drop: .drop(.badSeq, .seqBelowWindow, state: state), checkAck: true)
            }
            if segment.hasAck, sender.has(DirectionState.Flags.maxAckSet),
               SequenceNumber.before(segment.ack, sender.maxAck &- slack) {
                statistics.resumeRefused += 1
                return ResumeStep(drop: .drop(.badAck, .ackBelowWindow, state: state), checkAck: true)
            }
            // A zero-length ACK may be a keep-alive probe (seq one below the sender's next): its
            // reply acknowledges seq + 1, so the sender has sent at least that much.
            let keepAliveEnd = segment.length == 0 && segment.kind == .ack ? segment.end &+ 1 : segment.end
            sender.end = SequenceNumber.later(keepAliveEnd, sender.end)
            let window = UInt32(segment.window) << UInt32(sender.scale)
            sender.maxWindow = max(sender.maxWindow, window, 1)
            sender.maxEnd = SequenceNumber.later(sender.maxEnd, sender.end &+ slack)
            sender.set(DirectionState.Flags.dataUnacked, false)
            if segment.hasAck {
                receiver.maxEnd = SequenceNumber.later(receiver.maxEnd, segment.ack &+ max(window, 1))
                if table[index].resumeFlags & other != 0 {
                    // The receiver's saved end is stale too: what this segment acknowledges is the
                    // least it has sent.
                    receiver.end = SequenceNumber.later(receiver.end, segment.ack)
                }
            }
            if fromInitiator {
                table[index].initiator = sender
                table[index].responder = receiver
            } else {
                table[index].responder = sender
                table[index].initiator = receiver
            }
            table[index].resumeFlags &= ~own
            if table[index].resumeFlags & ConnectionEntry.ResumeFlags.logged == 0 {
                table[index].resumeFlags |= ConnectionEntry.ResumeFlags.logged
                statistics.resumed += 1
                event = .stateResumed
            }
        }
        return ResumeStep(drop: nil, checkAck: table[index].resumeFlags & other == 0, event: event)
    }

    /// A RST from a direction not learned again since the restart: its exactness cannot be
    /// judged, so it is refused when it lies behind the saved numbers or `set tcp rst exact`
    /// asks for exact RSTs, and otherwise passes with the connection's timeout cut (as an
    /// inexact RST in the window does). Nil when the direction was already learned again.
    mutating func resumingReset(_ index: Int, _ state: ConnectionState, _ segment: TCPSegment,
                                fromInitiator: Bool) -> TrackResult? {
        let own = fromInitiator ? ConnectionEntry.ResumeFlags.initiator : ConnectionEntry.ResumeFlags.responder
        guard table[index].resumeFlags & own != 0 else { return nil }
        let sender = fromInitiator ? table[index].initiator : table[index].responder
        let receiver = fromInitiator ? table[index].responder : table[index].initiator
        if SequenceNumber.before(segment.seq, sender.end &- Self.resumeSlack(sender, receiver)) {
            statistics.resumeRefused += 1
            return .drop(.rstInvalid, .rstOutOfWindow, state: state)
        }
        if configuration.rstExact { return .drop(.rstInvalid, .rstInexact, state: state) }
        cutTimeout(index)
        return .accept(state, .rstInWindowInexact)
    }
}
