import Engine
import FuzzSupport
import Rules
import Tracking
import Wire

/// Fuzzes connection tracking: the input is a script of packets among a few hosts (built
/// with `PacketBuilder` from fuzz-chosen fields, sequence numbers relative to what each side
/// sent so far, so handshakes, data and closes are easy to reach), raw packets, and pauses.
/// Each packet goes to a `ConnectionTracker` with a tiny table (eviction and the caps run)
/// and to a `Pipeline` with rules; the tracker's books must balance after every step.
@_cdecl("LLVMFuzzerTestOneInput")
public func trackerFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var input = FuzzInput(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
    var script = TrackerScript(setup: input.byte())
    var steps = 0
    while !input.isAtEnd && steps < TrackerScript.maximumSteps {
        script.step(&input)
        steps += 1
    }
    script.checkBooks(full: true)
    script.checkStateFile()
    return 0
}

/// The rules the pipeline judges new flows by (hosts as `TrackerScript` makes them).
let fuzzRules: CompiledRuleset? = {
    let text = """
    policy in drop
    policy out pass
    policy forward drop
    table <bad> persist expire 10s
    set limit src-nodes 4
    block in quick from <bad> label "bad"
    pass in proto tcp from 10.0.0.0/31 to port { 80, 443 } max-src-conn 2 overload <bad> label "web"
    pass in proto tcp to port 22 max-src-conn-rate 3/10 overload <bad> flush label "ssh"
    pass in proto udp to port 53
    pass in inet proto icmp icmp-type echoreq
    pass in inet6 proto icmp6
    pass in inet6 proto tcp from fd00::/64
    """
    switch RuleCompiler.compile(text: text, path: "/fuzz/tracker.rules") {
    case .success(let ruleset): return ruleset
    case .failure(let diagnostics):
        fuzzCheck(false, "the tracker fuzzer's rules do not compile: \(diagnostics)")
        return nil
    }
}()

/// Refuses every `period`-th new flow (the admission path that says no).
struct EveryNthRefused: Admission {
    var period: Int
    var asked = 0
    mutating func admit(_ packet: Packet, key: FlowKey) -> Bool {
        asked += 1
        return period == 0 || asked % period != 0
    }
}

/// One fuzz input's world: the tracker, the pipeline, the clock, and what each side of each
/// flow sent so far.
struct TrackerScript: ~Copyable {
    static let maximumSteps = 512
    static let capacity = 8
    static let clientPorts: [UInt16] = [40000, 40001, 40002, 22]
    static let serverPorts: [UInt16] = [80, 22, 443, 53]

    var tracker: ConnectionTracker
    var pipeline: Pipeline
    var admission: EveryNthRefused
    var now: UInt64 = 1_700_000_000_000_000_000
    /// Next sequence number per (flow, side), as the sender thinks.
    var sent: [Int: UInt32] = [:]
    var drained: UInt64 = 0
    var steps = 0

    init(setup: UInt8) {
        let configuration = TrackerConfiguration(
            maxStates: Self.capacity,
            pickup: setup & 1 != 0,
            rstExact: setup & 2 != 0,
            maxHalfOpen: setup & 4 != 0 ? 3 : 250_000,
            maxHalfOpenPerSource: setup & 8 != 0 ? 2 : 1_000,
            synRatePerSource: setup & 16 != 0 ? SYNRateLimit(perSecond: 2, burst: 3) : .unlimited,
            sourceTableCapacity: 4,
            hashSeed: UInt64(setup >> 5))
        tracker = ConnectionTracker(configuration: configuration)
        pipeline = Pipeline(configuration: PipelineConfiguration(defaultVerdict: .accept, tracker: configuration),
                            rules: setup & 0x80 != 0 ? nil : fuzzRules)
        admission = EveryNthRefused(period: Int(setup >> 5))
    }

    mutating func step(_ input: inout FuzzInput) {
        let op = input.byte()
        now &+= UInt64(op >> 4) * 1_000_000  // up to 15 ms between steps
        switch op & 0x0F {
        case 0 ... 8:
            tcp(&input)
        case 9:
            udpOrEcho(&input)
        case 10:
            icmpError(&input)
        case 11:
            // A raw packet, as the fuzzer wrote it.
            let length = Int(input.byte())
            let bytes = input.take(length)
            judge(bytes, direction: .in)
        case 12, 13:
            // A pause: from a millisecond to about 13 days (past every timeout), then an idle sweep.
            now &+= UInt64(1) << UInt64(20 + input.byte() % 31)
            let expired = tracker.expire(now: now, budget: 1 + Int(input.byte()))
            fuzzCheck(expired >= 0, "negative expiry count")
            pipeline.idle(now: now)
        default:
            // The same packet twice (retransmission).
            tcp(&input, repeats: 2)
        }
        steps += 1
        checkBooks(full: steps % 16 == 0)
    }

