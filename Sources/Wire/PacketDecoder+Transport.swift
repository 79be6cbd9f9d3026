// The transport layer: TCP with options, UDP, ICMP and ICMPv6.

extension PacketDecoder {
    static func decodeTransport(_ bytes: UnsafeRawBufferPointer, _ layer: IPLayer, _ bounds: DecodeBounds)
        throws(Malformed) -> TransportHeader {
        if !layer.fragment.isFirst { return .fragment }
        switch (layer.protocolNumber, layer.version) {
        case (6, _): return .tcp(try decodeTCP(bytes, layer, bounds))
        case (17, _): return .udp(try decodeUDP(bytes, layer, bounds))
        case (1, .v4): return .icmp(try decodeICMP(bytes, layer, bounds))
        case (58, .v6): return .icmpv6(try decodeICMP(bytes, layer, bounds))
        case (let other, _): return .other(other)
        }
    }

    // MARK: TCP

    static func decodeTCP(_ bytes: UnsafeRawBufferPointer, _ layer: IPLayer, _ bounds: DecodeBounds)
        throws(Malformed) -> TCPHeader {
        let start = layer.transportOffset
        let segmentLength = layer.totalLength - start
        if bounds.quoted { return try decodeQuotedTCP(bytes, layer, bounds) }

        try bounds.require(start + 20, .tcpTruncated(length: segmentLength))
        let dataOffset = bytes.byte(start + 12) >> 4
        guard dataOffset >= 5 else { throw Malformed(.tcpDataOffsetTooSmall(dataOffset: dataOffset)) }
        let headerLength = Int(dataOffset) * 4
        try bounds.require(start + headerLength,
                           .tcpHeaderPastEnd(headerLength: headerLength, segmentLength: segmentLength))
        let sourcePort = bytes.uint16(start)
        let destinationPort = bytes.uint16(start + 2)
        guard sourcePort != 0, destinationPort != 0 else {
            throw Malformed(.tcpPortZero(sourcePort: sourcePort, destinationPort: destinationPort))
        }
        let flagField = bytes.uint16(start + 12)
        let flags = TCPFlags(rawValue: flagField & 0x01FF)
        if flags.contains(.syn) && (layer.destination.isMulticast || layer.destination.isLimitedBroadcast) {
            throw Malformed(.tcpSynToMulticast)
        }
        let options = try decodeTCPOptions(bytes, from: start + 20, to: start + headerLength, lenient: false)
        return TCPHeader(sourcePort: sourcePort, destinationPort: destinationPort,
                         sequenceNumber: bytes.uint32(start + 4), acknowledgmentNumber: bytes.uint32(start + 8),
                         headerLength: headerLength, flags: flags,
                         reservedBits: UInt8(truncatingIfNeeded: flagField >> 9) & 0x07,
                         window: bytes.uint16(start + 14), checksum: bytes.uint16(start + 16),
                         urgentPointer: bytes.uint16(start + 18), options: options,
                         payloadLength: segmentLength - headerLength)
    }

    /// A quoted TCP header: ports and sequence number certain, the rest read when present.
    static func decodeQuotedTCP(_ bytes: UnsafeRawBufferPointer, _ layer: IPLayer, _ bounds: DecodeBounds)
        throws(Malformed) -> TCPHeader {
        let start = layer.transportOffset
        try bounds.require(start + 8, .tcpTruncated(length: 0))
        let available = bytes.count - start
        let dataOffset = available >= 13 ? bytes.byte(start + 12) >> 4 : 0
        let flagField = available >= 14 ? bytes.uint16(start + 12) : 0
        var headerLength = 0
        var options = TCPOptions()
        if dataOffset >= 5 {
            headerLength = Int(dataOffset) * 4
            if headerLength <= available {
                options = (try? decodeTCPOptions(bytes, from: start + 20, to: start + headerLength, lenient: true))
                    ?? TCPOptions()
            }
        }
        return TCPHeader(sourcePort: bytes.uint16(start), destinationPort: bytes.uint16(start + 2),
                         sequenceNumber: bytes.uint32(start + 4),
                         acknowledgmentNumber: available >= 12 ? bytes.uint32(start + 8) : 0,
                         headerLength: headerLength, flags: TCPFlags(rawValue: flagField & 0x01FF),
                         reservedBits: UInt8(truncatingIfNeeded: flagField >> 9) & 0x07,
                         window: available >= 16 ? bytes.uint16(start + 14) : 0,
                         checksum: available >= 18 ? bytes.uint16(start + 16) : 0,
                         urgentPointer: available >= 20 ? bytes.uint16(start + 18) : 0, options: options,
                         payloadLength: headerLength > 0 ? max(0, layer.totalLength - start - headerLength) : 0)
    }

