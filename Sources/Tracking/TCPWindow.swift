/// Window tracking (docs/tracking.md, "Windows"): Linux's per-direction variables and update rules,
/// with every failed check a drop. `sender` sent the segment, `receiver` is its peer.
enum TCPWindow {
    /// The smallest window an ACK may lag behind by (Linux MAXACKWINCONST).
    static let minimumAckWindow: UInt32 = 66_000

    /// S1 for a segment with data, stricter than Linux (RFC 9293 §3.10.7.4): the right edge is
    /// exclusive, so data may not start at `maxEnd`; and into a zero window (the receiver's
    /// highest ack + 1 is the edge: its window there is 0, the +1 being the probe's room) only
    /// the one-byte window probe fits, so data that ends past the edge is refused. The zero-window
    /// rule is applied only when the edge is exactly that (a window shrunk after a larger one
    /// keeps the older edge: liberal, as Linux).
    @inline(__always)
    static func dataBeyondEdge(sender: DirectionState, receiver: DirectionState,
                               _ segment: TCPSegment) -> TrackerEvent? {
        guard segment.length > 0 else { return nil }
        if !SequenceNumber.before(segment.seq, sender.maxEnd) { return .seqAboveWindow }
        if receiver.flags & DirectionState.Flags.maxAckSet != 0, receiver.maxAck &+ 1 == sender.maxEnd,
           SequenceNumber.after(segment.seq &+ segment.length, sender.maxEnd) {
            return .zeroWindowData
        }
        return nil
    }

    /// A D-SACK block (RFC 2883 §4): it ends at or below the segment's cumulative ACK, so it
    /// reports data that arrived twice, which may lie anywhere behind the window (an old
    /// segment retransmitted after a timeout, say). It moves no edge (`update` takes the
    /// highest right edge, and this one is below the ACK), so its left edge is not held to
    /// the window; Linux checks no left edge at all (docs/tracking.md, "Windows").
    @inline(__always)
    static func isDuplicateReport(_ block: (left: UInt32, right: UInt32), ack: UInt32) -> Bool {
        !SequenceNumber.after(block.right, ack)
    }

    /// Checks S1–S5; on success the reason is nil and the event may name an anomaly
    /// (`window_overrun`, `sack_not_permitted`). `checkAck` false skips S3/S4 (a picked-up
    /// connection before the other side has spoken).
    @inline(__always)
    static func check(sender: DirectionState, receiver: DirectionState, _ segment: TCPSegment,
                      checkAck: Bool) -> (reason: DropReason?, event: TrackerEvent?) {
        // S1: the segment starts at or before the right edge (before it, with data).
        if SequenceNumber.after(segment.seq, sender.maxEnd) { return (.badSeq, .seqAboveWindow) }
        if let beyond = dataBeyondEdge(sender: sender, receiver: receiver, segment) { return (.badSeq, beyond) }
        // S2: it is not older than one of the receiver's maximum windows.
        if receiver.maxWindow != 0,
           SequenceNumber.before(segment.end, sender.end &- receiver.maxWindow) {
            return (.badSeq, .seqBelowWindow)
        }
        // S5: nothing new after the sender's FIN (its end is the FIN's).
        if sender.has(DirectionState.Flags.finSent), SequenceNumber.after(segment.end, sender.end) {
            return (.badSeq, .dataAfterFin)
        }
        var event: TrackerEvent?
        if segment.hasAck && checkAck {
            let lowest = receiver.end &- max(sender.maxWindow, minimumAckWindow)
            // S3 and S4 on the ack.
            if SequenceNumber.after(segment.ack, receiver.end) { return (.badAck, .ackAboveSent) }
            if SequenceNumber.before(segment.ack, lowest) { return (.badAck, .ackBelowWindow) }
            let options = segment.options
            if options.hasSACK {
                if receiver.has(DirectionState.Flags.sackPermitted) {
                    for index in 0..<options.sackBlockCount {
                        let block = options.sackBlock(index)
                        if !SequenceNumber.before(block.left, block.right) { return (.badAck, .sackInvalidBlock) }
                        if SequenceNumber.after(block.right, receiver.end) { return (.badAck, .sackAboveSent) }
                        if SequenceNumber.before(block.left, lowest), !isDuplicateReport(block, ack: segment.ack) {
                            return (.badAck, .ackBelowWindow)
                        }
                    }
                } else {
                    event = .sackNotPermitted
                }
            }
        }
        if SequenceNumber.after(segment.end, sender.maxEnd) { event = .windowOverrun }
        return (nil, event)
    }

    /// Linux's update after a segment passed (docs/tracking.md, "Windows").
    @inline(__always)
    static func update(sender: inout DirectionState, receiver: inout DirectionState, _ segment: TCPSegment) {
        let window = segment.isSyn ? UInt32(segment.window)
            : UInt32(segment.window) << UInt32(sender.scale)
        var ack = receiver.end
        var sack = receiver.end
        if segment.hasAck {
            ack = segment.ack
            sack = ack
            let options = segment.options
            if options.hasSACK && receiver.has(DirectionState.Flags.sackPermitted) {
                for index in 0..<options.sackBlockCount {
                    let right = options.sackBlock(index).right
                    if SequenceNumber.after(right, sack) { sack = right }
                }
            }
        }
        let advertised = window &+ (sack &- ack)
        if advertised > sender.maxWindow { sender.maxWindow = advertised }
        if SequenceNumber.after(segment.end, sender.end) {
            sender.end = segment.end
            sender.set(DirectionState.Flags.dataUnacked)
        }
        if segment.hasAck {
            if !sender.has(DirectionState.Flags.maxAckSet) || SequenceNumber.after(ack, sender.maxAck) {
                sender.maxAck = ack
                sender.set(DirectionState.Flags.maxAckSet)
            }
        }
        if receiver.maxWindow != 0 && SequenceNumber.after(segment.end, sender.maxEnd) {
            receiver.maxWindow &+= segment.end &- sender.maxEnd
        }
        if SequenceNumber.after(sack &+ window, receiver.maxEnd &- 1) {
            receiver.maxEnd = sack &+ window
            if window == 0 { receiver.maxEnd &+= 1 }
        }
        if segment.hasAck && ack == receiver.end { receiver.set(DirectionState.Flags.dataUnacked, false) }
    }