    /// Host `index` (0...3 clients, 4...5 servers) on IPv4 or IPv6.
    static func address(_ index: Int, v6: Bool) -> IPAddress {
        let server = index >= 4
        let host = UInt64(server ? index - 3 : index + 1)
        if v6 {
            return IPAddress(high: server ? 0xFD00_0001_0000_0000 : 0xFD00_0000_0000_0000, low: host)
        }
        return IPAddress(ipv4: (server ? 0x0A00_0100 : 0x0A00_0000) | UInt32(host))
    }

    /// A TCP segment on one of 64 flows, either way.
    mutating func tcp(_ input: inout FuzzInput, repeats: Int = 1) {
        let who = input.byte()
        let client = Int(who & 3), server = 4 + Int(who >> 2 & 1)
        let clientPort = Self.clientPorts[Int(who >> 3 & 3)], serverPort = Self.serverPorts[Int(who >> 5 & 1) * 2 + Int(who >> 6 & 1)]
        let v6 = input.byte() & 1 != 0
        let reply = who & 0x80 != 0
        let flow = Int(who & 0x7F) << 1 | (v6 ? 1 : 0)
        let mine = flow << 1 | (reply ? 1 : 0), theirs = flow << 1 | (reply ? 0 : 1)

        let flags = Self.flags(input.byte())
        let seqChoice = input.byte(), ackChoice = input.byte()
        let seq = Self.relative(seqChoice, to: sent[mine], input: &input)
        let ack = Self.relative(ackChoice, to: sent[theirs], input: &input)
        let window = UInt16(input.byte()) << 8 | 0xFF
        let options = Self.options(input.byte(), input: &input)
        let payload = [UInt8](repeating: 0x61, count: Int(input.byte() & 0x3F))

        var builder = PacketBuilder(source: Self.address(reply ? server : client, v6: v6),
                                    destination: Self.address(reply ? client : server, v6: v6))
        builder.hopLimit = 64
        let bytes = builder.tcp(sourcePort: reply ? serverPort : clientPort, destinationPort: reply ? clientPort : serverPort,
                                sequence: seq, acknowledgment: ack, flags: flags, window: window,
                                rawOptions: options, payload: payload)
        var length = UInt32(payload.count)
        if flags.contains(.syn) { length &+= 1 }
        if flags.contains(.fin) { length &+= 1 }
        let end = seq &+ length
        if let previous = sent[mine] {
            if Int32(bitPattern: end &- previous) > 0 { sent[mine] = end }
        } else {
            sent[mine] = end
        }
        for _ in 0 ..< repeats { judge(bytes, direction: reply ? .out : .in) }
    }

    /// A UDP datagram or an ICMP echo, either way.
    mutating func udpOrEcho(_ input: inout FuzzInput) {
        let who = input.byte()
        let v6 = who & 0x40 != 0, reply = who & 0x80 != 0
        let client = Int(who & 3), server = 4 + Int(who >> 2 & 1)
        let builder = PacketBuilder(source: Self.address(reply ? server : client, v6: v6),
                                    destination: Self.address(reply ? client : server, v6: v6))
        let bytes: [UInt8]
        if who & 0x20 != 0 {
            bytes = builder.icmpEcho(reply: reply, identifier: UInt16(who >> 3 & 3), sequence: UInt16(input.byte()))
        } else {
            let port = Self.serverPorts[Int(who >> 3 & 3)]
            bytes = builder.udp(sourcePort: reply ? port : 5353, destinationPort: reply ? 5353 : port,
                                payload: input.take(Int(input.byte() & 0x0F)))
        }
        judge(bytes, direction: reply ? .out : .in)
    }

