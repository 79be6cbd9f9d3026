@testable import NetfilterQueue
import Testing
import TestSupport

/// Builds an NFQNL_MSG_PACKET netlink message the way the kernel lays it out.
private func packetMessage(id: UInt32, payload: [UInt8], capLen: UInt32? = nil, skbInfo: UInt32? = nil,
                           mark: UInt32? = nil) -> [UInt8]
{
    var attributes: [UInt8] = []
    func attribute(_ type: UInt16, _ value: [UInt8]) {
        let length = UInt16(4 + value.count)
        attributes += withUnsafeBytes(of: length.littleEndian, Array.init)
        attributes += withUnsafeBytes(of: type.littleEndian, Array.init)
        attributes += value
        while attributes.count % 4 != 0 { attributes.append(0) }
    }
    func be32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.bigEndian, Array.init) }
    attribute(1, be32(id) + [0x08, 0x00, 3])  // NFQA_PACKET_HDR: id, ETH_P_IP, hook 3
    if let mark { attribute(3, be32(mark)) }
    if let capLen { attribute(13, be32(capLen)) }  // NFQA_CAP_LEN
    if let skbInfo { attribute(14, be32(skbInfo)) }  // NFQA_SKB_INFO
    attribute(10, payload)  // NFQA_PAYLOAD
    var message: [UInt8] = []
    let total = UInt32(16 + 4 + attributes.count)
    message += withUnsafeBytes(of: total.littleEndian, Array.init)
    message += withUnsafeBytes(of: UInt16(0x0300).littleEndian, Array.init)  // QUEUE << 8 | PACKET
    message += [0, 0] + [0, 0, 0, 0] + [0, 0, 0, 0]
    message += [2, 0, 0, 5]  // nfgenmsg: AF_INET, version 0, res_id 5 (be16)
    return message + attributes
}

@Suite struct NetlinkDatagramTests {
    @Test func parsesAPacketMessage() {
        let bytes = packetMessage(id: 0x0102_0304, payload: [0x45, 0, 0, 20], capLen: 1500, skbInfo: 0b101, mark: 9)
        var packets: [QueuedPacket] = []
        var payloads: [[UInt8]] = []
        let complete = bytes.withUnsafeBytes { raw in
            NetlinkDatagram.forEachMessage(in: raw) { message in
                if case .packet(let p) = message {
                    packets.append(p)
                    payloads.append(Array(p.payload))
                }
            }
        }
        #expect(complete)
        #expect(packets.count == 1)
        #expect(packets[0].id == 0x0102_0304)
        #expect(packets[0].hardwareProtocol == 0x0800)
        #expect(packets[0].hook == 3)
        #expect(packets[0].originalLength == 1500)
        #expect(packets[0].skbInfo == [.checksumNotReady, .checksumNotVerified])
        #expect(packets[0].mark == 9)
        #expect(payloads[0] == [0x45, 0, 0, 20])
    }

    @Test func parsesSeveralMessagesInOneDatagram() {
        let bytes = packetMessage(id: 1, payload: [1, 2, 3]) + packetMessage(id: 2, payload: [4])
        var ids: [UInt32] = []
        bytes.withUnsafeBytes { raw in
            NetlinkDatagram.forEachMessage(in: raw) { if case .packet(let p) = $0 { ids.append(p.id) } }
        }
        #expect(ids == [1, 2])
    }

    @Test func errorMessagesCarryTheirCodeAndSequence() {
        var bytes: [UInt8] = []
        bytes += withUnsafeBytes(of: UInt32(36).littleEndian, Array.init)
        bytes += withUnsafeBytes(of: UInt16(2).littleEndian, Array.init)  // NLMSG_ERROR
        bytes += [0, 0] + withUnsafeBytes(of: UInt32(77).littleEndian, Array.init) + [0, 0, 0, 0]
        bytes += withUnsafeBytes(of: Int32(-2).littleEndian, Array.init)  // -ENOENT
        bytes += [UInt8](repeating: 0, count: 16)
        var seen: [(Int32, UInt32)] = []
        bytes.withUnsafeBytes { raw in
            NetlinkDatagram.forEachMessage(in: raw) { if case let .error(code, seq) = $0 { seen.append((code, seq)) } }
        }
        #expect(seen.count == 1)
        #expect(seen.first?.0 == -2)
        #expect(seen.first?.1 == 77)
    }

    @Test func truncatedOrGarbageInputNeverTraps() {
        let good = packetMessage(id: 42, payload: Array(repeating: 0xAB, count: 60))
        var rng = SplitMix64(seed: 0x9E37_79B9_7F4A_7C15)
        func next() -> UInt64 { rng.next() }
        for cut in 0 ... good.count {
            let prefix = Array(good.prefix(cut))
            prefix.withUnsafeBytes { raw in NetlinkDatagram.forEachMessage(in: raw) { _ in } }
        }
        var parsed = 0
        for _ in 0 ..< 20000 {
            var mutated = good
            for _ in 0 ..< 1 + Int(next() % 4) {
                mutated[Int(next() % UInt64(mutated.count))] = UInt8(truncatingIfNeeded: next())
            }
            mutated.withUnsafeBytes { raw in
                NetlinkDatagram.forEachMessage(in: raw) { message in
                    if case .packet(let p) = message {
                        #expect(p.payload.count <= raw.count)
                        parsed += 1
                    }
                }
            }
        }
        #expect(parsed > 0)
    }
}

@Suite struct KernelQueueStatusTests {
    @Test func parsesProcLines() {
        let text = """
            0  12345     3 2   512     7     9      881  1
            5 4294967 0 2 65531 0 0 0 1
        garbage line
        """
        let rows = KernelQueueStatus.parse(text)
        #expect(rows.count == 2)
        #expect(rows[0] == KernelQueueStatus(queue: 0, portID: 12345, waiting: 3, copyMode: 2, copyRange: 512,
                                             queueDropped: 7, userDropped: 9, lastID: 881))
        #expect(rows[1].queue == 5)
        #expect(rows[1].copyRange == 65531)
    }
}
