import Testing
@testable import Tracking
import Wire

/// An admission that admits everything and hands over a fixed origin.
private struct AdmitWithOrigin: Admission {
    var origin: FlowOrigin
    mutating func admit(_ packet: Packet, key: FlowKey) -> AdmissionAnswer { .admit(origin) }
}

@Suite("per-flow accounting")
struct AccountingTests {
    let start: UInt64 = 1_000_000

    @Test("a TCP connection counts accepted packets and IP bytes each way, with its times")
    func tcpCounts() throws {
        let harness = Harness()
        harness.run(h2)  // SYN (40 bytes), SYN-ACK (40) at the start
        harness.run([
            c("A", seq: 1001, ack: 5001).at(1.5).ok(.established),           // 40
            c("PA", seq: 1001, ack: 5001, len: 100).at(10).ok(.established), // 140
            s("A", seq: 5001, ack: 1101).at(2.25).ok(.established),          // 40
            // Dropped packets count nothing and do not refresh the last-seen time.
            s("SA", seq: 9999, ack: 1101).at(30).drop(.synInEstablished, .synackDiff),
        ])
        let flow = try #require(harness.onlyConnection)
        #expect(flow.initiatorPackets == 3)
        #expect(flow.initiatorBytes == 40 + 40 + 140)
        #expect(flow.responderPackets == 2)
        #expect(flow.responderBytes == 40 + 40)
        #expect(flow.createdSeconds == start)
        #expect(flow.lastSeenSeconds == start + 13, "1.5 + 10 + 2.25 s after the start, rounded down")
        #expect(flow.ruleIndex == nil, "AdmitAll names no rule")
    }

    @Test("IPv6 and a client with the higher address: directions still follow the initiator")
    func ipv6HighClient() throws {
        let harness = Harness(ipv6: true, clientHigh: true)
        harness.run(h + [s("PA", seq: 5001, ack: 1001, len: 10).at(4).ok(.established)])
        let flow = try #require(harness.onlyConnection)
        #expect(flow.initiatorAddress == harness.client)
        #expect(flow.initiatorPackets == 2)
        #expect(flow.initiatorBytes == 60 + 60)
        #expect(flow.responderPackets == 2)
        #expect(flow.responderBytes == 60 + 70)
        #expect(flow.lastSeenSeconds == start + 4)
    }

    @Test("UDP and ICMP echo flows count both ways; an ICMP error counts for no flow")
    func datagrams() throws {
        let harness = Harness()
        let request = PacketBuilder(source: harness.client, destination: harness.server)
            .udp(sourcePort: 5353, destinationPort: 53, payload: [1, 2, 3])
        let reply = PacketBuilder(source: harness.server, destination: harness.client)
            .udp(sourcePort: 53, destinationPort: 5353, payload: [UInt8](repeating: 9, count: 50))
        _ = harness.send(bytes: request)
        harness.advance(2)
        _ = harness.send(bytes: reply)
        _ = harness.send(bytes: reply)
        let router = IPAddress("192.0.2.254") ?? IPAddress(ipv4: 0)
        let quote = Array(request.prefix(28))
        let error = PacketBuilder(source: router, destination: harness.client)
            .icmp(type: 3, code: 3, body: quote)
        harness.advance(5)
        #expect(harness.send(bytes: error)?.verdict == .accept)
        let flow = try #require(harness.onlyConnection)
        #expect(flow.state == .udpReplied)
        #expect(flow.initiatorPackets == 1)
        #expect(flow.initiatorBytes == 31)
        #expect(flow.responderPackets == 2)
        #expect(flow.responderBytes == 2 * 78)
        #expect(flow.lastSeenSeconds == start + 2, "the ICMP error is not the flow's packet")

        let ping = Harness()
        _ = ping.send(bytes: PacketBuilder(source: ping.client, destination: ping.server)
            .icmpEcho(identifier: 9, sequence: 1, payload: [0, 1, 2, 3]))
        _ = ping.send(bytes: PacketBuilder(source: ping.server, destination: ping.client)
            .icmpEcho(reply: true, identifier: 9, sequence: 1, payload: [0, 1, 2, 3]))
        let echo = try #require(ping.onlyConnection)
        #expect((echo.initiatorPackets, echo.initiatorBytes, echo.responderPackets, echo.responderBytes) == (1, 32, 1, 32))
    }

