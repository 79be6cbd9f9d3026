import EventLog
import LogReview
import Testing

@Suite struct LogLineParserTests {
    private func parse(_ line: String) throws(LogLineError) -> Event {
        var parser = LogLineParser()
        return try parser.parse(line)
    }

    private func failure(_ line: String) -> LogLineError? {
        do {
            _ = try parse(line)
            return nil
        } catch {
            return error
        }
    }

    @Test func roundTripsEveryField() throws {
        let event = everyFieldEvent()
        let line = JSONLinesEncoder().line(for: event)
        #expect(try parse(String(line.dropLast())) == event)
        #expect(try parse(line) == event)  // a trailing newline is whitespace
    }

    @Test func roundTripsMinimalAndDaemonRecords() throws {
        for event in [
            Event(timestampNanoseconds: 0, eventType: .start),
            Event(timestampNanoseconds: 5_000, eventType: .anomaly, proto: "IPv6-ICMP", sourceIP: "2001:db8::1",
                  destinationIP: "2001:db8::2", reason: "malformed", detail: "é 🦊 \u{1} \"q\" \\"),
            Event(timestampNanoseconds: 1_000, eventType: .suppressed, reason: "queue_full", count: 9,
                  firstSeenNanoseconds: 0, lastSeenNanoseconds: 1_000),
        ] {
            let line = JSONLinesEncoder().line(for: event)
            #expect(try parse(line) == event, "\(line)")
        }
    }

    @Test func keysInAnyOrderUnknownKeysAndNulls() throws {
        let event = try parse(#"""
            { "future": {"a":[1,2,{"b":null}],"c":"}"}, "src_port": 80, "proto":"TCP", "event_type" : "alert",
              "n": -1.5e3, "ok": true, "detail": null, "timestamp": "2026-11-24T22:03:11.5+01:00", "tcp": {"win": 5, "flags": "SA", "x": false} }
            """#.replacingOccurrences(of: "\n", with: " "))
        #expect(event.eventType == .alert)
        #expect(event.timestampNanoseconds == 1_795_554_191_500_000_000)
        #expect(event.sourcePort == 80)
        #expect(event.proto == "TCP")
        #expect(event.detail == nil)
        #expect(event.tcp == TCPFields(flags: 0x12, seq: 0, ack: 0, win: 5))
    }

    @Test func escapesIncludingSurrogatePairs() throws {
        let event = try parse(#"{"timestamp":"1970-01-01T00:00:00Z","event_type":"drop","detail":"a\/b\u00e9\ud83e\udd8a\ud800x\t"}"#)
        #expect(event.detail == "a/bé🦊\u{FFFD}x\t")
    }

    @Test func malformedLinesNameTheColumn() {
        #expect(failure("") == LogLineError("a record must be a JSON object starting with '{'", column: 1))
        #expect(failure("not json") == LogLineError("a record must be a JSON object starting with '{'", column: 1))
        #expect(failure(#"{"timestamp":"2026-11-24T21:03:11Z""#)
            == LogLineError("expected ',' or '}' after a value", column: 36))
        #expect(failure(#"{"event_type":"drop"}"#) == LogLineError("no \"timestamp\"", column: 1))
        #expect(failure(#"{"timestamp":"2026-11-24T21:03:11Z"}"#) == LogLineError("no \"event_type\"", column: 1))
        #expect(failure(#"{"timestamp":"yesterday","event_type":"drop"}"#)
            == LogLineError("not an RFC 3339 time", column: 14))
        #expect(failure(#"{"timestamp":"1970-01-01T00:00:00Z","event_type":"boom"}"#)
            == LogLineError(#"unknown event_type "boom""#, column: 50))
        #expect(failure(#"{"timestamp":"1970-01-01T00:00:00Z","event_type":"drop","src_port":70000}"#)
            == LogLineError("number out of range", column: 68))
        #expect(failure(#"{"timestamp":"1970-01-01T00:00:00Z","event_type":"drop","src_port":"80"}"#)
            == LogLineError("expected a non-negative integer", column: 68))
        #expect(failure(#"{"timestamp":"1970-01-01T00:00:00Z","event_type":"drop"} x"#)
            == LogLineError("text after the record's closing '}'", column: 58))
        #expect(failure(#"{"timestamp":"1970-01-01T00:00:00Z","event_type":"drop","tcp":{"flags":"SX"}}"#)
            == LogLineError("tcp flags must be letters of FSRPAUEC", column: 72))
        #expect(failure(#"{"timestamp":"1970-01-01T00:00:00Z","event_type":"drop","detail":"ab"#) != nil)
        #expect(failure("{\"timestamp\":\"1970-01-01T00:00:00Z\",\"event_type\":\"drop\",\"detail\":\"a\u{1}\"}")
            == LogLineError("raw control character in a string", column: 68))
        // A torn line (cut by a crash) is malformed, not a crash of the reader.
        let whole = JSONLinesEncoder().line(for: everyFieldEvent())
        for cut in stride(from: 0, to: whole.utf8.count - 2, by: 7) {
            #expect(failure(String(decoding: Array(whole.utf8.prefix(cut)), as: UTF8.self)) != nil)
        }
        #expect(failure(String(repeating: "[", count: 100)) != nil)
        #expect(failure(#"{"timestamp":"1970-01-01T00:00:00Z","event_type":"drop","x":"# + String(repeating: "[", count: 100)) != nil)
    }

    @Test func timestampsInTheirForms() {
        func ts(_ text: String) -> UInt64? { EventTimestamp.parse(Array(text.utf8)) }
        #expect(ts("2026-11-24T21:03:11.482113+0000") == 1_795_554_191_482_113_000)
        #expect(ts("2026-11-24T21:03:11.482113Z") == 1_795_554_191_482_113_000)
        #expect(ts("2026-11-24 22:03:11.482113+01:00") == 1_795_554_191_482_113_000)
        #expect(ts("2026-11-24T16:03:11.482113123456-05:00") == 1_795_554_191_482_113_123)
        #expect(ts("2026-11-24T21:03Z") == 1_795_554_180_000_000_000)
        #expect(ts("2026-11-24") == 1_795_478_400_000_000_000)
        #expect(ts("1970-01-01T00:00:00Z") == 0)
        #expect(ts("2000-02-29T00:00:00Z") == 951_782_400_000_000_000)
        for bad in ["", "2026", "2026-13-01", "2026-11-24T25:00Z", "2026-11-24T21:03:11.Z", "2026-11-24T21:03:11+5",
                    "1969-12-31T23:59:59Z", "2026-11-24T21:03:11Zx", "2026-11-24X21:03"] {
            #expect(ts(bad) == nil, "\(bad)")
        }
        for days: Int64 in [-800_000, -1, 0, 1, 59, 365, 10_957, 20_781, 2_932_896] {
            let date = EventTimestamp.civilDate(daysSinceEpoch: days)
            #expect(EventTimestamp.daysSinceEpoch(year: date.year, month: date.month, day: date.day) == days)
        }
    }
}
