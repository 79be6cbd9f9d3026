import Testing
@testable import Tracking
import Wire

/// UDP flows, ICMP/ICMPv6 echo flows by identifier, and ICMP errors that must quote a tracked
/// flow.
@Suite("UDP and ICMP")
struct DatagramTests {
    static let families = [false, true]

    func udp(_ harness: Harness, fromClient: Bool, clientPort: UInt16 = 5353, serverPort: UInt16 = 53) -> [UInt8] {
        let builder = PacketBuilder(source: fromClient ? harness.client : harness.server,
                                    destination: fromClient ? harness.server : harness.client)
        return builder.udp(sourcePort: fromClient ? clientPort : serverPort,
                           destinationPort: fromClient ? serverPort : clientPort, payload: [1, 2, 3])
    }

    func echo(_ harness: Harness, fromClient: Bool, reply: Bool, identifier: UInt16 = 77) -> [UInt8] {
        PacketBuilder(source: fromClient ? harness.client : harness.server,
                      destination: fromClient ? harness.server : harness.client)
            .icmpEcho(reply: reply, identifier: identifier, sequence: 1, payload: [0, 1, 2, 3])
    }

    /// An ICMP error from `router` to `to` quoting `quoted` (unreachable, or ICMPv6 packet too big).
    func icmpError(_ harness: Harness, to: IPAddress, quoting quoted: [UInt8]) -> [UInt8] {
        let router = to.isIPv4 ? IPAddress("192.0.2.254") : IPAddress("2001:db8::fe")
        let builder = PacketBuilder(source: router ?? to, destination: to)
        return to.isIPv4 ? builder.icmp(type: 3, code: 4, restOfHeader: 1400, body: Array(quoted.prefix(68)))
            : builder.icmp(type: 2, restOfHeader: 1280, body: Array(quoted.prefix(1000)))
    }

    @Test("UDP: request, reply, stream", arguments: families)
    func udpFlow(_ ipv6: Bool) {
        let harness = Harness(ipv6: ipv6)
        let first = harness.send(bytes: udp(harness, fromClient: true))
        #expect(first == TrackResult(verdict: .accept, state: .udpUnreplied, created: true))
        #expect(harness.send(bytes: udp(harness, fromClient: true)) == .accept(.udpUnreplied))
        #expect(harness.send(bytes: udp(harness, fromClient: false)) == .accept(.udpReplied))
        #expect(harness.send(bytes: udp(harness, fromClient: false)) == .accept(.udpReplied))
        #expect(harness.send(bytes: udp(harness, fromClient: true)) == .accept(.udpStream))
        #expect(harness.tracker.count == 1)
    }

    @Test("UDP: a reply passes only after an allowed request", arguments: families)
    func udpReplyNeedsRequest(_ ipv6: Bool) {
        let harness = Harness(ipv6: ipv6)
        // Rules: clients may send to port 53; nothing else starts a flow.
        var rules = AdmitIf { packet, _ in packet.destinationPort == 53 }
        let unsolicited = harness.send(bytes: udp(harness, fromClient: false), admission: &rules)
        #expect(unsolicited == TrackResult(verdict: .drop, reason: .policy))
        #expect(harness.tracker.count == 0)
        let request = harness.send(bytes: udp(harness, fromClient: true), admission: &rules)
        #expect(request?.created == true)
        let reply = harness.send(bytes: udp(harness, fromClient: false), admission: &rules)
        #expect(reply == .accept(.udpReplied))
        #expect(rules.asked == 2)
        let otherPort = harness.send(bytes: udp(harness, fromClient: false, clientPort: 5354), admission: &rules)
        #expect(otherPort?.reason == .policy)
    }

    @Test("UDP timeouts: 30 s unreplied or replied, 120 s stream")
    func udpTimeouts() {
        for (exchanges, seconds) in [(1, 30.0), (2, 30.0), (3, 120.0)] {
            let kept = Harness()
            let removed = Harness()
            for harness in [kept, removed] {
                for index in 0..<exchanges { _ = harness.send(bytes: udp(harness, fromClient: index % 2 == 0)) }
            }
            kept.advance(seconds - 1)
            removed.advance(seconds)
            #expect(kept.tracker.expire(now: kept.now) == 0, "\(exchanges) datagrams")
            #expect(removed.tracker.expire(now: removed.now) == 1, "\(exchanges) datagrams")
        }
    }

