import Control
import Engine
import EventLog
import Rules

extension TraceLine {
    /// The trace line of a decision: the fields its event record would carry (endpoints, TCP
    /// header and window bounds, state, rule), the verdict, the drop reason only for a drop,
    /// and the tracker's event or the decoder's complaint as `detail`. `flowRule` (the index of
    /// the rule that admitted the packet's flow) names the rule for a packet that did not ask
    /// the rules itself.
    init(decision: Decision, context: PacketContext, queue: Int?, timestamp: UInt64, rules: CompiledRuleset?,
         interfaceName: String?, index: Int? = nil, flowRule: Int? = nil) {
        let event = Event(decision: decision, timestampNanoseconds: timestamp, queue: queue, rules: rules,
                          context: context, interfaceName: interfaceName)
        var rule: TraceLine.Rule?
        if let decided = event.rule {
            rule = TraceLine.Rule(file: decided.file, line: decided.line, label: decided.label)
        } else if let flowRule, let rules, flowRule < rules.rules.count {
            let admitting = rules.rules[flowRule]
            rule = TraceLine.Rule(file: admitting.location.file, line: admitting.location.line, label: admitting.label)
        }
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