    /// Reads the options in `bytes[from..<end]`. Strict: a bad length is malformed. Lenient
    /// (quotes): parsing stops quietly at the first bad option.
    static func decodeTCPOptions(_ bytes: UnsafeRawBufferPointer, from: Int, to end: Int, lenient: Bool)
        throws(Malformed) -> TCPOptions {
        var options = TCPOptions()
        var index = from
        scan: while index < end {
            let kind = bytes.byte(index)
            if kind == 0 { break }
            if kind == 1 { index += 1; continue }
            guard index + 1 < end else {
                if lenient { break scan }
                throw Malformed(.tcpOptionPastHeader(kind: kind))
            }
            let length = bytes.byte(index + 1)
            guard length >= 2 else {
                if lenient { break scan }
                throw Malformed(.tcpOptionLengthTooSmall(kind: kind, length: length))
            }
            guard index + Int(length) <= end else {
                if lenient { break scan }
                throw Malformed(.tcpOptionPastHeader(kind: kind))
            }
            let valid: Bool
            switch kind {
            case 2:  // MSS
                valid = length == 4
                if valid {
                    if options.mss != nil { options.hasDuplicates = true } else { options.mss = bytes.uint16(index + 2) }
                }
            case 3:  // window scale
                valid = length == 3
                if valid {
                    if options.windowScale != nil {
                        options.hasDuplicates = true
                    } else {
                        options.windowScale = bytes.byte(index + 2)
                    }
                }
            case 4:  // SACK permitted
                valid = length == 2
                if valid {
                    if options.sackPermitted { options.hasDuplicates = true } else { options.sackPermitted = true }
                }
            case 5:  // SACK: 1…4 blocks of 8 bytes; no block at all is ignored, as Linux does
                valid = length >= 2 && length <= 34 && (length - 2) % 8 == 0
                if length == 2 {
                    options.emptySACK = true
                } else if valid {
                    if options.hasSACK {
                        options.hasDuplicates = true
                    } else {
                        var block = index + 2
                        while block + 8 <= index + Int(length) {
                            options.appendSACKBlock(left: bytes.uint32(block), right: bytes.uint32(block + 4))
                            block += 8
                        }
                    }
                }
            case 8:  // timestamps
                valid = length == 10
                if valid {
                    if options.timestamp != nil {
                        options.hasDuplicates = true
                    } else {
                        options.timestamp = (bytes.uint32(index + 2), bytes.uint32(index + 6))
                    }
                }
            case 19:  // MD5 signature
                valid = length == 18
                if valid {
                    if options.md5Signature { options.hasDuplicates = true } else { options.md5Signature = true }
                }
            case 34:  // TCP Fast Open cookie or request
                valid = true
                if options.fastOpen { options.hasDuplicates = true } else { options.fastOpen = true }
            case 254:  // experimental; ExID 0xF989 is pre-RFC Fast Open
                valid = true
                if length >= 4 && bytes.uint16(index + 2) == 0xF989 {
                    if options.fastOpen { options.hasDuplicates = true } else { options.fastOpen = true }
                }
            default:
                valid = true
            }
            guard valid else {
                if lenient { break scan }
                throw Malformed(.tcpOptionWrongLength(kind: kind, length: length))
            }
            index += Int(length)
        }
        return options
    }

    // MARK: UDP

    static func decodeUDP(_ bytes: UnsafeRawBufferPointer, _ layer: IPLayer, _ bounds: DecodeBounds)
        throws(Malformed) -> UDPHeader {
        let start = layer.transportOffset
        let segmentLength = layer.totalLength - start
        try bounds.require(start + 8, .udpTruncated(length: segmentLength))
        let length = bytes.uint16(start + 4)
        let payloadLength: Int
        if bounds.quoted {
            payloadLength = max(0, Int(length) - 8)
        } else {
            guard length >= 8 else { throw Malformed(.udpLengthTooSmall(length: length)) }
            if bounds.firstFragment {
                payloadLength = segmentLength - 8
            } else {
                guard Int(length) <= segmentLength else {
                    throw Malformed(.udpLengthPastEnd(length: Int(length), available: segmentLength))
                }
                payloadLength = Int(length) - 8
            }
        }
        return UDPHeader(sourcePort: bytes.uint16(start), destinationPort: bytes.uint16(start + 2),
                         length: length, checksum: bytes.uint16(start + 6), payloadLength: payloadLength)
    }

    // MARK: ICMP and ICMPv6

    static func decodeICMP(_ bytes: UnsafeRawBufferPointer, _ layer: IPLayer, _ bounds: DecodeBounds)
        throws(Malformed) -> ICMPHeader {
        let start = layer.transportOffset
        let segmentLength = layer.totalLength - start
        try bounds.require(start + 8, .icmpTruncated(length: segmentLength))
        let type = bytes.byte(start)
        let isEcho: Bool, isEchoReply: Bool, isError: Bool
        if layer.version == .v4 {
            isEcho = type == 8
            isEchoReply = type == 0
            isError = type == 3 || type == 4 || type == 5 || type == 11 || type == 12
        } else {
            isEcho = type == 128
            isEchoReply = type == 129
            isError = type >= 1 && type <= 4
        }
        var quotedOffset: Int?
        if isError && !bounds.quoted {
            let minimumQuote = layer.version == .v4 ? 20 : 40
            try bounds.require(start + 8 + minimumQuote, .icmpErrorQuoteTooShort(length: segmentLength - 8))
            quotedOffset = start + 8
        }
        let echo = isEcho || isEchoReply
        return ICMPHeader(type: type, code: bytes.byte(start + 1), checksum: bytes.uint16(start + 2),
                          identifier: echo ? bytes.uint16(start + 4) : 0,
                          sequence: echo ? bytes.uint16(start + 6) : 0,
                          restOfHeader: bytes.uint32(start + 4), isEcho: isEcho, isEchoReply: isEchoReply,
                          isError: isError, quotedOffset: quotedOffset, payloadLength: max(0, segmentLength - 8))
    }
}
