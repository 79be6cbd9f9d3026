/// A first fragment seen as the datagram it starts: what the tracker and the rules need from a
/// datagram reassembled outside the kernel (docs/fragments.md, "Held verdicts").
extension Packet {
    /// This first fragment's headers with the lengths of the whole datagram: `transportLength`
    /// bytes after the transport offset (the end of the datagram's last piece). The transport
    /// header's payload length grows to match; the packet is no longer marked a fragment, and
    /// its captured length stays what this piece carried (the bytes behind it are the other
    /// pieces'). Nothing is copied but the value.
    public func reassembled(transportLength: Int) -> Packet {
        let total = transportOffset + max(0, transportLength)
        let whole: TransportHeader
        switch transport {
        case .tcp(let h):
            whole = .tcp(TCPHeader(sourcePort: h.sourcePort, destinationPort: h.destinationPort,
                                   sequenceNumber: h.sequenceNumber, acknowledgmentNumber: h.acknowledgmentNumber,
                                   headerLength: h.headerLength, flags: h.flags, reservedBits: h.reservedBits,
                                   window: h.window, checksum: h.checksum, urgentPointer: h.urgentPointer,
                                   options: h.options, payloadLength: max(0, transportLength - h.headerLength)))
        case .udp(let h):
            whole = .udp(UDPHeader(sourcePort: h.sourcePort, destinationPort: h.destinationPort, length: h.length,
                                   checksum: h.checksum, payloadLength: max(0, transportLength - 8)))
        case .icmp(let h):
            whole = .icmp(h.withPayloadLength(max(0, transportLength - 8)))
        case .icmpv6(let h):
            whole = .icmpv6(h.withPayloadLength(max(0, transportLength - 8)))
        case .fragment, .other:
            whole = transport
        }
        return Packet(version: version, source: source, destination: destination, protocolNumber: protocolNumber,
                      hopLimit: hopLimit, trafficClass: trafficClass,
                      fragment: FragmentInfo(offset: 0, moreFragments: false, identification: fragment.identification),
                      ipHeaderLength: ipHeaderLength, transportOffset: transportOffset, ipTotalLength: total,
                      capturedLength: min(capturedLength, total), transport: whole,
                      routingHeaderOffset: routingHeaderOffset)
    }
}

extension ICMPHeader {
    /// The same header with another payload length.
    func withPayloadLength(_ length: Int) -> ICMPHeader {
        ICMPHeader(type: type, code: code, checksum: checksum, identifier: identifier, sequence: sequence,
                   restOfHeader: restOfHeader, isEcho: isEcho, isEchoReply: isEchoReply, isError: isError,
                   quotedOffset: quotedOffset, payloadLength: length)
    }
}
