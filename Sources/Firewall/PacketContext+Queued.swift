import Engine
import NetfilterQueue
import Rules
import Wire

extension PacketContext {
    /// What NFQUEUE says about a queued packet, as the pipeline's context: the kernel's
    /// checksum hints, the hook's direction, the interfaces, the id a held fragment's verdict
    /// goes back with, and the offload rules' INVALID mark. Pure (the time is given), and no
    /// allocation: it runs once per packet.
    ///
    /// - Parameters:
    ///   - packet: the packet as the queue socket parsed it.
    ///   - timestamp: the receive round's time, nanoseconds since the Unix epoch.
    ///   - offload: the rules' offload marks, when `set offload after` is on.
    @inline(__always)
    init(queued packet: QueuedPacket, at timestamp: UInt64, offload: OffloadMarks?) {
        self.init(timestampNanoseconds: timestamp, checksum: ChecksumState(packet.skbInfo),
                  originalLength: packet.originalLength, direction: Direction(hook: packet.hook),
                  inInterface: packet.inInterface, outInterface: packet.outInterface)
        packetID = packet.id
        if let offload { kernelInvalid = packet.mark & offload.invalid != 0 }
    }
}

extension PacketContext.ChecksumState {
    /// From `NFQA_SKB_INFO`: a partial checksum (offload pending) must not be checked; one
    /// nothing has verified is checked by the pipeline; otherwise it was verified already.
    @inline(__always)
    init(_ skbInfo: SKBInfo) {
        if skbInfo.contains(.checksumNotReady) {
            self = .partial
        } else if skbInfo.contains(.checksumNotVerified) {
            self = .unverified
        } else {
            self = .verified
        }
    }
}

extension Direction {
    /// The way through this host from the netfilter hook a packet was queued at
    /// (`NF_INET_*`): 2 forward; 3 output and 4 postrouting out; 0 prerouting, 1 input and
    /// anything else in.
    @inline(__always)
    init(hook: UInt8) {
        switch hook {
        case 2: self = .forward
        case 3, 4: self = .out
        default: self = .in
        }
    }
}
