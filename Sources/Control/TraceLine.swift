import EventLog
import Wire

/// One judged packet, as `synwall trace` (live) and `synwall replay` (offline) print it: what
/// was done with it and why. Keys are the event log's (`timestamp`, `src_ip`, `dest_port`,
/// `reason`, `state`, `rule`, `tcp`), plus `verdict` (and `index` in replay); see ``json``.
public struct TraceLine: Codable, Sendable, Equatable {
    /// The frame's number in a capture (replay), from 1.
    public var index: Int?
    /// When the packet was judged (RFC 3339, UTC, microseconds).
    public var timestamp: String
    /// The NFQUEUE queue (worker) that judged it; nil in replay.
    public var queue: Int?
    /// `in`, `out` or `forward`.
    public var direction: String
    /// The input interface, when there is one.
    public var inInterface: String?
    /// `TCP`, `UDP`, `ICMP`, `IPv6-ICMP`, the protocol number, or `IP` when undecodable.
    public var proto: String
    /// The packet's endpoints (empty when it could not be read).
    public var sourceIP: String
    public var sourcePort: Int?
    public var destinationIP: String
    public var destinationPort: Int?
    /// `accept` or `drop`.
    public var verdict: String
    /// The drop reason (`invalid_flags`, `bad_seq`, `policy`, …); absent for an accepted packet.
    public var reason: String?
    /// The tracker's finer event (`flags_xmas`, `seq_above_window`, `simultaneous_open`…) or
    /// the decoder's complaint.
    public var detail: String?
    /// The tracker's state for the flow after the packet (`SYN_SENT`, `ESTABLISHED`, …).
    public var state: String?
    /// The rule (or policy line) that decided, when the packet asked the rules (a new flow).
    public var rule: Rule?
    /// TCP header fields, and the window bounds a failed check named.
    public var tcp: TCP?

    /// The rule that decided.
    public struct Rule: Codable, Sendable, Equatable {
        public var file: String
        public var line: Int
        public var label: String?
        public init(file: String, line: Int, label: String? = nil) {
            self.file = file
            self.line = line
            self.label = label
        }
    }

    /// TCP fields: flags as letters (`SA`), sequence and acknowledgment numbers, the window
    /// field; after a failed window check, the acceptable ranges (inclusive, 32-bit space).
    public struct TCP: Codable, Sendable, Equatable {
        public var flags: String
        public var seq: UInt32
        public var ack: UInt32
        public var win: Int
        public var seqMin: UInt32?
        public var seqMax: UInt32?
        public var ackMin: UInt32?
        public var ackMax: UInt32?
        public init(flags: String, seq: UInt32, ack: UInt32, win: Int, seqMin: UInt32? = nil, seqMax: UInt32? = nil,
                    ackMin: UInt32? = nil, ackMax: UInt32? = nil) {
            self.flags = flags
            self.seq = seq
            self.ack = ack
            self.win = win
            self.seqMin = seqMin
            self.seqMax = seqMax
            self.ackMin = ackMin
            self.ackMax = ackMax
        }
        enum CodingKeys: String, CodingKey {
            case flags, seq, ack, win
            case seqMin = "seq_min", seqMax = "seq_max", ackMin = "ack_min", ackMax = "ack_max"
        }
    }

    enum CodingKeys: String, CodingKey {
        case index, timestamp, queue, direction, inInterface = "in_iface", proto, sourceIP = "src_ip", sourcePort = "src_port"
        case destinationIP = "dest_ip", destinationPort = "dest_port", verdict, reason, detail, state, rule, tcp
    }

    /// A line from its parts.
    public init(index: Int? = nil, timestamp: String, queue: Int?, direction: String, inInterface: String? = nil, proto: String,
                sourceIP: String, sourcePort: Int? = nil, destinationIP: String, destinationPort: Int? = nil,
                verdict: String, reason: String? = nil, detail: String? = nil, state: String? = nil, rule: Rule? = nil,
                tcp: TCP? = nil) {
        self.index = index
        self.timestamp = timestamp
        self.queue = queue
        self.direction = direction
        self.inInterface = inInterface
        self.proto = proto
        self.sourceIP = sourceIP
        self.sourcePort = sourcePort
        self.destinationIP = destinationIP
        self.destinationPort = destinationPort
        self.verdict = verdict
        self.reason = reason
        self.detail = detail
        self.state = state
        self.rule = rule
        self.tcp = tcp
    }

