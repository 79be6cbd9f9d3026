#if os(Linux)
import Glibc
#endif
/// The flow table: a fixed array of `ConnectionEntry` values (capacity set at start, never
/// grown), an open-addressing index over it, a free list and the timer lists. It knows nothing
/// of TCP: the tracker decides what entries mean, when they expire and which may be evicted.
///
/// Index: a power-of-two array of 32-bit slots (at least twice the capacity, so the load stays
/// at most 1/2), linear probing, backward-shift deletion (no tombstones). A slot holds the
/// entry index + 1 in its low bits and a few hash bits as a tag, so a probe rarely reads an
/// entry that does not match. Memory: 160 bytes per entry plus about 8 per entry of index;
/// entries are touched only as they are first used. Large arrays are 2 MiB-aligned and
/// hinted for transparent huge pages (`madvise`, Linux; no system call on the packet path).
struct ConnectionTable {
    /// "No entry" in links and heads.
    static let none: UInt32 = .max

    let capacity: Int
    let entries: UnsafeMutablePointer<ConnectionEntry>
    let slots: UnsafeMutablePointer<UInt32>
    let slotMask: Int
    let indexBits: UInt32
    let indexMask: UInt32
    let tagShift: UInt64
    let seed0: UInt64
    let seed1: UInt64
    let seed2: UInt64
    /// Timer lists: head, tail and the head's deadline (as last read) per `TimerClass`.
    let heads: UnsafeMutablePointer<UInt32>
    let tails: UnsafeMutablePointer<UInt32>
    let headDeadlines: UnsafeMutablePointer<UInt32>

    /// Entries in use.
    private(set) var count = 0
    /// Entries `0..<highWater` have been used at least once; the rest were never touched.
    private(set) var highWater = 0
    private var freeHead: UInt32 = ConnectionTable.none
    /// A lower bound of the earliest head deadline over all lists: nothing is due before it.
    private(set) var nextDue: UInt32 = .max

    init(capacity requested: Int, seed: UInt64) {
        capacity = max(1, min(requested, TrackerConfiguration.maximumStates))
        var bits: UInt32 = 1
        while (1 << bits) <= capacity { bits += 1 }
        indexBits = bits
        indexMask = (1 << bits) - 1
        tagShift = UInt64(64 - (32 - bits))
        var slotCount = 64
        while slotCount < capacity * 2 { slotCount <<= 1 }
        slotMask = slotCount - 1
        slots = Self.allocateLarge(UInt32.self, count: slotCount)
        slots.initialize(repeating: 0, count: slotCount)
        entries = Self.allocateLarge(ConnectionEntry.self, count: capacity)
        heads = .allocate(capacity: TimerClass.count)
        heads.initialize(repeating: Self.none, count: TimerClass.count)
        tails = .allocate(capacity: TimerClass.count)
        tails.initialize(repeating: Self.none, count: TimerClass.count)
        headDeadlines = .allocate(capacity: TimerClass.count)
        headDeadlines.initialize(repeating: .max, count: TimerClass.count)
        var mixer = seed
        seed0 = Self.splitMix(&mixer)
        seed1 = Self.splitMix(&mixer)
        seed2 = Self.splitMix(&mixer)
    }

