/// What a `flow` record says about a connection that ended, written in its `flow` object as
/// Suricata's EVE writes flows: packets and bytes each way (`toserver` is from the initiator,
/// the record's `src_ip`), and when it started and last saw a packet. How it ended is the
/// record's `reason` (`closed`, `reset`, `timeout`, …), its last state `state`.
public struct FlowFields: Sendable, Equatable {
    /// Packets from the initiator (`pkts_toserver`) and from the responder (`pkts_toclient`).
    public var packetsToServer: UInt64
    public var packetsToClient: UInt64
    /// Bytes (IP total length) of those packets (`bytes_toserver`, `bytes_toclient`).
    public var bytesToServer: UInt64
    public var bytesToClient: UInt64
    /// When the flow started (`start`) and when its last packet was seen (`end`), in
    /// nanoseconds since the Unix epoch; `age` is written as the whole seconds between them.
    public var startNanoseconds: UInt64
    public var endNanoseconds: UInt64

    /// Creates the fields.
    public init(packetsToServer: UInt64, packetsToClient: UInt64, bytesToServer: UInt64, bytesToClient: UInt64,
                startNanoseconds: UInt64, endNanoseconds: UInt64) {
        self.packetsToServer = packetsToServer
        self.packetsToClient = packetsToClient
        self.bytesToServer = bytesToServer
        self.bytesToClient = bytesToClient
        self.startNanoseconds = startNanoseconds
        self.endNanoseconds = endNanoseconds
    }

    /// Whole seconds from `start` to `end` (`age`).
    public var ageSeconds: UInt64 { (endNanoseconds &- min(endNanoseconds, startNanoseconds)) / 1_000_000_000 }
}

/// What a `suppressed` record left out, by the reason of the records it stands for and by
/// their source address (the most frequent sources; the rest are in the reasons' totals only).
/// Written in its `suppressed` object as `reasons` and `sources` (`{"name":count,…}`).
public struct SuppressedCounts: Sendable, Equatable {
    /// Occurrences left out per reason (`table_full`, `invalid_flags`, …), highest first.
    public var reasons: [NameCount]
    /// Occurrences left out per source address, highest first; at most
    /// ``maximumSources`` of them.
    public var sources: [NameCount]

    /// Most sources a record names.
    public static let maximumSources = 16

    /// A name and how many times it occurred.
    public struct NameCount: Sendable, Equatable {
        public var name: String
        public var count: Int
        /// Creates a pair.
        public init(_ name: String, _ count: Int) {
            self.name = name
            self.count = count
        }
    }

    /// Creates the counts.
    public init(reasons: [NameCount] = [], sources: [NameCount] = []) {
        self.reasons = reasons
        self.sources = sources
    }

    /// The pairs of `counts`, highest first (ties by name), at most `limit`.
    public static func ranked(_ counts: [String: Int], limit: Int = .max) -> [NameCount] {
        counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .prefix(limit).map { NameCount($0.key, $0.value) }
    }
}
