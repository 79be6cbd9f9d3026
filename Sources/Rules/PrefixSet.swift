import Wire

/// A set of addresses built from prefixes, stored as sorted, disjoint, merged address ranges
/// (IPv4 and IPv6 apart), so a lookup is one binary search: about 17 steps for 100,000
/// prefixes, whatever their lengths.
///
/// Built with longest-prefix semantics: an entry may exclude (`!10.1.0.0/16` inside
/// `10.0.0.0/8`), and the most specific prefix covering an address decides. IPv6 prefixes
/// match IPv6 addresses only (an IPv4-mapped range such as `::/0` does not catch IPv4).
public struct PrefixSet: Sendable, Equatable {
    @usableFromInline var v4Starts: [UInt32] = []
    @usableFromInline var v4Ends: [UInt32] = []
    @usableFromInline var v6Starts: [UInt128Bound] = []
    @usableFromInline var v6Ends: [UInt128Bound] = []
    /// For large IPv4 sets: for each value of an address's top 16 bits (and one past the
    /// last), the index of the first range that ends at or after that /16's first address.
    /// A lookup then searches only the ranges its /16 can hold (usually one or two), which
    /// saves the cache misses of a long binary search. Empty for small sets.
    @usableFromInline var v4Buckets: [UInt32] = []

    /// IPv4 sets with at least this many ranges get `v4Buckets` (256 KiB).
    static let bucketThreshold = 2048

    /// The empty set.
    public init() {}

    /// The set of addresses in `prefixes`.
    public init(_ prefixes: [IPPrefix]) {
        self.init(entries: prefixes.map { ($0, true) })
    }

    /// The set described by `entries`: each prefix included or excluded, the longest prefix
    /// covering an address deciding (for the very same prefix listed both ways, exclusion wins).
    public init(entries: [(prefix: IPPrefix, included: Bool)]) {
        var v4: [PrefixEntry<UInt32>] = []
        var v6: [PrefixEntry<UInt128Bound>] = []
        for (prefix, included) in entries {
            if let start = prefix.address.ipv4, let end = prefix.lastAddress.ipv4 {
                v4.append(PrefixEntry(start: start, end: end, length: prefix.length, included: included))
            } else {
                let last = prefix.lastAddress
                v6.append(PrefixEntry(start: UInt128Bound(prefix.address), end: UInt128Bound(last),
                                      length: prefix.length, included: included))
            }
        }
        (v4Starts, v4Ends) = PrefixSet.flatten(v4)
        (v6Starts, v6Ends) = PrefixSet.flatten(v6)
        buildBuckets()
    }

    private mutating func buildBuckets() {
        guard v4Starts.count >= PrefixSet.bucketThreshold else {
            v4Buckets = []
            return
        }
        var buckets = [UInt32](repeating: UInt32(v4Ends.count), count: 65537)
        var range = 0
        for bucket in 0..<65536 {
            let first = UInt32(bucket) << 16
            while range < v4Ends.count, v4Ends[range] < first { range += 1 }
            buckets[bucket] = UInt32(range)
        }
        v4Buckets = buckets
    }

    /// True when no address is in the set.
    public var isEmpty: Bool { v4Starts.isEmpty && v6Starts.isEmpty }

    /// Number of disjoint ranges stored (IPv4 plus IPv6).
    public var rangeCount: Int { v4Starts.count + v6Starts.count }

    /// True when `address` is in the set. No allocation; O(log ranges).
    @inlinable
    public func contains(_ address: IPAddress) -> Bool {
        if let v4 = address.ipv4 {
            return v4Starts.withUnsafeBufferPointer { starts in
                v4Ends.withUnsafeBufferPointer { ends in
                    guard !v4Buckets.isEmpty else { return PrefixSet.search(starts, ends, v4) }
                    return v4Buckets.withUnsafeBufferPointer { buckets in
                        let top = Int(v4 >> 16)
                        let low = Int(buckets[top])
                        let high = min(starts.count, Int(buckets[top + 1]) + 1)
                        guard low < high, let startBase = starts.baseAddress, let endBase = ends.baseAddress else {
                            return false
                        }
                        let window = high - low
                        return PrefixSet.search(UnsafeBufferPointer(start: startBase + low, count: window),
                                                UnsafeBufferPointer(start: endBase + low, count: window), v4)
                    }
                }
            }
        }
        let key = UInt128Bound(address)
        return v6Starts.withUnsafeBufferPointer { starts in
            v6Ends.withUnsafeBufferPointer { ends in PrefixSet.search(starts, ends, key) }
        }
    }

    /// Every address of `self` or `other`.
    public func union(_ other: PrefixSet) -> PrefixSet {
        var result = PrefixSet()
        (result.v4Starts, result.v4Ends) = PrefixSet.merge(v4Starts, v4Ends, other.v4Starts, other.v4Ends)
        (result.v6Starts, result.v6Ends) = PrefixSet.merge(v6Starts, v6Ends, other.v6Starts, other.v6Ends)
        result.buildBuckets()
        return result
    }

    /// True when every address of `self` is in `other`.
    public func isSubset(of other: PrefixSet) -> Bool {
        PrefixSet.covered(v4Starts, v4Ends, by: other.v4Starts, other.v4Ends)
            && PrefixSet.covered(v6Starts, v6Ends, by: other.v6Starts, other.v6Ends)
    }

