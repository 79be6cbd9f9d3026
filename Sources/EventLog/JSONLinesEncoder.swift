import Wire

/// Encodes an ``Event`` as one line of JSON (ending in `\n`), appending bytes to a caller's
/// buffer so a writer can reuse one buffer for every event. No Foundation.
///
/// Keys come in a fixed order, EVE-aligned, and this order is part of the format:
/// `timestamp`, `event_type`, `flow_id`, `queue`, `in_iface`, `direction`, `proto`, `src_ip`,
/// `src_port`, `dest_ip`, `dest_port`, then the object named after the event type (`drop`,
/// `flow`, `suppressed`…) with the fields proper to it — `reason`, `detail`, `state`, `rule`
/// (`file`, `line`, `label`), a flow's counts and times, a suppressed record's `reasons` and
/// `sources` — then `tcp` (`flags`, `seq`, `ack`, `win`, `seq_min`, `seq_max`, `ack_min`,
/// `ack_max`), `count`, `first_seen`, `last_seen`. Absent optionals and empty `proto`,
/// `src_ip`, `dest_ip` and `reason` are left out, and `count` is written only when greater
/// than 1 (docs/event-log.md):
///
/// ```
/// {"timestamp":"2026-11-24T21:03:11.482113+0000","event_type":"drop","flow_id":1822734,"in_iface":"eth0","direction":"in","proto":"TCP","src_ip":"203.0.113.7","src_port":51544,"dest_ip":"192.0.2.10","dest_port":22,"drop":{"reason":"invalid_flags","state":"NONE"},"tcp":{"flags":"FPU","seq":104,"ack":0,"win":1024},"count":37,"first_seen":"2026-11-24T21:03:10.001200+0000","last_seen":"2026-11-24T21:03:11.482113+0000"}
/// ```
///
/// Every string goes through ``appendString(_:into:)``: a packet cannot end a record early,
/// add a key, or put a raw control character (a newline, a terminal escape) into the file.
public struct JSONLinesEncoder: Sendable {
    /// Creates an encoder; it holds no state.
    public init() {}

    /// Appends `event` as one JSON line, ending in a newline, to `buffer`.
    public func encode(_ event: Event, into buffer: inout [UInt8]) {
        buffer.append(contentsOf: Key.timestamp)
        buffer.append(UInt8(ascii: "\""))
        EventTimestamp.append(nanoseconds: event.timestampNanoseconds, into: &buffer)
        buffer.append(UInt8(ascii: "\""))
        buffer.append(contentsOf: Key.eventType)
        Self.appendString(event.eventType.rawValue, into: &buffer)
        if let flowID = event.flowID {
            buffer.append(contentsOf: Key.flowID)
            EventTimestamp.appendDigits(flowID, width: 1, into: &buffer)
        }
        if let queue = event.queue {
            buffer.append(contentsOf: Key.queue)
            Self.appendInteger(queue, into: &buffer)
        }
        if let interface = event.inInterface {
            buffer.append(contentsOf: Key.inInterface)
            Self.appendString(interface, into: &buffer)
        }
        if let direction = event.direction {
            buffer.append(contentsOf: Key.direction)
            Self.appendString(direction.rawValue, into: &buffer)
        }
        if !event.proto.isEmpty {
            buffer.append(contentsOf: Key.proto)
            Self.appendString(event.proto, into: &buffer)
        }
        if !event.sourceIP.isEmpty {
            buffer.append(contentsOf: Key.sourceIP)
            Self.appendString(event.sourceIP, into: &buffer)
        }
        if let port = event.sourcePort {
            buffer.append(contentsOf: Key.sourcePort)
            EventTimestamp.appendDigits(UInt64(port), width: 1, into: &buffer)
        }
        if !event.destinationIP.isEmpty {
            buffer.append(contentsOf: Key.destinationIP)
            Self.appendString(event.destinationIP, into: &buffer)
        }
        if let port = event.destinationPort {
            buffer.append(contentsOf: Key.destinationPort)
            EventTimestamp.appendDigits(UInt64(port), width: 1, into: &buffer)
        }
        appendTypeObject(event, into: &buffer)
        if let tcp = event.tcp {
            buffer.append(contentsOf: Key.tcpFlags)
            TCPFlags(rawValue: UInt16(tcp.flags)).appendLetters(to: &buffer)
            buffer.append(contentsOf: Key.tcpSeq)
            EventTimestamp.appendDigits(UInt64(tcp.seq), width: 1, into: &buffer)
            buffer.append(contentsOf: Key.tcpAck)
            EventTimestamp.appendDigits(UInt64(tcp.ack), width: 1, into: &buffer)
            buffer.append(contentsOf: Key.tcpWin)
            EventTimestamp.appendDigits(UInt64(tcp.win), width: 1, into: &buffer)
            if let bounds = tcp.seqWindow {
                buffer.append(contentsOf: Key.seqMin)
                EventTimestamp.appendDigits(UInt64(bounds.lower), width: 1, into: &buffer)
                buffer.append(contentsOf: Key.seqMax)
                EventTimestamp.appendDigits(UInt64(bounds.upper), width: 1, into: &buffer)
            }
            if let bounds = tcp.ackWindow {
                buffer.append(contentsOf: Key.ackMin)
                EventTimestamp.appendDigits(UInt64(bounds.lower), width: 1, into: &buffer)
                buffer.append(contentsOf: Key.ackMax)
                EventTimestamp.appendDigits(UInt64(bounds.upper), width: 1, into: &buffer)
            }
            buffer.append(UInt8(ascii: "}"))
        }
        if event.count > 1 {
            buffer.append(contentsOf: Key.count)
            Self.appendInteger(event.count, into: &buffer)
        }
        if let first = event.firstSeenNanoseconds {
            buffer.append(contentsOf: Key.firstSeen)
            EventTimestamp.append(nanoseconds: first, into: &buffer)
            buffer.append(UInt8(ascii: "\""))
        }
        if let last = event.lastSeenNanoseconds {
            buffer.append(contentsOf: Key.lastSeen)
            EventTimestamp.append(nanoseconds: last, into: &buffer)
            buffer.append(UInt8(ascii: "\""))
        }
        buffer.append(UInt8(ascii: "}"))
        buffer.append(UInt8(ascii: "\n"))
    }

