/// Reads one JSON Lines record back into an ``Event``: the inverse of ``JSONLinesEncoder``,
/// written for speed (bytes in, no Foundation, no intermediate dictionary).
///
/// Keys may come in any order; unknown keys (from a newer synwall, or added by another tool)
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
        var cursor = Cursor(bytes: line)
        return try parseRecord(&cursor)
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

    private mutating func parseRecord(_ c: inout Cursor) throws(LogLineError) -> Event {
        var event = Event(timestampNanoseconds: 0, eventType: .drop)
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
                        event.timestampNanoseconds = try timestamp(&c)
                        haveTimestamp = true
                    case .eventType:
                        let start = c.position
                        let text = try string(&c)
                        guard let type = EventType(rawValue: text) else {
                            throw LogLineError("unknown event_type \(Self.quoted(text))", column: start + 1)
                        }
                        event.eventType = type
                        haveType = true
                    case .flowID: event.flowID = try c.unsigned(max: .max)
                    case .queue: event.queue = Int(try c.unsigned(max: UInt64(Int32.max)))
                    case .inInterface: event.inInterface = try string(&c)
                    case .direction: event.direction = EventDirection(rawValue: try string(&c))
                    case .proto: event.proto = try string(&c)
                    case .sourceIP: event.sourceIP = try string(&c)
                    case .sourcePort: event.sourcePort = UInt16(try c.unsigned(max: 65535))
                    case .destinationIP: event.destinationIP = try string(&c)
                    case .destinationPort: event.destinationPort = UInt16(try c.unsigned(max: 65535))
                    case .reason: event.reason = try string(&c)
                    case .detail: event.detail = try string(&c)
                    case .state: event.state = try string(&c)
                    case .rule: event.rule = try rule(&c)
                    case .tcp: event.tcp = try tcp(&c)
                    case .count: event.count = Int(try c.unsigned(max: UInt64(Int.max)))
                    case .firstSeen: event.firstSeenNanoseconds = try timestamp(&c)
                    case .lastSeen: event.lastSeenNanoseconds = try timestamp(&c)
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
        return event
    }

    private mutating func rule(_ c: inout Cursor) throws(LogLineError) -> EventRule {
        var rule = EventRule(file: "", line: 0)
        try Self.object(&c) { (key, c) throws(LogLineError) in
            switch key {
            case .file: rule.file = try string(&c)
            case .line: rule.line = Int(try c.unsigned(max: UInt64(Int32.max)))
            case .label: rule.label = try string(&c)
            default: try c.skipValue(depth: 1)
            }
        }
        return rule
    }

    private mutating func tcp(_ c: inout Cursor) throws(LogLineError) -> TCPFields {
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
    private static func object(_ c: inout Cursor,
                                 _ member: (Key, inout Cursor) throws(LogLineError) -> Void) throws(LogLineError) {
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

    private mutating func timestamp(_ c: inout Cursor) throws(LogLineError) -> UInt64 {
        let start = c.position
        let raw = try c.rawString()
        guard let value = EventTimestamp.parse(raw) else {
            throw LogLineError("not an RFC 3339 time", column: start + 1)
        }
        return value
    }

    /// A JSON string value, unescaped.
    private mutating func string(_ c: inout Cursor) throws(LogLineError) -> String {
        let raw = try c.rawString()
        if !c.lastStringHadEscape {
            return String(decoding: raw, as: UTF8.self)
        }
        scratch.removeAll(keepingCapacity: true)
        try Self.unescape(raw, from: c.lastStringStart, into: &scratch)
        return String(decoding: scratch, as: UTF8.self)
    }

    private static func unescape(_ raw: UnsafeBufferPointer<UInt8>, from column: Int,
                                 into output: inout [UInt8]) throws(LogLineError) {
        var i = 0
        while i < raw.count {
            let byte = raw[i]
            i += 1
            guard byte == UInt8(ascii: "\\") else {
                output.append(byte)
                continue
            }
            guard i < raw.count else { throw LogLineError("unfinished escape", column: column + i) }
            let escaped = raw[i]
            i += 1
            switch escaped {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(escaped)
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "u"):
                guard let unit = hex4(raw, at: i) else { throw LogLineError("bad \\u escape", column: column + i) }
                i += 4
                var scalar = UInt32(unit)
                if (0xD800..<0xDC00).contains(unit) {
                    // A high surrogate: take the low one that must follow.
                    if i + 6 <= raw.count, raw[i] == UInt8(ascii: "\\"), raw[i + 1] == UInt8(ascii: "u"),
                       let low = hex4(raw, at: i + 2), (0xDC00..<0xE000).contains(low)
                    {
                        scalar = 0x10000 + (UInt32(unit) - 0xD800) << 10 + (UInt32(low) - 0xDC00)
                        i += 6
                    } else {
                        scalar = 0xFFFD
                    }
                } else if (0xDC00..<0xE000).contains(unit) {
                    scalar = 0xFFFD
                }
                appendUTF8(Unicode.Scalar(scalar) ?? "\u{FFFD}", into: &output)
            default:
                throw LogLineError("unknown escape '\\\(Unicode.Scalar(escaped))'", column: column + i - 1)
            }
        }
    }

    private static func hex4(_ raw: UnsafeBufferPointer<UInt8>, at index: Int) -> UInt16? {
        guard index + 4 <= raw.count else { return nil }
        var value: UInt16 = 0
        for k in index..<index + 4 {
            let byte = raw[k]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt16(digit)
        }
        return value
    }

    private static func appendUTF8(_ scalar: Unicode.Scalar, into output: inout [UInt8]) {
        for unit in UTF8.encode(scalar) ?? UTF8.encode("\u{FFFD}")! {
            output.append(unit)
        }
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
        case unknown

        private static let names: [(String, Key)] = [
            ("timestamp", .timestamp), ("event_type", .eventType), ("flow_id", .flowID), ("queue", .queue),
            ("in_iface", .inInterface), ("direction", .direction), ("proto", .proto), ("src_ip", .sourceIP),
            ("src_port", .sourcePort), ("dest_ip", .destinationIP), ("dest_port", .destinationPort),
            ("reason", .reason), ("detail", .detail), ("state", .state), ("rule", .rule), ("tcp", .tcp),
            ("count", .count), ("first_seen", .firstSeen), ("last_seen", .lastSeen), ("file", .file),
            ("line", .line), ("label", .label), ("flags", .flags), ("seq", .seq), ("ack", .ack), ("win", .win),
            ("seq_min", .seqMin), ("seq_max", .seqMax), ("ack_min", .ackMin), ("ack_max", .ackMax),
        ]

        /// The names grouped by length, so a lookup compares only names as long as the key.
        private static let byLength: [[(bytes: [UInt8], key: Key)]] = {
            var groups = [[(bytes: [UInt8], key: Key)]](repeating: [], count: 11)
            for (name, key) in names {
                groups[name.utf8.count].append((Array(name.utf8), key))
            }
            return groups
        }()

        static func of(_ bytes: UnsafeBufferPointer<UInt8>) -> Key {
            guard bytes.count < byLength.count else { return .unknown }
            for entry in byLength[bytes.count] {
                if entry.bytes.withUnsafeBufferPointer({ memoryEqual($0, bytes) }) { return entry.key }
            }
            return .unknown
        }

        private static func memoryEqual(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
            for i in 0..<a.count where a[i] != b[i] { return false }
            return true
        }
    }

    /// A position in the line's bytes.
    struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0
        /// Whether the last ``rawString()`` contained a backslash escape.
        var lastStringHadEscape = false
        /// The column (from 1) of the last string's first content byte.
        var lastStringStart = 0

        var atEnd: Bool { position >= bytes.count }

        @inline(__always)
        mutating func skipSpace() {
            while position < bytes.count {
                switch bytes[position] {
                case 0x20, 0x09, 0x0D, 0x0A: position += 1
                default: return
                }
            }
        }

        @inline(__always)
        mutating func consume(_ byte: UInt8) -> Bool {
            guard position < bytes.count, bytes[position] == byte else { return false }
            position += 1
            return true
        }

        mutating func expect(_ byte: UInt8, _ message: String) throws(LogLineError) {
            guard consume(byte) else { throw LogLineError(message, column: position + 1) }
        }

        mutating func consumeNull() -> Bool {
            guard position + 4 <= bytes.count, bytes[position] == UInt8(ascii: "n"),
                  bytes[position + 1] == UInt8(ascii: "u"), bytes[position + 2] == UInt8(ascii: "l"),
                  bytes[position + 3] == UInt8(ascii: "l")
            else { return false }
            position += 4
            return true
        }

        mutating func key() throws(LogLineError) -> Key {
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
                throw LogLineError("expected a key in double quotes", column: position + 1)
            }
            let raw = try rawString()
            return lastStringHadEscape ? .unknown : Key.of(raw)
        }

        /// The bytes between a string's quotes, still escaped; the cursor moves past it.
        mutating func rawString() throws(LogLineError) -> UnsafeBufferPointer<UInt8> {
            guard consume(UInt8(ascii: "\"")) else { throw LogLineError("expected a string", column: position + 1) }
            let start = position
            lastStringStart = start + 1
            lastStringHadEscape = false
            while position < bytes.count {
                let byte = bytes[position]
                if byte == UInt8(ascii: "\"") {
                    let raw = UnsafeBufferPointer(rebasing: bytes[start..<position])
                    position += 1
                    return raw
                }
                if byte == UInt8(ascii: "\\") {
                    lastStringHadEscape = true
                    position += 2
                    continue
                }
                if byte < 0x20 {
                    throw LogLineError("raw control character in a string", column: position + 1)
                }
                position += 1
            }
            throw LogLineError("unterminated string", column: start)
        }

        /// A non-negative integer no greater than `max`.
        mutating func unsigned(max: UInt64) throws(LogLineError) -> UInt64 {
            let start = position
            var value: UInt64 = 0
            while position < bytes.count {
                let digit = bytes[position] &- UInt8(ascii: "0")
                guard digit < 10 else { break }
                let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit))
                guard !overflow1, !overflow2 else { throw LogLineError("number too large", column: start + 1) }
                value = sum
                position += 1
            }
            guard position > start else { throw LogLineError("expected a non-negative integer", column: start + 1) }
            if position < bytes.count {
                switch bytes[position] {
                case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"):
                    throw LogLineError("expected an integer", column: start + 1)
                default: break
                }
            }
            guard value <= max else { throw LogLineError("number out of range", column: start + 1) }
            return value
        }

        /// Skips any JSON value (for keys synwall does not know), nesting bounded.
        mutating func skipValue(depth: Int) throws(LogLineError) {
            guard depth < 32 else { throw LogLineError("nested too deeply", column: position + 1) }
            guard position < bytes.count else { throw LogLineError("expected a value", column: position + 1) }
            switch bytes[position] {
            case UInt8(ascii: "\""):
                _ = try rawString()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let close = bytes[position] == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                let isObject = close == UInt8(ascii: "}")
                position += 1
                skipSpace()
                if consume(close) { return }
                while true {
                    skipSpace()
                    if isObject {
                        _ = try rawString()
                        skipSpace()
                        try expect(UInt8(ascii: ":"), "expected ':' after a key")
                        skipSpace()
                    }
                    try skipValue(depth: depth + 1)
                    skipSpace()
                    if consume(UInt8(ascii: ",")) { continue }
                    try expect(close, "expected ',' or a closing bracket")
                    return
                }
            case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
                let start = position
                while position < bytes.count, bytes[position] >= UInt8(ascii: "a"), bytes[position] <= UInt8(ascii: "z") {
                    position += 1
                }
                let word = UnsafeBufferPointer(rebasing: bytes[start..<position])
                guard word.elementsEqual("true".utf8) || word.elementsEqual("false".utf8) || word.elementsEqual("null".utf8)
                else { throw LogLineError("expected a value", column: start + 1) }
            default:
                let start = position
                while position < bytes.count {
                    switch bytes[position] {
                    case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"),
                         UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"):
                        position += 1
                    default:
                        guard position > start else { throw LogLineError("expected a value", column: start + 1) }
                        return
                    }
                }
                guard position > start else { throw LogLineError("expected a value", column: start + 1) }
            }
        }
    }
}
