/// What the source (NFQUEUE or a capture file) knows about a packet besides its bytes.
public struct PacketContext: Sendable {
    /// What is known about the transport checksum.
    public enum ChecksumState: Sendable, Equatable {
        /// Already verified (by the NIC or the stack), or not to be checked.
        case verified
        /// Nothing has verified it: the pipeline checks it and drops a bad one.
        case unverified
        /// Partial (offload pending, locally generated): it looks wrong and must not be checked.
        case partial
    }

    /// Time of the packet, nanoseconds since the Unix epoch (the injected clock).
    public var timestampNanoseconds: UInt64
    public var checksum: ChecksumState
    /// The packet's real length when the bytes are a truncated copy.
    public var originalLength: Int?

    public init(timestampNanoseconds: UInt64, checksum: ChecksumState = .verified, originalLength: Int? = nil) {
        self.timestampNanoseconds = timestampNanoseconds
        self.checksum = checksum
        self.originalLength = originalLength
    }
}