    /// An ICMP error quoting the start of a TCP segment of one of the flows.
    mutating func icmpError(_ input: inout FuzzInput) {
        let who = input.byte()
        let client = Int(who & 3), server = 4 + Int(who >> 2 & 1)
        let clientPort = Self.clientPorts[Int(who >> 3 & 3)], serverPort = Self.serverPorts[Int(who >> 5 & 1) * 2]
        let v6 = who & 0x80 != 0
        let flow = Int(who & 0x7F) << 1 | (v6 ? 1 : 0)
        let seq = Self.relative(input.byte(), to: sent[flow << 1], input: &input)
        let inner = PacketBuilder(source: Self.address(client, v6: v6), destination: Self.address(server, v6: v6))
            .tcp(sourcePort: clientPort, destinationPort: serverPort, sequence: seq, flags: .syn)
        let kind = input.byte()
        let quote = Array(inner.prefix(v6 ? 48 + Int(kind & 0x0F) : 28 + Int(kind & 0x0F)))
        // From the server or a router on the way, back to the client.
        let from = kind & 0x10 != 0 ? Self.address(server, v6: v6) : Self.address(5, v6: v6)
        let outer = PacketBuilder(source: from, destination: Self.address(client, v6: v6))
        let bytes: [UInt8]
        if v6 {
            bytes = outer.ip(protocolNumber: 58, transport: Self.icmpMessage(type: 1, code: kind >> 5, body: quote))
        } else {
            bytes = outer.icmp(type: 3, code: kind >> 5, body: quote)
        }
        judge(bytes, direction: .out)
    }

    static func icmpMessage(type: UInt8, code: UInt8, body: [UInt8]) -> [UInt8] {
        [type, code, 0, 0, 0, 0, 0, 0] + body
    }

    /// Common flag sets for most values, any nine bits for the rest.
    static func flags(_ choice: UInt8) -> TCPFlags {
        let common: [TCPFlags] = [.syn, [.syn, .ack], .ack, [.ack, .psh], [.fin, .ack], .rst, [.rst, .ack], .fin,
                                  [.syn, .fin], [], [.fin, .psh, .ack]]
        if choice < 0xC0 { return common[Int(choice) % common.count] }
        return TCPFlags(rawValue: UInt16(choice & 0x3F) | UInt16(choice & 0x20) << 3)
    }

    /// A sequence number near `base` (what that side sent so far), or any number.
    static func relative(_ choice: UInt8, to base: UInt32?, input: inout FuzzInput) -> UInt32 {
        guard let base, choice & 0x80 == 0 else {
            return choice & 0x40 != 0 ? input.uint32() : UInt32(choice & 0x3F) << 26
        }
        // -32 ... +31, scaled by 1, 256 or 65536.
        let delta = Int32(choice & 0x3F) - 32
        let scale: Int32 = choice & 0x40 != 0 ? 1 << 16 : 1
        return base &+ UInt32(bitPattern: delta &* scale)
    }

