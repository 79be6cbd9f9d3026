import Capture
import Foundation
import Testing

/// What every fixture carries: a TCP handshake over IPv4, then one over IPv6 (see
/// Fixtures/make-fixtures.py). IP packet `i` is stamped 1_700_000_000 + i seconds + a fraction.
private let handshakeLengths = [52, 52, 40, 72, 72, 60]
private let handshakeVersions: [UInt8] = [4, 4, 4, 6, 6, 6]
private let microFraction: UInt64 = 123_456_000
private let nanoFraction: UInt64 = 123_456_789

private func stamp(_ i: Int, _ fraction: UInt64) -> UInt64 {
    UInt64(1_700_000_000 + i) * 1_000_000_000 + fraction
}

/// One fixture file and what reading it must give.
struct FixtureCase: CustomStringConvertible, Sendable {
    var file: String
    var linkType: LinkType
    var linkTypeName: String
    var indexes: [Int]
    var timestamps: [UInt64]
    var versions: [UInt8]
    var originalLengths: [Int]
    var capturedLengths: [Int]
    var skipped: Int
    var description: String { file }

    /// The six handshake packets at frame numbers `first`..., packet i at second i.
    static func handshake(_ file: String, _ linkType: LinkType, _ name: String, first: Int, skipped: Int,
                          fraction: UInt64 = microFraction) -> FixtureCase {
        FixtureCase(file: file, linkType: linkType, linkTypeName: name, indexes: Array(first..<first + 6),
                    timestamps: (0..<6).map { stamp($0, fraction) }, versions: handshakeVersions,
                    originalLengths: handshakeLengths, capturedLengths: handshakeLengths, skipped: skipped)
    }
}

private let fixtureCases: [FixtureCase] = [
    // ARP, 6 IP frames (the IPv4 SYN-ACK 802.1Q-tagged, the IPv4 ACK 802.1ad+802.1Q), LLDP, and a
    // 1054-byte IPv4 frame snapped to 100 bytes.
    FixtureCase(file: "ethernet.pcap", linkType: .ethernet, linkTypeName: "EN10MB",
                indexes: [2, 3, 4, 5, 6, 7, 9], timestamps: (0..<7).map { stamp($0, microFraction) },
                versions: handshakeVersions + [4], originalLengths: handshakeLengths + [1040],
                capturedLengths: handshakeLengths + [86], skipped: 2),
    .handshake("raw.pcap", .rawIP, "RAW", first: 1, skipped: 0, fraction: nanoFraction),
    FixtureCase(file: "ipv4.pcap", linkType: .rawIPv4, linkTypeName: "IPV4", indexes: [1, 2, 3],
                timestamps: (0..<3).map { stamp($0, microFraction) }, versions: [4, 4, 4],
                originalLengths: [52, 52, 40], capturedLengths: [52, 52, 40], skipped: 0),
    FixtureCase(file: "ipv6.pcap", linkType: .rawIPv6, linkTypeName: "IPV6", indexes: [1, 2, 3],
                timestamps: (3..<6).map { stamp($0, microFraction) }, versions: [6, 6, 6],
                originalLengths: [72, 72, 60], capturedLengths: [72, 72, 60], skipped: 0),
    .handshake("sll.pcap", .linuxSLL, "LINUX_SLL", first: 2, skipped: 1),
    .handshake("sll2.pcap", .linuxSLL2, "LINUX_SLL2", first: 2, skipped: 1),
    .handshake("null.pcap", .null, "NULL", first: 1, skipped: 0),
    .handshake("sample.pcapng", .ethernet, "EN10MB", first: 2, skipped: 1),
]

func fixturePath(_ name: String) throws -> String {
    let dot = try #require(name.lastIndex(of: "."))
    let url = Bundle.module.url(forResource: String(name[..<dot]), withExtension: String(name[name.index(after: dot)...]),
                                subdirectory: "Fixtures")
    return try #require(url, "fixture \(name) missing from the test bundle").path
}

/// A packet copied out of the reader's buffer.
struct ReadPacket: Equatable {
    var index: Int
    var timestamp: UInt64
    var bytes: [UInt8]
    var originalLength: Int
}

