import Testing
@testable import Wire

@Suite struct TCPOptionsTests {
    /// Decodes a SYN carrying `options` (padded with EOL to a multiple of 4).
    func decodeOptions(_ options: [UInt8]) -> DecodeResult {
        var options = options
        while options.count % 4 != 0 { options.append(0) }
        return decode(ipv4Packet(tcpHeader(dataOffset: UInt8(5 + options.count / 4), options: options)))
    }

    func parsed(_ options: [UInt8]) throws -> TCPOptions {
        try #require(decodeOptions(options).packet?.tcp?.options)
    }

    @Test func noOptions() throws {
        let options = try parsed([])
        #expect(options.isEmpty)
        #expect(options.mss == nil)
        #expect(options.windowScale == nil)
        #expect(!options.sackPermitted)
        #expect(options.timestamp == nil)
        #expect(options.sackBlockCount == 0)
        #expect(options.sackBlock(0) == (0, 0))
        #expect(!options.fastOpen)
        #expect(!options.hasDuplicates)
    }

    @Test func eachOptionAlone() throws {
        #expect(try parsed([2, 4, 0x05, 0xB4]).mss == 1460)
        #expect(try parsed([3, 3, 14]).windowScale == 14)
        #expect(try parsed([3, 3, 15]).windowScale == 15)  // raw value, not clamped
        #expect(try parsed([4, 2]).sackPermitted)
        let timestamp = try #require(try parsed([8, 10, 0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF]).timestamp)
        #expect(timestamp.value == 1)
        #expect(timestamp.echoReply == 0xFFFF_FFFF)
        #expect(try parsed([19, 18] + [UInt8](repeating: 7, count: 16)).md5Signature)
        #expect(try parsed([34, 2]).fastOpen)                                  // cookie request
        #expect(try parsed([34, 10, 1, 2, 3, 4, 5, 6, 7, 8]).fastOpen)         // cookie
        #expect(try parsed([254, 4, 0xF9, 0x89]).fastOpen)                     // experimental TFO
        #expect(!(try parsed([254, 4, 0x12, 0x34]).fastOpen))                  // other experiment
    }

