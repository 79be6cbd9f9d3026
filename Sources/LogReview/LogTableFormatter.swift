import EventLog
import Wire

/// Records as an aligned table for people:
///
/// ```
/// TIME (UTC)               EVENT  REASON         PROTO  SOURCE             DESTINATION    FLAGS  STATE  COUNT  RULE  DETAIL
/// 2026-11-24 21:03:11.482  drop   invalid_flags  TCP    203.0.113.7:51544  192.0.2.10:22  FPU    NONE      37  -     -
/// ```
///
/// Rows are written in batches; each batch is aligned to the widest cell seen so far (widths
/// only grow, so a long run stays mostly aligned while streaming). Every cell is passed through
/// ``TerminalText/sanitize(_:)``. Colour (event type, header) only when asked.
public final class LogTableFormatter {
    /// The column titles, in order.
    public static let titles = ["TIME (UTC)", "EVENT", "REASON", "PROTO", "SOURCE", "DESTINATION", "FLAGS", "STATE",
                                "COUNT", "RULE", "DETAIL"]
    private static let countColumn = 8
    private let output: LogTextOutput
    private let color: Bool
    private let batchSize: Int
    private var widths: [Int]
    private var rows: [(cells: [String], type: EventType)] = []
    private var headerWritten = false

    /// - Parameters:
    ///   - color: use ANSI colours (only when standard output is a terminal).
    ///   - batchSize: rows aligned together before they are written.
    public init(output: LogTextOutput, color: Bool, batchSize: Int = 512) {
        self.output = output
        self.color = color
        self.batchSize = max(1, batchSize)
        widths = Self.titles.map(\.count)
    }

    /// Adds one record (written when the batch fills, or on ``flush()``).
    public func add(_ event: Event) {
        let cells = Self.cells(for: event)
        for (index, cell) in cells.enumerated() where cell.count > widths[index] {
            widths[index] = cell.count
        }
        rows.append((cells, event.eventType))
        if rows.count >= batchSize { flush() }
    }

    /// Writes the rows held (and the header before the first rows), then flushes the output.
    public func flush() {
        if !headerWritten && !rows.isEmpty {
            headerWritten = true
            let header = render(Self.titles)
            output.line(color ? TerminalText.Color.bold.wrap(header) : header)
        }
        for row in rows {
            output.line(render(row.cells, type: row.type))
        }
        rows.removeAll(keepingCapacity: true)
        output.flush()
    }

    private func render(_ cells: [String], type: EventType? = nil) -> String {
        var line = ""
        for (index, cell) in cells.enumerated() {
            if index > 0 { line += "  " }
            if index == cells.count - 1 {
                line += cell  // the last column is not padded
                continue
            }
            let padded = TerminalText.pad(cell, to: widths[index], alignRight: index == Self.countColumn)
            if let type, color, index == 1, let shade = Self.color(for: type) {
                line += shade.wrap(padded)
            } else {
                line += padded
            }
        }
        while line.hasSuffix(" ") { line.removeLast() }
        return line
    }

    static func color(for type: EventType) -> TerminalText.Color? {
        switch type {
        case .drop: return .red
        case .alert, .anomaly: return .yellow
        case .overload: return .magenta
        case .suppressed: return .dim
        case .start, .stop, .reload, .table: return .cyan
        case .flow: return nil
        }
    }

    /// The cells of one row, sanitized; `-` for absent values.
    static func cells(for event: Event) -> [String] {
        func text(_ value: String?) -> String {
            guard let value, !value.isEmpty else { return "-" }
            return TerminalText.sanitize(value)
        }
        return [
            EventTimestamp.displayText(nanoseconds: event.timestampNanoseconds),
            event.eventType.rawValue,
            text(event.reason),
            text(event.proto),
            endpoint(event.sourceIP, event.sourcePort),
            endpoint(event.destinationIP, event.destinationPort),
            event.tcp.map { $0.flagsText.isEmpty ? "-" : $0.flagsText } ?? "-",
            text(event.state),
            String(event.count),
            text(event.rule?.displayName),
            text(detail(of: event)),
        ]
    }

    /// The DETAIL cell: the record's `detail`, and for a flow its packets and bytes each way
    /// and age (`pkts 12>10< bytes 840>1203< age 3s`), for a suppressed record its counts by
    /// reason (`table_full 1700, invalid_flags 100`).
    static func detail(of event: Event) -> String? {
        var parts: [String] = []
        if let flow = event.flow {
            parts.append("pkts \(flow.packetsToServer)>\(flow.packetsToClient)< bytes \(flow.bytesToServer)>"
                + "\(flow.bytesToClient)< age \(flow.ageSeconds)s")
        }
        if let counts = event.suppressedCounts, !counts.reasons.isEmpty {
            parts.append(counts.reasons.prefix(8).map { "\($0.name) \($0.count)" }.joined(separator: ", ")
                + (counts.reasons.count > 8 ? ", …" : ""))
        }
        if let detail = event.detail, !detail.isEmpty { parts.append(detail) }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }

    /// `203.0.113.7:51544`, `[2001:db8::1]:443`, or the address alone without a port.
    static func endpoint(_ address: String, _ port: UInt16?) -> String {
        guard !address.isEmpty else { return "-" }
        return EndpointText.format(TerminalText.sanitize(address), port: port.map(Int.init))
    }
}
