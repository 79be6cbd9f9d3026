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

/// What the fragment table says about one piece.
enum FragmentOutcome {
    /// Drop it: it overlaps another piece with other bytes, its datagram is (now) dropped, or a
    /// bound was reached.
    case drop
    /// Pass it now: an exact duplicate of a piece of a datagram already judged and accepted.
    case accept
    /// Keep its verdict: the datagram is not complete yet.
    case hold
    /// It completes its datagram: judge `packet` (the first fragment's headers with the whole
    /// datagram's lengths) as it came in with `context`, give this piece that verdict, and call
    /// `finish` so the held pieces get it too.
    case complete(packet: Packet, context: PacketContext)
}

/// A held piece's verdict, once its datagram was judged or given up.
struct FragmentRelease {
    var id: UInt32
    var verdict: Verdict
    /// Why it is dropped (the datagram's reason), nil when accepted.
    var reason: DropReason?
    /// Its datagram's protocol and family, for the counters.
    var proto: UInt8
    var isIPv6: Bool
}

/// What synwall does with IP fragments that reach it unreassembled (`--attach none` without a
/// conntrack rule, or a capture): it holds their verdicts, puts the datagram together in
/// extent (not in bytes: the tracker and the rules need the first fragment's headers and the
/// whole length), judges it once when every byte is there, then gives each piece that verdict
/// (docs/fragments.md, "Held verdicts").
///
/// - A piece that overlaps another drops its whole datagram (RFC 5722's rule, applied to IPv4
///   too: overlaps are how fragment attacks hide a header), unless it is an exact duplicate:
///   same offset, same length and the same bytes, compared with the copy kept of the first one
///   (RFC 3128's overlap-by-replacement changes bytes) — as far as the queue copied them
///   (`--copy-range`, 512 bytes by default: every header is in them). A duplicate takes its
///   datagram's verdict; when its kept copy was overwritten (the byte ring is shared), it is
///   dropped.
/// - A datagram may come in up to `rangesPerDatagram` pieces (duplicates included).
/// - A first fragment too short for the transport header drops its datagram: pieces held
///   before it and pieces after it (`drop(_:)`).
/// - Bounds: `heldLimit` pieces held at once (each occupies a slot in the kernel's queue),
///   `perSourceLimit` incomplete datagrams per source, `capacity` datagrams; a datagram not
///   complete `lifetime` after its first piece (the kernel's reassembly timeout is 30 s) is
///   dropped, as a full table's oldest probed datagram is. Their held pieces are released with
///   a drop and each such datagram is reported once (`takeExpired`).
///
/// Fixed size, allocated once, nothing per packet. The hashes are seeded, so chosen
/// identifications or sources cannot make every lookup walk one chain.
struct FragmentTable: ~Copyable {
    /// Pieces remembered per datagram (a 64 KiB datagram at the IPv6 minimum MTU is 52).
    static let rangesPerDatagram = 64
    /// Bytes of the ring that keeps fragments' payloads for the duplicate comparison.
    static let ringBytes = 1 << 20
    /// Slots probed from a datagram's home slot.
    static let probes = 8
    /// Buckets of the per-source count of incomplete datagrams (sources share a bucket by hash).
    static let sourceBuckets = 4096
    /// Expired datagrams reported between two `takeExpired` calls (more are only counted).
    static let expiredReports = 64

    /// A datagram's status.
    enum Status: UInt8 {
        case free = 0, accepted, dropped, collecting
    }

    struct Datagram {
        var key: FragmentKey
        var status: Status
        var rangeCount: UInt8
        /// Pieces of it held now.
        var held: UInt8
        var hasFirst: Bool
        /// The first piece's arrival (a collecting datagram's lifetime runs from it).
        var created: UInt64
        var lastSeen: UInt64
        /// Transport bytes of the whole datagram (the end of its last piece), 0 until that
        /// piece came.
        var total: UInt32
        /// Transport bytes of the pieces seen (they never overlap, so all of it is there once
        /// this equals `total`).
        var covered: UInt32
    }

