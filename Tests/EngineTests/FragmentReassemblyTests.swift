@testable import Engine
import Testing
import Tracking
import Wire

private let second: UInt64 = 1_000_000_000
private let start: UInt64 = 1_700_000_000 * second

/// Both ends of a connection, either family.
private struct Ends {
    var client: PacketBuilder
    var server: PacketBuilder

    init(ipv6: Bool) {
        client = ipv6 ? PacketBuilder(from: "2001:db8::1", to: "2001:db8::2")!
            : PacketBuilder(from: "192.0.2.1", to: "198.51.100.2")!
        server = ipv6 ? PacketBuilder(from: "2001:db8::2", to: "2001:db8::1")!
            : PacketBuilder(from: "198.51.100.2", to: "192.0.2.1")!
    }
}

/// A pipeline fed packets with queue ids, collecting the held pieces' verdicts as a worker does.
private struct Feeder: ~Copyable {
    var pipeline: Pipeline
    var nextID: UInt32 = 1
    /// Verdicts given later to held pieces, by id.
    var released: [UInt32: (Verdict, DropReason?)] = [:]

    init(_ configuration: PipelineConfiguration = PipelineConfiguration()) {
        pipeline = Pipeline(configuration: configuration)
    }

    /// Judges `bytes` at `time`; returns the packet's id and decision.
    mutating func judge(_ bytes: [UInt8], at time: UInt64 = start) -> (id: UInt32, decision: Decision) {
        var context = PacketContext(timestampNanoseconds: time, direction: .forward)
        context.packetID = nextID
        nextID += 1
        let decision = bytes.withUnsafeBytes { pipeline.process($0, context: context) }
        collect()
        return (context.packetID, decision)
    }

    mutating func collect() {
        var got: [(UInt32, Verdict, DropReason?)] = []
        pipeline.takeFragmentVerdicts { got.append(($0, $1, $2)) }
        for (id, verdict, reason) in got { released[id] = (verdict, reason) }
    }

    mutating func idle(at time: UInt64) {
        pipeline.idle(now: time)
        collect()
    }
}

/// `transport` (a whole TCP segment or UDP datagram, header included) cut at `cuts` into
/// pieces of one IPv4 or IPv6 datagram, in order.
private func pieces(_ builder: PacketBuilder, ipv6: Bool, proto: UInt8 = 6, _ transport: [UInt8], cuts: [Int],
                    id: UInt32 = 0x4242) -> [[UInt8]] {
    let bounds = [0] + cuts + [transport.count]
    return (0 ..< bounds.count - 1).map { i in
        let slice = Array(transport[bounds[i] ..< bounds[i + 1]])
        let more = i < bounds.count - 2
        var b = builder
        if ipv6 {
            b.extensionHeaders = [.fragment(offset: bounds[i], moreFragments: more, identification: id)]
        } else {
            b.dontFragment = false
            b.moreFragments = more
            b.fragmentOffset = bounds[i]
            b.identification = UInt16(truncatingIfNeeded: id)
        }
        return b.ip(protocolNumber: proto, transport: slice)
    }
}

/// The transport part of a packet `builder` made (after the IP header).
private func transport(_ packet: [UInt8], ipv6: Bool) -> [UInt8] { Array(packet[(ipv6 ? 40 : 20)...]) }

/// An established connection from the client's port 40000 to the server's 80.
private func connect(_ feeder: inout Feeder, _ ends: Ends) {
    #expect(feeder.judge(ends.client.tcp(sourcePort: 40000, destinationPort: 80, sequence: 1000, flags: .syn,
                                         window: 65535)).decision.verdict == .accept)
    #expect(feeder.judge(ends.server.tcp(sourcePort: 80, destinationPort: 40000, sequence: 5000, acknowledgment: 1001,
                                         flags: [.syn, .ack], window: 65535)).decision.verdict == .accept)
    #expect(feeder.judge(ends.client.tcp(sourcePort: 40000, destinationPort: 80, sequence: 1001, acknowledgment: 5001,
                                         flags: .ack, window: 65535)).decision.verdict == .accept)
}

