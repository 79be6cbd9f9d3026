#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import EventLog
import FuzzSupport
import LogReview
import Wire

/// Fuzzes reading the event log: the input is a JSON Lines file. Every line is parsed in
/// memory; a record must survive writing and reading back unchanged, and is filtered,
/// counted and formatted as `synwall log` does. The same bytes are then read as a file by
/// `LogReader` (whose raw prefilter must agree with the parsed query) and by `LogReview` in
/// the format and mode the last byte picks.
@_cdecl("LLVMFuzzerTestOneInput")
public func logReaderFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data, size > 0 else { return 0 }
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let choice = bytes[size - 1]
    let query = fuzzQueries[Int(choice & 7) % fuzzQueries.count]

    // In memory.
    var parser = LogLineParser()
    let encoder = JSONLinesEncoder()
    var events: [Event] = []
    var matching = 0
    var start = 0
    while start < size {
        var end = start
        while end < size && bytes[end] != 0x0A { end += 1 }
        let line = UnsafeBufferPointer(rebasing: bytes[start ..< end])
        start = end + 1
        do throws(LogLineError) {
            let event = try parser.parse(line)
            events.append(event)
            if query.matches(event) { matching += 1 }
            // What the writer makes of a record must read back as the same record.
            let written = encoder.line(for: event)
            do throws(LogLineError) {
                let again = try parser.parse(written)
                fuzzCheck(encoder.line(for: again) == written, "a record changed on the way back: \(written)")
            } catch {
                fuzzCheck(false, "the writer's line does not parse (\(error)): \(written)")
            }
        } catch {
            fuzzCheck(error.column >= 1 && error.column <= line.count + 1,
                      "error column \(error.column) in a line of \(line.count) bytes: \(error.message)")
        }
    }
    var table = "", csv = ""
    let tableFormatter = LogTableFormatter(output: LogTextOutput(capture: { table += $0 }), color: choice & 8 != 0)
    let csvFormatter = LogCSVFormatter(output: LogTextOutput(capture: { csv += $0 }))
    var histogram = LogHistogram(bucketNanoseconds: 60_000_000_000)
    // One series per value of a key (`--by`), the key chosen by the input.
    var series = LogHistogram(bucketNanoseconds: 60_000_000_000,
                              by: LogTopCounter.Key.allCases[Int(choice >> 2) % LogTopCounter.Key.allCases.count])
    var tops = LogTopCounter.Key.allCases.map { LogTopCounter(key: $0) }
    for event in events {
        tableFormatter.add(event)
        csvFormatter.add(event)
        histogram.add(event)
        series.add(event)
        for index in tops.indices { tops[index].add(event) }
        for prefix in [event.sourceIP, event.destinationIP] { _ = IPPrefix(prefix) }
    }
    tableFormatter.flush()
    csvFormatter.flush()
    fuzzCheck(events.isEmpty || !csv.isEmpty, "no CSV for \(events.count) records")
    var rendered = ""
    let output = LogTextOutput(capture: { rendered += $0 })
    histogram.widenedToFit(maxRows: 20).render(format: .table, width: 60, unicode: true, color: false, to: output)
    let fitted = series.widenedToFit(maxRows: 20)
    fuzzCheck(fitted.seriesBuckets.allSatisfy { $0.counts.allSatisfy { $0 >= 0 } }, "a negative series count")
    fuzzCheck(fitted.seriesBuckets.map { $0.counts.reduce(0, +) } == fitted.buckets.map(\.count),
              "the series do not add up to the buckets")
    fitted.render(format: choice & 32 != 0 ? .json : .table, width: 60, unicode: choice & 64 != 0, color: choice & 8 != 0,
                  logScale: choice & 128 != 0, to: output)
    for top in tops { top.render(limit: 5, format: choice & 16 != 0 ? .csv : .table, color: false, to: output) }
    output.flush()

    // As a file.
    guard let path = scratchFile() else { return 0 }
    let file = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard file >= 0 else { return 0 }
    _ = write(file, data, size)
    close(file)
    do {
        let reader = try LogReader(paths: [path])
        var read = 0
        reader.read(query: query, warning: { _ in }) { _ in
            read += 1
            return true
        }
        // A file that starts with gzip's magic bytes is read as gzip (by design, whatever its
        // name); the in-memory parser reads the raw bytes, so the counts only compare otherwise.
        let gzipMagic = size >= 2 && data[0] == 0x1f && data[1] == 0x8b
        if gzipMagic { return 0 }
        fuzzCheck(read == matching, "the reader found \(read) matching records, the parser \(matching)")
        let formats = LogReviewOptions.Format.allCases
        let modes: [LogReviewOptions.Mode] = [.records, .top(.src, limit: 3), .top(.rule, limit: 3),
                                              .histogram(bucketNanoseconds: 1_000_000_000)]
        let options = LogReviewOptions(paths: [path], query: query, format: formats[Int(choice >> 3 & 3) % formats.count],
                                       mode: modes[Int(choice >> 5 & 3)], color: choice & 0x80 != 0,
                                       unicode: choice & 0x40 != 0, terminalWidth: 50, maxHistogramRows: 12)
        var reviewed = ""
        let summary = try LogReview(options: options).run(output: LogTextOutput(capture: { reviewed += $0 }),
                                                          warn: { _ in })
        fuzzCheck(summary.matched == matching, "the review matched \(summary.matched), the parser \(matching)")
    } catch {
        fuzzCheck(false, "reading the scratch log failed: \(error)")
    }
    return 0
}

/// The queries the last byte picks from.
let fuzzQueries: [LogQuery] = [
    LogQuery(),
    LogQuery(since: 1_700_000_000_000_000_000, until: 1_900_000_000_000_000_000),
    LogQuery(sources: [IPPrefix("203.0.113.0/24")].compactMap { $0 }, ports: [22, 443]),
    LogQuery(reasons: ["bad_seq", "malformed", "policy"], eventTypes: [.drop, .anomaly]),
    LogQuery(destinations: [IPPrefix("2001:db8::/32"), IPPrefix("10.0.0.1")].compactMap { $0 }, rules: ["ssh", "rules/default.rules:40"]),
    LogQuery(since: 1, sources: [IPPrefix("::/0")].compactMap { $0 }, eventTypes: [.flow, .reload, .suppressed]),
]

/// A file of this process's own in a scratch directory (under `TMPDIR`), made once.
func scratchFile() -> String? {
    scratchDirectory.map { $0 + "/events.jsonl" }
}

let scratchDirectory: String? = {
    let base = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
    var template = Array((base + "/synwall-fuzz-log-XXXXXX").utf8CString)
    let made = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
    return made.map { String(cString: $0) }
}()
