/// What one netlink message from the nfqueue socket carried.
enum NetlinkMessage {
    /// A queued packet, ready for a verdict.
    case packet(QueuedPacket)
    /// An `NLMSG_ERROR` (0 means an acknowledgement) for the request with this sequence number.
    case error(code: Int32, sequence: UInt32)
    /// A packet message without a usable packet header: it cannot be verdicted by id.
    case unusable
    /// Anything else (NLMSG_DONE, unknown types).
    case other
}

/// Walks the netlink messages in one received datagram, in place, without allocating.
enum NetlinkDatagram {
    /// Calls `body` for each message in `bytes`. Stops at the first length that does not fit.
    /// Returns false when the datagram ended in the middle of a message.
    @discardableResult
    static func forEachMessage(in bytes: UnsafeRawBufferPointer, _ body: (NetlinkMessage) -> Void) -> Bool {
        var offset = 0
        let total = bytes.count
        while total - offset >= NetlinkSize.nlmsghdr {
            let length = Int(bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            let type = bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt16.self)
            let sequence = bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)
            guard length >= NetlinkSize.nlmsghdr, length <= total - offset else { return false }
            let message = UnsafeRawBufferPointer(rebasing: bytes[offset ..< offset + length])
            switch type {
            case NetlinkType.packet:
                body(parsePacket(message))
            case NetlinkType.error:
                if message.count >= NetlinkSize.nlmsghdr + 4 {
                    let code = message.loadUnaligned(fromByteOffset: NetlinkSize.nlmsghdr, as: Int32.self)
                    body(.error(code: code, sequence: sequence))
                } else {
                    body(.other)
                }
            default:
                body(.other)
            }
            offset += (length + 3) & ~3
        }
        return offset >= total
    }

    /// Reads the attributes of an `NFQNL_MSG_PACKET` message that we use; ignores the rest.
    static func parsePacket(_ message: UnsafeRawBufferPointer) -> NetlinkMessage {
        var offset = NetlinkSize.messageHeader
        var id: UInt32?
        var packet = QueuedPacket(id: 0, payload: UnsafeRawBufferPointer(start: nil, count: 0))
        while message.count - offset >= NetlinkSize.attributeHeader {
            let length = Int(message.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
            let type = message.loadUnaligned(fromByteOffset: offset + 2, as: UInt16.self) & 0x3FFF
            guard length >= NetlinkSize.attributeHeader, length <= message.count - offset else { break }
            let valueStart = offset + NetlinkSize.attributeHeader
            let valueLength = length - NetlinkSize.attributeHeader
            switch type {
            case PacketAttribute.packetHeader where valueLength >= 7:
                id = UInt32(bigEndian: message.loadUnaligned(fromByteOffset: valueStart, as: UInt32.self))
                packet.hardwareProtocol = UInt16(bigEndian: message.loadUnaligned(fromByteOffset: valueStart + 4,
                                                                                  as: UInt16.self))
                packet.hook = message[valueStart + 6]
            case PacketAttribute.payload:
                packet.payload = UnsafeRawBufferPointer(rebasing: message[valueStart ..< valueStart + valueLength])
            case PacketAttribute.capturedLength where valueLength >= 4:
                packet.originalLength = Int(UInt32(bigEndian: message.loadUnaligned(fromByteOffset: valueStart,
                                                                                    as: UInt32.self)))
            case PacketAttribute.skbInfo where valueLength >= 4:
                packet.skbInfo = SKBInfo(rawValue: UInt32(bigEndian: message.loadUnaligned(fromByteOffset: valueStart,
                                                                                           as: UInt32.self)))
            case PacketAttribute.mark where valueLength >= 4:
                packet.mark = UInt32(bigEndian: message.loadUnaligned(fromByteOffset: valueStart, as: UInt32.self))
            case PacketAttribute.inInterface where valueLength >= 4:
                packet.inInterface = UInt32(bigEndian: message.loadUnaligned(fromByteOffset: valueStart,
                                                                             as: UInt32.self))
            case PacketAttribute.outInterface where valueLength >= 4:
                packet.outInterface = UInt32(bigEndian: message.loadUnaligned(fromByteOffset: valueStart,
                                                                              as: UInt32.self))
            default:
                break
            }
            offset += (length + 3) & ~3
        }
        guard let id else { return .unusable }
        packet.id = id
        return .packet(packet)
    }
}
