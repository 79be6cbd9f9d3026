import Testing
@testable import Tracking
import Wire

/// A harness whose tracker offloads after `after` packets each way.
private func offloading(_ family: Family, after: UInt32 = 3) -> Harness {
    var configuration = testConfiguration()
    configuration.offloadAfter = after
    return Harness(configuration, ipv6: family.ipv6, clientHigh: family.clientHigh)
}

/// Sends `step` marked (or not) as found INVALID by the kernel.
private func send(_ harness: Harness, _ step: Step, kernelInvalid: Bool = false) -> TrackResult? {
    harness.advance(step.after)
    let bytes = harness.bytes(step)
    guard let packet = bytes.withUnsafeBytes({ PacketDecoder.decode($0) }).packet else { return nil }
    var admission = AdmitAll()
    let time = harness.now
    return bytes.withUnsafeBytes {
        harness.tracker.track(packet, bytes: $0, now: time, admission: &admission, kernelInvalid: kernelInvalid)
    }
}

@Suite("Offload: when a connection's plain segments may pass in the kernel (docs/offload.md)")
struct OffloadTests {
    @Test("after N packets each way with no anomaly the next ACK starts the offload; a FIN ends it", arguments: Family.all)
    func startsAndEnds(family: Family) {
        let harness = offloading(family)
        // Handshake: client 2 packets, server 1. Then data both ways.
        harness.run(h + [c("PA", seq: 1001, ack: 5001, len: 100).ok(.established),
                         s("A", seq: 5001, ack: 1101).ok(.established),
                         s("PA", seq: 5001, ack: 1101, len: 50).ok(.established)])
        // The client has 3 packets, the server 3: the next plain segment offloads.
        let start = send(harness, c("A", seq: 1101, ack: 5051))
        #expect(start?.offload == .start)
        #expect(send(harness, s("A", seq: 5051, ack: 1101))?.offload == nil, "once")
        // Meanwhile the kernel passed 1 MB of the client's data and its ACKs: synwall's windows
        // are behind. A FIN far ahead is learned again, accepted, and ends the offload.
        let fin = send(harness, c("FA", seq: 1_001_101, ack: 5051))
        #expect(fin?.verdict == .accept)
        #expect(fin?.offload == .end)
        #expect(harness.tracker.statistics.offloaded == 1)
        #expect(harness.tracker.statistics.offloadEnded == 1)
        // From now on everything is checked as before: the server's ACK of the FIN passes, data
        // far beyond the window does not.
        #expect(send(harness, s("A", seq: 5051, ack: 1_001_102))?.verdict == .accept)
        #expect(send(harness, s("PA", seq: 9_000_000, ack: 1_001_102, len: 10))?.reason == .badSeq)
    }

    @Test("a segment the kernel found INVALID is dropped on an offloaded connection only", arguments: Family.all)
    func kernelInvalid(family: Family) {
        let harness = offloading(family, after: 2)
        harness.run(h + [s("A", seq: 5001, ack: 1001).ok(.established)])
        let invalidBefore = send(harness, c("A", seq: 1001, ack: 5001), kernelInvalid: true)
        #expect(invalidBefore?.verdict == .accept, "not offloaded: synwall's own checks decide")
        #expect(invalidBefore?.offload == .start)
        let invalid = send(harness, c("PA", seq: 9_000_000, ack: 5001, len: 100), kernelInvalid: true)
        #expect(invalid?.verdict == .drop)
        #expect(invalid?.reason == .badSeq)
        #expect(invalid?.event == .kernelInvalid)
        #expect(harness.tracker.statistics.offloadKernelInvalid == 1)
    }

    @Test("an anomaly rules a connection out; so does a drop", arguments: Family.all)
    func anomalyRulesOut(family: Family) {
        let harness = offloading(family, after: 2)
        harness.run(h)
        // A RST inside the window but not exact passes (it only shortens the timeout) and is an
        // anomaly: this connection is never offloaded.
        let odd = send(harness, c("R", seq: 1050))
        #expect(odd?.verdict == .accept)
        #expect(odd?.event == .rstInWindowInexact)
        for n in 0 ..< 5 {
            #expect(send(harness, c("A", seq: 1001, ack: 5001))?.offload == nil, "\(n)")
            #expect(send(harness, s("A", seq: 5001, ack: 1001))?.offload == nil, "\(n)")
        }
        let dropped = offloading(family, after: 2)
        dropped.run(h + [s("A", seq: 5001, ack: 1001).ok(.established),
                         c("PA", seq: 9_000_000, ack: 5001, len: 10).drop(.badSeq, .seqAboveWindow)])
        for n in 0 ..< 5 {
            #expect(send(dropped, c("A", seq: 1001, ack: 5001))?.offload == nil, "\(n)")
        }
    }

    @Test("offload is off by default")
    func offByDefault() {
        let harness = Harness()
        harness.run(h)
        for _ in 0 ..< 50 {
            #expect(send(harness, c("A", seq: 1001, ack: 5001))?.offload == nil)
            #expect(send(harness, s("A", seq: 5001, ack: 1001))?.offload == nil)
        }
    }
}

@Suite("Offload across a restart")
struct OffloadRestartTests {
    @Test("a restored connection comes back not offloaded and is never offloaded again; its windows are learned from its next segments")
    func restoredConnectionsAreFollowedPacketByPacket() {
        var configuration = testConfiguration()
        configuration.offloadAfter = 2
        let before = Harness(configuration)
        before.run(h + [s("A", seq: 5001, ack: 1001).ok(.established)])
        #expect(send(before, c("A", seq: 1001, ack: 5001))?.offload == .start)
        var buffer: [UInt8] = []
        let reference = UInt32(before.now / 1_000_000_000)
        _ = before.tracker.saveConnections(now: before.now, referenceSeconds: reference, queue: 0, into: &buffer)
        let after = Harness(configuration)
        after.now = before.now
        let counts = buffer.withUnsafeBytes { after.tracker.restoreConnections($0, now: after.now, elapsedSeconds: 0) }
        #expect(counts.restored == 1 && counts.wereOffloaded == 1)
        // The start deleted its marked kernel connection, so everything comes to synwall again.
        // The kernel passed 2 MB meanwhile: the client's next segment is learned again
        // (resumed), and no segment offloads it any more, however many pass.
        #expect(send(after, c("A", seq: 2_001_001, ack: 5001))?.verdict == .accept)
        #expect(send(after, s("A", seq: 5001, ack: 2_001_001))?.verdict == .accept)
        for step in 0..<5 {
            let data = send(after, c("PA", seq: 2_001_001 + UInt32(step * 10), ack: 5001, len: 10))
            #expect(data?.verdict == .accept && data?.offload == nil)
            #expect(send(after, s("A", seq: 5001, ack: 2_001_011 + UInt32(step * 10)))?.offload == nil)
        }
        #expect(after.tracker.statistics.offloaded == 0)
        // Checked packet by packet: a FIN is a plain close, data far beyond the window is refused.
        #expect(send(after, s("PA", seq: 9_000_000, ack: 2_001_051, len: 10))?.reason == .badSeq)
        let fin = send(after, c("FA", seq: 2_001_051, ack: 5001))
        #expect(fin?.verdict == .accept && fin?.offload == nil)
    }
}