    @Test("the admission's origin is stored: the rule index and, for reloads, hook and interfaces")
    func originIsStored() throws {
        let harness = Harness()
        var admission = AdmitWithOrigin(origin: FlowOrigin(ruleIndex: 7, hook: 2, inInterface: 3, outInterface: 4))
        _ = harness.send(bytes: harness.bytes(c("S", seq: 1000)), admission: &admission)
        let flow = try #require(harness.onlyConnection)
        #expect(flow.ruleIndex == 7)
        var seen: [FlowOrigin] = []
        let done = harness.tracker.reviseFlows(now: harness.now) { _, origin in
            seen.append(origin)
            return .keep(ruleIndex: 2)
        }
        #expect(done == nil)
        #expect(seen == [FlowOrigin(ruleIndex: 7, hook: 2, inInterface: 3, outInterface: 4)])
        #expect(harness.onlyConnection?.ruleIndex == 2)
        _ = harness.tracker.reviseFlows(now: harness.now) { _, _ in .keep(ruleIndex: nil) }
        #expect(harness.onlyConnection?.ruleIndex == nil)
    }

    @Test("a connection that reuses a TIME_WAIT entry starts its counts and times afresh")
    func reuseStartsAfresh() throws {
        let harness = Harness()
        harness.run(h + [
            c("FA", seq: 1001, ack: 5001).ok(.finWait),
            s("FA", seq: 5001, ack: 1002).ok(.lastAck),
            c("A", seq: 1002, ack: 5002).ok(.timeWait),
            c("S", seq: 90_000).at(7).ok(.synSent, .timeWaitReuse),
        ])
        let flow = try #require(harness.onlyConnection)
        #expect(flow.createdSeconds == start + 7)
        #expect((flow.initiatorPackets, flow.responderPackets) == (1, 0))
        #expect(flow.initiatorBytes == 40)
    }

    @Test("reviseFlows removes what the judge cuts, reports it as departed, and pauses when the ring is full")
    func reviseRemoves() {
        let harness = Harness()
        let count = ConnectionTracker.removedCapacity + 76
        for port in 0..<count {
            _ = harness.send(bytes: PacketBuilder(source: harness.client, destination: harness.server)
                .udp(sourcePort: UInt16(10_000 + port), destinationPort: 53))
        }
        harness.tracker.drainRemovedFlows { _ in }
        #expect(harness.tracker.count == count)
        var judged = 0
        var departed = 0
        var cursor: Int? = 0
        var rounds = 0
        while let from = cursor, rounds < 10 {
            rounds += 1
            cursor = harness.tracker.reviseFlows(from: from, now: harness.now) { flow, _ in
                judged += 1
                return flow.initiatorPort % 2 == 0 ? .remove : .keep(ruleIndex: 1)
            }
            harness.tracker.drainRemovedFlows { _ in departed += 1 }
        }
        #expect(rounds == 1, "half of 1,100 fits the ring of 1,024 at once")
        #expect(judged == count)
        #expect(departed == count / 2)
        #expect(harness.tracker.count == count / 2)
        #expect(harness.tracker.statistics.removedByReload == UInt64(count / 2))
        #expect(harness.tracker.removedOverflow == 0)

        // All removed: the ring fills, the walk pauses and goes on after a drain.
        cursor = 0
        rounds = 0
        departed = 0
        while let from = cursor, rounds < 10 {
            rounds += 1
            cursor = harness.tracker.reviseFlows(from: from, now: harness.now) { _, _ in .remove }
            harness.tracker.drainRemovedFlows { _ in departed += 1 }
        }
        #expect(rounds == 1)
        #expect(departed == count / 2)
        #expect(harness.tracker.count == 0)

        for port in 0..<count {
            _ = harness.send(bytes: PacketBuilder(source: harness.client, destination: harness.server)
                .udp(sourcePort: UInt16(20_000 + port), destinationPort: 53))
        }
        harness.tracker.drainRemovedFlows { _ in }
        cursor = 0
        rounds = 0
        departed = 0
        while let from = cursor, rounds < 10 {
            rounds += 1
            cursor = harness.tracker.reviseFlows(from: from, now: harness.now) { _, _ in .remove }
            harness.tracker.drainRemovedFlows { _ in departed += 1 }
        }
        #expect(rounds == 2, "1,100 departures need two rounds through a ring of 1,024")
        #expect(departed == count)
        #expect(harness.tracker.removedOverflow == 0)
    }
}

