import Engine
import EventLog
import Tracking

/// A worker's count of the events it could not hand to the log (over its per-round cap, or its
/// ring full), by the reason each record would have carried and by source, so the `suppressed`
/// record it writes for them adds up, reason by reason, to the daemon's drop counters.
///
/// The per-round cap counts decisions on the packet path: fixed arrays indexed by drop reason
/// and tracker event, no allocation. Events already built that did not fit the ring are
/// counted by name, after the verdicts.
struct EventLossTally {
    private var drops = [Int](repeating: 0, count: DropReason.allCases.count)
    private var anomalies = [Int](repeating: 0, count: TrackerEvent.allCases.count)
    private var otherAnomalies = 0
    private var alerts = 0
    private var named: [String: Int] = [:]
    private var sources: [String: Int] = [:]
    private var first: UInt64 = 0
    private var last: UInt64 = 0
    /// Occurrences counted and not yet reported.
    private(set) var total = 0

    /// Distinct sources counted at most.
    static let maximumSources = 1_024

    /// Counts a decision worth an event that was not kept (packet path: no allocation).
    @inline(__always)
    mutating func add(_ decision: Decision, at time: UInt64) {
        note(time)
        if decision.verdict == .drop, let reason = decision.reason {
            drops[reason.ordinal] += 1
        } else if decision.trackerEvent?.isSuspicious == true, decision.rule?.log != true {
            if let event = decision.trackerEvent, let index = TrackerEvent.allCases.firstIndex(of: event) {
                anomalies[index] += 1
            } else {
                otherAnomalies += 1
            }
        } else {
            alerts += 1
        }
    }

    /// Counts an event the ring had no room for.
    mutating func add(_ event: Event) {
        note(event.timestampNanoseconds)
        let count = max(1, event.count)
        total += count - 1
        named[event.reason, default: 0] += count
        if !event.sourceIP.isEmpty, sources[event.sourceIP] != nil || sources.count < Self.maximumSources {
            sources[event.sourceIP, default: 0] += count
        }
    }

    @inline(__always)
    private mutating func note(_ time: UInt64) {
        if total == 0 { first = time }
        last = max(last, time)
        total += 1
    }

    /// The `suppressed` record (reason `queue_full`) for what was counted, nil when nothing was.
    func record(queue: Int) -> Event? {
        guard total > 0 else { return nil }
        var reasons = named
        for (index, count) in drops.enumerated() where count > 0 {
            reasons[DropReason.allCases[index].rawValue, default: 0] += count
        }
        for (index, count) in anomalies.enumerated() where count > 0 {
            reasons[TrackerEvent.allCases[index].rawValue, default: 0] += count
        }
        if otherAnomalies > 0 { reasons["anomaly", default: 0] += otherAnomalies }
        if alerts > 0 { reasons["rule_log", default: 0] += alerts }
        return Event(timestampNanoseconds: last, eventType: .suppressed, queue: queue, reason: "queue_full",
                     detail: "lost: the worker's events did not fit the log's queue", count: total,
                     firstSeenNanoseconds: first, lastSeenNanoseconds: last,
                     suppressedCounts: SuppressedCounts(reasons: SuppressedCounts.ranked(reasons),
                                                        sources: SuppressedCounts.ranked(sources, limit: SuppressedCounts.maximumSources)))
    }

    /// Forgets what was reported.
    mutating func reset() {
        self = EventLossTally()
    }
}
