/// What `synwall stats` shows: every worker's counters, the event log's and the rules'.
/// Counters are cumulative since the daemon started (rule hits since the last reload).
public struct StatsReport: Codable, Sendable {
    /// The daemon's process id.
    public var pid: Int
    /// When the daemon became ready, and when this report was taken (Unix seconds).
    public var startedAt: Double
    public var takenAt: Double
    /// The rule file in use, if any, and how many rules it has.
    public var rulesFile: String?
    public var rulesCount: Int
    /// One entry per queue worker, in queue order.
    public var workers: [WorkerStats]
    /// Queues whose worker did not answer in time (busy or stuck); their counters are missing.
    public var unanswered: [Int]
    /// The event log's counters, when a log is configured.
    public var log: LogStats?
    /// Hits per rule (summed over the workers), in evaluation order.
    public var rules: [RuleHits]
    /// The daemon's version and commit (`synwall --version`); nil from an older daemon.
    public var version: String?
    public var commit: String?
    /// Reloads since start that put new rules in force, and those that failed (the running
    /// rules stayed); nil from an older daemon.
    public var reloads: Int?
    public var reloadFailures: Int?
    /// When rules were last put in force (the start, or the last successful reload), Unix seconds.
    public var lastReloadSuccess: Double?
    /// `block return…` answers, when the daemon can send them.
    public var replies: ReplyStats?
    /// What offloaded connections passed in the kernel (every queue), when offload is attached
    /// with iptables (docs/offload.md, "Counting").
    public var offloadedInKernel: KernelTraffic?

    /// A report.
    public init(pid: Int, startedAt: Double, takenAt: Double, rulesFile: String?, rulesCount: Int,
                workers: [WorkerStats], unanswered: [Int], log: LogStats?, rules: [RuleHits]) {
        self.pid = pid
        self.startedAt = startedAt
        self.takenAt = takenAt
        self.rulesFile = rulesFile
        self.rulesCount = rulesCount
        self.workers = workers
        self.unanswered = unanswered
        self.log = log
        self.rules = rules
    }

    /// The sum of every worker's counters (queue -1).
    public var total: WorkerStats {
        var sum = WorkerStats(queue: -1)
        for worker in workers { sum.add(worker) }
        return sum
    }
}

/// One queue worker's counters.
public struct WorkerStats: Codable, Sendable, Equatable {
    /// The NFQUEUE queue number (-1 for a total).
    public var queue: Int
    /// Packets received from the kernel, accepted and dropped.
    public var received = 0
    public var accepted = 0
    public var dropped = 0
    /// Drops by reason (`bad_seq`, `invalid_flags`, …): every reason, zeros included.
    public var drops: [String: Int] = [:]
    /// Receive buffer overruns (the kernel dropped netlink messages: ENOBUFS).
    public var enobufs = 0
    /// Verdicts the kernel refused, and failed receives.
    public var verdictErrors = 0
    public var receiveErrors = 0
    /// Packets waiting in the kernel's queue, and packets the kernel dropped because the queue
    /// was full (`queue_dropped`) or could not be delivered to us (`user_dropped`), from
    /// /proc/net/netfilter/nfnetlink_queue.
    public var kernelWaiting = 0
    public var kernelQueueDropped = 0
    public var kernelUserDropped = 0
    /// The connection table: live entries, capacity, half-open TCP connections.
    public var states = 0
    public var capacity = 0
    public var halfOpen = 0
    /// Entries created, expired, closed by the state machine and evicted to make room.
    public var created = 0
    public var expired = 0
    public var closed = 0
    public var evicted = 0
    /// New flows refused: table full, half-open cap, SYN rate, rules or policy.
    public var rejectedTableFull = 0
    public var rejectedHalfOpen = 0
    public var rejectedRateLimited = 0
    public var rejectedByRules = 0
    /// New connections from proven sources let in over the half-open cap, each in place of the
    /// oldest half-open connection.
    public var provenOverHalfOpenCap = 0
    /// Connections cut by `overload … flush` (the source overloaded the rule that admitted them).
    public var flushed = 0
    /// Connections put back from the state file (at start, or claimed later from the pool).
    public var restored = 0
    /// Restored connections whose traffic went on (their windows learned again).
    public var resumed = 0
    /// Segments of restored connections refused for lying behind the saved numbers.
    public var resumeRefused = 0
    /// Events left out because a receive round had too many.
    public var eventsSuppressed = 0
    /// Fragments whose verdict waits for the rest of their datagram now, and ever
    /// (docs/fragments.md, "Held verdicts").
    public var fragmentsHeldNow = 0
    public var fragmentsHeld = 0
    /// Fragmented datagrams judged whole, and given up incomplete.
    public var datagramsReassembled = 0
    public var datagramsAbandoned = 0
    /// Connections offloaded to the kernel, offloads ended (FIN or RST), and segments of
    /// offloaded connections the kernel found out of window (docs/offload.md).
    public var offloaded = 0
    public var offloadEnded = 0
    public var offloadKernelInvalid = 0

