/// The `set` lines of a ruleset: tunables for the tracker and the daemon to apply. Nil or the
/// default means the line is absent and the component's own default holds.
public struct RuleSettings: Sendable, Hashable {
    /// A named timeout of `set timeout NAME DURATION`. Raw values are the names in the file.
    public enum TimeoutName: String, Sendable, Hashable, CaseIterable {
        /// SYN seen, waiting for the SYN-ACK.
        case tcpSynSent = "tcp.syn_sent"
        /// SYN-ACK seen, waiting for the final ACK.
        case tcpSynReceived = "tcp.syn_recv"
        /// Handshake done.
        case tcpEstablished = "tcp.established"
        /// One side has sent FIN.
        case tcpFinWait = "tcp.fin_wait"
        /// The FIN was acknowledged; the other side may still send.
        case tcpCloseWait = "tcp.close_wait"
        /// Both sides have sent FIN; the last ACK is awaited.
        case tcpLastAck = "tcp.last_ack"
        /// Closed in order; stragglers are still accepted.
        case tcpTimeWait = "tcp.time_wait"
        /// Closed by a RST.
        case tcpClose = "tcp.close"
        /// Cap after repeated retransmissions or a zero window.
        case tcpRetransmit = "tcp.retrans"
        /// Cap while data is unacknowledged.
        case tcpUnacknowledged = "tcp.unacknowledged"
        /// A picked-up connection (`set tcp pickup`) until a reply is seen.
        case tcpPickup = "tcp.pickup"
        /// UDP flow that has seen one direction only.
        case udpSingle = "udp.single"
        /// UDP flow that has seen both directions.
        case udpStream = "udp.stream"
        /// ICMP query (echo) flow.
        case icmp = "icmp"
        /// Any other protocol's flow.
        case other = "other"
        /// How long a source stays proven after a handshake of its own completed (over the
        /// half-open cap, its new connections replace the oldest half-open ones); 0: never.
        case sourceProven = "source.proven"
    }

    /// How `set tcp rst` judges a RST inside the window but not at the exact expected sequence.
    public enum RSTCheck: String, Sendable, Hashable {
        /// Pass it without changing state, cut the timeout (default).
        case window
        /// Drop it (`rst_invalid`).
        case exact
    }

    /// What a reload does to live connections the new rules would no longer admit.
    public enum ReloadStates: String, Sendable, Hashable {
        /// Leave them alone (default, like pf).
        case keep
        /// Check each live connection against the new rules as if it were new, and cut those
        /// the new rules would block.
        case recheck
    }

    /// A rate of `COUNT/SECONDS` with a burst.
    public struct Rate: Sendable, Hashable {
        /// Events allowed per `seconds`.
        public var count: Int
        /// The window, in seconds (at least 1).
        public var seconds: Int
        /// The bucket's depth: events allowed at once (defaults to `count`).
        public var burst: Int

        /// A rate from its parts.
        public init(count: Int, seconds: Int, burst: Int? = nil) {
            self.count = count
            self.seconds = seconds
            self.burst = burst ?? count
        }
    }

