/// Counters kept by one queue socket. Plain integers: only the owning worker thread writes them.
public struct QueueStatistics: Sendable, Equatable {
    /// Packets received and verdicted.
    public var received = 0
    public var accepted = 0
    public var dropped = 0
    /// Times the kernel reported ENOBUFS: some packets could not be delivered to us (they were
    /// dropped by the kernel, or accepted under fail-open). Never fatal.
    public var enobufs = 0
    /// Datagrams cut short because they did not fit a receive slot.
    public var truncatedDatagrams = 0
    /// Packet messages without a packet id (cannot be verdicted; should never happen).
    public var unusableMessages = 0
    /// Error replies from the kernel to our verdicts (stale id, wrong socket…).
    public var verdictErrors = 0
    public var lastVerdictErrno: Int32 = 0
    /// Verdict datagrams that could not be sent.
    public var sendErrors = 0
    /// Packets whose verdict was held, and given later (`QueueSocket.release`); `accepted`
    /// and `dropped` count them when it comes.
    public var held = 0
    /// Held packets without their verdict yet.
    public var heldNow = 0
    /// Receive calls that failed for another reason than a timeout or ENOBUFS.
    public var receiveErrors = 0
    /// Receive rounds that returned packets; `received / rounds` is the mean batch.
    public var rounds = 0
    /// On a socket taken over from an earlier synwall: 1 once the packets it left without a
    /// verdict were answered.
    public var orphansAnswered = 0

    public init() {}

    /// Adds `other` into this (totals across queues); `lastVerdictErrno` keeps the latest non-zero.
    public mutating func add(_ other: QueueStatistics) {
        received += other.received
        accepted += other.accepted
        dropped += other.dropped
        enobufs += other.enobufs
        truncatedDatagrams += other.truncatedDatagrams
        unusableMessages += other.unusableMessages
        verdictErrors += other.verdictErrors
        if other.lastVerdictErrno != 0 { lastVerdictErrno = other.lastVerdictErrno }
        sendErrors += other.sendErrors
        receiveErrors += other.receiveErrors
        rounds += other.rounds
        orphansAnswered += other.orphansAnswered
        held += other.held
        heldNow += other.heldNow
    }
}