    /// Counters, all zero.
    public init(queue: Int) { self.queue = queue }

    /// Adds `other` into this.
    public mutating func add(_ other: WorkerStats) {
        received += other.received
        accepted += other.accepted
        dropped += other.dropped
        for (reason, count) in other.drops { drops[reason, default: 0] += count }
        enobufs += other.enobufs
        verdictErrors += other.verdictErrors
        receiveErrors += other.receiveErrors
        kernelWaiting += other.kernelWaiting
        kernelQueueDropped += other.kernelQueueDropped
        kernelUserDropped += other.kernelUserDropped
        states += other.states
        capacity += other.capacity
        halfOpen += other.halfOpen
        created += other.created
        expired += other.expired
        closed += other.closed
        evicted += other.evicted
        rejectedTableFull += other.rejectedTableFull
        rejectedHalfOpen += other.rejectedHalfOpen
        rejectedRateLimited += other.rejectedRateLimited
        rejectedByRules += other.rejectedByRules
        provenOverHalfOpenCap += other.provenOverHalfOpenCap
        flushed += other.flushed
        restored += other.restored
        resumed += other.resumed
        resumeRefused += other.resumeRefused
        eventsSuppressed += other.eventsSuppressed
        fragmentsHeldNow += other.fragmentsHeldNow
        fragmentsHeld += other.fragmentsHeld
        datagramsReassembled += other.datagramsReassembled
        datagramsAbandoned += other.datagramsAbandoned
        offloaded += other.offloaded
        offloadEnded += other.offloadEnded
        offloadKernelInvalid += other.offloadKernelInvalid
    }
}

/// The event log's counters.
public struct LogStats: Codable, Sendable, Equatable {
    /// The log file.
    public var path: String
    /// Events handed to the writer, records written, events lost to a full ring, occurrences
    /// folded into `suppressed` records, records that could not be written, failed writes,
    /// rotations.
    public var posted: Int
    public var written: Int
    public var lost: Int
    public var suppressed: Int
    public var unwritten: Int
    public var writeFailures: Int
    public var rotations: Int

    /// Counters.
    public init(path: String, posted: Int, written: Int, lost: Int, suppressed: Int, unwritten: Int,
                writeFailures: Int, rotations: Int) {
        self.path = path
        self.posted = posted
        self.written = written
        self.lost = lost
        self.suppressed = suppressed
        self.unwritten = unwritten
        self.writeFailures = writeFailures
        self.rotations = rotations
    }
}

/// One rule's hits: how many new connections it decided.
public struct RuleHits: Codable, Sendable, Equatable {
    /// 1-based, as `synwall rules list` numbers rules.
    public var number: Int
    /// `pass` or `block`.
    public var action: String
    /// `FILE:LINE`.
    public var location: String
    /// The rule as written.
    public var text: String
    /// Its label, if any.
    public var label: String?
    /// New connections it decided since the rules were loaded.
    public var hits: Int

    /// A rule's entry.
    public init(number: Int, action: String, location: String, text: String, label: String?, hits: Int) {
        self.number = number
        self.action = action
        self.location = location
        self.text = text
        self.label = label
        self.hits = hits
    }
}

/// The answers `block return…` rules sent (over every queue) since the start.
public struct ReplyStats: Codable, Sendable, Equatable {
    /// RSTs and ICMP unreachables sent.
    public var sent: Int
    /// Answers left out because the bucket was empty (`set return rate`).
    public var rateLimited: Int
    /// Answers the kernel refused to send (or whose address family had no socket).
    public var failed: Int
    /// The rate in force, as written (`100/1s burst 100`).
    public var rate: String

    /// Counters.
    public init(sent: Int, rateLimited: Int, failed: Int, rate: String) {
        self.sent = sent
        self.rateLimited = rateLimited
        self.failed = failed
        self.rate = rate
    }
}

/// Packets and bytes the kernel passed without synwall: offloaded connections' plain
/// segments, counted by the offload rule of synwall's chains (docs/offload.md, "Counting").
public struct KernelTraffic: Codable, Sendable, Equatable {
    public var packets: Int
    public var bytes: Int

    /// Counters.
    public init(packets: Int, bytes: Int) {
        self.packets = packets
        self.bytes = bytes
    }
}