    /// `set limit states N`: most entries in the connection table.
    public var stateLimit: Int?
    /// `set limit src-nodes N`: most sources tracked for `max-src-conn*` (default 100,000).
    public var sourceNodeLimit: Int?
    /// `set limit table-entries N`: most addresses `overload` may add to one table (default 65,536).
    public var tableEntryLimit: Int?
    /// `set limit half-open N`: most half-open (handshake not finished) connections.
    public var halfOpenLimit: Int?
    /// `set limit half-open-per-source N`: most half-open connections from one source address.
    public var halfOpenPerSourceLimit: Int?
    /// `set syn-rate N/SECONDS [burst B]`: per-source token bucket for connection attempts.
    public var synRate: Rate?
    /// `set return rate N/s [burst N]`: most answers (RST, ICMP) `block return…` rules send,
    /// over every queue; nil: `defaultReturnRate`.
    public var returnRate: Rate?
    /// 100 answers a second, 100 at once.
    public static let defaultReturnRate = Rate(count: 100, seconds: 1)
    /// `set timeout NAME DURATION` lines.
    public var timeouts: [TimeoutName: Duration]
    /// `set tcp pickup`: adopt connections already established (mid-stream ACK) instead of
    /// dropping them as `no_connection`.
    public var tcpPickup: Bool
    /// `set tcp rst exact|window`.
    public var tcpRST: RSTCheck
    /// `set tcp paws`: drop a segment whose timestamp is older than its sender's last in-order
    /// one (`bad_timestamp`, RFC 7323 §5).
    public var tcpPAWS = false
    /// `set tcp timestamps strict`: once both SYNs carried timestamps, drop a non-RST segment
    /// without one (`bad_timestamp`, RFC 7323 §3.2).
    public var tcpTimestampsStrict = false
    /// `set log FILE`: the event log path (relative paths resolved against the rule file's
    /// directory).
    public var logPath: String?
    /// `set log rotate SIZE keep N`: rotate the event log at this many bytes, keeping N files.
    public var logRotateBytes: Int?
    public var logRotateKeep: Int?
    /// `set log flows on|off`: whether the daemon writes a `flow` record when a connection
    /// ends (on by default).
    public var logFlows = true
    /// `set reload keep|recheck`.
    public var reloadStates: ReloadStates
    /// `set state checkpoint INTERVAL|off`: how often the daemon writes a crash checkpoint of
    /// its connections to the state file (nil: the default, 10 s; zero: never).
    public var stateCheckpoint: Duration?
    /// `set state max-age DURATION`: a state file older than this is not loaded (nil: the
    /// default, 10 minutes; zero: no limit).
    public var stateMaxAge: Duration?
    /// `set offload after N`: once a TCP connection is ESTABLISHED and has passed N packets
    /// each way with no anomaly, its plain segments pass in the kernel (docs/offload.md). Nil:
    /// off (the default).
    public var offloadAfter: Int?
    /// `set offload mark BIT`: the packet/connection mark bit offload uses; the two bits above
    /// it are used too (end of offload, kernel-invalid report). A single bit below 2^29.
    public var offloadMark: UInt32 = RuleSettings.defaultOffloadMark
    /// The default offload mark bit (and the two above it): 0x100000.
    public static let defaultOffloadMark: UInt32 = 0x0010_0000

    /// Settings with nothing set.
    public init(stateLimit: Int? = nil, sourceNodeLimit: Int? = nil, tableEntryLimit: Int? = nil,
                halfOpenLimit: Int? = nil, halfOpenPerSourceLimit: Int? = nil, synRate: Rate? = nil,
                timeouts: [TimeoutName: Duration] = [:], tcpPickup: Bool = false, tcpRST: RSTCheck = .window,
                logPath: String? = nil, reloadStates: ReloadStates = .keep) {
        self.stateLimit = stateLimit
        self.sourceNodeLimit = sourceNodeLimit
        self.tableEntryLimit = tableEntryLimit
        self.halfOpenLimit = halfOpenLimit
        self.halfOpenPerSourceLimit = halfOpenPerSourceLimit
        self.synRate = synRate
        self.timeouts = timeouts
        self.tcpPickup = tcpPickup
        self.tcpRST = tcpRST
        self.logPath = logPath
        self.reloadStates = reloadStates
    }

    /// True for `set tcp rst exact`.
    public var tcpRSTExact: Bool { tcpRST == .exact }

    /// Default for `sourceNodeLimit`.
    public static let defaultSourceNodeLimit = 100_000
    /// Default for `tableEntryLimit`.
    public static let defaultTableEntryLimit = 65_536
    /// Default for `stateCheckpoint`.
    public static let defaultStateCheckpoint = Duration.seconds(10)
    /// Default for `stateMaxAge`.
    public static let defaultStateMaxAge = Duration.seconds(600)
}