func readAll(_ reader: PcapReader) throws -> [ReadPacket] {
    var packets: [ReadPacket] = []
    try reader.forEach { packet in
        packets.append(ReadPacket(index: packet.index, timestamp: packet.timestampNanoseconds,
                                  bytes: Array(packet.networkLayer), originalLength: packet.originalLength))
    }
    return packets
}

/// The length the IP header itself claims: total length (IPv4) or payload length + 40 (IPv6).
private func lengthClaimedByIPHeader(_ bytes: [UInt8]) -> Int? {
    guard bytes.count >= 6 else { return nil }
    let field = Int(bytes[2]) << 8 | Int(bytes[3])
    switch bytes[0] >> 4 {
    case 4: return field
    case 6: return Int(bytes[4]) << 8 | Int(bytes[5]) + 40
    default: return nil
    }
}

@Suite struct PcapReaderTests {
    @Test(arguments: fixtureCases)
    func readsFixture(_ expected: FixtureCase) throws {
        let reader = try PcapReader(path: try fixturePath(expected.file))
        #expect(reader.linkType == expected.linkType)
        #expect(reader.linkTypeName == expected.linkTypeName)
        let packets = try readAll(reader)
        #expect(packets.map(\.index) == expected.indexes)
        #expect(packets.map(\.timestamp) == expected.timestamps)
        #expect(packets.map { $0.bytes.first.map { $0 >> 4 } } == expected.versions.map { Optional($0) })
        #expect(packets.map(\.originalLength) == expected.originalLengths)
        #expect(packets.map(\.bytes.count) == expected.capturedLengths)
        #expect(reader.skippedFrames == expected.skipped)
        #expect(reader.framesRead == expected.indexes.last)
        // The link header was cut exactly: the IP header's own length field agrees.
        for packet in packets {
            #expect(lengthClaimedByIPHeader(packet.bytes) == packet.originalLength, "frame \(packet.index)")
        }
    }

    @Test func firstPacketBytesAreTheIPv4Header() throws {
        let reader = try PcapReader(path: try fixturePath("ethernet.pcap"))
        let first = try #require(try reader.next())
        #expect(first.index == 2)
        #expect(Array(first.networkLayer.prefix(2)) == [0x45, 0x00])
        #expect(Array(first.networkLayer[12..<20]) == [192, 0, 2, 1, 192, 0, 2, 10])
        #expect(first.networkLayer[9] == 6)  // TCP
    }

    @Test func vlanTagsAreStripped() throws {
        let packets = try readAll(try PcapReader(path: try fixturePath("ethernet.pcap")))
        // Frame 3 had one 802.1Q tag, frame 4 an 802.1ad tag and an 802.1Q tag.
        let tagged = packets.filter { $0.index == 3 || $0.index == 4 }
        #expect(tagged.map { Array($0.bytes.prefix(1)) } == [[0x45], [0x45]])
        #expect(tagged.map { Array($0.bytes[12..<16]) } == [[192, 0, 2, 10], [192, 0, 2, 1]])
    }

    @Test func ipv6FirstByteIsVersionSix() throws {
        let packets = try readAll(try PcapReader(path: try fixturePath("sll2.pcap")))
        let v6 = try #require(packets.first { $0.index == 5 })
        #expect(v6.bytes.first == 0x60)
        #expect(v6.bytes[6] == 6)  // next header TCP
        #expect(Array(v6.bytes[8..<12]) == [0x20, 0x01, 0x0d, 0xb8])
    }

    @Test func nextReturnsNilAfterTheEnd() throws {
        let reader = try PcapReader(path: try fixturePath("ipv4.pcap"))
        var count = 0
        while try reader.next() != nil {
            count += 1
            try #require(count <= 10)
        }
        #expect(count == 3)
        #expect(try reader.next() == nil)
        #expect(reader.framesRead == 3)
    }

    @Test func errorThrownByTheBodyStopsReading() throws {
        struct Stop: Error {}
        let reader = try PcapReader(path: try fixturePath("raw.pcap"))
        var seen = 0
        #expect(throws: Stop.self) {
            try reader.forEach { _ in
                seen += 1
                if seen == 2 { throw Stop() }
            }
        }
        #expect(seen == 2)
        #expect(try reader.next()?.index == 3)
    }
}
