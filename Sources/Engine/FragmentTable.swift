import Tracking
import Wire

/// The datagram a fragment belongs to: source, destination, protocol and identification.
struct FragmentKey: Equatable {
    var source: IPAddress
    var destination: IPAddress
    var identification: UInt32
    var proto: UInt8

    init(source: IPAddress, destination: IPAddress, identification: UInt32, proto: UInt8) {
        self.source = source
        self.destination = destination
        self.identification = identification
        self.proto = proto
    }

    init(_ packet: Packet) {
        self.init(source: packet.source, destination: packet.destination,
                  identification: packet.fragment.identification, proto: packet.protocolNumber)
    }
}

/// What synwall remembers of IP fragments that reach it unreassembled (FORWARD without the
/// kernel's defragmentation, IPv6): per datagram, the byte ranges seen and the verdict of the
/// first fragment (docs/fragments.md).
///
/// - A fragment that overlaps another is dropped with reason `fragment` (RFC 5722's rule,
///   applied to IPv4 too: overlaps are how fragment attacks hide a header), unless it is an
///   exact duplicate: same offset, same length and the same bytes, compared byte by byte with
///   the copy kept of the first one (RFC 3128's overlap-by-replacement changes bytes and is
///   dropped). When the kept copy has been overwritten (the byte ring is shared by all
///   datagrams), the duplicate is dropped: its original already passed.
/// - A datagram may come in up to `rangesPerDatagram` pieces; its bytes are bounded by the
///   decoder (offset + length ≤ 65,535), so the bound is in bytes, not pieces.
/// - Later fragments of a datagram whose first fragment was dropped (by the tracker, the
///   rules, or as too short for the TCP header) are dropped too.
///
/// Fixed size, allocated once, nothing per packet: a full table replaces its oldest probed
/// datagram; entries expire after `lifetime` (the kernel's reassembly timeout is 30 s). The
/// hash is seeded, so chosen identifications cannot make every lookup walk one chain.
struct FragmentTable: ~Copyable {
    /// Pieces remembered per datagram (a 64 KiB datagram at the IPv6 minimum MTU is 52).
    static let rangesPerDatagram = 64
    /// Bytes of the ring that keeps fragments' payloads for the duplicate comparison.
    static let ringBytes = 1 << 20
    /// Slots probed from a datagram's home slot.
    static let probes = 8

    struct Datagram {
        var key: FragmentKey
        /// 0 free, 1 first fragment accepted, 2 first fragment dropped, 3 first not seen yet.
        var firstVerdict: UInt8
        var rangeCount: UInt8
        var lastSeen: UInt64
    }

    /// One piece seen: its extent in the datagram and where its bytes went in the ring.
    struct Range {
        var start: UInt32
        var end: UInt32
        /// The ring's write count when the bytes were copied (valid while the ring has not
        /// gone a whole turn past them).
        var written: UInt64
    }

    private let slots: UnsafeMutablePointer<Datagram>
    private let ranges: UnsafeMutablePointer<Range>
    private let ring: UnsafeMutableRawPointer
    /// Bytes ever written to the ring (its head is this modulo `ringBytes`).
    private var ringWritten: UInt64 = 0
    private let capacity: Int
    private let lifetime: UInt64
    private let seed0: UInt64
    private let seed1: UInt64
    private var next = 0

    init(capacity: Int = 1024, lifetimeNanoseconds: UInt64 = 30_000_000_000, seed: UInt64 = 0x5157_A11F) {
        self.capacity = max(8, capacity)
        lifetime = lifetimeNanoseconds
        seed0 = seed ^ 0x243F_6A88_85A3_08D3
        seed1 = Self.fold(seed ^ 0x1319_8A2E_0370_7344, 0xA409_3822_299F_31D0)
        slots = .allocate(capacity: self.capacity)
        let empty = Datagram(key: FragmentKey(source: IPAddress(high: 0, low: 0),
                                              destination: IPAddress(high: 0, low: 0), identification: 0, proto: 0),
                             firstVerdict: 0, rangeCount: 0, lastSeen: 0)
        slots.initialize(repeating: empty, count: self.capacity)
        ranges = .allocate(capacity: self.capacity * Self.rangesPerDatagram)
        ranges.initialize(repeating: Range(start: 0, end: 0, written: 0),
                          count: self.capacity * Self.rangesPerDatagram)
        ring = .allocate(byteCount: Self.ringBytes, alignment: 16)
        ring.initializeMemory(as: UInt8.self, repeating: 0, count: Self.ringBytes)
    }

    deinit {
        slots.deallocate()
        ranges.deallocate()
        ring.deallocate()
    }

