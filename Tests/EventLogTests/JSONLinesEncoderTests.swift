import EventLog
import Foundation
import Testing

@Suite struct JSONLinesEncoderTests {
    private let encoder = JSONLinesEncoder()
    private let at: UInt64 = 1_795_554_191_482_113_000  // 2026-11-24T21:03:11.482113Z

    @Test func fullDropRecordInKeyOrder() {
        let event = Event(timestampNanoseconds: at, eventType: .drop, queue: 3, proto: "TCP",
                          sourceIP: "203.0.113.7", sourcePort: 51544, destinationIP: "192.0.2.10", destinationPort: 22,
                          reason: "invalid_flags", detail: "FIN without ACK", state: "NONE",
                          tcp: TCPFields(flags: 0x29, seq: 104, ack: 0, win: 1024), count: 37)
        #expect(encoder.line(for: event) == #"""
            {"timestamp":"2026-11-24T21:03:11.482113+0000","event_type":"drop","queue":3,"proto":"TCP","src_ip":"203.0.113.7","src_port":51544,"dest_ip":"192.0.2.10","dest_port":22,"drop":{"reason":"invalid_flags","detail":"FIN without ACK","state":"NONE"},"tcp":{"flags":"FPU","seq":104,"ack":0,"win":1024},"count":37}

            """#)
    }

    @Test func minimalRecordLeavesOptionalKeysOut() {
        let event = Event(timestampNanoseconds: 0, eventType: .anomaly, proto: "IPv6-ICMP",
                          sourceIP: "2001:db8::1", destinationIP: "2001:db8::2", reason: "malformed")
        #expect(encoder.line(for: event) == #"""
            {"timestamp":"1970-01-01T00:00:00.000000+0000","event_type":"anomaly","proto":"IPv6-ICMP","src_ip":"2001:db8::1","dest_ip":"2001:db8::2","anomaly":{"reason":"malformed"}}

            """#)
    }

    @Test func countOfOneIsNotWrittenAndExtremesAre() {
        let event = Event(timestampNanoseconds: at, eventType: .flow, queue: 65535, proto: "UDP",
                          sourceIP: "10.0.0.1", sourcePort: 0, destinationIP: "10.0.0.2", destinationPort: 65535,
                          reason: "new", state: "ESTABLISHED",
                          tcp: TCPFields(flags: 0, seq: .max, ack: .max, win: .max), count: 1)
        #expect(encoder.line(for: event) == #"""
            {"timestamp":"2026-11-24T21:03:11.482113+0000","event_type":"flow","queue":65535,"proto":"UDP","src_ip":"10.0.0.1","src_port":0,"dest_ip":"10.0.0.2","dest_port":65535,"flow":{"reason":"new","state":"ESTABLISHED"},"tcp":{"flags":"","seq":4294967295,"ack":4294967295,"win":65535}}

            """#)
        var many = event
        many.tcp = nil
        many.count = Int.max
        #expect(encoder.line(for: many).hasSuffix(#""state":"ESTABLISHED"},"count":9223372036854775807}"# + "\n"))
    }

    @Test func flagLettersFollowBitOrder() {
        #expect(TCPFields(flags: 0x12, seq: 0, ack: 0, win: 0).flagsText == "SA")
        #expect(TCPFields(flags: 0x29, seq: 0, ack: 0, win: 0).flagsText == "FPU")
        #expect(TCPFields(flags: 0xFF, seq: 0, ack: 0, win: 0).flagsText == "FSRPAUEC")
        #expect(TCPFields(flags: 0x04, seq: 0, ack: 0, win: 0).flagsText == "R")
    }

    @Test func stringsAreEscaped() {
        let event = Event(timestampNanoseconds: 0, eventType: .drop, proto: "TCP", sourceIP: "a", destinationIP: "b",
                          reason: "r", detail: "say \"hi\" \\ path\nnext\ttab\u{01}\u{1F}\r\u{08}\u{0C} café ✓ 🦊 \u{7F}/")
        let line = encoder.line(for: event)
        #expect(line.contains(#""detail":"say \"hi\" \\ path\nnext\ttab\u0001\u001f\r\b\f café ✓ 🦊 "# + "\u{7F}/\"}"))
        // Exactly one newline: the line terminator.
        #expect(line.utf8.filter { $0 == 0x0A }.count == 1)
        #expect(line.last == "\n")
    }

    /// An independent JSON parser reads every control character and the tricky ones back.
    @Test func foundationParsesTheLineBackToTheSameValues() throws {
        let controls = String(decoding: (0..<0x20).map { UInt8($0) }, as: UTF8.self)
        let detail = controls + "\"\\/ \u{7F} é 🦊 \u{2028} end"
        let event = Event(timestampNanoseconds: 1, eventType: .drop, queue: 2, proto: "TCP", sourceIP: "a\"b",
                          sourcePort: 1, destinationIP: "c", destinationPort: 2, reason: "r", detail: detail,
                          tcp: TCPFields(flags: 0x12, seq: 3, ack: 4, win: 5), count: 6)
        let parsed = try JSONSerialization.jsonObject(with: Data(encoder.line(for: event).utf8))
        let object = try #require(parsed as? [String: Any])
        let drop = try #require(object["drop"] as? [String: Any])
        #expect(drop["detail"] as? String == detail)
        #expect(object["src_ip"] as? String == "a\"b")
        #expect(object["queue"] as? Int == 2)
        #expect(object["count"] as? Int == 6)
        let tcp = try #require(object["tcp"] as? [String: Any])
        #expect(tcp["flags"] as? String == "SA")
        #expect(tcp["win"] as? Int == 5)
    }

    @Test func nonASCIIPassesThroughAsUTF8Bytes() {
        var buffer: [UInt8] = []
        JSONLinesEncoder.appendString("é🦊", into: &buffer)
        #expect(buffer == [0x22, 0xC3, 0xA9, 0xF0, 0x9F, 0xA6, 0x8A, 0x22])
    }

    @Test func encodeAppendsToTheBuffer() {
        var buffer: [UInt8] = []
        let event = Event(timestampNanoseconds: 0, eventType: .drop, proto: "6", sourceIP: "a", destinationIP: "b", reason: "r")
        encoder.encode(event, into: &buffer)
        let first = buffer.count
        encoder.encode(event, into: &buffer)
        #expect(buffer.count == 2 * first)
        #expect(Array(buffer[..<first]) == Array(buffer[first...]))
    }

    @Test func protocolNames() {
        #expect([6, 17, 1, 58, 132, 0].map { Event.protocolName($0) } == ["TCP", "UDP", "ICMP", "IPv6-ICMP", "132", "0"])
    }
}