    /// `check` then, when it passes, `update`, in one pass over the two directions (the data
    /// path's version: the ack, SACK edge and scaled window are derived once).
    @inline(__always)
    static func apply(sender: inout DirectionState, receiver: inout DirectionState, _ segment: TCPSegment,
                      checkAck: Bool) -> (reason: DropReason?, event: TrackerEvent?) {
        // S1, S2, S5 on the sequence numbers.
        if SequenceNumber.after(segment.seq, sender.maxEnd) { return (.badSeq, .seqAboveWindow) }
        if let beyond = dataBeyondEdge(sender: sender, receiver: receiver, segment) { return (.badSeq, beyond) }
        let receiverWindow = receiver.maxWindow
        if receiverWindow != 0, SequenceNumber.before(segment.end, sender.end &- receiverWindow) {
            return (.badSeq, .seqBelowWindow)
        }
        if sender.flags & DirectionState.Flags.finSent != 0, SequenceNumber.after(segment.end, sender.end) {
            return (.badSeq, .dataAfterFin)
        }
        var event: TrackerEvent?
        var ack = receiver.end
        var sack = ack
        if segment.hasAck {
            ack = segment.ack
            sack = ack
            if checkAck {
                // S3 and S4.
                let lowest = receiver.end &- max(sender.maxWindow, minimumAckWindow)
                if SequenceNumber.after(ack, receiver.end) { return (.badAck, .ackAboveSent) }
                if SequenceNumber.before(ack, lowest) { return (.badAck, .ackBelowWindow) }
            }
            let options = segment.options
            if options.hasSACK {
                if receiver.flags & DirectionState.Flags.sackPermitted != 0 {
                    let lowest = receiver.end &- max(sender.maxWindow, minimumAckWindow)
                    for index in 0..<options.sackBlockCount {
                        let block = options.sackBlock(index)
                        if checkAck {
                            if !SequenceNumber.before(block.left, block.right) { return (.badAck, .sackInvalidBlock) }
                            if SequenceNumber.after(block.right, receiver.end) { return (.badAck, .sackAboveSent) }
                            if SequenceNumber.before(block.left, lowest), !isDuplicateReport(block, ack: ack) {
                                return (.badAck, .ackBelowWindow)
                            }
                        }
                        if SequenceNumber.after(block.right, sack) { sack = block.right }
                    }
                } else if checkAck {
                    event = .sackNotPermitted
                }
            }
        }
        // Passed: Linux's update.
        let senderMaxEnd = sender.maxEnd
        if SequenceNumber.after(segment.end, senderMaxEnd) { event = .windowOverrun }
        let window = segment.isSyn ? UInt32(segment.window) : UInt32(segment.window) << UInt32(sender.scale)
        let advertised = window &+ (sack &- ack)
        if advertised > sender.maxWindow { sender.maxWindow = advertised }
        if SequenceNumber.after(segment.end, sender.end) {
            sender.end = segment.end
            sender.flags |= DirectionState.Flags.dataUnacked
        }
        if segment.hasAck {
            if sender.flags & DirectionState.Flags.maxAckSet == 0 || SequenceNumber.after(ack, sender.maxAck) {
                sender.maxAck = ack
                sender.flags |= DirectionState.Flags.maxAckSet
            }
            if ack == receiver.end { receiver.flags &= ~DirectionState.Flags.dataUnacked }
        }
        if receiverWindow != 0 && SequenceNumber.after(segment.end, senderMaxEnd) {
            receiver.maxWindow = receiverWindow &+ (segment.end &- senderMaxEnd)
        }
        let edge = sack &+ window
        if SequenceNumber.after(edge, receiver.maxEnd &- 1) {
            receiver.maxEnd = window == 0 ? edge &+ 1 : edge
        }
        return (nil, event)
    }

    /// How a RST fares (docs/tracking.md, "RST").
    enum ResetOutcome {
        case exact
        case inexact
        case invalid(TrackerEvent)
    }

    /// RST acceptance in a synchronised state: exact when `seq` is the sender's next sequence
    /// number or the receiver's highest ack; in the window when between the receiver's highest
    /// ack and the sender's right edge; an ACK on it must pass S3/S4.
    @inline(__always)
    static func checkReset(sender: DirectionState, receiver: DirectionState, _ segment: TCPSegment,
                           exactOnly: Bool) -> ResetOutcome {
        let acked = receiver.has(DirectionState.Flags.maxAckSet)
        let exact = segment.seq == sender.end || (acked && segment.seq == receiver.maxAck)
        if !exact {
            let lowest = acked ? receiver.maxAck : sender.end
            if SequenceNumber.before(segment.seq, lowest) { return .invalid(.rstBelowRcvnxt) }
            if SequenceNumber.after(segment.seq, sender.maxEnd) { return .invalid(.rstOutOfWindow) }
        }
        if segment.hasAck {
            let lowest = receiver.end &- max(sender.maxWindow, minimumAckWindow)
            if SequenceNumber.after(segment.ack, receiver.end) || SequenceNumber.before(segment.ack, lowest) {
                return .invalid(.rstBadAck)
            }
        }
        if exact { return .exact }
        return exactOnly ? .invalid(.rstInexact) : .inexact
    }
}