    /// The object named after the record's type (`"drop":{…}`, `"flow":{…}`…) holding the
    /// fields proper to it: `reason`, `detail`, `state`, `rule`; a flow's `pkts_toserver`,
    /// `pkts_toclient`, `bytes_toserver`, `bytes_toclient`, `start`, `end`, `age`; a suppressed
    /// record's `reasons` and `sources`. Left out when it would be empty.
    private func appendTypeObject(_ event: Event, into buffer: inout [UInt8]) {
        let empty = event.reason.isEmpty && event.detail == nil && event.state == nil && event.rule == nil
            && event.flow == nil && event.suppressedCounts == nil
        if empty { return }
        buffer.append(UInt8(ascii: ","))
        Self.appendString(event.eventType.rawValue, into: &buffer)
        buffer.append(contentsOf: [UInt8(ascii: ":"), UInt8(ascii: "{")])
        var first = true
        func key(_ name: StaticString) {
            if !first { buffer.append(UInt8(ascii: ",")) }
            first = false
            buffer.append(UInt8(ascii: "\""))
            buffer.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
            buffer.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        }
        if !event.reason.isEmpty {
            key("reason")
            Self.appendString(event.reason, into: &buffer)
        }
        if let detail = event.detail {
            key("detail")
            Self.appendString(detail.utf8.count > Event.maximumDetailBytes ? Event.cappedDetail(detail) : detail, into: &buffer)
        }
        if let state = event.state {
            key("state")
            Self.appendString(state, into: &buffer)
        }
        if let rule = event.rule {
            key("rule")
            buffer.append(contentsOf: Key.ruleFile)
            Self.appendString(rule.file, into: &buffer)
            buffer.append(contentsOf: Key.ruleLine)
            Self.appendInteger(rule.line, into: &buffer)
            if let label = rule.label {
                buffer.append(contentsOf: Key.ruleLabel)
                Self.appendString(label, into: &buffer)
            }
            buffer.append(UInt8(ascii: "}"))
        }
        if let flow = event.flow {
            key("pkts_toserver")
            EventTimestamp.appendDigits(flow.packetsToServer, width: 1, into: &buffer)
            key("pkts_toclient")
            EventTimestamp.appendDigits(flow.packetsToClient, width: 1, into: &buffer)
            key("bytes_toserver")
            EventTimestamp.appendDigits(flow.bytesToServer, width: 1, into: &buffer)
            key("bytes_toclient")
            EventTimestamp.appendDigits(flow.bytesToClient, width: 1, into: &buffer)
            key("start")
            buffer.append(UInt8(ascii: "\""))
            EventTimestamp.append(nanoseconds: flow.startNanoseconds, into: &buffer)
            buffer.append(UInt8(ascii: "\""))
            key("end")
            buffer.append(UInt8(ascii: "\""))
            EventTimestamp.append(nanoseconds: flow.endNanoseconds, into: &buffer)
            buffer.append(UInt8(ascii: "\""))
            key("age")
            EventTimestamp.appendDigits(flow.ageSeconds, width: 1, into: &buffer)
        }
        if let counts = event.suppressedCounts {
            key("reasons")
            Self.appendCounts(counts.reasons, into: &buffer)
            key("sources")
            Self.appendCounts(counts.sources, into: &buffer)
        }
        buffer.append(UInt8(ascii: "}"))
    }

