#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import EventLog
import Wire

/// Reads one JSON Lines record back into an ``Event``: the inverse of ``JSONLinesEncoder``,
/// written for speed (bytes in, no Foundation, no intermediate dictionary).
///
/// Both layouts are read: the fields proper to a type nested in an object named after it
/// (`"drop":{"reason":…}`, written since the EVE layout) and the flat keys older logs wrote
/// (`"reason":…` at the top level). Keys may come in any order; unknown keys (from a newer synwall, or added by another tool)
/// are skipped whatever their value; `null` counts as absent. `timestamp` and `event_type` are
/// required. Strings are unescaped (`\uXXXX` with surrogate pairs included); invalid UTF-8 is
/// repaired with U+FFFD. Anything that is not one JSON object, or a known key whose value has
/// the wrong type or range, makes the line malformed.
public struct LogLineParser {
    /// Reused for strings with escapes.
    private var scratch: [UInt8] = []

    /// Creates a parser (it keeps a scratch buffer; use one per thread).
    public init() {
        scratch.reserveCapacity(256)
    }

    /// Parses `line` (without its newline).
    ///
    /// - Throws: ``LogLineError`` naming the column where the line stops being a record.
    public mutating func parse(_ line: UnsafeBufferPointer<UInt8>) throws(LogLineError) -> Event {
        let raw = try scan(line)
        return try event(from: raw, in: line)
    }