    /// One piece seen: its extent in the datagram, where its bytes went in the ring, and the
    /// queue id of its packet while its verdict is held.
    struct Range {
        var start: UInt32
        var end: UInt32
        /// The ring's write count when the bytes were copied (valid while the ring has not
        /// gone a whole turn past them).
        var written: UInt64
        /// Bytes of it copied into the ring: its length, or less when the queue copied only
        /// the start of the packet (`--copy-range`).
        var kept: UInt32
        var id: UInt32
        var held: Bool
        /// A second copy of an earlier piece: no extent of its own.
        var duplicate: Bool
    }

    private let slots: UnsafeMutablePointer<Datagram>
    private let ranges: UnsafeMutablePointer<Range>
    /// Per slot: the first fragment's decoded headers (or, until it comes, the first piece's)
    /// and its context.
    private let firsts: UnsafeMutablePointer<Packet>
    private let contexts: UnsafeMutablePointer<PacketContext>
    private let sourceCounts: UnsafeMutablePointer<UInt16>
    private let ring: UnsafeMutableRawPointer
    /// Bytes ever written to the ring (its head is this modulo `ringBytes`).
    private var ringWritten: UInt64 = 0
    private let releases: UnsafeMutablePointer<FragmentRelease>
    private(set) var releaseCount = 0
    private let expired: UnsafeMutablePointer<Packet>
    private var expiredCount = 0
    let capacity: Int
    let heldLimit: Int
    let perSourceLimit: Int
    private let lifetime: UInt64
    private let seed0: UInt64
    private let seed1: UInt64
    private var next = 0
    private var sweepCursor = 0
    /// The slot `complete` was returned for, until `finish`.
    private var completing = -1

    /// Pieces held now.
    private(set) var heldNow = 0
    /// Pieces ever held.
    private(set) var heldTotal = 0
    /// Datagrams judged whole.
    private(set) var reassembled = 0
    /// Datagrams given up incomplete: timed out, pushed out of a full table, or over a bound.
    private(set) var abandoned = 0

    init(capacity: Int = 1024, heldLimit: Int = 2048, perSourceLimit: Int = 64,
         lifetimeNanoseconds: UInt64 = 30_000_000_000, seed: UInt64 = 0x5157_A11F) {
        self.capacity = max(8, capacity)
        self.heldLimit = max(Self.rangesPerDatagram, heldLimit)
        self.perSourceLimit = max(1, perSourceLimit)
        lifetime = lifetimeNanoseconds
        seed0 = seed ^ 0x243F_6A88_85A3_08D3
        seed1 = Self.fold(seed ^ 0x1319_8A2E_0370_7344, 0xA409_3822_299F_31D0)
        let zero = IPAddress(high: 0, low: 0)
        slots = .allocate(capacity: self.capacity)
        slots.initialize(repeating: Datagram(key: FragmentKey(source: zero, destination: zero, identification: 0, proto: 0),
                                             status: .free, rangeCount: 0, held: 0, hasFirst: false, created: 0,
                                             lastSeen: 0, total: 0, covered: 0),
                         count: self.capacity)
        ranges = .allocate(capacity: self.capacity * Self.rangesPerDatagram)
        ranges.initialize(repeating: Range(start: 0, end: 0, written: 0, kept: 0, id: 0, held: false, duplicate: false),
                          count: self.capacity * Self.rangesPerDatagram)
        let blank = Packet(version: .v4, source: zero, destination: zero, protocolNumber: 0, hopLimit: 0,
                           ipHeaderLength: 20, transportOffset: 20, ipTotalLength: 20, capturedLength: 20,
                           transport: .other(0))
        firsts = .allocate(capacity: self.capacity)
        firsts.initialize(repeating: blank, count: self.capacity)
        contexts = .allocate(capacity: self.capacity)
        contexts.initialize(repeating: PacketContext(timestampNanoseconds: 0), count: self.capacity)
        sourceCounts = .allocate(capacity: Self.sourceBuckets)
        sourceCounts.initialize(repeating: 0, count: Self.sourceBuckets)
        ring = .allocate(byteCount: Self.ringBytes, alignment: 16)
        ring.initializeMemory(as: UInt8.self, repeating: 0, count: Self.ringBytes)
        // Every held piece can be released before the caller drains (a whole table expiring).
        releases = .allocate(capacity: self.heldLimit + Self.rangesPerDatagram)
        expired = .allocate(capacity: Self.expiredReports)
        expired.initialize(repeating: blank, count: Self.expiredReports)
    }

