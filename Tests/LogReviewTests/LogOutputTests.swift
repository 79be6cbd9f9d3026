import EventLog
import Foundation
import LogReview
import Testing

private let base: UInt64 = 1_795_554_191_482_113_000  // 2026-11-24T21:03:11.482113Z

/// Captures what a formatter writes.
private final class Captured {
    var text = ""
    lazy var output = LogTextOutput { [unowned self] in self.text += $0 }
}

private let records: [Event] = [
    Event(timestampNanoseconds: base, eventType: .drop, proto: "TCP", sourceIP: "203.0.113.7", sourcePort: 51544,
          destinationIP: "192.0.2.10", destinationPort: 22, reason: "invalid_flags", state: "NONE",
          tcp: TCPFields(flags: 0x29, seq: 1, ack: 0, win: 1024), count: 37),
    Event(timestampNanoseconds: base + 60_000_000_000, eventType: .alert, proto: "TCP", sourceIP: "2001:db8::7",
          sourcePort: 443, destinationIP: "2001:db8::1", destinationPort: 8443, reason: "policy",
          rule: EventRule(file: "/etc/synwall/default.rules", line: 12, label: "web"), tcp: TCPFields(flags: 0x12, seq: 1, ack: 2, win: 3)),
    Event(timestampNanoseconds: base + 120_000_000_000, eventType: .start, detail: "queues 0-1"),
]