    @Test("ICMP echo by identifier", arguments: families)
    func echoFlow(_ ipv6: Bool) {
        let harness = Harness(ipv6: ipv6)
        let orphan = harness.send(bytes: echo(harness, fromClient: false, reply: true))
        #expect(orphan == .drop(.noConnection, .noconData))
        let request = harness.send(bytes: echo(harness, fromClient: true, reply: false))
        #expect(request == TrackResult(verdict: .accept, state: .icmpUnreplied, created: true))
        #expect(harness.send(bytes: echo(harness, fromClient: false, reply: true)) == .accept(.icmpReplied))
        let otherIdentifier = harness.send(bytes: echo(harness, fromClient: false, reply: true, identifier: 78))
        #expect(otherIdentifier == .drop(.noConnection, .noconData))
        let wrongWay = harness.send(bytes: echo(harness, fromClient: true, reply: true))
        #expect(wrongWay?.verdict == .drop)
        harness.advance(30)
        #expect(harness.send(bytes: echo(harness, fromClient: false, reply: true)) == .drop(.noConnection, .noconData))
    }

    @Test("ICMP errors are accepted only when they quote a tracked flow", arguments: families)
    func icmpErrors(_ ipv6: Bool) {
        let harness = Harness(ipv6: ipv6)
        harness.run(h + [c("PA", seq: 1001, ack: 5001, len: 100).ok(.established)])
        let sent = harness.bytes(c("PA", seq: 1101, ack: 5001, len: 100))
        // A router tells the client its packet did not fit.
        let related = harness.send(bytes: icmpError(harness, to: harness.client, quoting: sent))
        #expect(related == .accept(.established))
        // The same error sent to the server, which did not send the quoted packet.
        let misdirected = harness.send(bytes: icmpError(harness, to: harness.server, quoting: sent))
        #expect(misdirected == .drop(.icmpUnrelated, .icmpUnrelated))
        // Quoting a sequence number far outside the client's window.
        let blind = harness.bytes(c("PA", seq: 900_000_000, ack: 5001, len: 100))
        #expect(harness.send(bytes: icmpError(harness, to: harness.client, quoting: blind))?.reason == .icmpUnrelated)
        // Quoting a flow that is not tracked.
        harness.clientPort = 40_001
        let untracked = harness.bytes(c("PA", seq: 1101, ack: 5001, len: 100))
        #expect(harness.send(bytes: icmpError(harness, to: harness.client, quoting: untracked))?.reason == .icmpUnrelated)
        // Without the packet bytes the quote cannot be checked.
        let bytes = icmpError(harness, to: harness.client, quoting: sent)
        if let packet = bytes.withUnsafeBytes({ PacketDecoder.decode($0) }).packet {
            #expect(harness.tracker.track(packet, now: harness.now).reason == .icmpUnrelated)
        }
    }

    @Test("ICMP errors quoting UDP and echo flows", arguments: families)
    func icmpErrorsForDatagrams(_ ipv6: Bool) {
        let harness = Harness(ipv6: ipv6)
        let request = udp(harness, fromClient: true)
        _ = harness.send(bytes: request)
        #expect(harness.send(bytes: icmpError(harness, to: harness.client, quoting: request)) == .accept(.udpUnreplied))
        let ping = echo(harness, fromClient: true, reply: false)
        #expect(harness.send(bytes: icmpError(harness, to: harness.client, quoting: ping))?.reason == .icmpUnrelated)
        _ = harness.send(bytes: ping)
        #expect(harness.send(bytes: icmpError(harness, to: harness.client, quoting: ping)) == .accept(.icmpUnreplied))
    }

    @Test("other ICMP messages are not tracked; other protocols are (AccountingTests)")
    func untracked() {
        let harness = Harness(ipv6: true)
        let solicitation = PacketBuilder(source: harness.client, destination: harness.server)
            .icmp(type: 135, body: [UInt8](repeating: 0, count: 20))
        #expect(harness.send(bytes: solicitation) == TrackResult(verdict: .accept))
        #expect(harness.tracker.count == 0)
        let gre = PacketBuilder(source: harness.client, destination: harness.server).ip(protocolNumber: 47, transport: [0, 0, 8, 0])
        #expect(harness.send(bytes: gre) == TrackResult(verdict: .accept, state: .otherUnreplied, created: true))
        #expect(harness.tracker.count == 1)
    }
}
