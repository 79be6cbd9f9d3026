import EventLog

/// Who and what appears most: counts of records about packets by one key, each record
/// weighted by its `count` (an aggregated record stands for that many occurrences). Records
/// without the key (no rule, no port) are not counted.
public struct LogTopCounter {
    /// What to count by.
    public enum Key: String, Sendable, CaseIterable {
        /// The source address.
        case src
        /// The destination address.
        case dst
        /// The destination port.
        case port
        /// The reason.
        case reason
        /// The rule (its label, or `file:line`).
        case rule

        /// The key in `--json` rows: the event log's field name (`src_ip`, `dest_ip`,
        /// `dest_port`, `reason`, `rule`).
        public var jsonKey: String {
            switch self {
            case .src: return "src_ip"
            case .dst: return "dest_ip"
            case .port: return "dest_port"
            case .reason: return "reason"
            case .rule: return "rule"
            }
        }

        /// The column title in the table.
        public var title: String {
            switch self {
            case .src: return "SOURCE"
            case .dst: return "DESTINATION"
            case .port: return "PORT"
            case .reason: return "REASON"
            case .rule: return "RULE"
            }
        }
    }

    /// The key counted by.
    public let key: Key
    private var counts: [String: Int] = [:]
    /// Occurrences counted (the sum over all names).
    public private(set) var total = 0
    /// Occurrences the log left out (`suppressed` records: over the records-per-second cap, or
    /// lost) that cannot be counted by the key: a suppressed record carries counts by reason
    /// and by its most frequent sources, which are counted; the rest is here.
    public private(set) var leftOut = 0

    /// Creates an empty counter by `key`.
    public init(key: Key) {
        self.key = key
    }

    /// Counts `event` when it is about packets and has the key.
    public mutating func add(_ event: Event) {
        if event.eventType == .suppressed {
            let total = max(1, event.count)
            var pairs: [SuppressedCounts.NameCount] = []
            switch key {
            case .reason: pairs = event.suppressedCounts?.reasons ?? []
            case .src: pairs = event.suppressedCounts?.sources ?? []
            case .dst, .port, .rule: break
            }
            var counted = 0
            for pair in pairs where !pair.name.isEmpty && pair.count > 0 {
                counts[pair.name, default: 0] += pair.count
                counted += pair.count
            }
            self.total += counted
            leftOut += max(0, total - counted)
            return
        }
        guard event.eventType.isAboutPackets, let name = Self.name(of: event, by: key) else { return }
        let weight = max(1, event.count)
        counts[name, default: 0] += weight
        total += weight
    }

    /// The value of `key` in `event`, or nil when it has none (no port, no rule).
    public static func name(of event: Event, by key: Key) -> String? {
        let name: String
        switch key {
        case .src: name = event.sourceIP
        case .dst: name = event.destinationIP
        case .port:
            guard let port = event.destinationPort else { return nil }
            name = String(port)
        case .reason: name = event.reason
        case .rule: name = event.rule?.displayName ?? ""
        }
        return name.isEmpty ? nil : name
    }

    /// The `limit` names with the highest counts, highest first (ties by name).
    public func top(_ limit: Int) -> [(name: String, count: Int)] {
        let sorted = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        return sorted.prefix(max(0, limit)).map { ($0.key, $0.value) }
    }

    /// Writes the top `limit` as a table (name, count, share of the total), JSON Lines
    /// (`{"src_ip":"…","count":N}`, the event log's key names) or CSV (`src,count`).
    public func render(limit: Int, format: LogReviewOptions.Format, color: Bool, to output: LogTextOutput) {
        let rows = top(limit)
        switch format {
        case .json:
            for row in rows {
                var line: [UInt8] = Array("{\"\(key.jsonKey)\":".utf8)
                if key == .port {
                    line.append(contentsOf: row.name.utf8)
                } else {
                    JSONLinesEncoder.appendString(row.name, into: &line)
                }
                line.append(contentsOf: ",\"count\":\(row.count)}".utf8)
                output.line(String(decoding: line, as: UTF8.self))
            }
        case .csv:
            output.line("\(key.rawValue),count")
            for row in rows {
                output.line("\(LogCSVFormatter.field(row.name)),\(row.count)")
            }
        case .table:
            let names = rows.map { TerminalText.sanitize($0.name) }
            let counts = rows.map { String($0.count) }
            let nameWidth = max(key.title.count, names.map(\.count).max() ?? 0)
            let countWidth = max(5, counts.map(\.count).max() ?? 0)
            let header = TerminalText.pad(key.title, to: nameWidth) + "  " + TerminalText.pad("COUNT", to: countWidth, alignRight: true)
                + "   SHARE"
            output.line(color ? TerminalText.Color.bold.wrap(header) : header)
            for (index, row) in rows.enumerated() {
                let share = total > 0 ? Double(row.count) * 100 / Double(total) : 0
                output.line(TerminalText.pad(names[index], to: nameWidth) + "  "
                    + TerminalText.pad(counts[index], to: countWidth, alignRight: true) + "  "
                    + TerminalText.pad(Self.percent(share), to: 6, alignRight: true))
            }
            var footer = "\(counts.count) of \(self.counts.count) shown; \(total) occurrences in all"
            if leftOut > 0 {
                footer += ", and \(leftOut) more the log only counted (suppressed records: over its rate cap or lost)"
            }
            output.line(color ? TerminalText.Color.dim.wrap(footer) : footer)
        }
        output.flush()
    }

    /// `61.2%` (one decimal, no Foundation).
    static func percent(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)%"
    }
}