@Suite struct LogOutputTests {
    @Test func tableIsAlignedWithDashesForAbsentValues() {
        let captured = Captured()
        let table = LogTableFormatter(output: captured.output, color: false)
        records.forEach(table.add)
        table.flush()
        #expect(captured.text == """
            TIME (UTC)               EVENT  REASON         PROTO  SOURCE             DESTINATION         FLAGS  STATE  COUNT  RULE  DETAIL
            2026-11-24 21:03:11.482  drop   invalid_flags  TCP    203.0.113.7:51544  192.0.2.10:22       FPU    NONE      37  -     -
            2026-11-24 21:04:11.482  alert  policy         TCP    [2001:db8::7]:443  [2001:db8::1]:8443  SA     -          1  web   -
            2026-11-24 21:05:11.482  start  -              -      -                  -                   -      -          1  -     queues 0-1

            """)
    }

    @Test func colourOnlyWhenAskedAndHostileTextIsInert() {
        let captured = Captured()
        let table = LogTableFormatter(output: captured.output, color: true)
        var hostile = records[0]
        hostile.detail = "\u{1B}]0;owned\u{07}\u{1B}[2J\r\u{202E}txt.exe\u{9B}"
        hostile.rule = EventRule(file: "x", line: 1, label: "evil\nlabel")
        table.add(hostile)
        table.flush()
        #expect(captured.text.hasPrefix("\u{1B}[1mTIME (UTC)"))
        #expect(captured.text.contains("\u{1B}[31mdrop \u{1B}[0m"))
        #expect(captured.text.contains(#"\x1b]0;owned\x07\x1b[2J\x0d\u{202e}txt.exe\x9b"#))
        #expect(captured.text.contains(#"evil\x0alabel"#))
        // The only escape sequences left are our own colours (ESC followed by [ and a digit, ending in m).
        let escapes = captured.text.components(separatedBy: "\u{1B}").dropFirst()
        #expect(escapes.allSatisfy { $0.hasPrefix("[0m") || $0.hasPrefix("[1m") || $0.hasPrefix("[31m") })
        #expect(captured.text.split(separator: "\n").count == 2)  // header + one row: no injected line break
        #expect(!captured.text.unicodeScalars.contains("\u{202E}"))
        #expect(!captured.text.unicodeScalars.contains("\u{9B}"))
    }

    @Test func csvHasAHeaderQuotesAndGuardsFormulas() {
        let captured = Captured()
        let csv = LogCSVFormatter(output: captured.output)
        var tricky = records[1]
        tricky.detail = "=HYPERLINK(\"http://x\",\"a,b\")"
        tricky.inInterface = "eth0"
        tricky.direction = .in
        tricky.flowID = 99
        csv.add(records[0])
        csv.add(tricky)
        csv.flush()
        #expect(captured.text == """
            timestamp,event_type,flow_id,in_iface,direction,proto,src_ip,src_port,dest_ip,dest_port,reason,state,flags,count,first_seen,last_seen,rule_file,rule_line,rule_label,detail,pkts_toserver,pkts_toclient,bytes_toserver,bytes_toclient,age
            2026-11-24T21:03:11.482113+0000,drop,,,,TCP,203.0.113.7,51544,192.0.2.10,22,invalid_flags,NONE,FPU,37,,,,,,,,,,,
            2026-11-24T21:04:11.482113+0000,alert,99,eth0,in,TCP,2001:db8::7,443,2001:db8::1,8443,policy,,SA,1,,,/etc/synwall/default.rules,12,web,"'=HYPERLINK(""http://x"",""a,b"")",,,,,

            """)
        #expect(LogCSVFormatter.field("a\nb") == "\"a\nb\"")
        #expect(LogCSVFormatter.field("@cmd") == "'@cmd")
        #expect(LogCSVFormatter.field("plain") == "plain")
    }

    @Test func topCountsOccurrencesInEveryFormat() {
        var counter = LogTopCounter(key: .src)
        for _ in 0..<3 { counter.add(records[1]) }
        counter.add(records[0])  // count 37
        counter.add(records[2])  // the daemon's own record: not counted
        #expect(counter.total == 40)
        #expect(counter.top(5).map(\.name) == ["203.0.113.7", "2001:db8::7"])
        let table = Captured()
        counter.render(limit: 10, format: .table, color: false, to: table.output)
        #expect(table.text == """
            SOURCE       COUNT   SHARE
            203.0.113.7     37   92.5%
            2001:db8::7      3    7.5%
            2 of 2 shown; 40 occurrences in all

            """)
        counter.add(Event(timestampNanoseconds: 1, eventType: .suppressed, reason: "rate_limit", count: 1700))
        #expect(counter.total == 40 && counter.leftOut == 1700)
        let withLeftOut = Captured()
        counter.render(limit: 10, format: .table, color: false, to: withLeftOut.output)
        #expect(withLeftOut.text.hasSuffix("2 of 2 shown; 40 occurrences in all, and 1700 more the log only counted "
            + "(suppressed records: over its rate cap or lost)\n"))
        let json = Captured()
        counter.render(limit: 1, format: .json, color: false, to: json.output)
        #expect(json.text == "{\"src_ip\":\"203.0.113.7\",\"count\":37}\n")
        var ports = LogTopCounter(key: .port)
        records.forEach { ports.add($0) }
        let csv = Captured()
        ports.render(limit: 10, format: .csv, color: false, to: csv.output)
        #expect(csv.text == "port,count\n22,37\n8443,1\n")
        let portJSON = Captured()
        ports.render(limit: 1, format: .json, color: false, to: portJSON.output)
        #expect(portJSON.text == "{\"dest_port\":22,\"count\":37}\n")
        var rules = LogTopCounter(key: .rule)
        records.forEach { rules.add($0) }
        #expect(rules.top(5).map(\.name) == ["web"])  // records without a rule are not counted
        var reasons = LogTopCounter(key: .reason)
        records.forEach { reasons.add($0) }
        #expect(reasons.top(5).map(\.count) == [37, 1])
    }

    @Test func histogramDrawsBarsAndFillsEmptyBuckets() {
        var histogram = LogHistogram(bucketNanoseconds: 60_000_000_000)
        let minute: UInt64 = 60_000_000_000
        let start = base / minute * minute
        for (offset, count) in [(0, 8), (1, 4), (3, 1)] {
            histogram.add(Event(timestampNanoseconds: start + UInt64(offset) * minute + 5, eventType: .drop, count: count))
        }
        histogram.add(Event(timestampNanoseconds: start + 3 * minute, eventType: .suppressed, reason: "rate_limit", count: 1))
        histogram.add(Event(timestampNanoseconds: start + 9 * minute, eventType: .reload))  // not an occurrence
        #expect(histogram.total == 14)
        #expect(histogram.buckets.map(\.count) == [8, 4, 0, 2])
        let ascii = Captured()
        histogram.render(format: .table, width: 40, unicode: false, color: false, to: ascii.output)
        #expect(ascii.text == """
            occurrences per 1m (UTC); 14 in all
            2026-11-24 21:03  ###################  8
            2026-11-24 21:04  ##########           4
            2026-11-24 21:05                       0
            2026-11-24 21:06  #####                2

            """)
        let blocks = Captured()
        histogram.render(format: .table, width: 40, unicode: true, color: false, to: blocks.output)
        #expect(blocks.text.contains("2026-11-24 21:03  ███████████████████  8"))
        #expect(blocks.text.contains("2026-11-24 21:04  █████████▌           4"))
        #expect(blocks.text.contains("2026-11-24 21:06  ████▊                2"))
        let json = Captured()
        histogram.render(format: .json, width: 40, unicode: false, color: false, to: json.output)
        #expect(json.text.hasPrefix("{\"bucket\":\"2026-11-24T21:03:00.000000+0000\",\"count\":8}\n"))
        let csv = Captured()
        histogram.render(format: .csv, width: 40, unicode: false, color: false, to: csv.output)
        #expect(csv.text.hasPrefix("bucket,count\n2026-11-24T21:03:00.000000+0000,8\n"))
    }

    @Test func histogramWidensItsBucketsToFit() {
        var histogram = LogHistogram(bucketNanoseconds: 60_000_000_000)
        for hour in 0..<48 {
            histogram.add(Event(timestampNanoseconds: base + UInt64(hour) * 3_600_000_000_000, eventType: .drop))
        }
        #expect(histogram.rowCount > 2000)
        #expect(histogram.widenedToFit(maxRows: 100).bucketNanoseconds == 30 * 60_000_000_000)  // 30m: 95 rows
        let fitted = histogram.widenedToFit(maxRows: 50)
        #expect(fitted.bucketNanoseconds == 60 * 60_000_000_000)  // 1h
        #expect(fitted.rowCount == 48)
        #expect(fitted.total == 48)
        #expect(fitted.buckets.allSatisfy { $0.count == 1 })
        #expect(histogram.widenedToFit(maxRows: 3000).bucketNanoseconds == 60_000_000_000)
    }

    @Test("--histogram --by reason: a stacked bar per bucket with a legend, rows per bucket and reason in JSON and CSV")
    func histogramBySeries() {
        let minute: UInt64 = 60_000_000_000
        let start = base / minute * minute
        var histogram = LogHistogram(bucketNanoseconds: minute, by: .reason)
        for (offset, reason, count) in [(0, "bad_seq", 6), (0, "policy", 2), (2, "policy", 4), (2, "bad_seq", 2)] {
            histogram.add(Event(timestampNanoseconds: start + UInt64(offset) * minute + 5, eventType: .drop, reason: reason,
                                count: count))
        }
        histogram.add(Event(timestampNanoseconds: start + 2 * minute, eventType: .suppressed, reason: "rate_limit", count: 1))
        #expect(histogram.total == 15)
        #expect(histogram.series.map(\.name) == ["bad_seq", "policy", LogHistogram.noValue])
        #expect(histogram.series.map(\.total) == [8, 6, 1])
        #expect(histogram.seriesBuckets.map(\.counts) == [[6, 2, 0], [0, 0, 0], [2, 4, 1]])
        let ascii = Captured()
        histogram.render(format: .table, width: 40, unicode: false, color: false, to: ascii.output)
        #expect(ascii.text == """
            occurrences per 1m (UTC) by reason; 15 in all
            # bad_seq 8  = policy 6  + (none) 1
            2026-11-24 21:03  ##############=====  8
            2026-11-24 21:04                       0
            2026-11-24 21:05  #####==========++    7

            """, "\(ascii.text)")
        let json = Captured()
        histogram.render(format: .json, width: 40, unicode: false, color: false, to: json.output)
        #expect(json.text.hasPrefix("{\"bucket\":\"2026-11-24T21:03:00.000000+0000\",\"reason\":\"bad_seq\",\"count\":6}\n"
            + "{\"bucket\":\"2026-11-24T21:03:00.000000+0000\",\"reason\":\"policy\",\"count\":2}\n"), "\(json.text)")
        let csv = Captured()
        histogram.render(format: .csv, width: 40, unicode: false, color: false, to: csv.output)
        #expect(csv.text.hasPrefix("bucket,reason,count\n2026-11-24T21:03:00.000000+0000,bad_seq,6\n"), "\(csv.text)")
        // Widening keeps the series.
        let wide = histogram.widenedToFit(maxRows: 1)
        #expect(wide.rowCount == 1 && wide.seriesBuckets.map(\.counts) == [[8, 6, 1]])
    }

    @Test("past six series the smaller ones are summed as other; a log scale keeps a trickle visible beside a flood")
    func histogramSeriesOtherAndLogScale() {
        var histogram = LogHistogram(bucketNanoseconds: 60_000_000_000, by: .port)
        for port in 1 ... 8 {
            histogram.add(Event(timestampNanoseconds: base, eventType: .drop, destinationPort: UInt16(port), count: 10 - port))
        }
        #expect(histogram.series.map(\.name) == ["1", "2", "3", "4", "5", "other"])
        #expect(histogram.series.last?.total == 4 + 3 + 2)
        #expect(histogram.seriesBuckets.first?.counts.reduce(0, +) == histogram.total)
        // Linear: 1 of 1000 gets the one column every non-zero bucket gets; log: about a tenth.
        #expect(LogHistogram.segmentLengths([1], of: 1000, width: 50, logScale: false) == [1])
        #expect(LogHistogram.segmentLengths([1], of: 1000, width: 50, logScale: true) == [5])
        #expect(LogHistogram.segmentLengths([1000], of: 1000, width: 50, logScale: true) == [50])
        #expect(LogHistogram.segmentLengths([3, 1], of: 4, width: 8, logScale: false) == [6, 2])
        #expect(LogHistogram.segmentLengths([0, 0], of: 4, width: 8, logScale: false) == [0, 0])
    }
}