    @Test(arguments: 1...4)
    func sackBlocks(count: Int) throws {
        var option: [UInt8] = [5, UInt8(2 + 8 * count)]
        for block in 0..<count {
            let left = UInt32(1000 * (block + 1)), right = left + 500
            for value in [left, right] {
                option += [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
            }
        }
        let options = try parsed([1, 1] + option)
        #expect(options.hasSACK)
        #expect(options.sackBlockCount == count)
        for block in 0..<count {
            #expect(options.sackBlock(block) == (UInt32(1000 * (block + 1)), UInt32(1000 * (block + 1) + 500)))
        }
        #expect(options.sackBlock(count) == (0, 0))
        #expect(options.sackBlock(-1) == (0, 0))
    }

    @Test func unknownOptionsAreSkipped() throws {
        let options = try parsed([30, 6, 1, 2, 3, 4, 1, 2, 4, 0x05, 0xB4, 99, 2])
        #expect(options.mss == 1460)
    }

    @Test func endOfListStopsParsing() throws {
        // After kind 0 the rest is padding, even if it looks like a broken option.
        let options = try parsed([2, 4, 0x05, 0xB4, 0, 3, 0, 9])
        #expect(options.mss == 1460)
        #expect(options.windowScale == nil)
    }

    @Test func duplicatesKeepTheFirst() throws {
        let mss = try parsed([2, 4, 0x05, 0xB4, 2, 4, 0x02, 0x18])
        #expect(mss.mss == 1460)
        #expect(mss.hasDuplicates)
        let scale = try parsed([3, 3, 7, 3, 3, 2])
        #expect(scale.windowScale == 7)
        #expect(scale.hasDuplicates)
        let timestamp = try parsed([8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 8, 10, 0, 0, 0, 3, 0, 0, 0, 4])
        #expect(timestamp.timestamp?.value == 1)
        #expect(timestamp.hasDuplicates)
        let sack = try parsed([5, 10, 0, 0, 0, 1, 0, 0, 0, 2, 5, 10, 0, 0, 0, 3, 0, 0, 0, 4])
        #expect(sack.sackBlockCount == 1)
        #expect(sack.sackBlock(0) == (1, 2))
        #expect(sack.hasDuplicates)
        #expect(try parsed([4, 2, 4, 2]).hasDuplicates)
        #expect(try parsed([34, 2, 34, 2]).hasDuplicates)
        #expect(!(try parsed([1, 1, 1, 1, 30, 2, 30, 2])).hasDuplicates)  // unknown kinds are not tracked
    }

    @Test(arguments: [
        ([2, 0], UInt8(2), UInt8(0)), ([2, 1], 2, 1), ([3, 0, 0], 3, 0), ([30, 1], 30, 1), ([8, 1, 0, 0], 8, 1),
    ] as [([UInt8], UInt8, UInt8)])
    func lengthBelowTwo(options: [UInt8], kind: UInt8, length: UInt8) {
        #expect(decodeOptions(options) == .malformed(.tcpOptionLengthTooSmall(kind: kind, length: length)))
    }

    @Test(arguments: [
        ([2, 3, 5], UInt8(2), UInt8(3)), ([2, 5, 0, 0, 0], 2, 5),                   // MSS 4
        ([3, 2], 3, 2), ([3, 4, 7, 0], 3, 4),                                       // window scale 3
        ([4, 3, 0], 4, 3), ([4, 4, 0, 0], 4, 4),                                    // SACK-permitted 2
        ([8, 8, 0, 0, 0, 0, 0, 0], 8, 8), ([8, 12] + [UInt8](repeating: 0, count: 10), 8, 12), // timestamps 10
        ([5, 9] + [UInt8](repeating: 0, count: 7), 5, 9),                           // SACK 2 + 8n
        ([5, 11] + [UInt8](repeating: 0, count: 9), 5, 11),
        ([19, 17] + [UInt8](repeating: 0, count: 15), 19, 17),                      // MD5 18
    ] as [([UInt8], UInt8, UInt8)])
    func wrongFixedLength(options: [UInt8], kind: UInt8, length: UInt8) {
        #expect(decodeOptions(options) == .malformed(.tcpOptionWrongLength(kind: kind, length: length)))
    }

    @Test("an empty SACK option (kind 5, length 2) is ignored and flagged, as Linux ignores it")
    func emptySACKIgnored() throws {
        let options = try parsed([5, 2, 2, 4, 0x05, 0xB4])
        #expect(options.emptySACK)
        #expect(!options.hasSACK)
        #expect(options.sackBlockCount == 0)
        #expect(options.mss == 1460)  // parsing goes on after it
        #expect(!(try parsed([5, 10, 0, 0, 0, 1, 0, 0, 0, 2])).emptySACK)
    }

    @Test func sackWithFiveBlocksDoesNotFit() {
        // 42 bytes cannot fit in 40 bytes of option space: it runs past the header.
        #expect(decodeOptions([5, 42] + [UInt8](repeating: 0, count: 38)) == .malformed(.tcpOptionPastHeader(kind: 5)))
    }

    @Test func optionPastTheHeader() {
        #expect(decodeOptions([1, 1, 1, 1, 1, 1, 2, 4]) == .malformed(.tcpOptionPastHeader(kind: 2)))  // MSS would end at 10 of 8
        #expect(decodeOptions([1, 1, 1, 8]) == .malformed(.tcpOptionPastHeader(kind: 8)))           // no length byte
        #expect(decodeOptions([30, 200, 0, 0]) == .malformed(.tcpOptionPastHeader(kind: 30)))
    }

    @Test func builderRoundTrip() throws {
        var options = TCPOptions()
        options.mss = 8960
        options.windowScale = 9
        options.sackPermitted = true
        options.timestamp = (0xDEAD_BEEF, 42)
        options.fastOpen = true
        let builder = PacketBuilder(source: v4a, destination: v4b)
        let bytes = builder.tcp(sourcePort: 1, destinationPort: 2, flags: .syn, options: options)
        let decoded = try #require(decode(bytes).packet?.tcp?.options)
        #expect(decoded == options)

        var sack = TCPOptions()
        sack.timestamp = (1, 2)
        for block in 0..<3 {
            let appended = sack.appendSACKBlock(left: UInt32(block * 10), right: UInt32(block * 10 + 5))
            #expect(appended)
        }
        let ack = builder.tcp(sourcePort: 1, destinationPort: 2, flags: .ack, options: sack)
        #expect(decode(ack).packet?.tcp?.options == sack)
        let fourth = sack.appendSACKBlock(left: 1, right: 2)
        let fifth = sack.appendSACKBlock(left: 1, right: 2)  // does not fit
        #expect(fourth && !fifth)
        #expect(sack.sackBlockCount == 4)
    }

    @Test func settersClear() {
        var options = TCPOptions()
        options.mss = 1
        options.timestamp = (1, 1)
        options.mss = nil
        options.timestamp = nil
        #expect(options.isEmpty)
        #expect(options == TCPOptions())
    }
}