    // MARK: - Internals

    /// The range whose start is the last one ≤ `key` contains `key`.
    @inlinable
    static func search<B: Comparable>(_ starts: UnsafeBufferPointer<B>, _ ends: UnsafeBufferPointer<B>, _ key: B) -> Bool {
        var low = 0
        var count = starts.count
        // Branch-light lower bound: first index whose start is > key.
        while count > 0 {
            let half = count >> 1
            let middle = low + half
            if starts[middle] <= key {
                low = middle + 1
                count -= half + 1
            } else {
                count = half
            }
        }
        return low > 0 && key <= ends[low - 1]
    }

    struct PrefixEntry<B: RangeBound> {
        var start: B
        var end: B
        var length: Int
        var included: Bool
    }

    /// Longest-prefix flattening of nested-or-disjoint ranges into merged included ranges.
    static func flatten<B: RangeBound>(_ input: [PrefixEntry<B>]) -> ([B], [B]) {
        let entries = input.sorted {
            if $0.start != $1.start { return $0.start < $1.start }
            if $0.length != $1.length { return $0.length < $1.length }
            return $0.included && !$1.included
        }
        var starts: [B] = [], ends: [B] = []
        starts.reserveCapacity(entries.count)
        ends.reserveCapacity(entries.count)
        var stack: [(end: B, included: Bool)] = []
        var cursor: B? = nil

        func emit(through end: B, _ included: Bool) {
            guard let from = cursor, from <= end else { return }
            if included {
                if let last = ends.last, last.successor == from {
                    ends[ends.count - 1] = end
                } else {
                    starts.append(from)
                    ends.append(end)
                }
            }
            cursor = end.successor
        }

        for entry in entries {
            while let top = stack.last, top.end < entry.start {
                emit(through: top.end, top.included)
                stack.removeLast()
            }
            if let top = stack.last, let from = cursor, from < entry.start, let before = entry.start.predecessor {
                emit(through: before, top.included)
            }
            cursor = entry.start
            stack.append((entry.end, entry.included))
        }
        while let top = stack.popLast() {
            emit(through: top.end, top.included)
        }
        return (starts, ends)
    }

    /// Union of two sorted, disjoint range lists, merged.
    static func merge<B: RangeBound>(_ aStarts: [B], _ aEnds: [B], _ bStarts: [B], _ bEnds: [B]) -> ([B], [B]) {
        var starts: [B] = [], ends: [B] = []
        starts.reserveCapacity(aStarts.count + bStarts.count)
        ends.reserveCapacity(aStarts.count + bStarts.count)
        var i = 0, j = 0
        while i < aStarts.count || j < bStarts.count {
            let takeA = j >= bStarts.count || (i < aStarts.count && aStarts[i] <= bStarts[j])
            let (start, end) = takeA ? (aStarts[i], aEnds[i]) : (bStarts[j], bEnds[j])
            if takeA { i += 1 } else { j += 1 }
            if let last = ends.last, last >= start || last.successor == start {
                if end > last { ends[ends.count - 1] = end }
            } else {
                starts.append(start)
                ends.append(end)
            }
        }
        return (starts, ends)
    }

    /// True when every range of the first list lies inside one range of the second.
    static func covered<B: RangeBound>(_ starts: [B], _ ends: [B], by otherStarts: [B], _ otherEnds: [B]) -> Bool {
        otherStarts.withUnsafeBufferPointer { os in
            otherEnds.withUnsafeBufferPointer { oe in
                for index in starts.indices {
                    var low = 0, count = os.count
                    while count > 0 {
                        let half = count >> 1
                        if os[low + half] <= starts[index] { low += half + 1; count -= half + 1 } else { count = half }
                    }
                    guard low > 0, ends[index] <= oe[low - 1] else { return false }
                }
                return true
            }
        }
    }
}

/// A bound of an address range: ordered, with a next and previous value (nil past the ends).
protocol RangeBound: Comparable {
    var successor: Self? { get }
    var predecessor: Self? { get }
}

extension UInt32: RangeBound {
    var successor: UInt32? { self == .max ? nil : self + 1 }
    var predecessor: UInt32? { self == 0 ? nil : self - 1 }
}

/// A 128-bit IPv6 address value, ordered as a number.
public struct UInt128Bound: Sendable, Hashable, Comparable, RangeBound {
    @usableFromInline let high: UInt64
    @usableFromInline let low: UInt64

    @inlinable
    init(_ address: IPAddress) {
        high = address.high
        low = address.low
    }

    init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    @inlinable
    public static func < (lhs: UInt128Bound, rhs: UInt128Bound) -> Bool {
        lhs.high != rhs.high ? lhs.high < rhs.high : lhs.low < rhs.low
    }

    var successor: UInt128Bound? {
        if low != .max { return UInt128Bound(high: high, low: low + 1) }
        return high == .max ? nil : UInt128Bound(high: high + 1, low: 0)
    }

    var predecessor: UInt128Bound? {
        if low != 0 { return UInt128Bound(high: high, low: low - 1) }
        return high == 0 ? nil : UInt128Bound(high: high - 1, low: .max)
    }
}
