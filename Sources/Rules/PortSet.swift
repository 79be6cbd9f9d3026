/// A set of port numbers as sorted, disjoint, inclusive ranges (negations already applied).
public struct PortSet: Sendable, Hashable, CustomStringConvertible {
    /// The ranges, sorted and merged.
    public private(set) var ranges: [ClosedRange<UInt16>]

    /// Ports in `included` (every port when it is empty and `excluded` is not) minus the
    /// ports in `excluded`.
    public init(included: [ClosedRange<UInt16>], excluded: [ClosedRange<UInt16>] = []) {
        var positive = PortSet.normalize(included.isEmpty && !excluded.isEmpty ? [0...UInt16.max] : included)
        for cut in PortSet.normalize(excluded) {
            positive = positive.flatMap { range -> [ClosedRange<UInt16>] in
                guard range.overlaps(cut) else { return [range] }
                var pieces: [ClosedRange<UInt16>] = []
                if range.lowerBound < cut.lowerBound { pieces.append(range.lowerBound...(cut.lowerBound - 1)) }
                if range.upperBound > cut.upperBound { pieces.append((cut.upperBound + 1)...range.upperBound) }
                return pieces
            }
        }
        ranges = positive
    }

    /// True when `port` is in the set.
    @inlinable
    public func contains(_ port: UInt16) -> Bool {
        for range in ranges {
            if port < range.lowerBound { return false }
            if port <= range.upperBound { return true }
        }
        return false
    }

    /// True when no port is in the set.
    public var isEmpty: Bool { ranges.isEmpty }

    /// True when every port of `self` is in `other`.
    public func isSubset(of other: PortSet) -> Bool {
        ranges.allSatisfy { range in other.ranges.contains { $0.lowerBound <= range.lowerBound && range.upperBound <= $0.upperBound } }
    }

    /// `22`, `80, 443`, `1024:65535`.
    public var description: String {
        ranges.map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound):\($0.upperBound)" }
            .joined(separator: ", ")
    }

    static func normalize(_ input: [ClosedRange<UInt16>]) -> [ClosedRange<UInt16>] {
        var merged: [ClosedRange<UInt16>] = []
        for range in input.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, Int(range.lowerBound) <= Int(last.upperBound) + 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        return merged
    }
}