@Suite struct FragmentReassemblyTests {
    @Test("a 1,000-byte segment in pieces is judged once, whole: every piece passes and the ACK of all of it too",
          arguments: [(false, false), (true, false), (false, true), (true, true)])
    func wholeSegment(ipv6: Bool, fromServer: Bool) {
        let ends = Ends(ipv6: ipv6)
        var feeder = Feeder()
        connect(&feeder, ends)
        let (sender, receiver) = fromServer ? (ends.server, ends.client) : (ends.client, ends.server)
        let (sport, dport): (UInt16, UInt16) = fromServer ? (80, 40000) : (40000, 80)
        let (seq, ack): (UInt32, UInt32) = fromServer ? (5001, 1001) : (1001, 5001)
        let segment = transport(sender.tcp(sourcePort: sport, destinationPort: dport, sequence: seq, acknowledgment: ack,
                                           flags: [.ack, .psh], window: 65535,
                                           payload: (0 ..< 1000).map { UInt8(truncatingIfNeeded: $0) }), ipv6: ipv6)
        let parts = pieces(sender, ipv6: ipv6, segment, cuts: ipv6 ? [512] : [256, 512])
        // Out of order, the middle (or last) one twice.
        var held: [UInt32] = []
        let last = feeder.judge(parts[parts.count - 1])
        #expect(last.decision.isHeld)
        held.append(last.id)
        let again = feeder.judge(parts[parts.count - 1])
        #expect(again.decision.isHeld, "an exact duplicate is held with its datagram")
        held.append(again.id)
        if parts.count == 3 {
            let middle = feeder.judge(parts[1])
            #expect(middle.decision.isHeld)
            held.append(middle.id)
        }
        #expect(feeder.pipeline.fragmentsHeldNow == held.count)
        #expect(feeder.released.isEmpty)
        let first = feeder.judge(parts[0])
        #expect(!first.decision.isHeld)
        #expect(first.decision.verdict == .accept)
        #expect(first.decision.state == .established)
        for id in held { #expect(feeder.released[id]?.0 == .accept, "piece \(id)") }
        #expect(feeder.pipeline.fragmentsHeldNow == 0)
        // The tracker counted every byte: the ACK of all 1,000 passes, one beyond does not.
        let acked = receiver.tcp(sourcePort: dport, destinationPort: sport, sequence: ack, acknowledgment: seq + 1000,
                                 flags: .ack, window: 65535)
        #expect(feeder.judge(acked).decision.verdict == .accept)
        let beyond = receiver.tcp(sourcePort: dport, destinationPort: sport, sequence: ack, acknowledgment: seq + 1100,
                                  flags: .ack, window: 65535)
        #expect(feeder.judge(beyond).decision.reason == .badAck)
        let counters = feeder.pipeline.counters
        #expect(counters.packets == 3 + held.count + 1 + 2)
        #expect(counters.datagramsReassembled == 1)
        #expect(counters.fragmentsHeld == held.count)
    }

    @Test("a datagram the tracker or the rules refuse drops every piece with its reason", arguments: [false, true])
    func refusedDatagram(ipv6: Bool) {
        let ends = Ends(ipv6: ipv6)
        var feeder = Feeder(PipelineConfiguration(defaultVerdict: .drop))
        let syn = transport(ends.client.tcp(sourcePort: 40000, destinationPort: 80, sequence: 1000, flags: .syn,
                                            payload: [UInt8](repeating: 7, count: 28)), ipv6: ipv6)
        let parts = pieces(ends.client, ipv6: ipv6, syn, cuts: [40])
        let tail = feeder.judge(parts[1])
        #expect(tail.decision.isHeld)
        let head = feeder.judge(parts[0])
        #expect(head.decision.verdict == .drop)
        #expect(head.decision.reason == .policy)
        #expect(feeder.released[tail.id]?.0 == .drop)
        #expect(feeder.released[tail.id]?.1 == .policy)
        // A late copy of a piece of it goes too.
        #expect(feeder.judge(parts[1]).decision.verdict == .drop)
    }

    @Test("an overlap that rewrites bytes drops the whole datagram, pieces before and after", arguments: [false, true])
    func overlapRewrite(ipv6: Bool) {
        let ends = Ends(ipv6: ipv6)
        var feeder = Feeder()
        let data = transport(ends.client.udp(sourcePort: 5000, destinationPort: 53,
                                             payload: [UInt8](repeating: 0x41, count: 1200)), ipv6: ipv6)
        let parts = pieces(ends.client, ipv6: ipv6, proto: 17, data, cuts: [400, 800])
        var rewritten = data
        rewritten[500] = 0x42
        let forged = pieces(ends.client, ipv6: ipv6, proto: 17, rewritten, cuts: [400, 800])
        let middle = feeder.judge(parts[1])
        #expect(middle.decision.isHeld)
        let replaced = feeder.judge(forged[1])
        #expect(replaced.decision.verdict == .drop)
        #expect(replaced.decision.reason == .fragment)
        #expect(feeder.released[middle.id]?.0 == .drop, "the piece held before goes too")
        #expect(feeder.judge(parts[0]).decision.verdict == .drop)
        #expect(feeder.judge(parts[2]).decision.verdict == .drop)
        #expect(feeder.pipeline.fragmentsHeldNow == 0)
        #expect(feeder.pipeline.counters.drops(.fragment) == 4)
    }

    @Test("a tiny first fragment drops its datagram: the piece held before it and those after", arguments: [false, true])
    func tinyFirst(ipv6: Bool) {
        let ends = Ends(ipv6: ipv6)
        var feeder = Feeder()
        let syn = transport(ends.client.tcp(sourcePort: 40000, destinationPort: 80, sequence: 1000, flags: .syn,
                                            payload: [UInt8](repeating: 7, count: 40)), ipv6: ipv6)
        let parts = pieces(ends.client, ipv6: ipv6, syn, cuts: [8, 32])
        let middle = feeder.judge(parts[1])
        #expect(middle.decision.isHeld)
        let tiny = feeder.judge(parts[0])
        #expect(tiny.decision.reason == .fragment)
        #expect(feeder.released[middle.id]?.0 == .drop)
        #expect(feeder.judge(parts[2]).decision.reason == .fragment)
        // Another datagram is not affected.
        let other = pieces(ends.client, ipv6: ipv6, syn, cuts: [40], id: 0x777)
        #expect(feeder.judge(other[1]).decision.isHeld)
        #expect(feeder.judge(other[0]).decision.verdict == .accept)
    }

    @Test("an incomplete datagram is given up after 30 s: its pieces dropped, one event", arguments: [false, true])
    func timeout(ipv6: Bool) {
        let ends = Ends(ipv6: ipv6)
        var feeder = Feeder()
        let data = transport(ends.client.udp(sourcePort: 5000, destinationPort: 53,
                                             payload: [UInt8](repeating: 1, count: 1000)), ipv6: ipv6)
        let parts = pieces(ends.client, ipv6: ipv6, proto: 17, data, cuts: [512])
        let first = feeder.judge(parts[0])
        #expect(first.decision.isHeld)
        feeder.idle(at: start + 30 * second)
        #expect(feeder.released.isEmpty, "30 s is still within the lifetime")
        feeder.idle(at: start + 31 * second)
        #expect(feeder.released[first.id]?.0 == .drop)
        var events: [Decision] = []
        feeder.pipeline.takeAbandonedDatagrams { events.append($0) }
        #expect(events.count == 1)
        #expect(events.first?.reason == .fragment)
        #expect(events.first?.summary?.destinationPort == 53)
        #expect(feeder.pipeline.counters.datagramsAbandoned == 1)
        #expect(feeder.pipeline.counters.drops(.fragment) == 1)
        // Its last piece, late, starts a datagram of its own that never completes.
        #expect(feeder.judge(parts[1], at: start + 32 * second).decision.isHeld)
    }

    @Test("a 16,000-byte datagram in 11 pieces passes; a 65th piece drops its datagram")
    func manyPieces() {
        let ends = Ends(ipv6: false)
        var feeder = Feeder()
        let data = transport(ends.client.udp(sourcePort: 5000, destinationPort: 53,
                                             payload: [UInt8](repeating: 3, count: 16_000 - 8)), ipv6: false)
        let parts = pieces(ends.client, ipv6: false, proto: 17, data, cuts: (1 ... 10).map { $0 * 1480 })
        for part in parts.dropFirst() { #expect(feeder.judge(part).decision.isHeld) }
        #expect(feeder.judge(parts[0]).decision.verdict == .accept)
        #expect(feeder.released.count == 10)
        #expect(feeder.released.values.allSatisfy { $0.0 == .accept })

        let small = transport(ends.client.udp(sourcePort: 5001, destinationPort: 53,
                                              payload: [UInt8](repeating: 3, count: 65 * 8 + 8)), ipv6: false)
        let tiny = pieces(ends.client, ipv6: false, proto: 17, small, cuts: (1 ... 65).map { $0 * 8 }, id: 9)
        for part in tiny[1 ... 64] { #expect(feeder.judge(part).decision.isHeld) }
        #expect(feeder.judge(tiny[65]).decision.reason == .fragment)
        #expect(feeder.pipeline.fragmentsHeldNow == 0)
    }

    @Test("bounds: incomplete datagrams per source, and pieces held in all")
    func bounds() {
        let ends = Ends(ipv6: false)
        var feeder = Feeder(PipelineConfiguration(fragmentsHeldLimit: 100))
        let data = transport(ends.client.udp(sourcePort: 5000, destinationPort: 53,
                                             payload: [UInt8](repeating: 1, count: 1000)), ipv6: false)
        // One source: 64 incomplete datagrams are held, the 65th is refused.
        for id in 0 ..< 64 {
            #expect(feeder.judge(pieces(ends.client, ipv6: false, proto: 17, data, cuts: [512], id: UInt32(id))[1])
                .decision.isHeld, "datagram \(id)")
        }
        #expect(feeder.judge(pieces(ends.client, ipv6: false, proto: 17, data, cuts: [512], id: 64)[1])
            .decision.reason == .fragment)
        // Other sources fill the rest of the 100 held pieces; the 101st is refused.
        var refused = 0
        for n in 0 ..< 40 {
            let other = PacketBuilder(from: "10.0.\(n).1", to: "198.51.100.2")!
            let d = feeder.judge(pieces(other, ipv6: false, proto: 17, data, cuts: [512])[1]).decision
            if !d.isHeld { refused += 1 }
        }
        #expect(feeder.pipeline.fragmentsHeldNow == 100)
        #expect(refused == 4)
        // A completed datagram still passes: its held piece makes room when released.
        let first = pieces(ends.client, ipv6: false, proto: 17, data, cuts: [512], id: 0)[0]
        #expect(feeder.judge(first).decision.verdict == .accept)
        #expect(feeder.pipeline.fragmentsHeldNow == 99)
    }

    /// 64 datagrams of one source (identifications 0…63) and 40 of other sources, under 500
    /// seeds: no seed puts more than a few on one home slot, and none needs more than the 8
    /// probes. (Before the hash's last fold, 1 seed in 100 put up to 59 on one slot, pushing
    /// live datagrams out: a flaky `bounds` test found it.)
    @Test("identifications that differ in a few bits spread over the slots under every seed")
    func identificationsSpread() {
        let source = IPAddress(ipv4: 0xC000_0201), destination = IPAddress(ipv4: 0xC633_6402)
        var keys = (0 ..< UInt32(64)).map { FragmentKey(source: source, destination: destination, identification: $0, proto: 17) }
        keys += (0 ..< UInt32(40)).map {
            FragmentKey(source: IPAddress(ipv4: 0x0A00_0001 | $0 << 8), destination: destination, identification: 0x4242,
                        proto: 17)
        }
        var overflows = 0, worst = 0
        for seed in 0 ..< UInt64(500) {
            let table = FragmentTable(capacity: 1024, seed: seed &* 0x9E37_79B9_7F4A_7C15)
            var occupied = [Bool](repeating: false, count: 1024)
            var homes: [Int: Int] = [:]
            for key in keys {
                let home = Int(truncatingIfNeeded: table.hash(key) & 0x7FFF_FFFF_FFFF_FFFF) % 1024
                homes[home, default: 0] += 1
                guard let free = (0 ..< FragmentTable.probes).first(where: { !occupied[(home + $0) % 1024] }) else {
                    overflows += 1
                    continue
                }
                occupied[(home + free) % 1024] = true
            }
            worst = max(worst, homes.values.max() ?? 0)
        }
        #expect(overflows == 0)
        #expect(worst <= 6, "\(worst) keys on one home slot")
    }

    @Test("the fragment table's memory is fixed at creation and bounded")
    func memoryBound() {
        let table = FragmentTable()
        print("fragment table: \(table.memoryBytes) bytes for \(table.capacity) datagrams, \(table.heldLimit) held pieces")
        #expect(table.memoryBytes < 6 << 20)
        #expect(table.memoryBytes > FragmentTable.ringBytes)
    }

    @Test("the fragment table's hash is seeded: the same identifications land elsewhere under another seed")
    func seededHash() {
        let a = FragmentTable(seed: 1), b = FragmentTable(seed: 2)
        var same = 0
        let source = IPAddress(ipv4: 0xC000_0201), destination = IPAddress(ipv4: 0xC633_6402)
        for id in 0 ..< UInt32(1000) {
            let key = FragmentKey(source: source, destination: destination, identification: id, proto: 6)
            if a.hash(key) % 1024 == b.hash(key) % 1024 { same += 1 }
        }
        #expect(same < 50, "\(same) of 1000 identifications share a slot under both seeds")
        var homes = Set<UInt64>()
        for id in 0 ..< UInt32(1000) {
            homes.insert(a.hash(FragmentKey(source: source, destination: destination, identification: id << 10,
                                            proto: 6)) % 1024)
        }
        #expect(homes.count > 500, "1000 ids spaced by the table size hit \(homes.count) home slots")
    }
}
