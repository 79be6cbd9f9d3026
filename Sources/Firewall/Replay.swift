import Capture
import Control
import Engine
import EventLog
import Rules
import Tracking
import Wire

/// `synwall replay`: the live pipeline run over a capture file, with time taken from the capture.
public struct Replay {
    public var path: String
    public var pipeline: PipelineConfiguration
    /// The rules deciding new flows (nil: `pipeline.defaultVerdict`).
    public var rules: CompiledRuleset?
    /// The direction every packet is taken to travel, for the rules (`in` by default).
    public var direction: Direction
    /// Where to write the event records the daemon would have written (drops, alerts,
    /// anomalies, overloads and flow records, aggregated and capped as the daemon does, with
    /// time taken from the capture); nil writes none.
    public var logPath: String?

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

        /// Event records written to the log (`logPath`).
        public var loggedRecords = 0

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
                fields.append("\"first_seen\":\"\(EventTimestamp.string(nanoseconds: firstTimestamp))\"")
                fields.append("\"last_seen\":\"\(EventTimestamp.string(nanoseconds: lastTimestamp))\"")
            }
            if let error {
                var quoted: [UInt8] = []
                JSONLinesEncoder.appendString(error.description, into: &quoted)
                fields.append("\"error\":" + String(decoding: quoted, as: UTF8.self))
            }
            return "{\"summary\":{" + fields.joined(separator: ",") + "}}"
        }
    }

    /// Replays the file; `perPacket` gets one JSON line per packet (nil to skip formatting),
    /// `progress` the frames and bytes read so far about every 65,536 frames. Throws when the
    /// file cannot be opened as a capture (or `logPath` cannot be opened); a file damaged
    /// further on ends the replay there, with the totals of the frames before it and the damage
    /// in `error`.
    public func run(perPacket: ((String) -> Void)?,
                    progress: ((_ frames: Int, _ bytes: UInt64) -> Void)? = nil) throws(ReplayError) -> Summary {
        let reader: PcapReader
        do {
            reader = try PcapReader(path: path)
        } catch {
            throw .capture(error)
        }
        var log: ReplayLog?
        if let logPath {
            do {
                log = ReplayLog(writer: try JSONLinesWriter(path: logPath), flows: rules?.settings.logFlows ?? true)
            } catch {
                throw .log(error)
            }
        }
        var engine = Pipeline(configuration: pipeline, rules: rules)
        engine.collectsEndedFlows = log != nil
        var first: UInt64?
        var last: UInt64?
        var damage: CaptureError?
        var held: [UInt32: HeldFrame] = [:]
        var frames = 0
        var bytes: UInt64 = 0
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
            frames += 1
            bytes &+= UInt64(packet.networkLayer.count)
            if frames & 0xFFFF == 0 { progress?(frames, bytes) }
            let truncated = packet.originalLength > packet.networkLayer.count ? packet.originalLength : nil
            var context = PacketContext(timestampNanoseconds: packet.timestampNanoseconds,
                                        checksum: pipeline.verifyChecksums ? .unverified : .verified,
                                        originalLength: truncated, direction: direction)
            context.packetID = UInt32(truncatingIfNeeded: packet.index)
            let decision = engine.process(packet.networkLayer, context: context)
            if decision.isHeld {
                // Its line (and record) comes when its datagram is judged (docs/fragments.md).
                held[context.packetID] = (packet.index, packet.timestampNanoseconds, decision, context)
            } else {
                if let perPacket {
                    perPacket(Self.line(index: packet.index, timestamp: packet.timestampNanoseconds, decision: decision,
                                        rules: rules, context: context,
                                        flowRule: decision.rule == nil ? engine.lastPacketFlowRule : nil))
                }
                log?.record(decision, context: context, rules: engine.ruleset, at: packet.timestampNanoseconds)
            }
            log?.recordEndedFlows(of: &engine, rules: engine.ruleset, at: packet.timestampNanoseconds)
            releaseHeld(&engine, &held, perPacket: perPacket, log: &log)
        }
        // Fragments whose datagram never completed are dropped, as the kernel drops them.
        engine.abandonFragments()
        releaseHeld(&engine, &held, perPacket: perPacket, log: &log)
        var summary = Summary(counters: engine.counters, skippedFrames: reader.skippedFrames,
                              linkType: reader.linkTypeName, firstTimestamp: first, lastTimestamp: last, error: damage)
        if log != nil {
            summary.loggedRecords = log!.finish(at: last ?? 0)
        }
        return summary
    }

    /// A fragment waiting for the rest of its datagram: its frame number, time, decision and context.
    typealias HeldFrame = (index: Int, timestamp: UInt64, decision: Decision, context: PacketContext)

    /// Prints (and logs) held fragments whose datagram was judged or given up: the frame's own
    /// number, time and headers, with the datagram's verdict.
    private func releaseHeld(_ engine: inout Pipeline, _ held: inout [UInt32: HeldFrame],
                             perPacket: ((String) -> Void)?, log: inout ReplayLog?) {
        var released: [HeldFrame] = []
        engine.takeFragmentVerdicts { id, verdict, reason in
            guard var frame = held.removeValue(forKey: id) else { return }
            frame.decision.isHeld = false
            frame.decision.verdict = verdict
            frame.decision.reason = reason
            released.append(frame)
        }
        for frame in released {
            perPacket?(Self.line(index: frame.index, timestamp: frame.timestamp, decision: frame.decision, rules: rules,
                                 context: frame.context))
            log?.record(frame.decision, context: frame.context, rules: engine.ruleset, at: frame.timestamp)
        }
    }

    /// One packet's line: the decision line `synwall trace` prints, with the frame's `index`
    /// and no queue (docs/json.md).
    static func line(index: Int, timestamp: UInt64, decision: Decision, rules: CompiledRuleset? = nil,
                     context: PacketContext? = nil, flowRule: Int? = nil) -> String {
        TraceLine(decision: decision, context: context ?? PacketContext(timestampNanoseconds: timestamp), queue: nil,
                  timestamp: timestamp, rules: rules, interfaceName: nil, index: index, flowRule: flowRule).json.text
    }

    /// A JSON string literal, escaped as the event log escapes.
    static func quoted(_ text: String) -> String {
        var bytes: [UInt8] = []
        JSONLinesEncoder.appendString(text, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Why a replay could not run.
public enum ReplayError: Error, CustomStringConvertible {
    /// The capture cannot be read.
    case capture(CaptureError)
    /// The `--log` file cannot be opened.
    case log(EventLogError)

    public var description: String {
        switch self {
        case .capture(let error): return error.description
        case .log(let error): return "--log: \(error)"
        }
    }
}

/// The event log of a replay: the records the daemon would write for the same packets, through
/// the same aggregator (time from the capture), into a JSON Lines file `synwall log` reads.
struct ReplayLog {
    let writer: JSONLinesWriter
    /// `set log flows` of the rules.
    let flows: Bool
    var aggregator = EventAggregator()
    var output: [Event] = []

    init(writer: JSONLinesWriter, flows: Bool) {
        self.writer = writer
        self.flows = flows
    }

    mutating func record(_ decision: Decision, context: PacketContext, rules: CompiledRuleset?, at time: UInt64) {
        if decision.isEvent {
            aggregator.add(Event(decision: decision, timestampNanoseconds: time, queue: nil, rules: rules,
                                 context: context), now: time, into: &output)
        } else {
            aggregator.advance(to: time, into: &output)
        }
        write()
    }

    mutating func recordEndedFlows(of pipeline: inout Pipeline, rules: CompiledRuleset?, at time: UInt64) {
        guard pipeline.hasEndedFlows else { return }
        var ended: [Event] = []
        let flows = self.flows
        pipeline.drainEndedFlows { flow in
            if flows { ended.append(Event(endedFlow: flow, queue: nil, rules: rules)) }
        }
        for event in ended { aggregator.add(event, now: time, into: &output) }
        write()
    }

    private mutating func write() {
        guard !output.isEmpty else { return }
        for event in output { writer.append(event) }
        output.removeAll(keepingCapacity: true)
    }

    /// Writes what the aggregator holds, closes the file; the records written.
    mutating func finish(at time: UInt64) -> Int {
        aggregator.flush(now: time &+ 2_000_000_000, into: &output)
        write()
        _ = writer.flush()
        writer.close()
        return aggregator.statistics.records
    }
}

extension ReplayError {
    /// True when the log file, not the capture, failed.
    public var isLog: Bool {
        if case .log = self { return true }
        return false
    }
}
