import EventLog
import Rules
import Tracking
import Wire

extension Event {
    /// The `flow` record of a connection that ended: its endpoints (`src_ip` the initiator),
    /// and in its `flow` object how it ended (`reason`: `closed`, `reset`, `timeout`,
    /// `evicted`, `killed`, `flushed`, `reload`), its last state, the rule that admitted it
    /// (when a rule did and `rules` still holds it), packets and bytes each way, start, end
    /// (its last packet) and age. Built by the worker after the verdicts, never on the packet
    /// path.
    public init(endedFlow flow: EndedFlow, queue: Int?, rules: CompiledRuleset? = nil, interfaceName: String? = nil) {
        let ports = flow.key.proto == 6 || flow.key.proto == 17
        var rule: EventRule?
        if let index = flow.origin.rule, let rules, index < rules.rules.count {
            let written = rules.rules[index]
            rule = EventRule(file: written.location.file, line: written.location.line, label: written.label)
        }
        let direction: Direction
        switch flow.origin.hook {
        case 1: direction = .out
        case 2: direction = .forward
        default: direction = .in
        }
        self.init(timestampNanoseconds: flow.endedNanoseconds, eventType: .flow, flowID: flow.key.flowID, queue: queue,
                  inInterface: interfaceName, direction: direction, proto: Event.protocolName(flow.key.proto),
                  sourceIP: flow.initiatorAddress.description, sourcePort: ports ? flow.initiatorPort : nil,
                  destinationIP: flow.responderAddress.description, destinationPort: ports ? flow.responderPort : nil,
                  reason: flow.end.rawValue,
                  detail: flow.end == .killed ? "killed by synwall conns --kill" : nil,
                  state: flow.state.name, rule: rule,
                  flow: FlowFields(packetsToServer: UInt64(flow.initiatorPackets),
                                   packetsToClient: UInt64(flow.responderPackets),
                                   bytesToServer: flow.initiatorBytes, bytesToClient: flow.responderBytes,
                                   startNanoseconds: UInt64(flow.createdSeconds) * 1_000_000_000,
                                   endNanoseconds: UInt64(flow.lastSeenSeconds) * 1_000_000_000))
    }
}
