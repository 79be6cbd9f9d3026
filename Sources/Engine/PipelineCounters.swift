import Tracking
/// Per-pipeline counters: plain integers, owned by the one thread that runs the pipeline.
public struct PipelineCounters: Sendable, Equatable {
    public var packets = 0
    public var accepted = 0
    public var dropped = 0
    /// Drops per reason, indexed by `DropReason.allCases` order.
    public var dropsByReason = [Int](repeating: 0, count: DropReason.allCases.count)
    public var tcp = 0
    public var udp = 0
    public var icmp = 0
    public var otherProtocols = 0
    public var ipv6 = 0
    /// Checksums verified because the kernel said nothing had verified them.
    public var checksumsVerified = 0
    /// Fragments whose verdict was held until their datagram was complete (ever).
    public var fragmentsHeld = 0
    /// Fragmented datagrams judged whole.
    public var datagramsReassembled = 0
    /// Fragmented datagrams given up incomplete (timed out, over a bound, pushed out).
    public var datagramsAbandoned = 0

    public init() {}

    /// Drops for one reason.
    public func drops(_ reason: DropReason) -> Int {
        dropsByReason[Self.index(of: reason)]
    }

    @usableFromInline
    static func index(of reason: DropReason) -> Int { reason.ordinal }

    /// Adds `other` into this (for totals across workers).
    public mutating func add(_ other: PipelineCounters) {
        packets += other.packets
        accepted += other.accepted
        dropped += other.dropped
        for i in dropsByReason.indices { dropsByReason[i] += other.dropsByReason[i] }
        tcp += other.tcp
        udp += other.udp
        icmp += other.icmp
        otherProtocols += other.otherProtocols
        ipv6 += other.ipv6
        checksumsVerified += other.checksumsVerified
        fragmentsHeld += other.fragmentsHeld
        datagramsReassembled += other.datagramsReassembled
        datagramsAbandoned += other.datagramsAbandoned
    }
}
