import NetfilterQueue
import Tracking

/// The three mark bits offload uses (docs/offload.md): `set offload mark BIT` names the lowest.
///
/// - `offload` (BIT): on a packet synwall sends back through its hook, "mark this connection";
///   on a connection, "its plain segments pass in the kernel".
/// - `end` (BIT << 1): on a packet sent back, "clear the connection's offload bit".
/// - `invalid` (BIT << 2): set by the rules on a packet the kernel's own tracking found
///   `INVALID`, before it is queued: synwall drops and logs it when its connection is offloaded.
public struct OffloadMarks: Sendable, Equatable {
    public var offload: UInt32
    public var end: UInt32 { offload << 1 }
    public var invalid: UInt32 { offload << 2 }

    public init(bit: UInt32) { offload = bit }

    /// `0x…` as iptables and nft write marks.
    static func hex(_ value: UInt32) -> String { "0x" + String(value, radix: 16) }

    /// The verdict for an accepted packet that starts or ends its connection's offload:
    /// through the hook again with the packet's mark plus the matching bit.
    public func verdict(_ change: OffloadChange, packetMark: UInt32) -> PacketVerdict {
        let kept = packetMark & ~(offload | end | invalid)
        return .repeatWithMark(kept | (change == .start ? offload : end))
    }
}
