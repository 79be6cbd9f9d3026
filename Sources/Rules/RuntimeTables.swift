import Wire

/// When an entry was put in a table while running, for how long, and by whom.
public struct RuntimeEntryTime: Sendable, Equatable {
    /// When it was added (ns, the matcher's clock).
    public var since: UInt64
    /// Nanoseconds it stays; nil: as long as the table's `expire` says (for ever without one).
    public var lifetime: UInt64?
    /// True when an operator added it (`synwall table add`); false for `overload`.
    public var manual: Bool

    /// A time.
    public init(since: UInt64, lifetime: UInt64? = nil, manual: Bool = false) {
        self.since = since
        self.lifetime = lifetime
        self.manual = manual
    }
}

/// One entry added to a table while running (by `overload` or `synwall table add`), as
/// listed for `synwall table show` and saved in the state file.
public struct RuntimeTableEntry: Sendable, Equatable {
    /// The table's name.
    public var table: String
    /// The address (full-length prefix) or prefix.
    public var prefix: IPPrefix
    /// When, for how long, by whom.
    public var time: RuntimeEntryTime
    /// When it expires (ns), or nil for never (computed with the table's `expire`).
    public var expiresAt: UInt64?

    /// An entry.
    public init(table: String, prefix: IPPrefix, time: RuntimeEntryTime, expiresAt: UInt64?) {
        self.table = table
        self.prefix = prefix
        self.time = time
        self.expiresAt = expiresAt
    }
}

/// What `RuleMatcher.addEntry` did.
public enum TableChange: Sendable, Equatable {
    /// A new entry.
    case added
    /// It was there already: its time and lifetime were renewed.
    case renewed
    /// The table holds `set limit table-entries` entries (or, for prefixes,
    /// `RuntimeTable.maximumPrefixes`), none of them expired.
    case full
    /// No table of that name, or it is `const`.
    case notChangeable
}

/// Where an address was found in a table (`synwall table test`).
public enum TableMatch: Sendable, Equatable {
    /// In the entries written in the rule file: the merged range holding it.
    case written(first: IPAddress, last: IPAddress)
    /// In an entry added while running.
    case runtime(RuntimeTableEntry)
}

/// One table's entries added while running: host addresses in a dictionary (one lookup per
/// packet that asks), shorter prefixes in a short list checked one by one (bounded by
/// `maximumPrefixes`; long lists of ranges belong in the rule file, where they are merged).
struct RuntimeTable: Sendable {
    var hosts: [IPAddress: RuntimeEntryTime] = [:]
    var prefixes: [(prefix: IPPrefix, time: RuntimeEntryTime)] = []
    /// The table's `expire` in nanoseconds, or `UInt64.max`.
    var expiry: UInt64

    /// At most this many prefixes shorter than a host per table.
    static let maximumPrefixes = 4_096

    var count: Int { hosts.count + prefixes.count }

    @inline(__always)
    func isLive(_ time: RuntimeEntryTime, now: UInt64) -> Bool {
        now &- min(now, time.since) < (time.lifetime ?? expiry)
    }

    /// When an entry of `time` expires, or nil for never.
    func expiresAt(_ time: RuntimeEntryTime) -> UInt64? {
        let lifetime = time.lifetime ?? expiry
        guard lifetime != UInt64.max else { return nil }
        let (sum, overflow) = time.since.addingReportingOverflow(lifetime)
        return overflow ? nil : sum
    }

    @inline(__always)
    func contains(_ address: IPAddress, now: UInt64) -> Bool {
        if let time = hosts[address], isLive(time, now: now) { return true }
        if prefixes.isEmpty { return false }
        for entry in prefixes where entry.prefix.contains(address) && isLive(entry.time, now: now) { return true }
        return false
    }

    /// The live entry holding `address`: the host entry, else the longest prefix.
    func match(_ address: IPAddress, now: UInt64) -> (prefix: IPPrefix, time: RuntimeEntryTime)? {
        if let time = hosts[address], isLive(time, now: now), let prefix = IPPrefix(address: address, length: address.isIPv4 ? 32 : 128) {
            return (prefix, time)
        }
        var best: (prefix: IPPrefix, time: RuntimeEntryTime)?
        for entry in prefixes where entry.prefix.contains(address) && isLive(entry.time, now: now) {
            if entry.prefix.length > (best?.prefix.length ?? -1) { best = entry }
        }
        return best
    }

    /// Drops expired entries; returns how many went.
    mutating func purge(now: UInt64) -> Int {
        let before = count
        let lifetime = expiry
        func live(_ time: RuntimeEntryTime) -> Bool { now &- min(now, time.since) < (time.lifetime ?? lifetime) }
        hosts = hosts.filter { live($0.value) }
        prefixes.removeAll { !live($0.time) }
        return before - count
    }
}
