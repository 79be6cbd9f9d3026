import Wire

/// Per-source-address state for the flood limits: the number of half-open connections the
/// source initiated, its SYN token bucket, and when a handshake it began last completed (a
/// *proven* source: its address answered our SYN-ACK, so it is not spoofed). Fixed capacity,
/// open addressing with a bounded probe window; entries are never deleted, only replaced when
/// they hold nothing worth keeping (no half-open connection, not proven lately), so a flood of
/// spoofed sources can neither grow it nor push proven sources out.
struct SourceTable {
    struct Entry {
        var address: IPAddress
        /// Tokens × 10^9 (one token per SYN).
        var tokens: UInt64
        /// When `tokens` was last brought up to date (injected clock, ns).
        var refilled: UInt64
        var halfOpen: UInt32
        var used: UInt32
        /// When a handshake this source began last reached ESTABLISHED (ns; 0: never).
        var proven: UInt64
    }

    /// Slots looked at from a source's home slot.
    static let probeWindow = 16
    static let tokenUnit: UInt64 = 1_000_000_000

    let slots: UnsafeMutablePointer<Entry>
    let mask: Int
    let seed: UInt64
    let ratePerSecond: UInt64
    let bucketSize: UInt64
    /// How long a completed handshake keeps its source proven (ns).
    let provenMemory: UInt64

    init(capacity requested: Int, seed: UInt64, rate: SYNRateLimit, provenMemory: UInt64) {
        var count = 16
        while count < min(max(requested, 16), 1 << 24) { count <<= 1 }
        mask = count - 1
        slots = .allocate(capacity: count)
        slots.initialize(repeating: Entry(address: IPAddress(high: 0, low: 0), tokens: 0, refilled: 0, halfOpen: 0,
                                          used: 0, proven: 0), count: count)
        self.seed = seed | 1
        ratePerSecond = UInt64(rate.perSecond)
        bucketSize = UInt64(max(rate.burst, 1)) * Self.tokenUnit
        self.provenMemory = provenMemory
    }

    func deallocate() { slots.deallocate() }

    @inline(__always)
    func home(_ address: IPAddress) -> Int {
        let mixed = ConnectionTable.fold(address.high ^ seed, address.low ^ 0x9E37_79B9_7F4A_7C15)
        return Int(truncatingIfNeeded: mixed) & mask
    }

    /// The slot of `address`, or nil when it is not followed.
    func find(_ address: IPAddress) -> Int? {
        var position = home(address)
        for _ in 0..<Self.probeWindow {
            let slot = slots[position]
            if slot.used == 0 { return nil }
            if slot.address == address { return position }
            position = (position + 1) & mask
        }
        return nil
    }

    /// The slot of `address`, taking a free or replaceable one (no half-open connections, not
    /// proven lately) for a new source; nil when every slot in its window is worth keeping.
    mutating func findOrInsert(_ address: IPAddress, now: UInt64) -> Int? {
        var position = home(address)
        var replaceable = -1
        for _ in 0..<Self.probeWindow {
            let slot = slots[position]
            if slot.used == 0 {
                replaceable = position
                break
            }
            if slot.address == address { return position }
            if slot.halfOpen == 0 && replaceable < 0 && !isProven(slot, now: now) { replaceable = position }
            position = (position + 1) & mask
        }
        guard replaceable >= 0 else { return nil }
        slots[replaceable] = Entry(address: address, tokens: bucketSize, refilled: now, halfOpen: 0, used: 1,
                                   proven: 0)
        return replaceable
    }

    @inline(__always)
    private func isProven(_ slot: Entry, now: UInt64) -> Bool {
        slot.proven != 0 && now &- slot.proven < provenMemory
    }

    /// Whether `address` completed a handshake within the proven memory.
    func isProven(_ address: IPAddress, now: UInt64) -> Bool {
        guard let index = find(address) else { return false }
        return isProven(slots[index], now: now)
    }

    /// A handshake `address` began has completed: it is proven from `now` on.
    mutating func markProven(_ address: IPAddress, now: UInt64) {
        guard provenMemory > 0, let index = findOrInsert(address, now: now) else { return }
        slots[index].proven = max(now, 1)
    }

    /// Takes one token from slot `index`'s bucket; false when it is empty.
    mutating func takeToken(_ index: Int, now: UInt64) -> Bool {
        if ratePerSecond == 0 { return true }
        let slot = slots + index
        if now > slot.pointee.refilled {
            let elapsed = min(now - slot.pointee.refilled, bucketSize / ratePerSecond + 1)
            slot.pointee.tokens = min(bucketSize, slot.pointee.tokens + elapsed * ratePerSecond)
            slot.pointee.refilled = now
        }
        guard slot.pointee.tokens >= Self.tokenUnit else { return false }
        slot.pointee.tokens -= Self.tokenUnit
        return true
    }

    /// One half-open connection of `address` ended.
    mutating func releaseHalfOpen(_ address: IPAddress) {
        guard let index = find(address), slots[index].halfOpen > 0 else { return }
        slots[index].halfOpen -= 1
    }
}
