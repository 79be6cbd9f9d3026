import Wire

/// A bit-vector index over the rules (the classic packet-classification scheme): for each
/// value of direction, protocol and destination port, a bitmap of the rules that accept
/// it. A packet's candidates are the AND of three rows, read in rule order, so a decision
/// looks at the few rules that could match instead of scanning them all.
///
/// Destination ports are cut into elementary intervals at every boundary any rule uses;
/// inside one interval every rule either accepts all ports or none, so a binary search
/// finds the row. Packets without ports (ICMP, other protocols) use a row of the rules with
/// no port clause.
struct RuleIndex: Sendable {
    let wordCount: Int
    /// 3 rows (by `Direction.index`).
    let directionRows: [UInt64]
    /// 256 rows (by protocol number).
    let protocolRows: [UInt64]
    /// First port of each elementary interval (the first is 0), sorted.
    let portStarts: [UInt16]
    /// One row per interval.
    let portRows: [UInt64]
    /// Rules without a destination port clause.
    let portlessRow: [UInt64]

    /// Most memory the index may take (bytes); beyond it rules are scanned in order instead.
    static let memoryLimit = 32 << 20
    /// Below this many rules a plain scan is as fast.
    static let minimumRules = 16

    /// The index for `matchers`, or nil when a scan is better (few rules) or the index
    /// would be too large.
    init?(_ matchers: ContiguousArray<RuleMatch>) {
        let count = matchers.count
        guard count >= RuleIndex.minimumRules else { return nil }
        let words = (count + 63) / 64
        var boundaries = Set<UInt32>([0])
        for matcher in matchers {
            for range in matcher.destinationPorts?.ranges ?? [] {
                boundaries.insert(UInt32(range.lowerBound))
                boundaries.insert(UInt32(range.upperBound) + 1)
            }
        }
        let starts = boundaries.filter { $0 <= 65535 }.sorted().map { UInt16($0) }
        guard (3 + 256 + starts.count + 1) * words * 8 <= RuleIndex.memoryLimit else { return nil }

        var directionRows = [UInt64](repeating: 0, count: 3 * words)
        var protocolRows = [UInt64](repeating: 0, count: 256 * words)
        var portRows = [UInt64](repeating: 0, count: starts.count * words)
        var portlessRow = [UInt64](repeating: 0, count: words)
        for (rule, matcher) in matchers.enumerated() {
            let word = rule / 64, bit = UInt64(1) << UInt64(rule % 64)
            for direction in Direction.allCases where matcher.directions & direction.bit != 0 {
                directionRows[direction.index * words + word] |= bit
            }
            for value in 0...255 where matcher.protocols.contains(UInt8(value)) {
                protocolRows[value * words + word] |= bit
            }
            guard let ports = matcher.destinationPorts else {
                portlessRow[word] |= bit
                for interval in starts.indices { portRows[interval * words + word] |= bit }
                continue
            }
            for range in ports.ranges {
                var interval = RuleIndex.interval(of: range.lowerBound, in: starts)
                while interval < starts.count, starts[interval] <= range.upperBound {
                    portRows[interval * words + word] |= bit
                    interval += 1
                }
            }
        }
        self.wordCount = words
        self.directionRows = directionRows
        self.protocolRows = protocolRows
        self.portStarts = starts
        self.portRows = portRows
        self.portlessRow = portlessRow
    }

    /// The interval holding `port`: the last start ≤ port.
    static func interval(of port: UInt16, in starts: [UInt16]) -> Int {
        var low = 0, count = starts.count
        while count > 0 {
            let half = count >> 1
            if starts[low + half] <= port { low += half + 1; count -= half + 1 } else { count = half }
        }
        return low - 1
    }

    /// The first rule, in order, among the candidates for which `check` is true.
    @inline(__always)
    func first(_ packet: Packet, _ direction: Direction, _ check: (Int) -> Bool) -> Int? {
        let words = wordCount
        return directionRows.withUnsafeBufferPointer { directions in
            protocolRows.withUnsafeBufferPointer { protocols in
                let portRow: Int
                if packet.hasPorts {
                    portRow = portStarts.withUnsafeBufferPointer { starts in
                        var low = 0, count = starts.count
                        let port = packet.destinationPort
                        while count > 0 {
                            let half = count >> 1
                            if starts[low + half] <= port { low += half + 1; count -= half + 1 } else { count = half }
                        }
                        return low - 1
                    }
                } else {
                    portRow = -1
                }
                let ports = portRow >= 0 ? portRows : portlessRow
                return ports.withUnsafeBufferPointer { portBits in
                    let directionBase = direction.index * words
                    let protocolBase = Int(packet.protocolNumber) * words
                    let portBase = max(0, portRow) * words
                    for word in 0..<words {
                        var bits = directions[directionBase + word] & protocols[protocolBase + word] & portBits[portBase + word]
                        while bits != 0 {
                            let rule = word * 64 + bits.trailingZeroBitCount
                            if check(rule) { return rule }
                            bits &= bits - 1
                        }
                    }
                    return nil
                }
            }
        }
    }
}