    /// `{"name":count,…}`.
    private static func appendCounts(_ pairs: [SuppressedCounts.NameCount], into buffer: inout [UInt8]) {
        buffer.append(UInt8(ascii: "{"))
        for (index, pair) in pairs.enumerated() {
            if index > 0 { buffer.append(UInt8(ascii: ",")) }
            appendString(pair.name, into: &buffer)
            buffer.append(UInt8(ascii: ":"))
            appendInteger(pair.count, into: &buffer)
        }
        buffer.append(UInt8(ascii: "}"))
    }

    /// `event` as one JSON line (with its trailing newline); for tests and tools.
    public func line(for event: Event) -> String {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(320)
        encode(event, into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    /// Appends `text` as a quoted JSON string: `"` and `\` are escaped, control characters
    /// become `\n`, `\r`, `\t`, `\b`, `\f` or `\u00XX`, and all other UTF-8 passes through
    /// (a Swift `String` is always valid UTF-8).
    public static func appendString(_ text: String, into buffer: inout [UInt8]) {
        buffer.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                buffer.append(UInt8(ascii: "\\"))
                buffer.append(byte)
            case 0x0A: buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x08: buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x00..<0x20:
                buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                buffer.append(hexDigits[Int(byte >> 4)])
                buffer.append(hexDigits[Int(byte & 0xF)])
            default:
                buffer.append(byte)
            }
        }
        buffer.append(UInt8(ascii: "\""))
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    private static func appendInteger(_ value: Int, into buffer: inout [UInt8]) {
        if value < 0 { buffer.append(UInt8(ascii: "-")) }
        EventTimestamp.appendDigits(UInt64(value.magnitude), width: 1, into: &buffer)
    }

    /// Each key with the punctuation before it and the colon after it, prepared once.
    private enum Key {
        static let timestamp: [UInt8] = Array(#"{"timestamp":"#.utf8)
        static let eventType: [UInt8] = Array(#","event_type":"#.utf8)
        static let flowID: [UInt8] = Array(#","flow_id":"#.utf8)
        static let queue: [UInt8] = Array(#","queue":"#.utf8)
        static let inInterface: [UInt8] = Array(#","in_iface":"#.utf8)
        static let direction: [UInt8] = Array(#","direction":"#.utf8)
        static let proto: [UInt8] = Array(#","proto":"#.utf8)
        static let sourceIP: [UInt8] = Array(#","src_ip":"#.utf8)
        static let sourcePort: [UInt8] = Array(#","src_port":"#.utf8)
        static let destinationIP: [UInt8] = Array(#","dest_ip":"#.utf8)
        static let destinationPort: [UInt8] = Array(#","dest_port":"#.utf8)
        static let ruleFile: [UInt8] = Array(#"{"file":"#.utf8)
        static let ruleLine: [UInt8] = Array(#","line":"#.utf8)
        static let ruleLabel: [UInt8] = Array(#","label":"#.utf8)
        static let tcpFlags: [UInt8] = Array(#","tcp":{"flags":""#.utf8)
        static let tcpSeq: [UInt8] = Array(#"","seq":"#.utf8)
        static let tcpAck: [UInt8] = Array(#","ack":"#.utf8)
        static let tcpWin: [UInt8] = Array(#","win":"#.utf8)
        static let seqMin: [UInt8] = Array(#","seq_min":"#.utf8)
        static let seqMax: [UInt8] = Array(#","seq_max":"#.utf8)
        static let ackMin: [UInt8] = Array(#","ack_min":"#.utf8)
        static let ackMax: [UInt8] = Array(#","ack_max":"#.utf8)
        static let count: [UInt8] = Array(#","count":"#.utf8)
        static let firstSeen: [UInt8] = Array(#","first_seen":""#.utf8)
        static let lastSeen: [UInt8] = Array(#","last_seen":""#.utf8)
    }
}
