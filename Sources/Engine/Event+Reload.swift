import EventLog
import Rules
import Tracking
import Wire

extension Event {
    /// The `reload` record of one worker's flows after a reload: reason `recheck` or `keep`
    /// (the `set reload` mode), detail `kept=N cut=M` (`recheck`) or `kept=N blocked_kept=M`
    /// (`keep`), followed by the first flows cut, each as `TCP 192.0.2.1:40000 > 198.51.100.2:22
    /// ESTABLISHED`.
    public init(reload outcome: ReloadOutcome, timestampNanoseconds: UInt64, queue: Int?) {
        var detail: String
        switch outcome.mode {
        case .recheck:
            detail = "kept=\(outcome.kept) cut=\(outcome.cut)"
            if !outcome.cutExamples.isEmpty {
                detail += "; cut: " + outcome.cutExamples.map(Self.describe).joined(separator: ", ")
                if outcome.cut > outcome.cutExamples.count { detail += ", …" }
            }
        case .keep:
            detail = "kept=\(outcome.kept) blocked_kept=\(outcome.keptBlocked)"
        }
        self.init(timestampNanoseconds: timestampNanoseconds, eventType: .reload, queue: queue,
                  reason: outcome.mode.rawValue, detail: detail)
    }

    /// `TCP 192.0.2.1:40000 > 198.51.100.2:22 ESTABLISHED` (ports only for TCP and UDP).
    static func describe(_ flow: ConnectionSnapshot) -> String {
        func endpoint(_ address: IPAddress, _ port: UInt16) -> String {
            EndpointText.format(address, port: IPProtocol(rawValue: flow.proto).hasPorts ? port : nil)
        }
        return Event.protocolName(flow.proto) + " " + endpoint(flow.initiatorAddress, flow.initiatorPort) + " > "
            + endpoint(flow.responderAddress, flow.responderPort) + " " + flow.state.name
    }
}
