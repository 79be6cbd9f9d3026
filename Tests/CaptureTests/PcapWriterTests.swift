import Capture
import Testing

@Suite struct PcapWriterTests {
    /// A 20-byte IPv4 header (no payload) from 10.0.0.1 to 10.0.0.2 claiming `totalLength`.
    private func ipv4Header(totalLength: Int = 20) -> [UInt8] {
        [0x45, 0, UInt8(totalLength >> 8), UInt8(totalLength & 0xFF), 0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]
    }

    /// A 40-byte IPv6 header with no payload.
    private let ipv6Header: [UInt8] = [0x60, 0, 0, 0, 0, 0, 59, 64] + [UInt8](repeating: 0, count: 15) + [1]
        + [UInt8](repeating: 0, count: 15) + [2]

    @Test func rawIPRoundTripKeepsNanosecondsAndLengths() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("raw.pcap")
        let writer = try PcapWriter(path: path)
        #expect(writer.linkType == .rawIP)
        writer.write(ipv4Header(), timestampNanoseconds: 1_732_482_191_482_113_999)
        writer.write(ipv6Header, timestampNanoseconds: 7)
        writer.write(ipv4Header(totalLength: 1500), timestampNanoseconds: 2_000_000_000, originalLength: 1500)
        writer.write([0x00, 0x11], timestampNanoseconds: 3)  // version nibble 0: not IP
        try writer.close()
        writer.write(ipv6Header, timestampNanoseconds: 9)  // ignored after close

        let reader = try PcapReader(path: path)
        #expect(reader.linkTypeName == "RAW")
        let packets = try readAll(reader)
        #expect(packets == [
            ReadPacket(index: 1, timestamp: 1_732_482_191_482_113_999, bytes: ipv4Header(), originalLength: 20),
            ReadPacket(index: 2, timestamp: 7, bytes: ipv6Header, originalLength: 40),
            ReadPacket(index: 3, timestamp: 2_000_000_000, bytes: ipv4Header(totalLength: 1500), originalLength: 1500),
        ])
        #expect(reader.skippedFrames == 1)
    }

    @Test func ethernetFramesWithTagsAndRuntsAreHandled() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("eth.pcap")
        let macs = [UInt8](repeating: 0xAA, count: 6) + [UInt8](repeating: 0xBB, count: 6)
        let writer = try PcapWriter(path: path, linkType: .ethernet)
        writer.write(macs + [0x08, 0x00] + ipv4Header(), timestampNanoseconds: 1)
        // 802.1ad, 802.1Q, then IPv6.
        writer.write(macs + [0x88, 0xA8, 0x00, 0x64, 0x81, 0x00, 0x00, 0x2A, 0x86, 0xDD] + ipv6Header, timestampNanoseconds: 2)
        writer.write(Array(macs.prefix(10)), timestampNanoseconds: 3)  // runt: shorter than its header
        writer.write(macs + [0x81, 0x00, 0x00], timestampNanoseconds: 4)  // VLAN tag cut short
        writer.write(macs + [0x05, 0xDC] + [0xAA, 0xAA, 0x03], timestampNanoseconds: 5)  // 802.3 length + LLC
        writer.write(macs + [0x08, 0x00], timestampNanoseconds: 6)  // IPv4 EtherType, no header: handed on empty
        try writer.close()

        let reader = try PcapReader(path: path)
        let packets = try readAll(reader)
        #expect(packets == [
            ReadPacket(index: 1, timestamp: 1, bytes: ipv4Header(), originalLength: 20),
            ReadPacket(index: 2, timestamp: 2, bytes: ipv6Header, originalLength: 40),
            ReadPacket(index: 6, timestamp: 6, bytes: [], originalLength: 0),
        ])
        #expect(reader.skippedFrames == 3)
        #expect(reader.framesRead == 6)
    }

    @Test func cookedAndLoopbackHeadersAreRemoved() throws {
        let directory = try TemporaryDirectory()
        let sll2Path = directory.path("sll2.pcap")
        let sll2 = try PcapWriter(path: sll2Path, linkType: .linuxSLL2)
        let sll2Rest: [UInt8] = [0, 0, 0, 0, 0, 3, 0, 1, 0, 6] + [UInt8](repeating: 0xCC, count: 8)
        sll2.write([0x86, 0xDD] + sll2Rest + ipv6Header, timestampNanoseconds: 1)
        sll2.write([0x81, 0x00] + sll2Rest + [0x00, 0x05, 0x08, 0x00] + ipv4Header(), timestampNanoseconds: 2)
        try sll2.close()
        #expect(try readAll(try PcapReader(path: sll2Path)).map(\.bytes) == [ipv6Header, ipv4Header()])

        let loopPath = directory.path("loop.pcap")
        let loop = try PcapWriter(path: loopPath, linkType: .loop)
        loop.write([0, 0, 0, 2] + ipv4Header(), timestampNanoseconds: 1)
        loop.write([0, 0, 0, 30] + ipv6Header, timestampNanoseconds: 2)
        loop.write([0, 0, 0, 7] + ipv6Header, timestampNanoseconds: 3)  // unknown family
        try loop.close()
        let loopReader = try PcapReader(path: loopPath)
        #expect(try readAll(loopReader).map(\.bytes) == [ipv4Header(), ipv6Header])
        #expect(loopReader.skippedFrames == 1)

        let nullPath = directory.path("null.pcap")
        let null = try PcapWriter(path: nullPath, linkType: .null)
        null.write([0, 0, 0, 10] + ipv6Header, timestampNanoseconds: 1)  // big-endian writer, Linux AF_INET6
        try null.close()
        #expect(try readAll(try PcapReader(path: nullPath)).map(\.bytes) == [ipv6Header])
    }
}
