import Atomics

/// A bounded single-producer, single-consumer ring of events: a queue's worker posts, the log
/// writer's thread drains. ``post(_:)`` never blocks and never allocates: when the ring is
/// full the event is dropped and counted in ``lost``.
///
/// Contract: exactly one thread posts and exactly one thread drains (each may change over
/// time only with a happens-before hand-off). The ring is `@unchecked Sendable` so it can be
/// handed to those two threads; under that contract it needs no lock. The producer's indices
/// and the consumer's sit on different cache lines, and the producer keeps a cached copy of the
/// consumer's index, so a post touches the consumer's line only when the ring looks full.
public final class EventQueue: @unchecked Sendable {
    /// How many events fit (a power of two).
    public let capacity: Int
    @usableFromInline let mask: Int
    @usableFromInline let slots: UnsafeMutablePointer<Event>
    /// Cache-line-separated counters: see the offsets below.
    @usableFromInline let words: UnsafeMutableRawPointer

    // Producer's line.
    @usableFromInline static let tailOffset = 0
    @usableFromInline static let cachedHeadOffset = 8
    @usableFromInline static let lostOffset = 16
    // Consumer's line (two lines away, against adjacent-line prefetch).
    @usableFromInline static let headOffset = 128
    private static let wordsSize = 256

    @usableFromInline var tail: UnsafeAtomic<Int> { atomic(Self.tailOffset) }
    @usableFromInline var cachedHead: UnsafeAtomic<Int> { atomic(Self.cachedHeadOffset) }
    @usableFromInline var lostCount: UnsafeAtomic<Int> { atomic(Self.lostOffset) }
    @usableFromInline var head: UnsafeAtomic<Int> { atomic(Self.headOffset) }

    @inlinable @inline(__always)
    func atomic(_ offset: Int) -> UnsafeAtomic<Int> {
        UnsafeAtomic(at: (words + offset).assumingMemoryBound(to: Int.AtomicRepresentation.self))
    }

    /// Whether the producer reports the events it could not post itself, in `suppressed`
    /// records of its own that name their reasons (a queue's worker does): the writer then
    /// leaves ``lost`` out of its own `queue_full` records, which could not name them.
    public let reportsOwnLosses: Bool

    /// Creates a ring holding at least `capacity` events (rounded up to a power of two,
    /// at least 2).
    public init(capacity: Int, reportsOwnLosses: Bool = false) {
        self.reportsOwnLosses = reportsOwnLosses
        var size = 2
        while size < capacity && size < (1 << 30) { size <<= 1 }
        self.capacity = size
        mask = size - 1
        slots = .allocate(capacity: size)
        words = .allocate(byteCount: Self.wordsSize, alignment: 64)
        let representations = words.bindMemory(to: Int.AtomicRepresentation.self, capacity: Self.wordsSize / 8)
        representations.initialize(repeating: Int.AtomicRepresentation(0), count: Self.wordsSize / 8)
    }

    deinit {
        let first = head.load(ordering: .acquiring)
        let end = tail.load(ordering: .acquiring)
        for index in first..<end {
            (slots + (index & mask)).deinitialize(count: 1)
        }
        slots.deallocate()
        words.bindMemory(to: Int.AtomicRepresentation.self, capacity: Self.wordsSize / 8)
            .deinitialize(count: Self.wordsSize / 8)
        words.deallocate()
    }

    /// Producer side: puts `event` in the ring, or counts it in ``lost`` when the ring is
    /// full. Never blocks, never allocates.
    ///
    /// - Returns: whether the event was queued.
    @inlinable @discardableResult
    public func post(_ event: consuming Event) -> Bool {
        let index = tail.load(ordering: .relaxed)
        if index &- cachedHead.load(ordering: .relaxed) >= capacity {
            let current = head.load(ordering: .acquiring)
            cachedHead.store(current, ordering: .relaxed)
            if index &- current >= capacity {
                // One writer of this counter: a plain load and store, no locked instruction.
                lostCount.store(lostCount.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
                return false
            }
        }
        (slots + (index & mask)).initialize(to: event)
        tail.store(index &+ 1, ordering: .releasing)
        return true
    }

    /// Producer side: puts `event` in the ring if there is room; unlike ``post(_:)`` a full
    /// ring does not count it in ``lost`` (for a producer's own `suppressed` summaries, which
    /// it keeps and tries again).
    @inlinable @discardableResult
    public func offer(_ event: consuming Event) -> Bool {
        let index = tail.load(ordering: .relaxed)
        if index &- cachedHead.load(ordering: .relaxed) >= capacity {
            let current = head.load(ordering: .acquiring)
            cachedHead.store(current, ordering: .relaxed)
            if index &- current >= capacity { return false }
        }
        (slots + (index & mask)).initialize(to: event)
        tail.store(index &+ 1, ordering: .releasing)
        return true
    }

    /// Events posted into the ring so far (any thread may read it).
    public var posted: Int { tail.load(ordering: .relaxed) }

    /// Events dropped because the ring was full (any thread may read it).
    public var lost: Int { lostCount.load(ordering: .relaxed) }

    /// Events in the ring now (approximate when read outside the two threads).
    public var count: Int { tail.load(ordering: .acquiring) &- head.load(ordering: .acquiring) }

    /// Consumer side: hands up to `limit` events to `body`, oldest first, and frees their
    /// slots.
    ///
    /// - Returns: how many were handed over.
    @discardableResult
    public func drain(limit: Int = .max, _ body: (consuming Event) -> Void) -> Int {
        let first = head.load(ordering: .relaxed)
        let end = tail.load(ordering: .acquiring)  // once per batch, not per event
        let available = end &- first
        let taken = min(available, max(0, limit))
        guard taken > 0 else { return 0 }
        for index in first..<(first &+ taken) {
            body((slots + (index & mask)).move())
        }
        head.store(first &+ taken, ordering: .releasing)
        return taken
    }
}
