import Testing
@testable import Tracking
import Wire

/// Table limits and flood protection (docs/tracking.md, "Floods and room"; scenario 80): eviction order, the
/// half-open caps, the per-source SYN rate, and SYN floods that must not touch established
/// connections.
@Suite("Floods and table limits")
struct FloodTests {
    func configuration(maxStates: Int, maxHalfOpen: Int = 250_000, perSource: Int = 0,
                       rate: SYNRateLimit = .unlimited) -> TrackerConfiguration {
        TrackerConfiguration(maxStates: maxStates, maxHalfOpen: maxHalfOpen, maxHalfOpenPerSource: perSource,
                             synRatePerSource: rate, sourceTableCapacity: 1024, hashSeed: 9)
    }

    func ports(_ harness: Harness, state: ConnectionState) -> Set<UInt16> {
        Set(harness.tracker.snapshot().filter { $0.state == state }.map(\.initiatorPort))
    }

    @Test("a full table evicts CLOSE, then TIME_WAIT, then closing, then the oldest half-open; never ESTABLISHED")
    func evictionOrder() {
        let harness = Harness(configuration(maxStates: 8))
        let setUps: [(UInt16, [Step])] = [
            (1, h + [c("R", seq: 1001).ok(.close)]),
            (2, ResetAndSynTests.closed),
            (3, h + [c("FA", seq: 1001, ack: 5001).ok(.finWait)]),
            (4, [c("S", seq: 1000).ok(.synSent)]),
            (5, h2),
            (6, h), (7, h), (8, h),
        ]
        for (port, steps) in setUps {
            harness.clientPort = port
            harness.run(steps)
            harness.advance(1)
        }
        #expect(harness.tracker.count == 8)
        let expectations: [(UInt16, () -> Bool)] = [
            (100, { harness.tracker.statistics.evictedClose == 1 }),
            (101, { harness.tracker.statistics.evictedTimeWait == 1 }),
            (102, { harness.tracker.statistics.evictedClosing == 1 }),
            (103, { harness.tracker.statistics.evictedHalfOpen == 1 && !self.ports(harness, state: .synSent).contains(4) }),
            (104, { harness.tracker.statistics.evictedHalfOpen == 2 && self.ports(harness, state: .synRecv).isEmpty }),
            (105, { harness.tracker.statistics.evictedHalfOpen == 3 && !self.ports(harness, state: .synSent).contains(100) }),
        ]
        for (port, condition) in expectations {
            harness.clientPort = port
            let result = harness.send(c("S", seq: 1))
            #expect(result?.created == true, "SYN from port \(port)")
            #expect(condition(), "after the SYN from port \(port)")
            #expect(harness.tracker.count == 8)
        }
        #expect(ports(harness, state: .established) == [6, 7, 8])
        #expect(harness.tracker.statistics.evicted == 6)
        // The established connections still work.
        harness.clientPort = 6
        harness.run([c("PA", seq: 1001, ack: 5001, len: 10).ok(.established)])
    }

    @Test("a table full of established connections refuses a SYN as table_full")
    func fullOfEstablished() {
        let harness = Harness(configuration(maxStates: 3))
        for port: UInt16 in 1...3 {
            harness.clientPort = port
            harness.run(h)
        }
        harness.clientPort = 4
        harness.run([c("S", seq: 1).drop(.tableFull, .tableFull)])
        #expect(harness.tracker.statistics.rejectedTableFull == 1)
        // New UDP flows are refused too, and nothing established was evicted.
        let datagram = PacketBuilder(source: harness.client, destination: harness.server).udp(sourcePort: 9, destinationPort: 9)
        #expect(harness.send(bytes: datagram) == .drop(.tableFull, .tableFull))
        #expect(ports(harness, state: .established) == [1, 2, 3])
    }

    @Test("per-source SYN rate limit")
    func rateLimit() {
        let harness = Harness(configuration(maxStates: 1024, rate: SYNRateLimit(perSecond: 10, burst: 20)))
        var accepted = 0
        for port in 0..<30 {
            harness.clientPort = UInt16(1_000 + port)
            let result = harness.send(c("S", seq: 1))
            if result?.verdict == .accept { accepted += 1 } else {
                #expect(result == .drop(.rateLimited, .synRate))
            }
        }
        #expect(accepted == 20)
        harness.advance(1)
        accepted = 0
        for port in 0..<15 {
            harness.clientPort = UInt16(2_000 + port)
            if harness.send(c("S", seq: 1))?.verdict == .accept { accepted += 1 }
        }
        #expect(accepted == 10)
        // Another source has its own bucket; retransmitted SYNs of a tracked connection take no token.
        harness.clientPort = 1_000
        harness.run([c("S", seq: 1).ok(.synSent)])
        harness.client = IPAddress(ipv4: 0xC000_0209)
        harness.run([c("S", seq: 1).ok(.synSent)])
        #expect(harness.tracker.statistics.rejectedRateLimited == 15)
    }

