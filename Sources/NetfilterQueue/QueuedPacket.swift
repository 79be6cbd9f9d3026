/// The kernel's checksum and segmentation hints for a queued packet (`NFQA_SKB_INFO`).
public struct SKBInfo: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// The transport checksum is partial (offload pending): it looks wrong but is not.
    @inlinable public static var checksumNotReady: SKBInfo { SKBInfo(rawValue: 1 << 0) }
    /// A GSO/GRO super-packet spanning several segments.
    @inlinable public static var gso: SKBInfo { SKBInfo(rawValue: 1 << 1) }
    /// Nothing has verified the checksum yet: only then is verifying it meaningful.
    @inlinable public static var checksumNotVerified: SKBInfo { SKBInfo(rawValue: 1 << 2) }
}

/// One packet the kernel queued, viewed in place in the receive buffer.
///
/// `payload` is valid only inside the handler that receives it.
public struct QueuedPacket {
    /// The kernel's id for this packet; every id must get exactly one verdict.
    public var id: UInt32
    /// ETH_P_IP (0x0800) or ETH_P_IPV6 (0x86DD).
    public var hardwareProtocol: UInt16
    /// Netfilter hook number: 0 prerouting, 1 input, 2 forward, 3 output, 4 postrouting.
    public var hook: UInt8
    /// Packet bytes from the IP header on, up to the copy range.
    public var payload: UnsafeRawBufferPointer
    /// The packet's real length when `payload` is a truncated copy, else nil.
    public var originalLength: Int?
    /// Checksum and GSO hints.
    public var skbInfo: SKBInfo
    /// `skb->mark` (0 when unset).
    public var mark: UInt32
    /// Input interface index (0 when none).
    public var inInterface: UInt32
    /// Output interface index (0 when none).
    public var outInterface: UInt32

    public init(id: UInt32, hardwareProtocol: UInt16 = 0, hook: UInt8 = 0, payload: UnsafeRawBufferPointer,
                originalLength: Int? = nil, skbInfo: SKBInfo = [], mark: UInt32 = 0, inInterface: UInt32 = 0,
                outInterface: UInt32 = 0)
    {
        self.id = id
        self.hardwareProtocol = hardwareProtocol
        self.hook = hook
        self.payload = payload
        self.originalLength = originalLength
        self.skbInfo = skbInfo
        self.mark = mark
        self.inInterface = inInterface
        self.outInterface = outInterface
    }
}

/// The decision returned to the kernel for a queued packet.
public enum PacketVerdict: Sendable, Equatable {
    case accept
    case drop
    /// No verdict yet: the handler gives it later with `QueueSocket.release(id:verdict:)`
    /// (a fragment waiting for the rest of its datagram). The packet stays in the kernel's
    /// queue, taking a place there, until then.
    case held
    /// Run the packet through the same netfilter hook again with its mark set to this value
    /// (`NF_REPEAT` with `NFQA_MARK`): the attach rules see the mark this time (offload,
    /// docs/offload.md).
    case repeatWithMark(UInt32)
}
