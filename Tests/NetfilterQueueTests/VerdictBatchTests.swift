@testable import NetfilterQueue
import Testing

/// Reads the messages of an encoded verdict datagram: (type, id, verdict) per message.
private func decodeVerdicts(_ bytes: UnsafeRawBufferPointer) -> [(type: UInt16, id: UInt32, verdict: UInt32, queue: UInt16)] {
    var out: [(UInt16, UInt32, UInt32, UInt16)] = []
    var offset = 0
    while offset + 16 <= bytes.count {
        let length = Int(bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        let type = bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt16.self)
        let queue = UInt16(bigEndian: bytes.loadUnaligned(fromByteOffset: offset + 18, as: UInt16.self))
        // attribute NFQA_VERDICT_HDR after nlmsghdr(16) + nfgenmsg(4): len(2) type(2) verdict(4) id(4)
        let attrType = bytes.loadUnaligned(fromByteOffset: offset + 22, as: UInt16.self)
        #expect(attrType == 2)
        let verdict = UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: offset + 24, as: UInt32.self))
        let id = UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: offset + 28, as: UInt32.self))
        out.append((type, id, verdict, queue))
        offset += (length + 3) & ~3
    }
    #expect(offset == bytes.count)
    return out
}

@Suite struct VerdictBatchTests {
    @Test func allAcceptedBecomesOneBatchVerdictForTheHighestID() {
        var batch = VerdictBatch(capacity: 8, queue: 7)
        for id: UInt32 in [10, 11, 12] { batch.record(id: id, verdict: .accept) }
        let messages = decodeVerdicts(batch.finish())
        #expect(messages.count == 1)
        #expect(messages[0].type == 0x0303)  // NFNL_SUBSYS_QUEUE << 8 | NFQNL_MSG_VERDICT_BATCH
        #expect(messages[0].id == 12)
        #expect(messages[0].verdict == 1)  // NF_ACCEPT
        #expect(messages[0].queue == 7)
    }

    @Test func dropsComeFirstThenTheBatchAccept() {
        var batch = VerdictBatch(capacity: 8, queue: 0)
        batch.record(id: 100, verdict: .accept)
        batch.record(id: 101, verdict: .drop)
        batch.record(id: 102, verdict: .accept)
        batch.record(id: 103, verdict: .drop)
        let messages = decodeVerdicts(batch.finish())
        #expect(messages.map(\.type) == [0x0301, 0x0301, 0x0303])
        #expect(messages.map(\.id) == [101, 103, 102])
        #expect(messages.map(\.verdict) == [0, 0, 1])
    }

    /// While a fragment's verdict is held (id 11), accepts after it are messages of their own
    /// and the closing batch covers only ids below it: a batch accept up to 12 would let the
    /// held packet through. Its verdict, given later, is a message of its own too.
    @Test func acceptsAfterAHeldPacketAreIndividualSoTheBatchNeverCoversIt() {
        var batch = VerdictBatch(capacity: 8, queue: 0)
        batch.record(id: 10, verdict: .accept)
        batch.record(id: 11, verdict: .held)
        batch.record(id: 12, verdict: .accept, individually: true)
        batch.record(id: 13, verdict: .drop, individually: true)
        let messages = decodeVerdicts(batch.finish())
        #expect(messages.map(\.type) == [0x0301, 0x0301, 0x0303])
        #expect(messages.map(\.id) == [12, 13, 10])
        #expect(messages.map(\.verdict) == [1, 0, 1])
        #expect(batch.recorded == 3, "the held packet has no verdict yet")
        batch.reset()
        batch.record(id: 11, verdict: .drop, individually: true)
        #expect(decodeVerdicts(batch.finish()).map(\.id) == [11])
    }

    /// Offload: a verdict that sends the packet through its hook again with a new mark is a
    /// message of its own (NF_REPEAT with NFQA_MARK), ahead of the batch accept.
    @Test func aMarkedRepeatIsItsOwnMessageWithTheMark() {
        var batch = VerdictBatch(capacity: 8, queue: 3)
        batch.record(id: 20, verdict: .accept)
        batch.record(id: 21, verdict: .repeatWithMark(0x0010_0007))
        batch.record(id: 22, verdict: .accept)
        let bytes = batch.finish()
        let messages = decodeVerdicts(bytes)
        #expect(messages.map(\.type) == [0x0301, 0x0303])
        #expect(messages.map(\.id) == [21, 22])
        #expect(messages[0].verdict == 4)  // NF_REPEAT
        // The mark attribute follows the verdict header: len 8, type NFQA_MARK (3), big-endian value.
        #expect(bytes.loadUnaligned(fromByteOffset: 32, as: UInt16.self) == 8)
        #expect(bytes.loadUnaligned(fromByteOffset: 34, as: UInt16.self) == 3)
        #expect(UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: 36, as: UInt32.self)) == 0x0010_0007)
    }

    @Test func onlyDropsSendsNoBatch() {
        var batch = VerdictBatch(capacity: 8, queue: 0)
        batch.record(id: 5, verdict: .drop)
        let messages = decodeVerdicts(batch.finish())
        #expect(messages.count == 1)
        #expect(messages[0].type == 0x0301)
    }

    @Test func highestIDWrapsModulo2To32() {
        var batch = VerdictBatch(capacity: 8, queue: 0)
        batch.record(id: 0xFFFF_FFFE, verdict: .accept)
        batch.record(id: 0xFFFF_FFFF, verdict: .accept)
        batch.record(id: 1, verdict: .accept)
        let messages = decodeVerdicts(batch.finish())
        #expect(messages.map(\.id) == [1])
    }

    @Test func resetStartsAnEmptyRound() {
        var batch = VerdictBatch(capacity: 4, queue: 0)
        batch.record(id: 1, verdict: .accept)
        _ = batch.finish()
        batch.reset()
        #expect(batch.finish().count == 0)
    }

    @Test func needsFlushBeforeOverflowing() {
        var batch = VerdictBatch(capacity: 3, queue: 0)
        var flushed = 0
        for id: UInt32 in 1 ... 20 {
            batch.record(id: id, verdict: .drop)
            if batch.needsFlush {
                flushed += decodeVerdicts(batch.pendingDrops()).count
                batch.clearDrops()
            }
        }
        flushed += decodeVerdicts(batch.finish()).count
        #expect(flushed == 20)
    }
}

@Suite struct QueueStatisticsTests {
    @Test func addSumsEveryCounter() {
        var a = QueueStatistics()
        a.received = 3; a.enobufs = 1; a.lastVerdictErrno = 2
        var b = QueueStatistics()
        b.received = 4; b.accepted = 4; b.receiveErrors = 2; b.rounds = 5
        a.add(b)
        #expect(a.received == 7)
        #expect(a.accepted == 4)
        #expect(a.enobufs == 1)
        #expect(a.receiveErrors == 2)
        #expect(a.rounds == 5)
        #expect(a.lastVerdictErrno == 2)
    }
}