    @Test("per-source and overall half-open caps")
    func halfOpenCaps() {
        let perSource = Harness(configuration(maxStates: 1024, perSource: 5))
        for port: UInt16 in 1...5 {
            perSource.clientPort = port
            perSource.run([c("S", seq: 1000).ok(.synSent)])
        }
        perSource.clientPort = 6
        perSource.run([c("S", seq: 1000).drop(.rateLimited, .halfOpenCap)])
        // Completing one handshake frees a place; so does a refusal.
        perSource.clientPort = 1
        perSource.run([s("SA", seq: 5000, ack: 1001).ok(.synRecv), c("A", seq: 1001, ack: 5001).ok(.established)])
        perSource.clientPort = 2
        perSource.run([s("RA", seq: 0, ack: 1001).ok(.close)])
        for port: UInt16 in 6...7 {
            perSource.clientPort = port
            perSource.run([c("S", seq: 1000).ok(.synSent)])
        }
        perSource.clientPort = 8
        perSource.run([c("S", seq: 1000).drop(.rateLimited, .halfOpenCap)])
        #expect(perSource.tracker.halfOpenCount == 5)

        let overall = Harness(configuration(maxStates: 1024, maxHalfOpen: 3))
        for index: UInt32 in 0..<3 {
            overall.client = IPAddress(ipv4: 0x0A00_0000 + index)
            overall.run([c("S", seq: 1000).ok(.synSent)])
        }
        overall.client = IPAddress(ipv4: 0x0A00_0100)
        overall.run([c("S", seq: 1000).drop(.tableFull, .halfOpenCap)])
        #expect(overall.tracker.statistics.rejectedHalfOpenCap == 1)
    }

    @Test("over the overall half-open cap a proven source (a handshake completed) replaces the oldest half-open; others are refused; the memory lapses")
    func provenSourceOverCap() {
        let harness = Harness(TrackerConfiguration(maxStates: 1024, maxHalfOpen: 3, maxHalfOpenPerSource: 0,
                                                   synRatePerSource: .unlimited, sourceTableCapacity: 16,
                                                   provenSourceMemorySeconds: 3_600, hashSeed: 11))
        let known = IPAddress(ipv4: 0xC633_6401)
        harness.client = known
        harness.clientPort = 1
        harness.run(h)
        var spoofed: UInt32 = 0x0A00_0000
        func fillCap() {
            while harness.tracker.halfOpenCount < 3 {
                spoofed += 1
                harness.client = IPAddress(ipv4: spoofed)
                harness.run([c("S", seq: 1000).ok(.synSent)])
                harness.advance(0.001)
            }
        }
        fillCap()
        let oldest = IPAddress(ipv4: 0x0A00_0001)
        harness.client = IPAddress(ipv4: 0x0B00_0001)
        harness.run([c("S", seq: 1000).drop(.tableFull, .halfOpenCap)])

        // The known client's new connection takes the oldest half-open's place and completes.
        harness.client = known
        harness.clientPort = 2
        harness.run(h2)
        #expect(harness.tracker.statistics.provenOverHalfOpenCap == 1)
        #expect(harness.tracker.statistics.evictedHalfOpen == 1)
        #expect(!harness.tracker.snapshot().contains { $0.initiatorAddress == oldest }, "the oldest SYN was evicted")
        harness.run([c("A", seq: 1001, ack: 5001).ok(.established)])

        // Waves of spoofed sources pass through the 16-slot source table (their handshakes time
        // out); they cannot push the proven source out of it.
        for _ in 0..<12 {
            fillCap()
            harness.advance(121)
            _ = harness.tracker.expire(now: harness.now)
        }
        fillCap()
        harness.client = known
        harness.clientPort = 3
        harness.run([c("S", seq: 1000).ok(.synSent)])
        #expect(harness.tracker.statistics.provenOverHalfOpenCap == 2)
        #expect(spoofed - 0x0A00_0000 > 16 * 2, "more spoofed sources than the source table has slots")

        // An hour without a completed handshake: no longer proven, refused like anyone else.
        harness.advance(3_601)
        _ = harness.tracker.expire(now: harness.now)
        fillCap()
        harness.clientPort = 4
        harness.run([c("S", seq: 1000).drop(.tableFull, .halfOpenCap)])

        // 0 turns it off.
        let off = Harness(TrackerConfiguration(maxStates: 1024, maxHalfOpen: 1, maxHalfOpenPerSource: 0,
                                               synRatePerSource: .unlimited, provenSourceMemorySeconds: 0, hashSeed: 11))
        off.client = known
        off.clientPort = 1
        off.run(h)
        off.client = IPAddress(ipv4: 0x0A00_0001)
        off.run([c("S", seq: 1000).ok(.synSent)])
        off.client = known
        off.clientPort = 2
        off.run([c("S", seq: 1000).drop(.tableFull, .halfOpenCap)])
    }

