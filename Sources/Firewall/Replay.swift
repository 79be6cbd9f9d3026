import Capture
import Engine
import Tracking
import EventLog
import Rules

/// `synwall replay`: the live pipeline run over a capture file, with time taken from the capture.
public struct Replay {
    public var path: String
    public var pipeline: PipelineConfiguration
    /// The rules deciding new flows (nil: `pipeline.defaultVerdict`).
    public var rules: CompiledRuleset?
    /// The direction every packet is taken to travel, for the rules (`in` by default).
    public var direction: Direction

    public init(path: String, pipeline: PipelineConfiguration, rules: CompiledRuleset? = nil, direction: Direction = .in) {
        self.path = path
        self.pipeline = pipeline
        self.rules = rules
        self.direction = direction
    }

    /// Totals of a replay.
    public struct Summary: Sendable {
        public var counters: PipelineCounters
        public var skippedFrames: Int
        public var linkType: String
        public var firstTimestamp: UInt64?
        public var lastTimestamp: UInt64?
        /// Why the replay stopped early: the file is damaged at some frame; the totals are
        /// those of the frames before it. Nil when the whole file was read.
        public var error: CaptureError?

        /// One JSON object: `{"summary":{...}}`.
        public var json: String {
            var reasons: [String] = []
            for reason in DropReason.allCases where counters.drops(reason) > 0 {
                reasons.append("\"\(reason.rawValue)\":\(counters.drops(reason))")
            }
            var fields = [
                "\"packets\":\(counters.packets)", "\"accepted\":\(counters.accepted)",
                "\"dropped\":\(counters.dropped)", "\"reasons\":{\(reasons.joined(separator: ","))}",
                "\"tcp\":\(counters.tcp)", "\"udp\":\(counters.udp)", "\"icmp\":\(counters.icmp)",
                "\"other\":\(counters.otherProtocols)", "\"ipv6\":\(counters.ipv6)",
                "\"skipped_frames\":\(skippedFrames)", "\"link_type\":\"\(linkType)\"",
            ]
            if let firstTimestamp, let lastTimestamp {
                fields.append("\"first_ts\":\"\(EventTimestamp.string(nanoseconds: firstTimestamp))\"")
                fields.append("\"last_ts\":\"\(EventTimestamp.string(nanoseconds: lastTimestamp))\"")
            }
            if let error {
                var quoted: [UInt8] = []
                JSONLinesEncoder.appendString(error.description, into: &quoted)
                fields.append("\"error\":" + String(decoding: quoted, as: UTF8.self))
            }
            return "{\"summary\":{" + fields.joined(separator: ",") + "}}"
        }
    }

    /// Replays the file; `perPacket` gets one JSON line per packet (nil to skip formatting).
    /// Throws when the file cannot be opened as a capture; a file damaged further on ends the
    /// replay there, with the totals of the frames before it and the damage in `error`.
    public func run(perPacket: ((String) -> Void)?) throws(CaptureError) -> Summary {
        let reader = try PcapReader(path: path)
        var engine = Pipeline(configuration: pipeline, rules: rules)
        var first: UInt64?
        var last: UInt64?
        var damage: CaptureError?
        var held: [UInt32: HeldFrame] = [:]
        while true {
            let next: CapturedPacket?
            do {
                next = try reader.next()
            } catch {
                damage = error
                break
            }
            guard let packet = next else { break }
            if first == nil { first = packet.timestampNanoseconds }
            last = packet.timestampNanoseconds
            let truncated = packet.originalLength > packet.networkLayer.count ? packet.originalLength : nil
            var context = PacketContext(timestampNanoseconds: packet.timestampNanoseconds,
                                        checksum: pipeline.verifyChecksums ? .unverified : .verified,
                                        originalLength: truncated, direction: direction)
            context.packetID = UInt32(truncatingIfNeeded: packet.index)
            let decision = engine.process(packet.networkLayer, context: context)
            if decision.isHeld {
                // Its line comes when its datagram is judged (docs/fragments.md).
                held[context.packetID] = (packet.index, packet.timestampNanoseconds, decision)
            } else {
                perPacket?(Self.line(index: packet.index, timestamp: packet.timestampNanoseconds, decision: decision,
                                      rules: rules))
            }
            releaseHeld(&engine, &held, perPacket: perPacket)
        }
        // Fragments whose datagram never completed are dropped, as the kernel drops them.
        engine.abandonFragments()
        releaseHeld(&engine, &held, perPacket: perPacket)
        return Summary(counters: engine.counters, skippedFrames: reader.skippedFrames, linkType: reader.linkTypeName,
                       firstTimestamp: first, lastTimestamp: last, error: damage)
    }

