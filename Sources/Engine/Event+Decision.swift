import EventLog
import Wire

extension Event {
    /// The log record for a decision (built off the packet path, after the verdict).
    public init(decision: Decision, timestampNanoseconds: UInt64, queue: Int?) {
        let summary = decision.summary
        var tcp: TCPFields?
        if let summary, summary.isTCP {
            tcp = TCPFields(flags: UInt8(truncatingIfNeeded: summary.flags.rawValue), seq: summary.sequence, ack: summary.acknowledgment,
                            win: summary.window)
        }
        self.init(timestampNanoseconds: timestampNanoseconds,
                  eventType: decision.verdict == .drop ? .drop : .anomaly,
                  queue: queue,
                  proto: summary.map { Event.protocolName($0.proto) } ?? "IP",
                  sourceIP: summary?.source.description ?? "",
                  sourcePort: summary.flatMap { $0.hasPorts ? $0.sourcePort : nil },
                  destinationIP: summary?.destination.description ?? "",
                  destinationPort: summary.flatMap { $0.hasPorts ? $0.destinationPort : nil },
                  reason: decision.reason?.rawValue ?? "none",
                  detail: decision.anomaly?.detail ?? decision.trackerEvent?.rawValue,
                  state: decision.state?.name,
                  tcp: tcp)
    }
}