    /// Scenario 80: SYNs from 10,000 spoofed sources while 50 connections transfer data.
    @Test("a SYN flood from 10,000 spoofed sources never evicts or blocks established connections",
          arguments: [250_000, 512])
    func synFlood(maxHalfOpen: Int) {
        let harness = Harness(TrackerConfiguration(maxStates: 1024, maxHalfOpen: maxHalfOpen, maxHalfOpenPerSource: 4,
                                                   synRatePerSource: SYNRateLimit(perSecond: 5, burst: 5),
                                                   sourceTableCapacity: 4096, hashSeed: 3))
        // Fifty clients (each its own address, as the per-source limits expect).
        func client(_ number: Int) -> IPAddress { IPAddress(ipv4: 0xC633_6400 + UInt32(number)) }
        for port in 0..<50 {
            harness.client = client(port)
            harness.clientPort = UInt16(30_000 + port)
            harness.run(h)
        }
        var clientSeq = [UInt32](repeating: 1001, count: 50)
        var floodAccepted = 0
        var floodRefused: [DropReason: Int] = [:]
        let server = harness.server
        for index in 0..<10_000 {
            let spoofed = IPAddress(ipv4: 0x0A00_0000 &+ UInt32(index) &* 2_654_435_761 >> 8)
            let syn = PacketBuilder(source: spoofed, destination: server)
                .tcp(sourcePort: UInt16(1_024 + index % 60_000), destinationPort: 80, sequence: UInt32(index), flags: .syn)
            guard let result = harness.send(bytes: syn) else { continue }
            if result.verdict == .accept { floodAccepted += 1 } else { floodRefused[result.reason ?? .policy, default: 0] += 1 }
            if index % 500 == 499 {
                for port in 0..<50 {
                    harness.client = client(port)
                    harness.clientPort = UInt16(30_000 + port)
                    harness.run([
                        c("PA", seq: clientSeq[port], ack: 5001, len: 100).ok(.established),
                        s("A", seq: 5001, ack: clientSeq[port] &+ 100).ok(.established),
                    ])
                    clientSeq[port] &+= 100
                }
                harness.advance(0.01)
            }
        }
        let established = harness.tracker.snapshot().filter { $0.state == .established }
        #expect(established.count == 50)
        #expect(harness.tracker.count <= 1024)
        if maxHalfOpen == 512 {
            #expect(floodAccepted == 512)
            #expect(floodRefused[.tableFull] == 10_000 - 512)
        } else {
            #expect(floodAccepted == 10_000)
            #expect(harness.tracker.statistics.evictedHalfOpen == UInt64(10_000 - (1024 - 50)))
        }
        #expect(harness.tracker.halfOpenCount == min(maxHalfOpen, 1024 - 50))
    }

    @Test("a source table with no room holds new sources only to the overall caps")
    func sourceTableFull() {
        let harness = Harness(TrackerConfiguration(maxStates: 4096, maxHalfOpen: 250_000, maxHalfOpenPerSource: 1,
                                                   synRatePerSource: .unlimited, sourceTableCapacity: 16, hashSeed: 5))
        var accepted = 0
        for index: UInt32 in 0..<100 {
            harness.client = IPAddress(ipv4: 0x0B00_0000 + index)
            if harness.send(c("S", seq: 1))?.verdict == .accept { accepted += 1 }
        }
        #expect(accepted == 100)
        #expect(harness.tracker.halfOpenCount == 100)
        harness.advance(121)
        #expect(harness.tracker.expire(now: harness.now) == 100)
        #expect(harness.tracker.halfOpenCount == 0)
    }
}
