/// How one NFQUEUE queue is bound and configured. Sent to the kernel in one acknowledged message.
public struct QueueConfiguration: Sendable, Equatable {
    /// The queue number (0–65535) that iptables/nft rules send packets to.
    public var queue: UInt16
    /// Bytes of each packet copied to user space (from the IP header on). The default, 512,
    /// covers every header the tracker reads (IPv4/IPv6 with options or extension headers, TCP
    /// with all options); packets longer than this arrive truncated with their real length.
    public var copyRange: Int
    /// The most packets the kernel holds for this queue (this kernel caps in-flight at 65,536).
    public var maxLength: UInt32
    /// When the queue is full, let packets through instead of dropping them (kernel fail-open).
    public var failOpen: Bool
    /// Receive GSO/GRO super-packets unsegmented and with checksum hints, instead of having the
    /// kernel segment them and compute partial checksums first.
    public var gso: Bool
    /// Socket receive buffer in bytes (set with SO_RCVBUFFORCE; the kernel doubles it).
    public var receiveBufferBytes: Int
    /// How many datagrams one `recvmmsg` call may return.
    public var batchSize: Int
    /// How long a receive waits before the worker checks whether it should stop.
    public var receiveTimeoutMilliseconds: Int

    public init(queue: UInt16, copyRange: Int = 512, maxLength: UInt32 = 8192, failOpen: Bool = false,
                gso: Bool = true, receiveBufferBytes: Int = 32 << 20, batchSize: Int = 128,
                receiveTimeoutMilliseconds: Int = 200)
    {
        self.queue = queue
        self.copyRange = max(64, min(copyRange, 65531))
        self.maxLength = max(1, maxLength)
        self.failOpen = failOpen
        self.gso = gso
        self.receiveBufferBytes = receiveBufferBytes
        self.batchSize = max(1, min(batchSize, 1024))
        self.receiveTimeoutMilliseconds = max(10, receiveTimeoutMilliseconds)
    }

    /// Bytes one receive slot needs: the copied packet plus netlink headers and attributes.
    var slotSize: Int { ((copyRange + 1024 + 4095) / 4096) * 4096 }
}
