import EventLog
import Foundation
import LogReview
import Sandbox

extension DemoCommand {
    /// What the daemon's event log says happened since a moment: occurrences (aggregated
    /// records count as their `count`) by event type and reason, read with the EventLog reader
    /// that `synwall log` uses.
    struct LogTally {
        /// One record of the log, reduced to what the demo reports.
        struct Entry {
            let type: EventType
            let reason: String
            let detail: String?
            let label: String?
            let source: String
            let sourcePort: UInt16?
            let count: Int
        }

        let entries: [Entry]

        /// Reads the records of `path` first seen at or after `since` (ns since the epoch).
        init(path: String, since: UInt64) {
            var entries: [Entry] = []
            if let reader = try? LogReader(paths: [path]) {
                reader.read(warning: { _ in }) { entry in
                    let event = entry.event
                    if (event.firstSeenNanoseconds ?? event.timestampNanoseconds) >= since {
                        entries.append(Entry(type: event.eventType, reason: event.reason, detail: event.detail,
                                             label: event.rule?.label, source: event.sourceIP,
                                             sourcePort: event.sourcePort, count: max(1, event.count)))
                    }
                    return true
                }
            }
            self.entries = entries
        }

        /// Occurrences of `type` with `reason` (any reason when nil), optionally only those
        /// matching `filter`.
        func count(_ type: EventType, reason: String? = nil, where filter: (Entry) -> Bool = { _ in true }) -> Int {
            entries.filter { $0.type == type && (reason == nil || $0.reason == reason) && filter($0) }
                .reduce(0) { $0 + $1.count }
        }

        /// Records (not occurrences) of `type` with `reason`.
        func records(_ type: EventType, reason: String? = nil) -> Int {
            entries.filter { $0.type == type && (reason == nil || $0.reason == reason) }.count
        }

        /// The distinct details of records of `type` with `reason`, sorted.
        func details(_ type: EventType, reason: String) -> [String] {
            Set(entries.filter { $0.type == type && $0.reason == reason }.compactMap(\.detail)).sorted()
        }
    }

    /// The long download of the demo, followed through the lines `synwall peer download` prints.
    struct DownloadWatch: Sendable {
        let process: SandboxProcess
        let size: UInt64

        /// Bytes received so far (the latest progress line).
        var bytes: UInt64 {
            let text = process.standardOutput
            guard let line = text.split(separator: "\n").last(where: { $0.hasPrefix("synwall peer: received ") })
            else { return 0 }
            return line.split(separator: " ").dropFirst(3).first.flatMap { UInt64($0) } ?? 0
        }

        /// The completion line's fields (`bytes`, `mismatches`, `fnv1a`, `seconds`), once printed.
        var completion: [String: String]? {
            guard let line = process.firstLine(prefix: "synwall peer: download complete ") else { return nil }
            var fields: [String: String] = [:]
            for word in line.split(separator: " ") {
                let pair = word.split(separator: "=", maxSplits: 1)
                if pair.count == 2 { fields[String(pair[0])] = String(pair[1]) }
            }
            return fields
        }

        /// True while the client still reads: the connection is open.
        var isFlowing: Bool { process.isRunning }
    }

    /// Bytes as MiB with one decimal.
    static func mebibytes(_ bytes: UInt64) -> String {
        String(format: "%.1f MiB", Double(bytes) / 1_048_576)
    }

    /// Now, in ns since the epoch (the clock of the log's timestamps).
    static func wallClockNow() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