    /// Judges a fragment before (first) or instead of (others) the tracker: `.drop` for an
    /// overlap that is not an exact duplicate, a datagram in too many pieces, or a later
    /// fragment of a dropped first one; nil to go on (the first fragment's verdict is recorded
    /// later with `record`). `bytes` is the packet as decoded.
    mutating func check(_ packet: Packet, bytes: UnsafeRawBufferPointer, now: UInt64) -> Verdict? {
        let start = packet.fragment.offset
        let length = max(0, packet.ipTotalLength - packet.transportOffset)
        let end = start + length
        let index = slot(for: FragmentKey(packet), now: now)
        let entry = slots + index
        entry.pointee.lastSeen = now
        let count = Int(entry.pointee.rangeCount)
        let pieces = ranges + index * Self.rangesPerDatagram
        // The payload as captured (a truncated copy compares what it has).
        let available = max(0, min(bytes.count, packet.ipTotalLength) - packet.transportOffset)
        let payload = UnsafeRawBufferPointer(rebasing: bytes[packet.transportOffset ..< packet.transportOffset
            + min(length, available)])
        for i in 0 ..< count {
            let piece = pieces[i]
            let s = Int(piece.start), e = Int(piece.end)
            guard start < e && s < end else { continue }
            if start == s && end == e && payload.count == length && sameBytes(piece, payload) {
                // An exact duplicate: it adds nothing and passes (unless its datagram is dropped).
                if !packet.fragment.isFirst, entry.pointee.firstVerdict == 2 { return .drop }
                return nil
            }
            return .drop
        }
        if count >= Self.rangesPerDatagram { return .drop }
        pieces[count] = Range(start: UInt32(start), end: UInt32(end), written: keep(payload))
        entry.pointee.rangeCount += 1
        if !packet.fragment.isFirst, entry.pointee.firstVerdict == 2 { return .drop }
        return nil
    }

    /// Remembers the first fragment's verdict, for the fragments that follow it.
    mutating func record(first packet: Packet, verdict: Verdict, now: UInt64) {
        record(FragmentKey(packet), accepted: verdict == .accept, now: now)
    }

    /// Remembers that `key`'s datagram is dropped (its first fragment was too short for the
    /// transport header, or was refused): its later fragments go too.
    mutating func record(_ key: FragmentKey, accepted: Bool, now: UInt64) {
        let entry = slots + slot(for: key, now: now)
        entry.pointee.firstVerdict = accepted ? 1 : 2
        entry.pointee.lastSeen = now
    }

    /// Datagrams remembered and not expired at `now` (tests, statistics).
    func datagramCount(now: UInt64) -> Int {
        var count = 0
        for i in 0 ..< capacity where slots[i].firstVerdict != 0 && now &- slots[i].lastSeen <= lifetime {
            count += 1
        }
        return count
    }

    /// The bound of the table's memory, in bytes.
    var memoryBytes: Int {
        capacity * (MemoryLayout<Datagram>.stride + Self.rangesPerDatagram * MemoryLayout<Range>.stride)
            + Self.ringBytes
    }

    // MARK: The byte ring

    /// Copies `payload` into the ring; returns the write count it starts at.
    private mutating func keep(_ payload: UnsafeRawBufferPointer) -> UInt64 {
        let at = ringWritten
        var head = Int(at % UInt64(Self.ringBytes))
        var offset = 0
        while offset < payload.count {
            let chunk = min(payload.count - offset, Self.ringBytes - head)
            (ring + head).copyMemory(from: payload.baseAddress! + offset, byteCount: chunk)
            offset += chunk
            head = (head + chunk) % Self.ringBytes
        }
        ringWritten &+= UInt64(payload.count)
        return at
    }

    /// True when the ring still holds `piece`'s bytes and they equal `payload`.
    private func sameBytes(_ piece: Range, _ payload: UnsafeRawBufferPointer) -> Bool {
        let length = Int(piece.end - piece.start)
        guard length == payload.count else { return false }
        guard length > 0 else { return true }
        guard ringWritten &- piece.written <= UInt64(Self.ringBytes - length) else { return false }
        var head = Int(piece.written % UInt64(Self.ringBytes))
        var offset = 0
        while offset < length {
            let chunk = min(length - offset, Self.ringBytes - head)
            let kept = UnsafeRawBufferPointer(start: ring + head, count: chunk)
            let given = UnsafeRawBufferPointer(rebasing: payload[offset ..< offset + chunk])
            if !kept.elementsEqual(given) { return false }
            offset += chunk
            head = (head + chunk) % Self.ringBytes
        }
        return true
    }

    // MARK: Slots

    @inline(__always)
    static func fold(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let product = a.multipliedFullWidth(by: b)
        return product.high ^ product.low
    }

    /// A seeded hash of the datagram's key (multiply-fold mixing, as the connection table's).
    @inline(__always)
    func hash(_ key: FragmentKey) -> UInt64 {
        let a = Self.fold(key.source.high ^ seed0, key.source.low ^ seed1)
        let b = Self.fold(key.destination.high ^ seed1, key.destination.low ^ seed0)
        let c = UInt64(key.identification) << 8 | UInt64(key.proto)
        return Self.fold(a ^ c ^ seed1, b ^ 0xA076_1D64_78BD_642F)
    }

    /// The slot of the datagram: found among a few probes from its hash, or made there (in a
    /// free or expired slot, else over the oldest of the probed ones).
    private mutating func slot(for key: FragmentKey, now: UInt64) -> Int {
        let home = Int(truncatingIfNeeded: hash(key) & 0x7FFF_FFFF_FFFF_FFFF) % capacity
        var victim = -1
        var oldest = UInt64.max
        for probe in 0 ..< Self.probes {
            let i = (home + probe) % capacity
            let d = slots[i]
            let expired = d.firstVerdict == 0 || now &- d.lastSeen > lifetime
            if !expired, d.key == key { return i }
            if expired {
                if victim < 0 { victim = i }
            } else if d.lastSeen < oldest {
                oldest = d.lastSeen
                next = i
            }
        }
        let index = victim >= 0 ? victim : next
        slots[index] = Datagram(key: key, firstVerdict: 3, rangeCount: 0, lastSeen: now)
        return index
    }
}
