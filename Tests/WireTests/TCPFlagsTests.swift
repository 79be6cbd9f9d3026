import Testing
@testable import Wire

@Suite struct TCPFlagsTests {
    @Test(arguments: [
        (TCPFlags(), ""), ([.syn], "S"), ([.syn, .ack], "SA"), ([.fin, .psh, .urg], "FPU"),
        ([.rst, .ack], "RA"), ([.fin, .ack], "FA"), ([.psh, .ack], "PA"), ([.syn, .ece, .cwr], "SEC"),
        ([.ack, .ae], "AN"),
        ([.fin, .syn, .rst, .psh, .ack, .urg, .ece, .cwr, .ae], "FSRPAUECN"),
    ] as [(TCPFlags, String)])
    func describesInFixedOrder(flags: TCPFlags, text: String) {
        #expect(flags.description == text)
    }

    @Test func lettersReadBackInAnyOrder() {
        #expect(TCPFlags(letters: "SA".utf8) == [.syn, .ack])
        #expect(TCPFlags(letters: "AS".utf8) == [.syn, .ack])
        #expect(TCPFlags(letters: "".utf8) == [])
        #expect(TCPFlags(letters: "FSRPAUECN".utf8)?.rawValue == 0x1FF)
        #expect(TCPFlags(letters: "sa".utf8) == nil)  // letters are uppercase
        #expect(TCPFlags(letters: "SX".utf8) == nil)
        #expect(TCPFlags(letter: UInt8(ascii: "N")) == .ae)
        var buffer: [UInt8] = Array("flags=".utf8)
        TCPFlags([.fin, .psh, .urg]).appendLetters(to: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self) == "flags=FPU")
    }

    @Test func bitValuesMatchTheHeader() {
        #expect(TCPFlags.fin.rawValue == 0x01)
        #expect(TCPFlags.syn.rawValue == 0x02)
        #expect(TCPFlags.rst.rawValue == 0x04)
        #expect(TCPFlags.psh.rawValue == 0x08)
        #expect(TCPFlags.ack.rawValue == 0x10)
        #expect(TCPFlags.urg.rawValue == 0x20)
        #expect(TCPFlags.ece.rawValue == 0x40)
        #expect(TCPFlags.cwr.rawValue == 0x80)
        #expect(TCPFlags.ae.rawValue == 0x100)
    }

    @Test func decodesAEAndReservedBitsFromTheHeader() throws {
        var bytes = Golden.tcpSynV4
        bytes[32] |= 0x0F  // data offset byte: reserved bits 9-11 and AE
        bytes[33] = 0xFF   // CWR … FIN
        let tcp = try #require(decode(bytes).packet?.tcp)
        #expect(tcp.flags.rawValue == 0x1FF)
        #expect(tcp.flags.description == "FSRPAUECN")
        #expect(tcp.reservedBits == 7)
        #expect(tcp.headerLength == 40)
    }
}
