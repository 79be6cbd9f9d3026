import Control
import Engine
import EventLog
import Rules

extension TraceLine {
    /// The trace line of a decision: the fields its event record would carry (endpoints, TCP
    /// header and window bounds, state, rule), the verdict, the drop reason only for a drop,
    /// and the tracker's event or the decoder's complaint as `detail`.
    init(decision: Decision, context: PacketContext, queue: Int?, timestamp: UInt64, rules: CompiledRuleset?,
         interfaceName: String?, index: Int? = nil) {
        let event = Event(decision: decision, timestampNanoseconds: timestamp, queue: queue, rules: rules,
                          context: context, interfaceName: interfaceName)
        var rule: TraceLine.Rule?
        if let decided = event.rule { rule = TraceLine.Rule(file: decided.file, line: decided.line, label: decided.label) }
        var tcp: TraceLine.TCP?
        if let fields = event.tcp {
            tcp = TraceLine.TCP(flags: fields.flagsText, seq: fields.seq, ack: fields.ack, win: Int(fields.win),
                                seqMin: fields.seqWindow?.lower, seqMax: fields.seqWindow?.upper,
                                ackMin: fields.ackWindow?.lower, ackMax: fields.ackWindow?.upper)
        }
        self.init(index: index, timestamp: EventTimestamp.string(nanoseconds: timestamp), queue: queue,
                  direction: event.direction?.rawValue ?? "in", inInterface: interfaceName, proto: event.proto,
                  sourceIP: event.sourceIP, sourcePort: event.sourcePort.map(Int.init),
                  destinationIP: event.destinationIP, destinationPort: event.destinationPort.map(Int.init),
                  verdict: decision.verdict == .accept ? "accept" : "drop",
                  reason: decision.verdict == .drop ? decision.reason?.rawValue : nil,
                  detail: decision.trackerEvent?.rawValue ?? decision.anomaly?.detail,
                  state: decision.state?.name, rule: rule, tcp: tcp)
    }
}
