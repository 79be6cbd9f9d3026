extension TrackerEvent {
    /// Events on packets the tracker let through that still deserve a look (an `anomaly`
    /// record): a RST inside the window but not exact, RST data, broken ACK fields, clamped
    /// scaling, duplicate or empty options, SACK without permission, a mid-stream pickup, a SYN
    /// flood on one flow, excess retransmissions, a window overrun, a connection resumed after a
    /// restart, a segment of an offloaded connection the kernel found out of window. Ordinary
    /// events (a retransmitted SYN, a simultaneous open, a TIME_WAIT reuse) are not.
    @inlinable
    public var isSuspicious: Bool {
        switch self {
        case .rstInWindowInexact, .rstInjectionSuspected, .rstWithData, .brokenAck, .wscaleClamped,
             .tcpOptDuplicate, .tcpOptEmptySack, .sackNotPermitted, .midstreamPickup, .synFloodOnFlow, .synResendDiffSeq,
             .retransmissionExcess, .windowOverrun, .stateResumed, .kernelInvalid:
            return true
        default:
            return false
        }
    }
}

extension TrackerEvent {
    /// Events that keep a connection from ever being offloaded: every suspicious one.
    var isOffloadBarrier: Bool { isSuspicious }
}
