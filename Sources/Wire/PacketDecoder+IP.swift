// The IP layer: IPv4 header and options, IPv6 header and extension-header chain.

extension PacketDecoder {
    static func decodeIPv4(_ bytes: UnsafeRawBufferPointer, packetLength: Int, quoted: Bool)
        throws(Malformed) -> (IPLayer, DecodeBounds) {
        let captured = bytes.count
        if captured < 20 {
            if quoted { throw Malformed(.quotedPacketTruncated(needed: 20, available: captured)) }
            if packetLength >= 20 { throw Malformed(.captureTruncated(needed: 20, captured: captured)) }
            throw Malformed(.ipv4Truncated(length: packetLength))
        }
        let ihl = bytes.byte(0) & 0x0F
        guard ihl >= 5 else { throw Malformed(.ipv4HeaderLengthTooSmall(ihl: ihl)) }
        let headerLength = Int(ihl) * 4
        let totalField = Int(bytes.uint16(2))
        let totalLength: Int
        if quoted {
            guard headerLength <= captured else {
                throw Malformed(.quotedPacketTruncated(needed: headerLength, available: captured))
            }
            totalLength = max(totalField, headerLength)
        } else {
            guard totalField >= headerLength else {
                throw Malformed(.ipv4TotalLengthTooSmall(totalLength: totalField, headerLength: headerLength))
            }
            guard totalField <= packetLength else {
                throw Malformed(.ipv4TotalLengthPastEnd(totalLength: totalField, packetLength: packetLength))
            }
            guard headerLength <= captured else {
                throw Malformed(.captureTruncated(needed: headerLength, captured: captured))
            }
            try checkIPv4Options(bytes, headerLength: headerLength)
            totalLength = totalField
        }

        let fragmentField = bytes.uint16(6)
        let fragment = FragmentInfo(offset: Int(fragmentField & 0x1FFF) * 8,
                                    moreFragments: fragmentField & 0x2000 != 0,
                                    identification: UInt32(bytes.uint16(4)))
        let protocolNumber = bytes.byte(9)
        var bounds = DecodeBounds(captured: captured, end: quoted ? Int.max : totalLength, quoted: quoted)
        if fragment.isFragment && !quoted {
            try checkFragment(fragment, dataLength: totalLength - headerLength)
            bounds.firstFragment = fragment.isFirst
            bounds.fragmentDataStart = headerLength
        }
        let layer = IPLayer(version: .v4, source: .ipv4(in: bytes, at: 12), destination: .ipv4(in: bytes, at: 16),
                            protocolNumber: protocolNumber, hopLimit: bytes.byte(8), trafficClass: bytes.byte(1),
                            fragment: fragment, transportOffset: headerLength, totalLength: totalLength,
                            routingHeaderOffset: -1)
        return (layer, bounds)
    }

    /// Walks IPv4 options in bytes 20..<headerLength: kind 0 ends, kind 1 is one byte, every
    /// other option needs a length byte ≥ 2 that keeps it inside the header.
    static func checkIPv4Options(_ bytes: UnsafeRawBufferPointer, headerLength: Int) throws(Malformed) {
        var index = 20
        while index < headerLength {
            let kind = bytes.byte(index)
            if kind == 0 { return }
            if kind == 1 { index += 1; continue }
            guard index + 1 < headerLength else { throw Malformed(.ipv4OptionInvalid(kind: kind)) }
            let length = Int(bytes.byte(index + 1))
            guard length >= 2, index + length <= headerLength else { throw Malformed(.ipv4OptionInvalid(kind: kind)) }
            index += length
        }
    }

    static func decodeIPv6(_ bytes: UnsafeRawBufferPointer, packetLength: Int, quoted: Bool)
        throws(Malformed) -> (IPLayer, DecodeBounds) {
        let captured = bytes.count
        if captured < 40 {
            if quoted { throw Malformed(.quotedPacketTruncated(needed: 40, available: captured)) }
            if packetLength >= 40 { throw Malformed(.captureTruncated(needed: 40, captured: captured)) }
            throw Malformed(.ipv6Truncated(length: packetLength))
        }
        let payloadLength = Int(bytes.uint16(4))
        var next = bytes.byte(6)
        if !quoted {
            guard payloadLength != 0 || next == 59 else { throw Malformed(.ipv6Jumbogram) }
            guard 40 + payloadLength <= packetLength else {
                throw Malformed(.ipv6PayloadLengthPastEnd(payloadLength: payloadLength, available: packetLength - 40))
            }
        }
        let totalLength = 40 + payloadLength
        var bounds = DecodeBounds(captured: captured, end: quoted ? Int.max : totalLength, quoted: quoted)

        var offset = 40
        var headers = 0
        var fragment = FragmentInfo.none
        var sawFragmentHeader = false
        var routingHeaderOffset = -1
        walk: while true {
            switch next {
            case 0, 43, 51, 60, 135, 139, 140:
                // Hop-by-hop, routing, AH, destination options, mobility, HIP, shim6.
                guard next != 0 || offset == 40 else { throw Malformed(.ipv6HopByHopNotFirst) }
                headers += 1
                guard headers <= maximumExtensionHeaders else {
                    throw Malformed(.ipv6TooManyExtensionHeaders(limit: maximumExtensionHeaders))
                }
                bounds.protocolNumber = next
                try bounds.require(offset + 2, .ipv6ExtensionHeaderPastEnd(headerType: next))
                let lengthField = Int(bytes.byte(offset + 1))
                // AH counts 4-byte units minus 2 (RFC 4302); the others 8-byte units minus 1.
                let length = next == 51 ? (lengthField + 2) * 4 : (lengthField + 1) * 8
                try bounds.require(offset + length, .ipv6ExtensionHeaderPastEnd(headerType: next))
                if next == 43 && routingHeaderOffset < 0 { routingHeaderOffset = offset }
                next = bytes.byte(offset)
                offset += length
            case 44:
                guard !sawFragmentHeader else { throw Malformed(.ipv6DuplicateFragmentHeader) }
                sawFragmentHeader = true
                headers += 1
                guard headers <= maximumExtensionHeaders else {
                    throw Malformed(.ipv6TooManyExtensionHeaders(limit: maximumExtensionHeaders))
                }
                bounds.protocolNumber = next
                try bounds.require(offset + 8, .ipv6ExtensionHeaderPastEnd(headerType: 44))
                let field = bytes.uint16(offset + 2)
                fragment = FragmentInfo(offset: Int(field & 0xFFF8), moreFragments: field & 1 != 0,
                                        identification: bytes.uint32(offset + 4))
                next = bytes.byte(offset)
                offset += 8
                if fragment.isFragment && !quoted {
                    try checkFragment(fragment, dataLength: totalLength - offset)
                    bounds.firstFragment = fragment.isFirst
                    bounds.fragmentDataStart = offset
                }
                if !fragment.isFirst { break walk }
            default:
                break walk
            }
        }
        let layer = IPLayer(version: .v6, source: .ipv6(in: bytes, at: 8), destination: .ipv6(in: bytes, at: 24),
                            protocolNumber: next, hopLimit: bytes.byte(7),
                            trafficClass: (bytes.byte(0) & 0x0F) << 4 | bytes.byte(1) >> 4,
                            fragment: fragment, transportOffset: offset,
                            totalLength: max(totalLength, offset), routingHeaderOffset: routingHeaderOffset)
        return (layer, bounds)
    }
}
