/// Collects the verdicts of one receive round and encodes them for a single `sendmsg`.
///
/// Drops are written as individual verdict messages as they come; accepts only raise the
/// highest accepted id (unless recorded `individually`: see `record`). `finish()` appends one batch ACCEPT covering every id up to it, after
/// the drops, so the kernel (which processes a datagram's messages in order) drops the
/// exceptions first and accepts the rest in one step. Ids compare modulo 2^32.
struct VerdictBatch: ~Copyable {
    private let buffer: UnsafeMutableRawBufferPointer
    private let queue: UInt16
    private(set) var used = 0
    private var highestAccepted: UInt32 = 0
    private var hasAccept = false
    /// Number of verdicts recorded since the last reset (for statistics and tests).
    private(set) var recorded = 0

    /// Room for one message: nlmsghdr + nfgenmsg + NFQA_VERDICT_HDR, aligned, and an
    /// NFQA_MARK for a marked verdict.
    static let messageSize = 40

    init(capacity: Int, queue: UInt16) {
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(2, capacity + 1) * Self.messageSize,
                                                        alignment: 8)
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        self.queue = queue
    }

    deinit { buffer.deallocate() }

    /// True when another drop message would not fit before the closing batch message.
    var needsFlush: Bool { buffer.count - used < 2 * Self.messageSize }

    /// Records the verdict for `id`. With `individually`, an accept is a message of its own
    /// too, not part of the closing batch: while some packet's verdict is held, a batch
    /// accept covering its id would let it through.
    mutating func record(id: UInt32, verdict: PacketVerdict, individually: Bool = false) {
        switch verdict {
        case .held:
            return
        case .drop:
            recorded += 1
            guard let base = buffer.baseAddress else { return }
            used += Syscalls.putVerdict(into: base + used, queue: queue, id: id, verdict: Syscalls.verdictDrop)
        case .repeatWithMark(let mark):
            recorded += 1
            guard let base = buffer.baseAddress else { return }
            used += Syscalls.putMarkedVerdict(into: base + used, queue: queue, id: id, verdict: Syscalls.verdictRepeat,
                                              mark: mark)
        case .accept where individually:
            recorded += 1
            guard let base = buffer.baseAddress else { return }
            used += Syscalls.putVerdict(into: base + used, queue: queue, id: id, verdict: Syscalls.verdictAccept)
        case .accept:
            recorded += 1
            if !hasAccept || Int32(bitPattern: id &- highestAccepted) > 0 {
                highestAccepted = id
            }
            hasAccept = true
        }
    }

    /// Appends the closing batch accept (if any packet was accepted) and returns the bytes to send.
    mutating func finish() -> UnsafeRawBufferPointer {
        if hasAccept, let base = buffer.baseAddress {
            used += Syscalls.putBatchVerdict(into: base + used, queue: queue, id: highestAccepted,
                                             verdict: Syscalls.verdictAccept)
        }
        return UnsafeRawBufferPointer(rebasing: buffer[0 ..< used])
    }

    /// Bytes of individual messages written so far, without the closing batch (for an early
    /// flush).
    func pendingDrops() -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: buffer[0 ..< used])
    }

    /// Forgets the individual messages already sent, keeping the accept state (used after an
    /// early flush).
    mutating func clearDrops() { used = 0 }

    /// Starts a new round.
    mutating func reset() {
        used = 0
        hasAccept = false
        recorded = 0
    }
}