    /// A fragment waiting for the rest of its datagram: its frame number, time and summary.
    typealias HeldFrame = (index: Int, timestamp: UInt64, decision: Decision)

    /// Prints the lines of held fragments whose datagram was judged or given up: the frame's
    /// own number, time and headers, with the datagram's verdict.
    private func releaseHeld(_ engine: inout Pipeline, _ held: inout [UInt32: HeldFrame],
                             perPacket: ((String) -> Void)?) {
        engine.takeFragmentVerdicts { id, verdict, reason in
            guard let frame = held.removeValue(forKey: id) else { return }
            var decision = frame.decision
            decision.isHeld = false
            decision.verdict = verdict
            decision.reason = reason
            perPacket?(Self.line(index: frame.index, timestamp: frame.timestamp, decision: decision, rules: rules))
        }
    }

    /// `{"index":1,"ts":"…","proto":"TCP","src":"…","sport":…,"dst":"…","dport":…,"flags":"S","verdict":"accept"}`
    static func line(index: Int, timestamp: UInt64, decision: Decision, rules: CompiledRuleset? = nil) -> String {
        var fields = ["\"index\":\(index)", "\"ts\":\"\(EventTimestamp.string(nanoseconds: timestamp))\""]
        if let s = decision.summary {
            fields.append("\"proto\":\"\(s.protocolName)\"")
            fields.append("\"src\":\"\(s.source)\"")
            if s.hasPorts { fields.append("\"sport\":\(s.sourcePort)") }
            fields.append("\"dst\":\"\(s.destination)\"")
            if s.hasPorts { fields.append("\"dport\":\(s.destinationPort)") }
            if s.isTCP { fields.append("\"flags\":\"\(s.flags)\"") }
        }
        fields.append("\"verdict\":\"\(decision.verdict.rawValue)\"")
        if let reason = decision.reason { fields.append("\"reason\":\"\(reason.rawValue)\"") }
        if let anomaly = decision.anomaly { fields.append("\"detail\":" + Self.quoted(anomaly.detail)) }
        if let event = decision.trackerEvent { fields.append("\"event\":\"\(event.rawValue)\"") }
        if let state = decision.state { fields.append("\"state\":\"\(state.name)\"") }
        if let rule = decision.rule, let rules {
            var ruleFields: [String] = []
            if let location = rules.location(of: rule) {
                ruleFields.append("\"file\":" + Self.quoted(location.file))
                ruleFields.append("\"line\":\(location.line)")
            } else if case .policy(let direction) = rule.origin {
                ruleFields.append("\"policy\":\"\(direction.rawValue)\"")
            }
            if let label = rules.label(of: rule) { ruleFields.append("\"label\":" + Self.quoted(label)) }
            fields.append("\"rule\":{" + ruleFields.joined(separator: ",") + "}")
        }
        return "{" + fields.joined(separator: ",") + "}"
    }

    /// A JSON string literal, escaped as the event log escapes.
    static func quoted(_ text: String) -> String {
        var bytes: [UInt8] = []
        JSONLinesEncoder.appendString(text, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}
