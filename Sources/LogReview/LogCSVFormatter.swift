import EventLog

/// Records as CSV (RFC 4180: comma-separated, CRLF-free, fields with `,` `"` or line breaks
/// quoted, `"` doubled), one header line first. A text field that starts with `=`, `+`, `-`,
/// `@`, a tab or a carriage return gets a leading `'`, so a spreadsheet never runs it as a
/// formula.
public final class LogCSVFormatter {
    /// The header's columns, in order.
    public static let columns = ["timestamp", "event_type", "flow_id", "in_iface", "direction", "proto", "src_ip",
                                 "src_port", "dest_ip", "dest_port", "reason", "state", "flags", "count", "first_seen",
                                 "last_seen", "rule_file", "rule_line", "rule_label", "detail", "pkts_toserver",
                                 "pkts_toclient", "bytes_toserver", "bytes_toclient", "age"]
    private let output: LogTextOutput
    private var headerWritten = false

    /// Writes to `output`.
    public init(output: LogTextOutput) {
        self.output = output
    }

    /// Writes one record (the header first, once).
    public func add(_ event: Event) {
        if !headerWritten {
            headerWritten = true
            output.line(Self.columns.joined(separator: ","))
        }
        func time(_ ns: UInt64?) -> String { ns.map { EventTimestamp.string(nanoseconds: $0) } ?? "" }
        func number<T: BinaryInteger>(_ value: T?) -> String { value.map { String($0) } ?? "" }
        let fields: [String] = [
            time(event.timestampNanoseconds),
            event.eventType.rawValue,
            number(event.flowID),
            Self.field(event.inInterface ?? ""),
            event.direction?.rawValue ?? "",
            Self.field(event.proto),
            Self.field(event.sourceIP),
            number(event.sourcePort),
            Self.field(event.destinationIP),
            number(event.destinationPort),
            Self.field(event.reason),
            Self.field(event.state ?? ""),
            event.tcp?.flagsText ?? "",
            String(event.count),
            time(event.firstSeenNanoseconds),
            time(event.lastSeenNanoseconds),
            Self.field(event.rule?.file ?? ""),
            number(event.rule?.line),
            Self.field(event.rule?.label ?? ""),
            Self.field(event.detail ?? ""),
            number(event.flow?.packetsToServer),
            number(event.flow?.packetsToClient),
            number(event.flow?.bytesToServer),
            number(event.flow?.bytesToClient),
            number(event.flow?.ageSeconds),
        ]
        output.line(fields.joined(separator: ","))
    }

    /// Flushes the output.
    public func flush() {
        output.flush()
    }

    /// One text field, guarded and quoted as needed.
    public static func field(_ text: String) -> String {
        var value = text
        if let first = value.unicodeScalars.first, ["=", "+", "-", "@", "\t", "\r"].contains(first) {
            // A leading minus on an address (::1 never starts with '-') or a number never
            // happens in a record; anything else starting so is text.
            value = "'" + value
        }
        let needsQuotes = value.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        guard needsQuotes else { return value }
        return "\"" + value.replacingAll("\"", with: "\"\"") + "\""
    }
}

extension String {
    /// Every `target` replaced (no Foundation).
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var result = ""
        result.reserveCapacity(utf8.count + 8)
        for character in self {
            if character == target { result += replacement } else { result.append(character) }
        }
        return result
    }
}
