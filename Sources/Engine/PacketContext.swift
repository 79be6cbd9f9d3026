import Rules
import Wire

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
    /// Which way the packet goes through this host (from the netfilter hook).
    public var direction: Direction
    /// Input and output interface indexes (0 when none).
    public var inInterface: UInt32
    public var outInterface: UInt32
    /// The queue's id of the packet (a capture's frame number in replay): what a held
    /// fragment's verdict is given back with (`Pipeline.takeFragmentVerdicts`).
    public var packetID: UInt32 = 0
    /// The kernel's connection tracking found the packet INVALID (the offload rules mark such
    /// packets): an offloaded connection's packet is then dropped (docs/offload.md).
    public var kernelInvalid = false

    public init(timestampNanoseconds: UInt64, checksum: ChecksumState = .verified, originalLength: Int? = nil,
                direction: Direction = .in, inInterface: UInt32 = 0, outInterface: UInt32 = 0)
    {
        self.timestampNanoseconds = timestampNanoseconds
        self.checksum = checksum
        self.originalLength = originalLength
        self.direction = direction
        self.inInterface = inInterface
        self.outInterface = outInterface
    }
}