    deinit {
        slots.deallocate()
        ranges.deallocate()
        firsts.deallocate()
        contexts.deallocate()
        sourceCounts.deallocate()
        ring.deallocate()
        releases.deallocate()
        expired.deallocate()
    }

    /// The bound of the table's memory, in bytes.
    var memoryBytes: Int {
        capacity * (MemoryLayout<Datagram>.stride + Self.rangesPerDatagram * MemoryLayout<Range>.stride
            + MemoryLayout<Packet>.stride + MemoryLayout<PacketContext>.stride)
            + Self.ringBytes + Self.sourceBuckets * 2
            + (heldLimit + Self.rangesPerDatagram) * MemoryLayout<FragmentRelease>.stride
            + Self.expiredReports * MemoryLayout<Packet>.stride
    }

    /// Judges a piece: see `FragmentOutcome`. `bytes` is the packet as decoded, `id` its queue
    /// id (what a held verdict is given back with).
    mutating func check(_ packet: Packet, bytes: UnsafeRawBufferPointer, id: UInt32,
                        context: PacketContext) -> FragmentOutcome {
        let now = context.timestampNanoseconds
        sweep(now: now, budget: 4)
        let start = packet.fragment.offset
        let length = max(0, packet.ipTotalLength - packet.transportOffset)
        let end = start + length
        let key = FragmentKey(packet)
        let (index, isNew) = slot(for: key, now: now)
        let entry = slots + index
        entry.pointee.lastSeen = now
        if isNew {
            firsts[index] = packet
            contexts[index] = context
            let bucket = sourceBucket(key.source)
            if Int(sourceCounts[bucket]) >= perSourceLimit {
                // Too many incomplete datagrams from this source: this one is refused whole.
                entry.pointee.status = .dropped
                abandoned += 1
                return .drop
            }
            sourceCounts[bucket] += 1
        }
        let count = Int(entry.pointee.rangeCount)
        let pieces = ranges + index * Self.rangesPerDatagram
        // The payload as captured (a truncated copy compares what it has).
        let available = max(0, min(bytes.count, packet.ipTotalLength) - packet.transportOffset)
        let payload = UnsafeRawBufferPointer(rebasing: bytes[packet.transportOffset ..< packet.transportOffset
            + min(length, available)])
        for i in 0 ..< count where !pieces[i].duplicate {
            let piece = pieces[i]
            let s = Int(piece.start), e = Int(piece.end)
            guard start < e && s < end else { continue }
            guard start == s && end == e && sameBytes(piece, payload) else {
                // An overlap that changes bytes (or cannot be compared any more): the datagram goes.
                drop(slot: index, reason: .fragment)
                return .drop
            }
            switch entry.pointee.status {
            case .accepted: return .accept
            case .collecting:
                guard count < Self.rangesPerDatagram, heldNow < heldLimit else { return .drop }
                pieces[count] = Range(start: UInt32(start), end: UInt32(end), written: piece.written, kept: piece.kept,
                                      id: id, held: true, duplicate: true)
                entry.pointee.rangeCount += 1
                hold(entry)
                return .hold
            default: return .drop
            }
        }
        // A new extent.
        guard entry.pointee.status == .collecting else { return .drop }
        let total = Int(entry.pointee.total)
        let bad = count >= Self.rangesPerDatagram                     // too many pieces
            || (!packet.fragment.moreFragments && total != 0 && total != end)  // two different ends
            || (total != 0 && end > total)                            // beyond the end
            || (packet.fragment.moreFragments && length % 8 != 0)     // only the last may be ragged
        if bad {
            drop(slot: index, reason: .fragment)
            abandoned += 1
            return .drop
        }
        if !packet.fragment.moreFragments {
            // The last piece: no piece seen may reach beyond it.
            for i in 0 ..< count where Int(pieces[i].end) > end {
                drop(slot: index, reason: .fragment)
                return .drop
            }
            entry.pointee.total = UInt32(end)
        }
        pieces[count] = Range(start: UInt32(start), end: UInt32(end), written: keep(payload),
                              kept: UInt32(payload.count), id: id, held: false, duplicate: false)
        entry.pointee.rangeCount += 1
        entry.pointee.covered += UInt32(length)
        if packet.fragment.isFirst {
            entry.pointee.hasFirst = true
            firsts[index] = packet
            contexts[index] = context
        }
        if entry.pointee.hasFirst, entry.pointee.total != 0, entry.pointee.covered == entry.pointee.total {
            completing = index
            return .complete(packet: firsts[index].reassembled(transportLength: Int(entry.pointee.total)),
                             context: contexts[index])
        }
        guard heldNow < heldLimit else {
            // Holding more would fill the kernel's queue: the datagram is given up.
            drop(slot: index, reason: .fragment)
            abandoned += 1
            return .drop
        }
        pieces[count].held = true
        hold(entry)
        return .hold
    }

