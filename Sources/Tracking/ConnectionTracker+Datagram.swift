import Wire

// UDP flows, ICMP/ICMPv6 echo flows, ICMP errors and other protocols' flows.

extension ConnectionTracker {
    /// UDP: the first datagram of a flow asks the admission; the other side's datagrams are
    /// replies only once that flow exists.
    mutating func trackUDP(_ packet: Packet, _ header: UDPHeader) -> TrackerEvaluation {
        let (key, reversed) = FlowKey.make(source: packet.source, sourcePort: header.sourcePort,
                                           destination: packet.destination, destinationPort: header.destinationPort,
                                           proto: 17)
        let hash = table.hash(key)
        guard let index = lookup(key, hash: hash) else {
            return .needsAdmission(NewFlowRequest(kind: .udp, hash: hash, reversed: reversed))
        }
        let fromInitiator = table[index].has(ConnectionEntry.Flags.initiatorIsHigh) == reversed
        belongs(to: index, fromInitiator: fromInitiator)
        var state = table[index].connectionState ?? .udpUnreplied
        switch state {
        case .udpUnreplied where !fromInitiator:
            state = .udpReplied
            table[index].set(ConnectionEntry.Flags.seenReply)
            setState(index, state)
        case .udpReplied where fromInitiator:
            state = .udpStream
            table[index].set(ConnectionEntry.Flags.assured)
            setState(index, state)
        default:
            break
        }
        refresh(index)
        return .accept(state)
    }

    /// Any other protocol (GRE, ESP, SCTP, IGMP…): one flow per address pair and protocol
    /// (ports 0), as Linux's generic tracker does. The first packet asks the admission; a
    /// packet from the other side marks it replied. Timeout `other`.
    mutating func trackOther(_ packet: Packet, proto: UInt8) -> TrackerEvaluation {
        let (key, reversed) = FlowKey.make(source: packet.source, sourcePort: 0, destination: packet.destination,
                                           destinationPort: 0, proto: proto)
        let hash = table.hash(key)
        guard let index = lookup(key, hash: hash) else {
            return .needsAdmission(NewFlowRequest(kind: .other, hash: hash, reversed: reversed))
        }
        let fromInitiator = table[index].has(ConnectionEntry.Flags.initiatorIsHigh) == reversed
        belongs(to: index, fromInitiator: fromInitiator)
        var state = table[index].connectionState ?? .otherUnreplied
        if state == .otherUnreplied && !fromInitiator {
            state = .otherReplied
            table[index].set(ConnectionEntry.Flags.seenReply)
            setState(index, state)
        }
        refresh(index)
        return .accept(state)
    }

    /// ICMP and ICMPv6: echo flows by identifier, errors checked against the flow they quote,
    /// other messages (neighbour discovery, router advertisements…) not tracked.
    mutating func trackICMP(_ packet: Packet, _ header: ICMPHeader,
                           bytes: UnsafeRawBufferPointer?) -> TrackerEvaluation {
        if header.isError { return .decided(icmpError(packet, header, bytes: bytes)) }
        guard header.isEcho || header.isEchoReply else { return .decided(TrackResult(verdict: .accept)) }
        let (key, reversed) = FlowKey.make(source: packet.source, sourcePort: header.identifier,
                                           destination: packet.destination, destinationPort: header.identifier,
                                           proto: packet.protocolNumber)
        let hash = table.hash(key)
        guard let index = lookup(key, hash: hash) else {
            if header.isEcho {
                return .needsAdmission(NewFlowRequest(kind: .icmpEcho, hash: hash, reversed: reversed))
            }
            return .drop(.noConnection, .noconData)
        }
        let fromInitiator = table[index].has(ConnectionEntry.Flags.initiatorIsHigh) == reversed
        belongs(to: index, fromInitiator: fromInitiator)
        var state = table[index].connectionState ?? .icmpUnreplied
        if header.isEchoReply {
            // A reply travels from the responder only.
            guard !fromInitiator else { return .drop(.noConnection, .noconData, state: state) }
            if state == .icmpUnreplied {
                state = .icmpReplied
                table[index].set(ConnectionEntry.Flags.seenReply)
                setState(index, state)
            }
        }
        refresh(index)
        return .accept(state)
    }

    /// An ICMP error passes only when it goes back to the sender of the packet it quotes and
    /// that packet belongs to a tracked flow (for TCP, with its seq in the sender's window, as
    /// pf checks). It changes nothing.
    private mutating func icmpError(_ packet: Packet, _ header: ICMPHeader,
                                    bytes: UnsafeRawBufferPointer?) -> TrackResult {
        let unrelated = TrackResult.drop(.icmpUnrelated, .icmpUnrelated)
        guard let bytes, let offset = header.quotedOffset, offset >= 0, offset < bytes.count else { return unrelated }
        let quotedBytes = UnsafeRawBufferPointer(rebasing: bytes[offset...])
        guard case .packet(let quoted) = PacketDecoder.decodeQuoted(quotedBytes),
              quoted.version == packet.version, quoted.source == packet.destination else { return unrelated }
        let key: FlowKey
        let reversed: Bool
        switch quoted.transport {
        case .tcp(let tcp):
            (key, reversed) = FlowKey.make(source: quoted.source, sourcePort: tcp.sourcePort,
                                           destination: quoted.destination, destinationPort: tcp.destinationPort,
                                           proto: 6)
        case .udp(let udp):
            (key, reversed) = FlowKey.make(source: quoted.source, sourcePort: udp.sourcePort,
                                           destination: quoted.destination, destinationPort: udp.destinationPort,
                                           proto: 17)
        case .icmp(let echo) where echo.isEcho || echo.isEchoReply,
             .icmpv6(let echo) where echo.isEcho || echo.isEchoReply:
            (key, reversed) = FlowKey.make(source: quoted.source, sourcePort: echo.identifier,
                                           destination: quoted.destination, destinationPort: echo.identifier,
                                           proto: quoted.protocolNumber)
        default:
            return unrelated
        }
        guard let index = lookup(key, hash: table.hash(key)) else { return unrelated }
        let state = table[index].connectionState
        if case .tcp(let tcp) = quoted.transport, let state, state.isTCP {
            let fromInitiator = table[index].has(ConnectionEntry.Flags.initiatorIsHigh) == reversed
            let sender = fromInitiator ? table[index].initiator : table[index].responder
            let receiver = fromInitiator ? table[index].responder : table[index].initiator
            let receiverWindow = state == .synSent ? 0 : receiver.maxWindow
            // In SYN_SENT the responder's fields are not a window yet.
            let low = receiverWindow != 0 ? sender.end &- receiverWindow : sender.isn
            guard sender.maxWindow != 0 || sender.end != 0,
                  SequenceNumber.within(tcp.sequenceNumber, low, SequenceNumber.later(sender.maxEnd, sender.end))
            else { return .drop(.icmpUnrelated, .icmpUnrelated, state: state) }
        }
        return .accept(state)
    }
}
