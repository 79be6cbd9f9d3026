import EventLog
import Rules
import Tracking
import Wire

extension Event {
    /// The log record for a decision (built off the packet path, after the verdict).
    ///
    /// - Parameters:
    ///   - rules: the rule file in force, to name the deciding rule (file, line, label).
    ///   - context: where the packet went (direction, interfaces).
    ///   - interfaceName: the input interface's name, if known.
    public init(decision: Decision, timestampNanoseconds: UInt64, queue: Int?, rules: CompiledRuleset? = nil,
                context: PacketContext? = nil, interfaceName: String? = nil)
    {
        let summary = decision.summary
        var tcp: TCPFields?
        if let summary, summary.isTCP {
            tcp = TCPFields(flags: UInt8(truncatingIfNeeded: summary.flags.rawValue), seq: summary.sequence,
                            ack: summary.acknowledgment, win: summary.window)
            if let bounds = decision.windowBounds {
                switch decision.reason {
                case .badSeq?, .rstInvalid?:
                    tcp?.seqWindow = TCPWindowBounds(lower: bounds.seqLower, upper: bounds.seqUpper)
                case .badAck?:
                    tcp?.ackWindow = TCPWindowBounds(lower: bounds.ackLower, upper: bounds.ackUpper)
                default:
                    break
                }
            }
        }
        var eventRule: EventRule?
        var eventType: EventType = .drop
        if decision.verdict == .accept {
            eventType = decision.trackerEvent?.isSuspicious == true && decision.rule?.log != true ? .anomaly : .alert
        }
        if let rule = decision.rule, let rules {
            if let location = rules.location(of: rule) {
                eventRule = EventRule(file: location.file, line: location.line, label: rules.label(of: rule))
            }
            if rule.overloadTable != nil { eventType = .overload }
        }
        var flowID: UInt64?
        if let summary {
            flowID = FlowKey.make(source: summary.source, sourcePort: summary.sourcePort,
                                  destination: summary.destination, destinationPort: summary.destinationPort,
                                  proto: summary.proto).key.flowID
        }
        let direction = context?.direction
        var detail = decision.anomaly?.detail ?? decision.trackerEvent?.rawValue
        if let rule = decision.rule, let limit = rule.limit { detail = limit.rawValue }
        if let rule = decision.rule, let table = rule.overloadTable, let rules,
           table < rules.tables.count
        {
            detail = "source added to <\(rules.tables[table].name)>"
        }
        if decision.verdict == .drop, let reply = decision.rule?.reply, let summary {
            // block return…: the answer due (sent unless over set return rate; stats count those).
            switch reply.kind(forProtocol: summary.proto) {
            case .tcpReset: detail = "return tcp_rst"
            case .icmpPortUnreachable: detail = "return icmp_port_unreachable"
            case .icmpProhibited: detail = "return icmp_admin_prohibited"
            case nil: break
            }
        }
        self.init(timestampNanoseconds: timestampNanoseconds,
                  eventType: eventType,
                  flowID: flowID,
                  queue: queue,
                  inInterface: interfaceName,
                  direction: direction,
                  proto: summary.map { Event.protocolName($0.proto) } ?? "IP",
                  sourceIP: summary?.source.description ?? "",
                  sourcePort: summary.flatMap { $0.hasPorts ? $0.sourcePort : nil },
                  destinationIP: summary?.destination.description ?? "",
                  destinationPort: summary.flatMap { $0.hasPorts ? $0.destinationPort : nil },
                  reason: decision.reason?.rawValue
                      ?? (eventType == .anomaly ? decision.trackerEvent?.rawValue ?? "anomaly" : "rule_log"),
                  detail: detail,
                  state: decision.state?.name,
                  rule: eventRule,
                  tcp: tcp)
    }
}