    /// After `complete`: the datagram's verdict (and drop reason) for its held pieces.
    mutating func finish(verdict: Verdict, reason: DropReason?) {
        guard completing >= 0 else { return }
        let index = completing
        completing = -1
        reassembled += 1
        if verdict == .accept {
            release(slot: index, verdict: .accept, reason: nil, status: .accepted)
        } else {
            release(slot: index, verdict: .drop, reason: reason ?? .fragment, status: .dropped)
        }
    }

    /// Drops `key`'s datagram: its first fragment was too short for the transport header. Its
    /// held pieces are released with a drop; later pieces are dropped.
    mutating func drop(_ key: FragmentKey, now: UInt64) {
        let (index, isNew) = slot(for: key, now: now)
        slots[index].lastSeen = now
        if isNew { sourceCounts[sourceBucket(key.source)] += 1 }
        drop(slot: index, reason: .fragment)
    }

    /// Gives up datagrams that have been incomplete for longer than the lifetime, looking at
    /// up to `budget` slots (`Int.max`: all of them).
    mutating func sweep(now: UInt64, budget: Int) {
        for _ in 0 ..< min(budget, capacity) {
            let i = sweepCursor
            sweepCursor = (sweepCursor + 1) % capacity
            let d = slots[i]
            if d.status == .collecting, now &- d.created > lifetime {
                abandon(slot: i)
            } else if d.status != .free, d.status != .collecting, now &- d.lastSeen > lifetime {
                slots[i].status = .free
            }
        }
    }

    /// Hands the verdicts released since the last call to `body` and forgets them.
    mutating func takeReleases(_ body: (FragmentRelease) -> Void) {
        for i in 0 ..< releaseCount { body(releases[i]) }
        releaseCount = 0
    }

    /// Hands the headers of the datagrams given up since the last call (at most
    /// `expiredReports`) to `body` and forgets them.
    mutating func takeExpired(_ body: (Packet) -> Void) {
        for i in 0 ..< expiredCount { body(expired[i]) }
        expiredCount = 0
    }

    /// True when verdicts or given-up datagrams wait for `takeReleases` / `takeExpired`.
    var hasNews: Bool { releaseCount > 0 || expiredCount > 0 }

    /// Datagrams remembered and not expired at `now` (tests, statistics).
    func datagramCount(now: UInt64) -> Int {
        var count = 0
        for i in 0 ..< capacity where slots[i].status != .free && now &- slots[i].lastSeen <= lifetime {
            count += 1
        }
        return count
    }

    // MARK: Held pieces

    private mutating func hold(_ entry: UnsafeMutablePointer<Datagram>) {
        entry.pointee.held += 1
        heldNow += 1
        heldTotal += 1
    }

    /// Drops a datagram now (unless it was judged already): its held pieces go with `reason`.
    private mutating func drop(slot index: Int, reason: DropReason) {
        switch slots[index].status {
        case .collecting: release(slot: index, verdict: .drop, reason: reason, status: .dropped)
        case .free: slots[index].status = .dropped
        case .accepted, .dropped: break
        }
    }

