/// The outcome of decoding one buffer.
public enum DecodeResult: Sendable, Equatable {
    /// A well-formed packet.
    case packet(Packet)
    /// A malformed packet, and why.
    case malformed(DecodeAnomaly)

    /// The packet, or nil when malformed.
    @inlinable
    public var packet: Packet? {
        if case .packet(let packet) = self { return packet }
        return nil
    }

    /// The anomaly, or nil when well formed.
    @inlinable
    public var anomaly: DecodeAnomaly? {
        if case .malformed(let anomaly) = self { return anomaly }
        return nil
    }
}
