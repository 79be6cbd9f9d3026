/// Decodes raw IP packets (bytes starting at the IP header, as NFQUEUE and raw-IP pcaps
/// deliver them) without copying or allocating.
///
/// Every length is checked before the bytes it covers are read; any input gives a
/// `DecodeResult`, never a trap. Lengths reported in the packet come from the IP header, so a
/// GSO super-packet or a truncated copy reports its real size.
public enum PacketDecoder {
    /// The most IPv6 extension headers walked; a longer chain is malformed.
    public static let maximumExtensionHeaders = 16

    /// Decodes the packet in `bytes`.
    ///
    /// - Parameters:
    ///   - bytes: the packet from its IP header on.
    ///   - originalLength: the packet's real length when `bytes` is a truncated copy (NFQUEUE
    ///     copy range, pcap snaplen); nil means `bytes` is the whole packet. A value below
    ///     `bytes.count` counts as `bytes.count`. Lengths past the copy are accepted as long as
    ///     every header the decoder reads is inside it (else `.captureTruncated`).
    public static func decode(_ bytes: UnsafeRawBufferPointer, originalLength: Int? = nil) -> DecodeResult {
        let packetLength = max(originalLength ?? bytes.count, bytes.count)
        do {
            return .packet(try decodePacket(bytes, packetLength: packetLength, quoted: false))
        } catch {
            return .malformed(error.anomaly)
        }
    }

    /// Leniently decodes the IP header and first transport bytes quoted inside an ICMP error
    /// (pass the buffer from `ICMPHeader.quotedOffset` on).
    ///
    /// The quoted IP header (with IPv6 extension headers) and 8 transport bytes must be in
    /// `bytes`; the IP length may run past them and is not checked, nor are IPv4 options. For
    /// TCP only the ports and sequence number are certain: later fields are read when quoted
    /// and 0 otherwise, and options are read when the whole header is quoted, stopping quietly
    /// at a bad one. Port 0 is accepted. A quoted non-first fragment gives `.fragment`.
    public static func decodeQuoted(_ bytes: UnsafeRawBufferPointer) -> DecodeResult {
        do {
            return .packet(try decodePacket(bytes, packetLength: bytes.count, quoted: true))
        } catch {
            return .malformed(error.anomaly)
        }
    }
}

extension PacketDecoder {
    static func decodePacket(_ bytes: UnsafeRawBufferPointer, packetLength: Int, quoted: Bool) throws(Malformed) -> Packet {
        guard bytes.count > 0 else {
            if quoted { throw Malformed(.quotedPacketTruncated(needed: 1, available: 0)) }
            if packetLength > 0 { throw Malformed(.captureTruncated(needed: 1, captured: 0)) }
            throw Malformed(.empty)
        }
        var bounds: DecodeBounds
        let layer: IPLayer
        switch bytes.byte(0) >> 4 {
        case 4: (layer, bounds) = try decodeIPv4(bytes, packetLength: packetLength, quoted: quoted)
        case 6: (layer, bounds) = try decodeIPv6(bytes, packetLength: packetLength, quoted: quoted)
        case let version: throw Malformed(.unknownIPVersion(version))
        }
        bounds.protocolNumber = layer.protocolNumber
        let transport = try decodeTransport(bytes, layer, bounds)
        return Packet(version: layer.version, source: layer.source, destination: layer.destination,
                      protocolNumber: layer.protocolNumber, hopLimit: layer.hopLimit,
                      trafficClass: layer.trafficClass, fragment: layer.fragment,
                      ipHeaderLength: layer.transportOffset, transportOffset: layer.transportOffset,
                      ipTotalLength: layer.totalLength, capturedLength: min(bytes.count, layer.totalLength),
                      transport: transport, routingHeaderOffset: layer.routingHeaderOffset)
    }

    /// Checks a fragment's extent: it must end by 65,535 and, unless last, be 8-aligned.
    @inline(__always)
    static func checkFragment(_ fragment: FragmentInfo, dataLength: Int) throws(Malformed) {
        guard fragment.offset + dataLength <= 65_535 else {
            throw Malformed(.fragmentPastMaximum(offset: fragment.offset, length: dataLength))
        }
        guard !fragment.moreFragments || dataLength % 8 == 0 else {
            throw Malformed(.fragmentMisaligned(length: dataLength))
        }
    }
}