    /// The line for people: `21:03:11.482113 q0 in eth0 TCP 203.0.113.7:51544 > 192.0.2.10:22
    /// [FPU] seq 104 ack 0 win 1024 → drop invalid_flags (flags_xmas) state NONE`, then the
    /// rule and the window bounds when there are any. Not escaped: callers sanitize.
    public var text: String {
        let time = timestamp.split(separator: "T").last.map { String($0.prefix(15)) } ?? timestamp
        func endpoint(_ address: String, _ port: Int?) -> String {
            port == nil && address.isEmpty ? "?" : EndpointText.format(address, port: port)
        }
        var parts = [time]
        if let index { parts.insert("#\(index)", at: 0) }
        if let queue { parts.append("q\(queue)") }
        parts.append(direction)
        if let inInterface { parts.append(inInterface) }
        parts.append(proto)
        parts.append("\(endpoint(sourceIP, sourcePort)) > \(endpoint(destinationIP, destinationPort))")
        if let tcp {
            parts.append("[\(tcp.flags.isEmpty ? "." : tcp.flags)] seq \(tcp.seq) ack \(tcp.ack) win \(tcp.win)")
        }
        var outcome = "-> \(verdict)"
        if let reason { outcome += " \(reason)" }
        if let detail { outcome += " (\(detail))" }
        parts.append(outcome)
        if let state { parts.append("state \(state)") }
        if let rule {
            let file = rule.file.split(separator: "/").last.map(String.init) ?? rule.file
            parts.append("rule \(file):\(rule.line)" + (rule.label.map { " \"\($0)\"" } ?? ""))
        }
        if let tcp, let low = tcp.seqMin, let high = tcp.seqMax { parts.append("seq window \(low)..\(high)") }
        if let tcp, let low = tcp.ackMin, let high = tcp.ackMax { parts.append("ack window \(low)..\(high)") }
        return parts.joined(separator: " ")
    }
}

extension TraceLine {
    /// The line as one JSON object, keys in this order: `index`, `timestamp`, `queue`,
    /// `direction`, `in_iface`, `proto`, `src_ip`, `src_port`, `dest_ip`, `dest_port`,
    /// `verdict`, `reason`, `detail`, `state`, `rule` (`file`, `line`, `label`), `tcp`
    /// (`flags`, `seq`, `ack`, `win`, `seq_min`, `seq_max`, `ack_min`, `ack_max`).
    public var json: JSONObjectWriter {
        var object = JSONObjectWriter()
        object.add("index", index)
        object.add("timestamp", timestamp)
        object.add("queue", queue)
        object.add("direction", direction)
        object.add("in_iface", inInterface)
        object.add("proto", proto)
        object.add("src_ip", sourceIP.isEmpty ? nil : sourceIP)
        object.add("src_port", sourcePort)
        object.add("dest_ip", destinationIP.isEmpty ? nil : destinationIP)
        object.add("dest_port", destinationPort)
        object.add("verdict", verdict)
        object.add("reason", reason)
        object.add("detail", detail)
        object.add("state", state)
        if let rule {
            var nested = JSONObjectWriter()
            nested.add("file", rule.file)
            nested.add("line", rule.line)
            nested.add("label", rule.label)
            object.add("rule", nested)
        }
        if let tcp {
            var nested = JSONObjectWriter()
            nested.add("flags", tcp.flags)
            nested.add("seq", tcp.seq)
            nested.add("ack", tcp.ack)
            nested.add("win", tcp.win)
            nested.add("seq_min", tcp.seqMin)
            nested.add("seq_max", tcp.seqMax)
            nested.add("ack_min", tcp.ackMin)
            nested.add("ack_max", tcp.ackMax)
            object.add("tcp", nested)
        }
        return object
    }
}

/// What a trace poll returns: the lines since the last poll, and what was left out.
public struct TraceBatch: Codable, Sendable, Equatable {
    /// The trace's number (give it to the next poll and to `trace_end`).
    public var session: Int
    /// New lines, oldest first.
    public var lines: [TraceLine]
    /// Matching decisions since the trace started (lines given and dropped).
    public var matched: Int
    /// Lines left out since the trace started: over the rate, or more than the daemon keeps
    /// between two polls.
    public var dropped: Int
    /// The most lines a second the trace gives.
    public var rate: Int

    /// A batch.
    public init(session: Int, lines: [TraceLine], matched: Int, dropped: Int, rate: Int) {
        self.session = session
        self.lines = lines
        self.matched = matched
        self.dropped = dropped
        self.rate = rate
    }
}
