import Rules
import Tracking

extension TrackerConfiguration {
    /// The tracker's configuration with the rule file's `set` lines applied over `base`:
    /// `set limit states`, `set timeout …` (`source.proven` too), `set tcp pickup`, `set tcp rst exact`,
    /// `set tcp paws`, `set tcp timestamps strict`, the half-open
    /// limits and the SYN rate. A command-line `--max-states` wins over `set limit states`.
    public init(_ settings: RuleSettings, base: TrackerConfiguration = TrackerConfiguration(),
                maxStatesOverride: Int? = nil)
    {
        self = base
        if let limit = maxStatesOverride ?? settings.stateLimit { maxStates = limit }
        pickup = pickup || settings.tcpPickup
        rstExact = rstExact || settings.tcpRSTExact
        paws = paws || settings.tcpPAWS
        timestampsStrict = timestampsStrict || settings.tcpTimestampsStrict
        if let after = settings.offloadAfter { offloadAfter = UInt32(clamping: after) }
        if let limit = settings.halfOpenLimit { maxHalfOpen = limit }
        if let limit = settings.halfOpenPerSourceLimit { maxHalfOpenPerSource = limit }
        if let rate = settings.synRate {
            let perSecond = max(1, rate.count / max(1, rate.seconds))
            synRatePerSource = SYNRateLimit(perSecond: UInt32(clamping: perSecond), burst: UInt32(clamping: rate.burst))
        }
        for (name, duration) in settings.timeouts {
            switch name {
            case .tcpSynSent: timeouts.tcpSynSent = duration
            case .tcpSynReceived: timeouts.tcpSynRecv = duration
            case .tcpEstablished: timeouts.tcpEstablished = duration
            case .tcpFinWait: timeouts.tcpFinWait = duration
            case .tcpCloseWait: timeouts.tcpCloseWait = duration
            case .tcpLastAck: timeouts.tcpLastAck = duration
            case .tcpTimeWait: timeouts.tcpTimeWait = duration
            case .tcpClose: timeouts.tcpClose = duration
            case .tcpUnacknowledged, .tcpRetransmit: timeouts.tcpUnacknowledged = duration
            case .udpSingle: timeouts.udp = duration
            case .udpStream: timeouts.udpStream = duration
            case .icmp: timeouts.icmp = duration
            case .tcpPickup: timeouts.tcpPickup = duration
            case .other: timeouts.other = duration
            case .sourceProven: provenSourceMemorySeconds = Int(clamping: duration.components.seconds)
            }
        }
    }
}
