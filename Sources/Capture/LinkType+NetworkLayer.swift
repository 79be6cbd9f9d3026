extension LinkType {
    /// Where the IP header starts in `frame`, or nil if the frame does not carry IPv4 or IPv6
    /// (ARP, LLDP, other EtherTypes, or too short to hold its own link header).
    ///
    /// Never reads outside `frame`.
    func networkLayerOffset(in frame: UnsafeRawBufferPointer) -> Int? {
        switch rawValue {
        case 1:  // Ethernet: dst(6) src(6) type(2), then any number of VLAN tags.
            guard frame.count >= 14 else { return nil }
            return Self.ipPayloadOffset(in: frame, etherType: frame.bigEndianUInt16(at: 12), offset: 14)
        case 113:  // SLL: pkttype(2) hatype(2) halen(2) addr(8) protocol(2).
            guard frame.count >= 16 else { return nil }
            return Self.ipPayloadOffset(in: frame, etherType: frame.bigEndianUInt16(at: 14), offset: 16)
        case 276:  // SLL2: protocol(2) reserved(2) ifindex(4) hatype(2) pkttype(1) halen(1) addr(8).
            guard frame.count >= 20 else { return nil }
            return Self.ipPayloadOffset(in: frame, etherType: frame.bigEndianUInt16(at: 0), offset: 20)
        case 12, 14, 101:  // Raw IP: the version nibble says which.
            guard let first = frame.first else { return nil }
            let version = first >> 4
            return version == 4 || version == 6 ? 0 : nil
        case 228, 229:  // Raw IPv4 / raw IPv6: the link type says it is IP.
            return 0
        case 0:  // BSD null: address family in the byte order of the host that wrote the file.
            guard frame.count >= 4 else { return nil }
            var family = frame.littleEndianUInt32(at: 0)
            if family > 0xFFFF { family = family.byteSwapped }
            return Self.isIPFamily(family) ? 4 : nil
        case 108:  // OpenBSD loop: address family in network byte order.
            guard frame.count >= 4 else { return nil }
            return Self.isIPFamily(frame.bigEndianUInt32(at: 0)) ? 4 : nil
        default:
            return nil
        }
    }

    /// EtherTypes of 802.1Q, 802.1ad and the older pre-standard QinQ tags.
    private static func isVLANTag(_ etherType: UInt16) -> Bool {
        etherType == 0x8100 || etherType == 0x88A8 || etherType == 0x9100 || etherType == 0x9200
    }

    /// Skips VLAN tags starting at `offset` (each 4 bytes: TCI, then the next EtherType) and
    /// returns where the IP header starts if the innermost EtherType is IPv4 or IPv6.
    private static func ipPayloadOffset(in frame: UnsafeRawBufferPointer, etherType: UInt16, offset: Int) -> Int? {
        var type = etherType
        var start = offset
        // Bounded: each tag consumes 4 bytes of the frame.
        while isVLANTag(type) {
            guard start + 4 <= frame.count else { return nil }
            type = frame.bigEndianUInt16(at: start + 2)
            start += 4
        }
        return type == 0x0800 || type == 0x86DD ? start : nil
    }

    /// AF_INET (2) everywhere; AF_INET6 is 10 on Linux, 24 on NetBSD/OpenBSD, 28 on FreeBSD,
    /// 30 on Darwin.
    private static func isIPFamily(_ family: UInt32) -> Bool {
        switch family {
        case 2, 10, 24, 28, 30: return true
        default: return false
        }
    }
}

extension UnsafeRawBufferPointer {
    /// Callers check `offset + 2 <= count` first.
    fileprivate func bigEndianUInt16(at offset: Int) -> UInt16 {
        UInt16(self[offset]) << 8 | UInt16(self[offset + 1])
    }

    /// Callers check `offset + 4 <= count` first.
    fileprivate func bigEndianUInt32(at offset: Int) -> UInt32 {
        UInt32(self[offset]) << 24 | UInt32(self[offset + 1]) << 16 | UInt32(self[offset + 2]) << 8 | UInt32(self[offset + 3])
    }

    /// Callers check `offset + 4 <= count` first.
    fileprivate func littleEndianUInt32(at offset: Int) -> UInt32 {
        UInt32(self[offset]) | UInt32(self[offset + 1]) << 8 | UInt32(self[offset + 2]) << 16 | UInt32(self[offset + 3]) << 24
    }
}
