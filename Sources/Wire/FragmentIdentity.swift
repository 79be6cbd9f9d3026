/// Which datagram a fragment belongs to, read from its IP layer alone: what a fragment table
/// needs to remember a first fragment the decoder refused (too short for the transport header).
public struct FragmentIdentity: Sendable, Equatable {
    public let source: IPAddress
    public let destination: IPAddress
    /// The IPv4 identification (zero-extended) or the IPv6 fragment header's.
    public let identification: UInt32
    /// The transport protocol the datagram carries.
    public let protocolNumber: UInt8
    /// The fragment's facts.
    public let fragment: FragmentInfo
}

extension PacketDecoder {
    /// The datagram of the fragment in `bytes`, when its IP layer (IPv4 header, or IPv6 header
    /// and extension headers up to the fragment header) decodes and it is a fragment; nil
    /// otherwise. Nothing past the IP layer is read.
    public static func fragmentIdentity(_ bytes: UnsafeRawBufferPointer) -> FragmentIdentity? {
        guard bytes.count > 0 else { return nil }
        let layer: IPLayer
        do {
            switch bytes.byte(0) >> 4 {
            case 4: layer = try decodeIPv4(bytes, packetLength: bytes.count, quoted: false).0
            case 6: layer = try decodeIPv6(bytes, packetLength: bytes.count, quoted: false).0
            default: return nil
            }
        } catch {
            return nil
        }
        guard layer.fragment.isFragment else { return nil }
        return FragmentIdentity(source: layer.source, destination: layer.destination,
                                identification: layer.fragment.identification,
                                protocolNumber: layer.protocolNumber, fragment: layer.fragment)
    }
}