    /// A collecting datagram given up: reported, its pieces dropped.
    private mutating func abandon(slot index: Int) {
        abandoned += 1
        if expiredCount < Self.expiredReports {
            expired[expiredCount] = firsts[index]
            expiredCount += 1
        }
        release(slot: index, verdict: .drop, reason: .fragment, status: .dropped)
    }

    /// Ends a collecting datagram with `status`, releasing its held pieces with `verdict`.
    private mutating func release(slot index: Int, verdict: Verdict, reason: DropReason?, status: Status) {
        let entry = slots + index
        guard entry.pointee.status == .collecting else {
            entry.pointee.status = status
            return
        }
        let bucket = sourceBucket(entry.pointee.key.source)
        if sourceCounts[bucket] > 0 { sourceCounts[bucket] -= 1 }
        let pieces = ranges + index * Self.rangesPerDatagram
        for i in 0 ..< Int(entry.pointee.rangeCount) where pieces[i].held {
            pieces[i].held = false
            releases[releaseCount] = FragmentRelease(id: pieces[i].id, verdict: verdict, reason: reason,
                                                     proto: entry.pointee.key.proto,
                                                     isIPv6: !entry.pointee.key.source.isIPv4)
            releaseCount += 1
        }
        heldNow -= Int(entry.pointee.held)
        entry.pointee.held = 0
        entry.pointee.status = status
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

    /// True when the ring still holds `piece`'s bytes and they equal `payload`. When the
    /// queue copied only the start of the packets, the bytes both copies have are compared.
    private func sameBytes(_ piece: Range, _ payload: UnsafeRawBufferPointer) -> Bool {
        let length = min(Int(piece.kept), payload.count)
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
    /// The last fold spreads small differences: keys that differ only in a few identification
    /// bits change the product's low half in a few bits only, and once landed 59 of 104
    /// datagrams on one home slot (for 1 seed in 100).
    @inline(__always)
    func hash(_ key: FragmentKey) -> UInt64 {
        let a = Self.fold(key.source.high ^ seed0, key.source.low ^ seed1)
        let b = Self.fold(key.destination.high ^ seed1, key.destination.low ^ seed0)
        let c = UInt64(key.identification) << 8 | UInt64(key.proto)
        let mixed = Self.fold(a ^ c ^ seed1, b ^ 0xA076_1D64_78BD_642F)
        return Self.fold(mixed ^ seed0, 0xE703_7ED1_A0B4_28DB)
    }

    /// The per-source bucket of `source` (seeded too).
    @inline(__always)
    func sourceBucket(_ source: IPAddress) -> Int {
        Int(truncatingIfNeeded: Self.fold(source.high ^ seed1, source.low ^ seed0) % UInt64(Self.sourceBuckets))
    }

    /// The slot of the datagram: found among a few probes from its hash, or made there (in a
    /// free or expired slot, else over the oldest of the probed ones, whose held pieces are
    /// dropped). True when made.
    private mutating func slot(for key: FragmentKey, now: UInt64) -> (index: Int, isNew: Bool) {
        let home = Int(truncatingIfNeeded: hash(key) & 0x7FFF_FFFF_FFFF_FFFF) % capacity
        var victim = -1
        var oldest = UInt64.max
        for probe in 0 ..< Self.probes {
            let i = (home + probe) % capacity
            let d = slots[i]
            let expired = d.status == .free
                || (d.status == .collecting ? now &- d.created > lifetime : now &- d.lastSeen > lifetime)
            if !expired, d.key == key { return (i, false) }
            if expired {
                if victim < 0 { victim = i }
            } else if d.lastSeen < oldest {
                oldest = d.lastSeen
                next = i
            }
        }
        let index = victim >= 0 ? victim : next
        if slots[index].status == .collecting { abandon(slot: index) }
        slots[index] = Datagram(key: key, status: .collecting, rangeCount: 0, held: 0, hasFirst: false, created: now,
                                lastSeen: now, total: 0, covered: 0)
        return (index, true)
    }
}
