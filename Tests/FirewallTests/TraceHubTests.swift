import Control
@testable import Firewall
import Testing
import Tracking
import Wire

@Suite struct TraceHubTests {
    let second: UInt64 = 1_000_000_000
    let start: UInt64 = 1_795_554_191_000_000_000

    func line(_ index: Int) -> TraceLine {
        TraceLine(timestamp: "2026-11-24T21:03:11.000000+0000", queue: 0, direction: "in", proto: "TCP",
                  sourceIP: "192.0.2.1", sourcePort: 40000 + index, destinationIP: "192.0.2.2", destinationPort: 22,
                  verdict: "accept", state: "ESTABLISHED")
    }

    @Test("one trace at a time; polls take the lines once; the rate and the buffer drop and count the rest")
    func boundsAndPolls() throws {
        let hub = TraceHub()
        #expect(!hub.isActive)
        let filter = try ConnectionFilter(port: 22).compiled()
        let started = try hub.start(filter: filter, rate: 5, now: start).get()
        #expect(hub.isActive)
        guard case .failure(let busy) = hub.start(filter: filter, rate: 5, now: start) else {
            Issue.record("a second trace started")
            return
        }
        #expect(busy.description.contains("another synwall trace is running"))
        let generation = hub.currentFilter().generation
        hub.deliver((0..<8).map(line), generation: generation, matched: 9, dropped: 1, now: start)
        let first = try hub.poll(id: started.session, now: start).get()
        #expect(first.lines.count == 5, "at most 5 a second")
        #expect(first.matched == 9 && first.dropped == 4, "1 the worker could not keep + 3 over the rate")
        #expect(try hub.poll(id: started.session, now: start).get().lines.isEmpty, "taken once")
        hub.deliver([line(9)], generation: generation, matched: 1, dropped: 0, now: start + second)
        #expect(try hub.poll(id: started.session, now: start + second).get().lines.count == 1, "a new second")
        // A worker's lines from an earlier trace are not mixed in.
        hub.deliver([line(10)], generation: generation - 1, matched: 1, dropped: 0, now: start + second)
        #expect(try hub.poll(id: started.session, now: start + second).get().matched == 10)
        let ended = try #require(hub.end(id: started.session))
        #expect(ended.session == started.session)
        #expect(!hub.isActive, "no trace: the workers stop looking")
        #expect(throws: TraceError.self) { try hub.poll(id: started.session, now: start).get() }
    }

    @Test("a trace nobody polls ends after its idle time")
    func idleTraceEnds() throws {
        let hub = TraceHub()
        let started = try hub.start(filter: try ConnectionFilter().compiled(), rate: 100, now: start).get()
        hub.expire(now: start + UInt64(TraceLimits.idleSeconds - 1) * second)
        #expect(hub.isActive)
        _ = try hub.poll(id: started.session, now: start + UInt64(TraceLimits.idleSeconds - 1) * second).get()
        hub.expire(now: start + UInt64(2 * TraceLimits.idleSeconds) * second)
        #expect(!hub.isActive)
        #expect(try hub.start(filter: try ConnectionFilter().compiled(), rate: 100,
                              now: start + 20 * second).get().session != started.session)
    }

    @Test("packets match a connection filter in either direction")
    func packetsMatchEitherWay() throws {
        let client = IPAddress("203.0.113.9")!, server = IPAddress("192.0.2.10")!
        let filter = try ConnectionFilter(src: "203.0.113.0/24", dport: 22).compiled()
        #expect(filter.matches(source: client, sourcePort: 40000, destination: server, destinationPort: 22, proto: 6,
                               state: .synSent))
        #expect(filter.matches(source: server, sourcePort: 22, destination: client, destinationPort: 40000, proto: 6,
                               state: .established), "the reply")
        #expect(!filter.matches(source: client, sourcePort: 40000, destination: server, destinationPort: 80, proto: 6,
                                state: nil))
        #expect(!filter.matches(source: client, sourcePort: nil, destination: server, destinationPort: nil, proto: 1,
                                state: nil), "no ports: a port filter does not match")
        let established = try ConnectionFilter(state: "established", proto: "tcp").compiled()
        #expect(!established.matches(source: client, sourcePort: 1, destination: server, destinationPort: 2, proto: 6,
                                     state: nil))
        #expect(established.matches(source: client, sourcePort: 1, destination: server, destinationPort: 2, proto: 6,
                                    state: .established))
        #expect(!established.isAddressFree)
        #expect(try ConnectionFilter().compiled().isAddressFree)
    }

    @Test("the text line says what happened and why")
    func textLine() {
        var dropped = line(0)
        dropped.verdict = "drop"
        dropped.reason = "bad_seq"
        dropped.detail = "seq_above_window"
        dropped.rule = TraceLine.Rule(file: "/etc/synwall/default.rules", line: 12, label: "ssh")
        dropped.tcp = TraceLine.TCP(flags: "A", seq: 5000, ack: 7, win: 512, seqMin: 100, seqMax: 200)
        #expect(dropped.text == "21:03:11.000000 q0 in TCP 192.0.2.1:40000 > 192.0.2.2:22 [A] seq 5000 ack 7 win 512 "
            + "-> drop bad_seq (seq_above_window) state ESTABLISHED rule default.rules:12 \"ssh\" seq window 100..200")
    }
}
