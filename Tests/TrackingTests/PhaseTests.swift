import Testing
@testable import Tracking
import Wire

/// An admission whose ruling is a number the test can recognise when it comes back.
private struct NumberedAdmission: Admission {
    struct Ruling: AdmissionRuling {
        var number: Int
        var admittedOrigin: FlowOrigin?
    }

    var next = 0
    var admits = true

    mutating func admit(_ packet: Packet, key: FlowKey) -> Ruling {
        next += 1
        return Ruling(number: next, admittedOrigin: admits ? FlowOrigin(ruleIndex: UInt32(next)) : nil)
    }
}

/// The values the tracker's phases hand over: the admission's ruling comes back with the
/// result, and a window check's bounds ride in the result itself.
@Suite("values between the tracker's phases")
struct PhaseTests {
    private func track(_ harness: Harness, _ step: Step,
                       _ admission: inout NumberedAdmission) -> (result: TrackResult, ruling: NumberedAdmission.Ruling?)? {
        harness.advance(step.after)
        let bytes = harness.bytes(step)
        guard let packet = bytes.withUnsafeBytes({ PacketDecoder.decode($0, originalLength: nil) }).packet else {
            Issue.record("test packet does not decode")
            return nil
        }
        let now = harness.now
        return bytes.withUnsafeBytes {
            harness.tracker.trackWithRuling(packet, bytes: $0, now: now, admission: &admission)
        }
    }

    @Test("the ruling of the packet that asked comes back with its result; other packets bring none")
    func rulingComesBack() throws {
        let harness = Harness()
        var admission = NumberedAdmission()
        let syn = try #require(track(harness, c("S", seq: 1000), &admission))
        #expect(syn.result.verdict == .accept && syn.result.created)
        #expect(syn.ruling?.number == 1)
        let synAck = try #require(track(harness, s("SA", seq: 5000, ack: 1001), &admission))
        #expect(synAck.result.state == .synRecv)
        #expect(synAck.ruling == nil, "a packet of a known flow asks no one")
        #expect(admission.next == 1)
        #expect(harness.onlyConnection?.ruleIndex == 1, "the ruling's origin is kept with the flow")
    }

    @Test("a refusing ruling comes back too, with the policy drop")
    func refusalComesBack() throws {
        let harness = Harness()
        var admission = NumberedAdmission(admits: false)
        let syn = try #require(track(harness, c("S", seq: 1000), &admission))
        #expect(syn.result == TrackResult(verdict: .drop, reason: .policy))
        #expect(syn.ruling?.number == 1)
        #expect(harness.tracker.count == 0)
    }

    @Test("a window drop carries the ranges it failed; the next packet's result carries none")
    func boundsRideInTheResult() throws {
        let harness = Harness()
        harness.run(h)
        var admission = NumberedAdmission()
        let far = try #require(track(harness, c("PA", seq: 1001 + 50_000_000, ack: 5001, len: 3), &admission))
        #expect(far.result.reason == .badSeq)
        let bounds = try #require(far.result.windowBounds)
        #expect(bounds.seqUpper == 1001 + 65535, "the server's ack plus its window")
        #expect(bounds.ackUpper == 5001, "the server sent up to 5001")
        let fine = try #require(track(harness, c("A", seq: 1001, ack: 5001), &admission))
        #expect(fine.result.verdict == .accept)
        #expect(fine.result.windowBounds == nil)
        let badReset = try #require(track(harness, c("R", seq: 1001 + 50_000_000), &admission))
        #expect(badReset.result.reason == .rstInvalid)
        #expect(badReset.result.windowBounds?.seqLower == 1001, "a RST's range starts at the peer's highest ack")
    }
}