@Suite("tcp.pickup and other timers")
struct PickupAndOtherTimerTests {
    @Test("tcp.pickup governs a picked-up connection until the other side speaks")
    func pickupTimeout() {
        var configuration = testConfiguration(pickup: true)
        configuration.timeouts.tcpPickup = .seconds(20)
        let silent = Harness(configuration)
        silent.run([c("A", seq: 1, ack: 1).ok(.established, .midstreamPickup)])
        silent.advance(19)
        #expect(silent.tracker.expire(now: silent.now) == 0)
        silent.advance(1)
        #expect(silent.tracker.expire(now: silent.now) == 1)

        // Refreshed by the initiator's packets, still on the pickup timer.
        Harness(configuration).run([
            c("A", seq: 1, ack: 1).ok(.established, .midstreamPickup),
            c("A", seq: 1, ack: 1).at(15).ok(.established),
            c("A", seq: 1, ack: 1).at(15).ok(.established),
            // 20 s of silence: expired, so the next ACK is a new pickup.
            c("A", seq: 1, ack: 1).at(20).ok(.established, .midstreamPickup),
        ])
        // A reply ends it: the established timeout holds from then on.
        Harness(configuration).run([
            c("A", seq: 1, ack: 1).ok(.established, .midstreamPickup),
            s("A", seq: 1, ack: 1).at(10).ok(.established),
            c("A", seq: 1, ack: 1).at(3_000).ok(.established),
        ])
    }

    @Test("tcp.pickup longer than the state's own timeout does not lengthen it")
    func pickupNeverLengthens() {
        var configuration = testConfiguration(pickup: true)
        configuration.timeouts.tcpPickup = .seconds(10_000)
        configuration.timeouts.tcpEstablished = .seconds(100)
        let harness = Harness(configuration)
        harness.run([c("A", seq: 1, ack: 1).ok(.established, .midstreamPickup)])
        harness.advance(100)
        #expect(harness.tracker.expire(now: harness.now) == 1)
    }

    @Test("other protocols are tracked as flows by address pair, asking the admission once")
    func otherProtocolFlows() throws {
        let harness = Harness()
        let out = PacketBuilder(source: harness.client, destination: harness.server)
            .ip(protocolNumber: 47, transport: [0, 0, 8, 0])
        let back = PacketBuilder(source: harness.server, destination: harness.client)
            .ip(protocolNumber: 47, transport: [0, 0, 8, 0, 1, 2, 3, 4])
        var asked = AdmitIf { _, _ in true }
        #expect(harness.send(bytes: out, admission: &asked) == TrackResult(verdict: .accept, state: .otherUnreplied,
                                                                              created: true))
        #expect(harness.send(bytes: out, admission: &asked) == .accept(.otherUnreplied))
        #expect(harness.send(bytes: back, admission: &asked) == .accept(.otherReplied))
        #expect(asked.asked == 1)
        let flow = try #require(harness.onlyConnection)
        #expect(flow.proto == 47)
        #expect(flow.state.name == "REPLIED")
        #expect((flow.initiatorPackets, flow.initiatorBytes, flow.responderPackets, flow.responderBytes) == (2, 48, 1, 28))

        var refuse = AdmitIf { _, _ in false }
        let esp = PacketBuilder(source: harness.client, destination: harness.server)
            .ip(protocolNumber: 50, transport: [0, 0, 0, 1, 0, 0, 0, 1])
        #expect(harness.send(bytes: esp, admission: &refuse) == TrackResult(verdict: .drop, reason: .policy))
    }

    @Test("the other timeout: 600 s by default, settable")
    func otherTimeout() {
        for (setting, seconds) in [(nil, 600.0), (Duration.seconds(45), 45.0)] {
            var configuration = testConfiguration()
            if let setting { configuration.timeouts.other = setting }
            let harness = Harness(configuration)
            _ = harness.send(bytes: PacketBuilder(source: harness.client, destination: harness.server)
                .ip(protocolNumber: 132, transport: [0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0]))
            harness.advance(seconds - 1)
            #expect(harness.tracker.expire(now: harness.now) == 0)
            harness.advance(1)
            #expect(harness.tracker.expire(now: harness.now) == 1)
        }
    }
}
