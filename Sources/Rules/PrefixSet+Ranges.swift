import Wire

extension PrefixSet {
    /// The stored range holding `address` (first and last address), or nil.
    public func range(containing address: IPAddress) -> (first: IPAddress, last: IPAddress)? {
        if let v4 = address.ipv4 {
            guard let at = Self.index(v4Starts, v4Ends, v4) else { return nil }
            return (IPAddress(ipv4: v4Starts[at]), IPAddress(ipv4: v4Ends[at]))
        }
        let key = UInt128Bound(address)
        guard let at = Self.index(v6Starts, v6Ends, key) else { return nil }
        return (IPAddress(high: v6Starts[at].high, low: v6Starts[at].low), IPAddress(high: v6Ends[at].high, low: v6Ends[at].low))
    }

    /// The first `limit` stored ranges (IPv4 first), merged as the set holds them.
    public func ranges(limit: Int = .max) -> [(first: IPAddress, last: IPAddress)] {
        var result: [(first: IPAddress, last: IPAddress)] = []
        for at in v4Starts.indices where result.count < limit {
            result.append((IPAddress(ipv4: v4Starts[at]), IPAddress(ipv4: v4Ends[at])))
        }
        for at in v6Starts.indices where result.count < limit {
            result.append((IPAddress(high: v6Starts[at].high, low: v6Starts[at].low),
                           IPAddress(high: v6Ends[at].high, low: v6Ends[at].low)))
        }
        return result
    }

    /// A range as people write it: the address, the prefix when it is exactly one, else `first-last`.
    public static func describe(first: IPAddress, last: IPAddress) -> String {
        if first == last { return first.description }
        let width = first.isIPv4 ? 32 : 128
        for length in stride(from: width - 1, through: 0, by: -1) {
            guard let prefix = IPPrefix(address: first, length: length) else { continue }
            if prefix.address == first, prefix.lastAddress == last { return prefix.description }
            if prefix.address != first || prefix.lastAddress > last { break }
        }
        return "\(first)-\(last)"
    }

    private static func index<B: Comparable>(_ starts: [B], _ ends: [B], _ key: B) -> Int? {
        var low = 0, high = starts.count
        while low < high {
            let mid = (low + high) / 2
            if ends[mid] < key { low = mid + 1 } else { high = mid }
        }
        return low < starts.count && starts[low] <= key ? low : nil
    }
}
