import Tracking
import Wire

/// What synwall remembers of IP fragments that reach it unreassembled (FORWARD, IPv6): per
/// datagram (source, destination, protocol, identification), the byte ranges seen and the
/// verdict of the first fragment. An overlapping fragment (RFC 5722's rule, applied to IPv4
/// too: overlaps are how fragment attacks hide a header) is dropped with reason `fragment`, as
/// is every later fragment of a datagram whose first fragment was dropped.
///
/// Fixed size, allocated once: a full table replaces its oldest datagram; entries expire after
/// `lifetime` (the kernel's reassembly timeout is 30 s).
struct FragmentTable: ~Copyable {
    static let rangesPerDatagram = 8

    struct Datagram {
        var source: IPAddress
        var destination: IPAddress
        var identification: UInt32
        var proto: UInt8
        /// 0 free, 1 first fragment accepted, 2 first fragment dropped, 3 first not seen yet.
        var firstVerdict: UInt8
        var rangeCount: UInt8
        var lastSeen: UInt64
        var starts: (UInt16, UInt16, UInt16, UInt16, UInt16, UInt16, UInt16, UInt16)
        var ends: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32)
    }

    private let slots: UnsafeMutablePointer<Datagram>
    private let capacity: Int
    private let lifetime: UInt64
    private var next = 0

    init(capacity: Int = 1024, lifetimeNanoseconds: UInt64 = 30_000_000_000) {
        self.capacity = max(8, capacity)
        lifetime = lifetimeNanoseconds
        slots = .allocate(capacity: self.capacity)
        let empty = Datagram(source: IPAddress(high: 0, low: 0), destination: IPAddress(high: 0, low: 0),
                             identification: 0, proto: 0, firstVerdict: 0, rangeCount: 0, lastSeen: 0,
                             starts: (0, 0, 0, 0, 0, 0, 0, 0), ends: (0, 0, 0, 0, 0, 0, 0, 0))
        slots.initialize(repeating: empty, count: self.capacity)
    }

    deinit { slots.deallocate() }

    /// Judges a fragment before (first) or instead of (others) the tracker: `.drop` for an
    /// overlap, a datagram in too many pieces, or a later fragment of a dropped first one;
    /// nil to go on (the first fragment's verdict is recorded later with `record`).
    mutating func check(_ packet: Packet, now: UInt64) -> Verdict? {
        let start = packet.fragment.offset
        let end = start + max(0, packet.ipTotalLength - packet.transportOffset)
        let index = slot(for: packet, now: now)
        let entry = slots + index
        entry.pointee.lastSeen = now
        let count = Int(entry.pointee.rangeCount)
        var overlaps = false
        withUnsafeBytes(of: entry.pointee.starts) { startsRaw in
            withUnsafeBytes(of: entry.pointee.ends) { endsRaw in
                let starts = startsRaw.bindMemory(to: UInt16.self)
                let ends = endsRaw.bindMemory(to: UInt32.self)
                for i in 0 ..< count {
                    let s = Int(starts[i]) << 3, e = Int(ends[i])
                    if start == s && end == e { continue }  // an exact duplicate (retransmission)
                    if start < e && s < end { overlaps = true }
                }
            }
        }
        if overlaps { return .drop }
        if count >= Self.rangesPerDatagram { return .drop }
        withUnsafeMutableBytes(of: &entry.pointee.starts) { $0.bindMemory(to: UInt16.self)[count] = UInt16(start >> 3) }
        withUnsafeMutableBytes(of: &entry.pointee.ends) { $0.bindMemory(to: UInt32.self)[count] = UInt32(end) }
        entry.pointee.rangeCount += 1
        if !packet.fragment.isFirst, entry.pointee.firstVerdict == 2 { return .drop }
        return nil
    }

    /// Remembers the first fragment's verdict, for the fragments that follow it.
    mutating func record(first packet: Packet, verdict: Verdict, now: UInt64) {
        let entry = slots + slot(for: packet, now: now)
        entry.pointee.firstVerdict = verdict == .accept ? 1 : 2
    }

    /// The slot of `packet`'s datagram: found among a few probes from its hash, or made there
    /// (in a free or expired slot, else over the oldest of the probed ones).
    private mutating func slot(for packet: Packet, now: UInt64) -> Int {
        var h = UInt64(packet.fragment.identification) &* 0x9E37_79B9_7F4A_7C15
        h ^= packet.source.low &+ (packet.source.high &* 31) &+ UInt64(packet.protocolNumber)
        h = (h ^ (h >> 29)) &* 0xBF58_476D_1CE4_E5B9
        h ^= packet.destination.low &+ (packet.destination.high &* 131)
        h ^= h >> 32
        let home = Int(truncatingIfNeeded: h & 0x7FFF_FFFF_FFFF_FFFF) % capacity
        var victim = -1
        var oldest = UInt64.max
        for probe in 0 ..< Self.probes {
            let i = (home + probe) % capacity
            let d = slots[i]
            let expired = d.firstVerdict == 0 || now &- d.lastSeen > lifetime
            if !expired, d.identification == packet.fragment.identification, d.proto == packet.protocolNumber,
               d.source == packet.source, d.destination == packet.destination
            {
                return i
            }
            if expired {
                if victim < 0 { victim = i }
            } else if d.lastSeen < oldest {
                oldest = d.lastSeen
                if victim < 0 { next = i }
            }
        }
        let index = victim >= 0 ? victim : next
        slots[index] = Datagram(source: packet.source, destination: packet.destination,
                                identification: packet.fragment.identification, proto: packet.protocolNumber,
                                firstVerdict: 3, rangeCount: 0, lastSeen: now,
                                starts: (0, 0, 0, 0, 0, 0, 0, 0), ends: (0, 0, 0, 0, 0, 0, 0, 0))
        return index
    }

    static let probes = 8
}
