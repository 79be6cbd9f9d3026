import EventLog
import Wire

/// Which records a review wants: every condition given must hold (AND); within one condition
/// any of its values may match (OR). An empty query matches everything.
public struct LogQuery: Sendable, Equatable {
    /// Records at or after this time (ns since the epoch).
    public var since: UInt64?
    /// Records before this time (ns since the epoch).
    public var until: UInt64?
    /// Source address inside one of these.
    public var sources: [IPPrefix] = []
    /// Destination address inside one of these.
    public var destinations: [IPPrefix] = []
    /// Source or destination port one of these (as `tcpdump port N` means).
    public var ports: [UInt16] = []
    /// `reason` one of these.
    public var reasons: [String] = []
    /// `rule` one of these: its label, `file:line` (file as written in the record, or its
    /// last path component), or the line number alone.
    public var rules: [String] = []
    /// `event_type` one of these.
    public var eventTypes: [EventType] = []

    /// Creates a query that matches everything; set the properties to narrow it.
    public init(since: UInt64? = nil, until: UInt64? = nil, sources: [IPPrefix] = [], destinations: [IPPrefix] = [],
                ports: [UInt16] = [], reasons: [String] = [], rules: [String] = [], eventTypes: [EventType] = []) {
        self.since = since
        self.until = until
        self.sources = sources
        self.destinations = destinations
        self.ports = ports
        self.reasons = reasons
        self.rules = rules
        self.eventTypes = eventTypes
    }

    /// Whether the query has no conditions.
    public var isEmpty: Bool { self == LogQuery() }

    /// Whether `event` satisfies every condition. Cheap tests first; addresses are parsed
    /// only when an address condition is given.
    public func matches(_ event: Event) -> Bool {
        let time = event.timestampNanoseconds
        if let since, time < since { return false }
        if let until, time >= until { return false }
        if !eventTypes.isEmpty && !eventTypes.contains(event.eventType) { return false }
        if !reasons.isEmpty && !reasons.contains(event.reason) { return false }
        if !ports.isEmpty {
            let hit = event.destinationPort.map { ports.contains($0) } == true
                || event.sourcePort.map { ports.contains($0) } == true
            if !hit { return false }
        }
        if !rules.isEmpty {
            guard let rule = event.rule, rules.contains(where: { Self.rule(rule, isNamed: $0) }) else { return false }
        }
        if !sources.isEmpty && !sources.contains(where: { $0.contains(addressText: event.sourceIP) }) { return false }
        if !destinations.isEmpty && !destinations.contains(where: { $0.contains(addressText: event.destinationIP) }) { return false }
        return true
    }

    static func rule(_ rule: EventRule, isNamed name: String) -> Bool {
        if let label = rule.label, label == name { return true }
        if name == "\(rule.file):\(rule.line)" || name == rule.displayName { return true }
        if let line = Int(name), line == rule.line { return true }
        let shortName = (rule.file.split(separator: "/").last.map(String.init) ?? rule.file) + ":\(rule.line)"
        return name == shortName
    }
}

/// A ``LogQuery`` prepared for the reader: it judges a scanned record from its bytes, so a
/// record that does not match never has its strings built.
struct CompiledLogQuery {
    let query: LogQuery
    private let reasons: [[UInt8]]

    init(_ query: LogQuery) {
        self.query = query
        reasons = query.reasons.map { Array($0.utf8) }
    }

    /// Whether the record matches; nil when a field the query looks at holds escapes (then
    /// judge the built ``Event`` with ``LogQuery/matches(_:)``).
    func matches(_ record: LogRawRecord, in line: UnsafeBufferPointer<UInt8>) -> Bool? {
        let time = record.timestamp
        if let since = query.since, time < since { return false }
        if let until = query.until, time >= until { return false }
        if !query.eventTypes.isEmpty && !query.eventTypes.contains(record.eventType) { return false }
        if !reasons.isEmpty {
            if record.reason.escaped { return nil }
            let bytes = record.reason.bytes(in: line)
            guard reasons.contains(where: { $0.elementsEqual(bytes) }) else { return false }
        }
        if !query.ports.isEmpty {
            let hit = record.destinationPort.map { query.ports.contains($0) } == true
                || record.sourcePort.map { query.ports.contains($0) } == true
            if !hit { return false }
        }
        if !query.rules.isEmpty {
            guard record.hasRule else { return false }
            if record.ruleFile.escaped || record.ruleLabel.escaped { return nil }
            let label = record.ruleLabel.isPresent ? String(decoding: record.ruleLabel.bytes(in: line), as: UTF8.self) : nil
            let rule = EventRule(file: String(decoding: record.ruleFile.bytes(in: line), as: UTF8.self), line: record.ruleLine,
                                 label: label)
            guard query.rules.contains(where: { LogQuery.rule(rule, isNamed: $0) }) else { return false }
        }
        if !query.sources.isEmpty {
            if record.sourceIP.escaped { return nil }
            let bytes = record.sourceIP.bytes(in: line)
            guard query.sources.contains(where: { $0.contains(addressText: bytes) }) else { return false }
        }
        if !query.destinations.isEmpty {
            if record.destinationIP.escaped { return nil }
            let bytes = record.destinationIP.bytes(in: line)
            guard query.destinations.contains(where: { $0.contains(addressText: bytes) }) else { return false }
        }
        return true
    }
}
