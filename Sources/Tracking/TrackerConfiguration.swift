/// A per-source SYN token bucket: `perSecond` tokens are added each second up to `burst`, each
/// new connection from the source takes one. `perSecond` 0 means no limit.
public struct SYNRateLimit: Sendable, Equatable {
    /// Tokens added per second (new connections per second sustained); 0 turns the limit off.
    public var perSecond: UInt32
    /// Bucket size: connections a quiet source may open at once.
    public var burst: UInt32

    /// A limit of `perSecond` new connections per second per source, with bursts of `burst`.
    public init(perSecond: UInt32, burst: UInt32) {
        self.perSecond = perSecond
        self.burst = burst
    }

    /// No per-source rate limit.
    public static let unlimited = SYNRateLimit(perSecond: 0, burst: 0)
}

/// Settings of the connection tracker, fixed when the tracker is made.
public struct TrackerConfiguration: Sendable, Equatable {
    /// The most flows kept (`set limit states N`, `--max-states`): the table's fixed capacity,
    /// 1 … 67,108,864 (values outside are clamped).
    public var maxStates: Int
    /// Idle timeouts per state.
    public var timeouts: TrackerTimeouts
    /// `set tcp pickup`: an ACK without an entry creates an ESTABLISHED connection with loosely
    /// learned windows (for restarts). Off: such an ACK is `no_connection`.
    public var pickup: Bool
    /// `set tcp rst exact`: only a RST whose seq is exactly the expected one is accepted (RFC
    /// 5961 mode); off, a RST in the window but not exact passes without closing.
    public var rstExact: Bool
    /// The most half-open (SYN_SENT, SYN_SENT2, SYN_RECV) connections overall; a SYN beyond
    /// it is `table_full` (event `half_open_cap`).
    public var maxHalfOpen: Int
    /// The most half-open connections one source address may have; beyond: `rate_limited`
    /// (event `half_open_cap`). 0 means no per-source cap.
    public var maxHalfOpenPerSource: Int
    /// New connections per second per source address; beyond: `rate_limited` (event
    /// `syn_rate`). Off unless asked for (`set syn-rate`): one honest client behind a NAT,
    /// a proxy or a health checker may open thousands of connections a second.
    public var synRatePerSource: SYNRateLimit
    /// Source addresses followed at once for the per-source limits (rounded up to a power of
    /// two). A new source that finds no room is held only to the overall caps.
    public var sourceTableCapacity: Int
    /// How long a source stays *proven* after a handshake it began completed: over the
    /// overall half-open cap, its new connections replace the oldest half-open ones instead of
    /// being refused. 0 turns this off (every SYN over the cap is refused).
    public var provenSourceMemorySeconds: Int
    /// `set tcp paws`: on a synchronised connection, a segment whose TSval is older than the
    /// last in-order one from its sender is `bad_timestamp` (RFC 7323 §5; Linux's one-tick
    /// slack; a connection idle over 24 days is exempt). Off by default, as in Linux conntrack.
    public var paws: Bool = false
    /// `set tcp timestamps strict`: once both SYNs carried timestamps, a non-RST segment
    /// without one is `bad_timestamp` (RFC 7323 §3.2). Off by default: Linux accepts them.
    public var timestampsStrict: Bool = false
    /// Seed of the table's hash (keep it secret and random in production, so that no one can
    /// aim collisions; fixed in tests). Verdicts never depend on it.
    public var hashSeed: UInt64
    /// `set offload after N`: packets each way after which an ESTABLISHED connection without
    /// anomalies is offloaded; 0: never (docs/offload.md).
    public var offloadAfter: UInt32 = 0

    /// A configuration; every parameter has Linux's or synwall's default.
    public init(maxStates: Int = 1_000_000, timeouts: TrackerTimeouts = TrackerTimeouts(), pickup: Bool = false,
                rstExact: Bool = false, maxHalfOpen: Int = 250_000, maxHalfOpenPerSource: Int = 1_000,
                synRatePerSource: SYNRateLimit = .unlimited,
                sourceTableCapacity: Int = 65_536, provenSourceMemorySeconds: Int = 3_600,
                hashSeed: UInt64 = UInt64.random(in: .min ... .max)) {
        self.maxStates = maxStates
        self.timeouts = timeouts
        self.pickup = pickup
        self.rstExact = rstExact
        self.maxHalfOpen = maxHalfOpen
        self.maxHalfOpenPerSource = maxHalfOpenPerSource
        self.synRatePerSource = synRatePerSource
        self.sourceTableCapacity = sourceTableCapacity
        self.provenSourceMemorySeconds = provenSourceMemorySeconds
        self.hashSeed = hashSeed
    }

    /// The largest `maxStates` accepted.
    public static let maximumStates = 1 << 26
}