    /// Parses a line given as text; see ``parse(_:)-(UnsafeBufferPointer<UInt8>)``.
    public mutating func parse(_ line: String) throws(LogLineError) -> Event {
        var copy = line
        let result: Result<Event, LogLineError> = copy.withUTF8 { bytes in
            do throws(LogLineError) {
                return .success(try parse(bytes))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    // MARK: - Records

    /// Checks the whole line and notes where each field is, building no `String`: the reader
    /// filters on this and builds an ``Event`` only for the records that match.
    mutating func scan(_ line: UnsafeBufferPointer<UInt8>) throws(LogLineError) -> LogRawRecord {
        var c = JSONCursor(bytes: line)
        var record = LogRawRecord()
        var haveTimestamp = false
        var haveType = false
        c.skipSpace()
        try c.expect(UInt8(ascii: "{"), "a record must be a JSON object starting with '{'")
        c.skipSpace()
        if !c.consume(UInt8(ascii: "}")) {
            while true {
                c.skipSpace()
                let key = try c.key()
                c.skipSpace()
                try c.expect(UInt8(ascii: ":"), "expected ':' after a key")
                c.skipSpace()
                if c.consumeNull() {
                    // null: absent
                } else {
                    switch key {
                    case .timestamp:
                        record.timestamp = try timestamp(&c)
                        haveTimestamp = true
                    case .eventType:
                        let start = c.position
                        let raw = try c.rawString()
                        guard let type = Self.eventType(raw) else {
                            let text = c.lastStringHadEscape ? try string(raw, &c) : String(decoding: raw, as: UTF8.self)
                            throw LogLineError("unknown event_type \(Self.quoted(text))", column: start + 1)
                        }
                        record.eventType = type
                        haveType = true
                    case .flowID: record.flowID = try c.unsigned(max: .max)
                    case .queue: record.queue = Int(try c.unsigned(max: UInt64(Int32.max)))
                    case .inInterface: record.inInterface = try slice(&c)
                    case .direction: record.direction = Self.direction(try c.rawString())
                    case .proto: record.proto = try slice(&c)
                    case .sourceIP: record.sourceIP = try slice(&c)
                    case .sourcePort: record.sourcePort = UInt16(try c.unsigned(max: 65535))
                    case .destinationIP: record.destinationIP = try slice(&c)
                    case .destinationPort: record.destinationPort = UInt16(try c.unsigned(max: 65535))
                    case .reason: record.reason = try slice(&c)
                    case .detail: record.detail = try slice(&c)
                    case .state: record.state = try slice(&c)
                    case .rule: try rule(&c, into: &record)
                    case .drop, .alert, .anomaly, .flow, .overload, .reload, .start, .stop, .suppressed:
                        try typeObject(&c, into: &record)
                    case .tcp: record.tcp = try tcp(&c)
                    case .count: record.count = Int(try c.unsigned(max: UInt64(Int.max)))
                    case .firstSeen: record.firstSeen = try timestamp(&c)
                    case .lastSeen: record.lastSeen = try timestamp(&c)
                    default: try c.skipValue(depth: 0)
                    }
                }
                c.skipSpace()
                if c.consume(UInt8(ascii: ",")) { continue }
                try c.expect(UInt8(ascii: "}"), "expected ',' or '}' after a value")
                break
            }
        }
        c.skipSpace()
        guard c.atEnd else { throw LogLineError("text after the record's closing '}'", column: c.position + 1) }
        guard haveTimestamp else { throw LogLineError("no \"timestamp\"", column: 1) }
        guard haveType else { throw LogLineError("no \"event_type\"", column: 1) }
        return record
    }

    /// The ``Event`` of a scanned record: its strings built from `line`, unescaped.
    mutating func event(from record: LogRawRecord, in line: UnsafeBufferPointer<UInt8>) throws(LogLineError) -> Event {
        var event = Event(timestampNanoseconds: record.timestamp, eventType: record.eventType, flowID: record.flowID,
                          queue: record.queue, direction: record.direction, sourcePort: record.sourcePort,
                          destinationPort: record.destinationPort, tcp: record.tcp, count: record.count,
                          firstSeenNanoseconds: record.firstSeen, lastSeenNanoseconds: record.lastSeen)
        event.inInterface = try text(record.inInterface, line)
        event.proto = try text(record.proto, line) ?? ""
        event.sourceIP = try text(record.sourceIP, line) ?? ""
        event.destinationIP = try text(record.destinationIP, line) ?? ""
        event.reason = try text(record.reason, line) ?? ""
        event.detail = try text(record.detail, line)
        event.state = try text(record.state, line)
        if record.hasRule {
            event.rule = EventRule(file: try text(record.ruleFile, line) ?? "", line: record.ruleLine,
                                   label: try text(record.ruleLabel, line))
        }
        event.flow = record.flow
        if record.reasons.isPresent || record.sources.isPresent {
            event.suppressedCounts = SuppressedCounts(reasons: try counts(record.reasons, line),
                                                      sources: try counts(record.sources, line))
        }
        return event
    }

    /// The pairs of a `{"name":count,…}` object located by `slice` (from its `{` to its `}`).
    private mutating func counts(_ slice: LogRawRecord.Slice, _ line: UnsafeBufferPointer<UInt8>)
        throws(LogLineError) -> [SuppressedCounts.NameCount] {
        guard slice.isPresent else { return [] }
        var c = JSONCursor(bytes: line, position: Int(slice.start))
        var pairs: [SuppressedCounts.NameCount] = []
        try c.expect(UInt8(ascii: "{"), "expected an object")
        c.skipSpace()
        if c.consume(UInt8(ascii: "}")) { return pairs }
        while true {
            c.skipSpace()
            let name = try string(&c)
            c.skipSpace()
            try c.expect(UInt8(ascii: ":"), "expected ':' after a key")
            c.skipSpace()
            let count = Int(try c.unsigned(max: UInt64(Int.max)))
            pairs.append(SuppressedCounts.NameCount(name, count))
            c.skipSpace()
            if c.consume(UInt8(ascii: ",")) { continue }
            try c.expect(UInt8(ascii: "}"), "expected ',' or '}' in an object")
            return pairs
        }
    }

    /// The object named after the record's type (`"drop":{…}`, `"flow":{…}`…): the fields
    /// proper to the type, which older logs wrote at the top level (both are read).
    private mutating func typeObject(_ c: inout JSONCursor, into record: inout LogRawRecord) throws(LogLineError) {
        var flow = FlowFields(packetsToServer: 0, packetsToClient: 0, bytesToServer: 0, bytesToClient: 0,
                              startNanoseconds: 0, endNanoseconds: 0)
        var hasFlow = false
        try Self.object(&c) { (key, c) throws(LogLineError) in
            switch key {
            case .reason: record.reason = try slice(&c)
            case .detail: record.detail = try slice(&c)
            case .state: record.state = try slice(&c)
            case .rule: try rule(&c, into: &record)
            case .packetsToServer: flow.packetsToServer = try c.unsigned(max: .max); hasFlow = true
            case .packetsToClient: flow.packetsToClient = try c.unsigned(max: .max); hasFlow = true
            case .bytesToServer: flow.bytesToServer = try c.unsigned(max: .max); hasFlow = true
            case .bytesToClient: flow.bytesToClient = try c.unsigned(max: .max); hasFlow = true
            case .start: flow.startNanoseconds = try timestamp(&c); hasFlow = true
            case .end: flow.endNanoseconds = try timestamp(&c); hasFlow = true
            case .reasons: record.reasons = try objectSlice(&c)
            case .sources: record.sources = try objectSlice(&c)
            default: try c.skipValue(depth: 1)
            }
        }
        if hasFlow { record.flow = flow }
    }

    /// Where the object at the cursor is (checked, skipped), from its `{` to its `}`.
    private func objectSlice(_ c: inout JSONCursor) throws(LogLineError) -> LogRawRecord.Slice {
        let start = c.position
        guard c.position < c.bytes.count, c.bytes[c.position] == UInt8(ascii: "{") else {
            throw LogLineError("expected an object", column: c.position + 1)
        }
        try c.skipValue(depth: 1)
        return LogRawRecord.Slice(start: Int32(truncatingIfNeeded: start),
                                  count: Int32(truncatingIfNeeded: c.position - start), escaped: false)
    }

    /// The text of `slice`, or nil when absent.
    mutating func text(_ slice: LogRawRecord.Slice, _ line: UnsafeBufferPointer<UInt8>) throws(LogLineError) -> String? {
        guard slice.isPresent, let base = line.baseAddress else { return nil }
        let raw = UnsafeBufferPointer(start: base + Int(slice.start), count: Int(slice.count))
        if !slice.escaped {
            return String(decoding: raw, as: UTF8.self)
        }
        scratch.removeAll(keepingCapacity: true)
        try JSONCursor.unescape(raw, from: Int(slice.start) + 1, into: &scratch)
        return String(decoding: scratch, as: UTF8.self)
    }

    /// Where the string value at the cursor is; its escapes are checked now (rare), decoded later.
    private mutating func slice(_ c: inout JSONCursor) throws(LogLineError) -> LogRawRecord.Slice {
        let raw = try c.rawString()
        let start = raw.baseAddress.map { $0 - (c.bytes.baseAddress ?? $0) } ?? 0
        if c.lastStringHadEscape {
            scratch.removeAll(keepingCapacity: true)
            try JSONCursor.unescape(raw, from: c.lastStringStart, into: &scratch)
        }
        return LogRawRecord.Slice(start: Int32(truncatingIfNeeded: start), count: Int32(truncatingIfNeeded: raw.count),
                                  escaped: c.lastStringHadEscape)
    }

    private mutating func rule(_ c: inout JSONCursor, into record: inout LogRawRecord) throws(LogLineError) {
        var file = LogRawRecord.Slice()
        var label = LogRawRecord.Slice()
        var line = 0
        try Self.object(&c) { (key, c) throws(LogLineError) in
            switch key {
            case .file: file = try slice(&c)
            case .line: line = Int(try c.unsigned(max: UInt64(Int32.max)))
            case .label: label = try slice(&c)
            default: try c.skipValue(depth: 1)
            }
        }
        record.hasRule = true
        record.ruleFile = file
        record.ruleLine = line
        record.ruleLabel = label
    }

    private mutating func tcp(_ c: inout JSONCursor) throws(LogLineError) -> TCPFields {
        var tcp = TCPFields(flags: 0, seq: 0, ack: 0, win: 0)
        var seqMin: UInt32?, seqMax: UInt32?, ackMin: UInt32?, ackMax: UInt32?
        try Self.object(&c) { (key, c) throws(LogLineError) in
            switch key {
            case .flags:
                let start = c.position
                let text = try c.rawString()
                guard let bits = TCPFields.flags(fromText: text) else {
                    throw LogLineError("tcp flags must be letters of FSRPAUEC", column: start + 1)
                }
                tcp.flags = bits
            case .seq: tcp.seq = UInt32(try c.unsigned(max: UInt64(UInt32.max)))
            case .ack: tcp.ack = UInt32(try c.unsigned(max: UInt64(UInt32.max)))
            case .win: tcp.win = UInt16(try c.unsigned(max: UInt64(UInt16.max)))
            case .seqMin: seqMin = UInt32(try c.unsigned(max: UInt64(UInt32.max)))
            case .seqMax: seqMax = UInt32(try c.unsigned(max: UInt64(UInt32.max)))
            case .ackMin: ackMin = UInt32(try c.unsigned(max: UInt64(UInt32.max)))
            case .ackMax: ackMax = UInt32(try c.unsigned(max: UInt64(UInt32.max)))
            default: try c.skipValue(depth: 1)
            }
        }
        if let seqMin, let seqMax { tcp.seqWindow = TCPWindowBounds(lower: seqMin, upper: seqMax) }
        if let ackMin, let ackMax { tcp.ackWindow = TCPWindowBounds(lower: ackMin, upper: ackMax) }
        return tcp
    }

    /// Walks a nested object, calling `member` with each key and the cursor at its value.
    private static func object(_ c: inout JSONCursor,
                                 _ member: (Key, inout JSONCursor) throws(LogLineError) -> Void) throws(LogLineError) {
        try c.expect(UInt8(ascii: "{"), "expected an object")
        c.skipSpace()
        if c.consume(UInt8(ascii: "}")) { return }
        while true {
            c.skipSpace()
            let key = try c.key()
            c.skipSpace()
            try c.expect(UInt8(ascii: ":"), "expected ':' after a key")
            c.skipSpace()
            if !c.consumeNull() {
                try member(key, &c)
            }
            c.skipSpace()
            if c.consume(UInt8(ascii: ",")) { continue }
            try c.expect(UInt8(ascii: "}"), "expected ',' or '}' in an object")
            return
        }
    }

    private mutating func timestamp(_ c: inout JSONCursor) throws(LogLineError) -> UInt64 {
        let start = c.position
        let raw = try c.rawString()
        guard let value = EventTimestamp.parse(raw) else {
            throw LogLineError("not an RFC 3339 time", column: start + 1)
        }
        return value
    }

    /// A JSON string value, unescaped.
    private mutating func string(_ c: inout JSONCursor) throws(LogLineError) -> String {
        let raw = try c.rawString()
        return try string(raw, &c)
    }

    /// The text of `raw`, the string ``JSONCursor/rawString()`` just returned.
    private mutating func string(_ raw: UnsafeBufferPointer<UInt8>, _ c: inout JSONCursor) throws(LogLineError) -> String {
        if !c.lastStringHadEscape {
            return String(decoding: raw, as: UTF8.self)
        }
        scratch.removeAll(keepingCapacity: true)
        try JSONCursor.unescape(raw, from: c.lastStringStart, into: &scratch)
        return String(decoding: scratch, as: UTF8.self)
    }

    /// The event type spelled by `raw` (no escapes in any of them), or nil.
    private static func eventType(_ raw: UnsafeBufferPointer<UInt8>) -> EventType? {
        switch raw.count {
        case 4:
            if equal(raw, "drop") { return .drop }
            if equal(raw, "flow") { return .flow }
            if equal(raw, "stop") { return .stop }
        case 5:
            if equal(raw, "alert") { return .alert }
            if equal(raw, "start") { return .start }
            if equal(raw, "table") { return .table }
        case 6: if equal(raw, "reload") { return .reload }
        case 7: if equal(raw, "anomaly") { return .anomaly }
        case 8: if equal(raw, "overload") { return .overload }
        case 10: if equal(raw, "suppressed") { return .suppressed }
        default: break
        }
        return nil
    }

    private static func direction(_ raw: UnsafeBufferPointer<UInt8>) -> Direction? {
        if equal(raw, "in") { return .in }
        if equal(raw, "out") { return .out }
        if equal(raw, "forward") { return .forward }
        return nil
    }

    /// Whether `raw` holds exactly the bytes of `text` (no allocation, no lazy globals).
    @inline(__always)
    static func equal(_ raw: UnsafeBufferPointer<UInt8>, _ text: StaticString) -> Bool {
        guard raw.count == text.utf8CodeUnitCount, let base = raw.baseAddress else { return raw.isEmpty && text.utf8CodeUnitCount == 0 }
        return memcmp(base, text.utf8Start, raw.count) == 0
    }

    private static func quoted(_ text: String) -> String {
        var buffer: [UInt8] = []
        JSONLinesEncoder.appendString(String(text.prefix(40)), into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}

extension LogLineParser {
    /// Known keys, recognised from their bytes without building a `String`.
    enum Key {
        case timestamp, eventType, flowID, queue, inInterface, direction, proto, sourceIP, sourcePort
        case destinationIP, destinationPort, reason, detail, state, rule, tcp, count, firstSeen, lastSeen
        case file, line, label, flags, seq, ack, win, seqMin, seqMax, ackMin, ackMax
        case drop, alert, anomaly, flow, overload, reload, start, stop, suppressed
        case packetsToServer, packetsToClient, bytesToServer, bytesToClient, end, age, reasons, sources
        case unknown

        /// The key spelled by `bytes` (a switch on length, then one comparison per candidate).
        static func of(_ b: UnsafeBufferPointer<UInt8>) -> Key {
            switch b.count {
            case 3:
                if equal(b, "tcp") { return .tcp }
                if equal(b, "end") { return .end }
                if equal(b, "age") { return .age }
                if equal(b, "seq") { return .seq }
                if equal(b, "ack") { return .ack }
                if equal(b, "win") { return .win }
            case 4:
                if equal(b, "rule") { return .rule }
                if equal(b, "file") { return .file }
                if equal(b, "line") { return .line }
                if equal(b, "drop") { return .drop }
                if equal(b, "flow") { return .flow }
                if equal(b, "stop") { return .stop }
            case 5:
                if equal(b, "alert") { return .alert }
                if equal(b, "start") { return .start }
                switch b[0] {
                case UInt8(ascii: "p"): if equal(b, "proto") { return .proto }
                case UInt8(ascii: "s"): if equal(b, "state") { return .state }
                case UInt8(ascii: "c"): if equal(b, "count") { return .count }
                case UInt8(ascii: "q"): if equal(b, "queue") { return .queue }
                case UInt8(ascii: "f"): if equal(b, "flags") { return .flags }
                case UInt8(ascii: "l"): if equal(b, "label") { return .label }
                default: break
                }
            case 6:
                if equal(b, "src_ip") { return .sourceIP }
                if equal(b, "reason") { return .reason }
                if equal(b, "detail") { return .detail }
                if equal(b, "reload") { return .reload }
            case 7:
                if equal(b, "anomaly") { return .anomaly }
                if equal(b, "reasons") { return .reasons }
                if equal(b, "sources") { return .sources }
                switch b[0] {
                case UInt8(ascii: "d"): if equal(b, "dest_ip") { return .destinationIP }
                case UInt8(ascii: "f"): if equal(b, "flow_id") { return .flowID }
                case UInt8(ascii: "s"):
                    if equal(b, "seq_min") { return .seqMin }
                    if equal(b, "seq_max") { return .seqMax }
                case UInt8(ascii: "a"):
                    if equal(b, "ack_min") { return .ackMin }
                    if equal(b, "ack_max") { return .ackMax }
                default: break
                }
            case 8:
                if equal(b, "overload") { return .overload }
                if equal(b, "src_port") { return .sourcePort }
                if equal(b, "in_iface") { return .inInterface }
            case 9:
                switch b[0] {
                case UInt8(ascii: "t"): if equal(b, "timestamp") { return .timestamp }
                case UInt8(ascii: "d"):
                    if equal(b, "dest_port") { return .destinationPort }
                    if equal(b, "direction") { return .direction }
                case UInt8(ascii: "l"): if equal(b, "last_seen") { return .lastSeen }
                default: break
                }
            case 13:
                if equal(b, "pkts_toserver") { return .packetsToServer }
                if equal(b, "pkts_toclient") { return .packetsToClient }
            case 14:
                if equal(b, "bytes_toserver") { return .bytesToServer }
                if equal(b, "bytes_toclient") { return .bytesToClient }
            case 10:
                if equal(b, "suppressed") { return .suppressed }
                if equal(b, "event_type") { return .eventType }
                if equal(b, "first_seen") { return .firstSeen }
            default: break
            }
            return .unknown
        }

        @inline(__always)
        private static func equal(_ raw: UnsafeBufferPointer<UInt8>, _ text: StaticString) -> Bool {
            LogLineParser.equal(raw, text)
        }
    }
}

extension JSONCursor {
    /// The key of an object member as a known record key (an escaped key is never one).
    mutating func key() throws(LogLineError) -> LogLineParser.Key {
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
            throw LogLineError("expected a key in double quotes", column: position + 1)
        }
        let raw = try rawString()
        return lastStringHadEscape ? .unknown : LogLineParser.Key.of(raw)
    }
}