    /// TCP options chosen bit by bit.
    static func options(_ choice: UInt8, input: inout FuzzInput) -> [UInt8] {
        var bytes: [UInt8] = []
        if choice & 1 != 0 { bytes += [2, 4, 0x05, 0xB4] }
        if choice & 2 != 0 { bytes += [1, 3, 3, input.byte() % 16] }
        if choice & 4 != 0 { bytes += [1, 1, 4, 2] }
        if choice & 8 != 0 {
            let value = input.uint32()
            bytes += [1, 1, 8, 10, UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF),
                      UInt8(value & 0xFF), 0, 0, 0, 1]
        }
        if choice & 16 != 0, bytes.count <= 28 {
            let left = input.uint32()
            bytes += [1, 1, 5, 10] + [UInt8(left >> 24), UInt8(left >> 16 & 0xFF), UInt8(left >> 8 & 0xFF), UInt8(left & 0xFF)]
                + [UInt8(left >> 24), UInt8(left >> 16 & 0xFF), UInt8(left >> 8 & 0xFF) &+ 1, UInt8(left & 0xFF)]
        }
        return Array(bytes.prefix(40))
    }

    /// Gives `bytes` to the tracker and to the pipeline.
    mutating func judge(_ bytes: [UInt8], direction: Direction) {
        bytes.withUnsafeBytes { raw in
            if let packet = PacketDecoder.decode(raw).packet {
                let before = tracker.count
                let result = tracker.track(packet, bytes: raw, now: now, admission: &admission)
                if result.created {
                    fuzzCheck(result.verdict == .accept, "a flow was created for a dropped packet")
                    fuzzCheck(tracker.count >= 1, "a flow was created but the table is empty")
                }
                if result.verdict == .drop {
                    fuzzCheck(result.reason != nil, "a drop without a reason")
                } else {
                    fuzzCheck(result.reason == nil, "an accept with a drop reason")
                }
                fuzzCheck(tracker.count <= before + 1, "one packet added more than one flow")
            }
            let decision = pipeline.process(raw, context: PacketContext(timestampNanoseconds: now, direction: direction))
            if decision.verdict == .drop { fuzzCheck(decision.reason != nil, "a pipeline drop without a reason") }
        }
    }

    /// The state file's round trip: every live flow saved is restored (but handshakes in
    /// progress, which are left out) into a fresh tracker with its key, state and windows, and
    /// the fresh tracker's books balance.
    func checkStateFile() {
        var records: [UInt8] = []
        let reference = UInt32(now / 1_000_000_000)
        fuzzCheck(tracker.saveConnections(now: now, referenceSeconds: reference, queue: 0, into: &records) == nil,
                  "saving did not see the whole table")
        fuzzCheck(records.count % SavedConnection.size == 0, "\(records.count) bytes of records")
        var saved: [FlowKey: ConnectionSnapshot] = [:]
        tracker.forEachConnection(now: now) { saved[$0.key] = $0 }
        fuzzCheck(saved.count == records.count / SavedConnection.size,
                  "\(saved.count) live flows, \(records.count / SavedConnection.size) saved")
        var fresh = ConnectionTracker(configuration: tracker.configuration)
        let counts = records.withUnsafeBytes { fresh.restoreConnections($0, now: now, elapsedSeconds: 0) }
        let halfOpen = saved.values.filter(\.state.isHalfOpen).count
        fuzzCheck(counts.invalid == 0 && counts.duplicate == 0 && counts.tableFull == 0,
                  "restoring its own records: \(counts)")
        fuzzCheck(counts.halfOpen == halfOpen && counts.restored + counts.expired == saved.count - halfOpen,
                  "restored \(counts), \(saved.count) saved with \(halfOpen) half-open")
        fuzzCheck(fresh.count == counts.restored && fresh.halfOpenCount == 0,
                  "\(fresh.count) flows after restoring \(counts.restored)")
        fresh.forEachConnection { flow in
            guard let old = saved[flow.key] else {
                fuzzCheck(false, "a restored flow that was not saved: \(flow.key)")
                return
            }
            fuzzCheck(flow.state == old.state && flow.initiatorWindow == old.initiatorWindow
                      && flow.responderWindow == old.responderWindow && flow.expiresAtSeconds == old.expiresAtSeconds
                      && flow.initiatorAddress == old.initiatorAddress, "restored \(flow), saved \(old)")
        }
    }

    /// The tracker's books: size, caps, and every entry created accounted for.
    mutating func checkBooks(full: Bool) {
        let count = tracker.count
        fuzzCheck(count <= tracker.capacity, "\(count) flows in a table of \(tracker.capacity)")
        fuzzCheck(pipeline.trackedFlows <= Self.capacity, "\(pipeline.trackedFlows) flows in the pipeline's table")
        fuzzCheck(tracker.halfOpenCount >= 0 && tracker.halfOpenCount <= count,
                  "half-open count \(tracker.halfOpenCount) with \(count) flows")
        // The overall cap holds even when a proven source's connection comes in over it (it
        // takes the place of the oldest half-open one).
        fuzzCheck(tracker.halfOpenCount <= tracker.configuration.maxHalfOpen,
                  "half-open count \(tracker.halfOpenCount) over the cap \(tracker.configuration.maxHalfOpen)")
        let s = tracker.statistics
        let removed = s.expired + s.closed + s.evicted
        fuzzCheck(s.created >= removed && s.created - removed == UInt64(count),
                  "created \(s.created), removed \(removed) (expired \(s.expired), closed \(s.closed), evicted \(s.evicted)), but \(count) in the table")
        var departed: UInt64 = 0
        tracker.drainRemovedFlows { _ in departed += 1 }
        drained += departed
        // Every departure told to the rules is a removal; an entry replaced on reuse (same key,
        // counted in `closed`) is not told: the rules re-count that key when they admit it again.
        fuzzCheck(drained + tracker.removedOverflow <= removed,
                  "\(drained) departures reported (+\(tracker.removedOverflow) lost), \(removed) removed")
        guard full else { return }
        var flows = 0, halfOpen = 0
        tracker.forEachConnection { snapshot in
            flows += 1
            if snapshot.state.isHalfOpen { halfOpen += 1 }
            fuzzCheck(snapshot.state.isTCP == (snapshot.proto == 6), "state \(snapshot.state) for protocol \(snapshot.proto)")
        }
        fuzzCheck(flows == count, "\(flows) flows listed, \(count) counted")
        fuzzCheck(halfOpen == tracker.halfOpenCount, "\(halfOpen) half-open flows listed, \(tracker.halfOpenCount) counted")
    }
}