    /// Storage for `count` values, 2 MiB-aligned when large, with a hint to back it with huge
    /// pages (fewer TLB misses on random lookups; no effect on behaviour).
    static func allocateLarge<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let bytes = max(1, count * MemoryLayout<T>.stride)
        let huge = 2 << 20
        guard bytes >= huge else { return .allocate(capacity: count) }
        let rounded = (bytes + huge - 1) / huge * huge
        let raw = UnsafeMutableRawPointer.allocate(byteCount: rounded, alignment: huge)
        #if os(Linux)
        _ = madvise(raw, rounded, 14)  // MADV_HUGEPAGE: a hint only, errors are of no consequence
        #endif
        return raw.bindMemory(to: T.self, capacity: count)
    }

    /// Frees the storage; the table must not be used afterwards.
    func deallocate() {
        slots.deallocate()
        entries.deallocate()
        heads.deallocate()
        tails.deallocate()
        headDeadlines.deallocate()
    }

    var isFull: Bool { count >= capacity }

    /// Entry `index`, read and changed in place (no copy): `table[index].flags`. The storage
    /// is the table's, so changing an entry does not change the table value.
    @inline(__always)
    subscript(index: Int) -> ConnectionEntry {
        unsafeAddress { UnsafePointer(entries + index) }
        nonmutating unsafeMutableAddress { entries + index }
    }

    // MARK: Hashing and lookup

    static func splitMix(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always)
    static func fold(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let product = a.multipliedFullWidth(by: b)
        return product.high ^ product.low
    }

    /// A seeded 64-bit hash of `key` (multiply-fold mixing, in the style of wyhash).
    @inline(__always)
    func hash(_ key: FlowKey) -> UInt64 {
        let a = Self.fold(key.lowAddress.high ^ seed0, key.lowAddress.low ^ seed1)
        let b = Self.fold(key.highAddress.high ^ seed2, key.highAddress.low ^ seed0)
        let c = UInt64(key.lowPort) << 32 | UInt64(key.highPort) << 16 | UInt64(key.proto)
        return Self.fold(a ^ c ^ seed1, b ^ seed2 ^ 0xA076_1D64_78BD_642F)
    }

    @inline(__always)
    func tag(_ hash: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: hash >> tagShift) }

    /// The index of the entry for `key`, or nil.
    @inline(__always)
    func find(_ key: FlowKey, hash: UInt64) -> Int? {
        let wanted = tag(hash)
        var position = Int(truncatingIfNeeded: hash) & slotMask
        while true {
            let slot = slots[position]
            if slot == 0 { return nil }
            if slot >> indexBits == wanted {
                let index = Int(slot & indexMask) - 1
                if entries[index].key == key { return index }
            }
            position = (position + 1) & slotMask
        }
    }

    // MARK: Insertion and removal

    /// Takes a free entry for `key` (which must not be present), zeroed but for the key and
    /// not linked to any timer list; nil when the table is full.
    mutating func insert(_ key: FlowKey, hash: UInt64) -> Int? {
        let index: Int
        if freeHead != Self.none {
            index = Int(freeHead)
            freeHead = entries[index].next
        } else if highWater < capacity {
            index = highWater
            highWater += 1
        } else {
            return nil
        }
        (entries + index).initialize(to: ConnectionEntry.empty(key))
        var position = Int(truncatingIfNeeded: hash) & slotMask
        while slots[position] != 0 { position = (position + 1) & slotMask }
        slots[position] = tag(hash) << indexBits | UInt32(index + 1)
        count += 1
        return index
    }

    /// Removes entry `index` (linked to a timer list) from the index and the lists, and frees it.
    mutating func remove(_ index: Int) {
        unlink(index)
        let hash = self.hash(entries[index].key)
        let wanted = UInt32(index + 1)
        var hole = Int(truncatingIfNeeded: hash) & slotMask
        while slots[hole] & indexMask != wanted {
            if slots[hole] == 0 { break }  // not indexed: cannot happen for a linked entry
            hole = (hole + 1) & slotMask
        }
        if slots[hole] != 0 {
            // Backward shift: pull later members of the cluster into the hole when their home
            // is not between the hole and their slot.
            var probe = hole
            while true {
                probe = (probe + 1) & slotMask
                let slot = slots[probe]
                if slot == 0 { break }
                let home = Int(truncatingIfNeeded: self.hash(entries[Int(slot & indexMask) - 1].key)) & slotMask
                if (probe - home) & slotMask >= (probe - hole) & slotMask {
                    slots[hole] = slot
                    hole = probe
                }
            }
            slots[hole] = 0
        }
        entries[index].state = nil
        entries[index].next = freeHead
        freeHead = UInt32(index)
        count -= 1
    }

    // MARK: Timer lists

    /// Appends entry `index` to the tail of list `listClass`.
    mutating func link(_ index: Int, _ listClass: UInt8) {
        let list = Int(listClass)
        self[index].listClass = listClass
        self[index].next = Self.none
        let tail = tails[list]
        self[index].previous = tail
        if tail == Self.none {
            heads[list] = UInt32(index)
            let deadline = self[index].deadline
            headDeadlines[list] = deadline
            if deadline < nextDue { nextDue = deadline }
        } else {
            entries[Int(tail)].next = UInt32(index)
        }
        tails[list] = UInt32(index)
    }

    /// Takes entry `index` out of its timer list.
    mutating func unlink(_ index: Int) {
        let list = Int(self[index].listClass)
        let previous = self[index].previous
        let next = self[index].next
        if next == Self.none { tails[list] = previous } else { entries[Int(next)].previous = previous }
        if previous == Self.none {
            heads[list] = next
            let deadline = next == Self.none ? UInt32.max : entries[Int(next)].deadline
            headDeadlines[list] = deadline
            // `nextDue` stays a lower bound (removing a head can only raise the minimum); the
            // sweep recomputes it when it finds nothing due.
            if deadline < nextDue { nextDue = deadline }
        } else {
            entries[Int(previous)].next = next
        }
        self[index].previous = Self.none
        self[index].next = Self.none
    }

    /// Moves entry `index` to the tail of list `listClass`.
    @inline(__always)
    mutating func move(_ index: Int, to listClass: UInt8) {
        unlink(index)
        link(index, listClass)
    }

    private mutating func recomputeNextDue() {
        var due: UInt32 = .max
        for list in 0..<TimerClass.count where headDeadlines[list] < due { due = headDeadlines[list] }
        nextDue = due
    }

    /// The oldest entry of list `listClass`, or nil when it is empty.
    @inline(__always)
    func head(_ listClass: TimerClass) -> Int? {
        let head = heads[Int(listClass.rawValue)]
        return head == Self.none ? nil : Int(head)
    }

    /// The next entry whose deadline has passed at `now` (seconds), looking only at list
    /// heads and spending at most `budget` steps: a head whose deadline moved on is re-filed
    /// at the tail of its `timerClass` list. The caller removes the entry it gets.
    mutating func nextExpired(now: UInt32, budget: inout Int) -> Int? {
        while budget > 0 && now >= nextDue {
            var found = -1
            for list in 0..<TimerClass.count where headDeadlines[list] <= now {
                found = list
                break
            }
            if found < 0 {
                recomputeNextDue()
                return nil
            }
            budget -= 1
            let index = Int(heads[found])
            if self[index].deadline <= now { return index }
            move(index, to: self[index].timerClass)
        }
        return nil
    }
}
