import Wire

/// The matching form of one rule: plain values and sorted arrays, checked cheapest first.
///
/// Built once (a value while compiling), then frozen into a `FrozenRuleMatch` object that
/// the scan reads without copying it or touching reference counts.
struct RuleMatch: Sendable {
    var directions: UInt8 = 0b111
    /// 0 any, 4 IPv4 only, 6 IPv6 only.
    var family: UInt8 = 0
    var protocols = ByteMask.all
    var sourcePorts: PortSet?
    var destinationPorts: PortSet?
    var icmpTypes: ByteMask?
    /// `on IF`: the interface of the packet's direction (either one when forwarded).
    var interface: InterfaceSpec?
    /// `in on IF` in a forward rule.
    var inInterface: InterfaceSpec?
    /// `out on IF` in a forward rule.
    var outInterface: InterfaceSpec?
    var source = AddressMatcher.any
    var destination = AddressMatcher.any

    /// True when the packet matches; `dynamic` answers for addresses added to tables at run time.
    @inline(__always)
    func matches<M: TableMembership>(_ packet: Packet, _ context: RuleContext, _ dynamic: M) -> Bool {
        guard directions & context.direction.bit != 0 else { return false }
        guard protocols.contains(packet.protocolNumber) else { return false }
        if destinationPorts != nil {
            guard packet.hasPorts, destinationPorts?.contains(packet.destinationPort) == true else { return false }
        }
        return matchesRest(packet, context, dynamic)
    }

    /// The checks the `RuleIndex` does not make: family, source ports, ICMP type,
    /// interfaces, addresses. (Direction, protocol and destination port are the index's.)
    @inline(__always)
    func matchesRest<M: TableMembership>(_ packet: Packet, _ context: RuleContext, _ dynamic: M) -> Bool {
        if family != 0, family != (packet.version == .v4 ? 4 : 6) { return false }
        if sourcePorts != nil {
            guard packet.hasPorts, sourcePorts?.contains(packet.sourcePort) == true else { return false }
        }
        if icmpTypes != nil {
            guard let icmp = packet.icmp, icmpTypes?.contains(icmp.type) == true else { return false }
        }
        if interface != nil || inInterface != nil || outInterface != nil {
            guard matchesInterfaces(context) else { return false }
        }
        guard source.matches(packet.source, dynamic, context.now) else { return false }
        return destination.matches(packet.destination, dynamic, context.now)
    }

    func matchesInterfaces(_ context: RuleContext) -> Bool {
        if let spec = interface {
            switch context.direction {
            case .in: if !spec.matches(context.inInterface) { return false }
            case .out: if !spec.matches(context.outInterface) { return false }
            case .forward: if !spec.matchesEither(context.inInterface, context.outInterface) { return false }
            }
        }
        if let spec = inInterface, !spec.matches(context.inInterface) { return false }
        if let spec = outInterface, !spec.matches(context.outInterface) { return false }
        return true
    }
}

/// An immutable rule matcher, read in place: `CompiledRuleset` keeps these alive and scans
/// them through unretained references, so a decision copies no rule and changes no
/// reference count (shared by all workers, the rules' cache lines stay read-only).
final class FrozenRuleMatch: Sendable {
    let rule: RuleMatch

    init(_ rule: RuleMatch) {
        self.rule = rule
    }
}

extension Packet {
    /// True for TCP and UDP (packets with ports).
    @inline(__always)
    var hasPorts: Bool {
        switch transport {
        case .tcp, .udp: return true
        default: return false
        }
    }
}

/// 256 bits, one per byte value: protocol numbers, ICMP types.
struct ByteMask: Sendable, Hashable {
    var w0: UInt64 = 0, w1: UInt64 = 0, w2: UInt64 = 0, w3: UInt64 = 0

    static let all = ByteMask(w0: .max, w1: .max, w2: .max, w3: .max)

    init(w0: UInt64 = 0, w1: UInt64 = 0, w2: UInt64 = 0, w3: UInt64 = 0) {
        self.w0 = w0
        self.w1 = w1
        self.w2 = w2
        self.w3 = w3
    }

    init(_ values: [UInt8]) {
        for value in values { insert(value) }
    }

    @inline(__always)
    func contains(_ value: UInt8) -> Bool {
        let bit = UInt64(1) << UInt64(value & 63)
        switch value >> 6 {
        case 0: return w0 & bit != 0
        case 1: return w1 & bit != 0
        case 2: return w2 & bit != 0
        default: return w3 & bit != 0
        }
    }

    mutating func insert(_ value: UInt8) {
        let bit = UInt64(1) << UInt64(value & 63)
        switch value >> 6 {
        case 0: w0 |= bit
        case 1: w1 |= bit
        case 2: w2 |= bit
        default: w3 |= bit
        }
    }

    func isSubset(of other: ByteMask) -> Bool {
        w0 & ~other.w0 == 0 && w1 & ~other.w1 == 0 && w2 & ~other.w2 == 0 && w3 & ~other.w3 == 0
    }

    var values: [UInt8] { (0...255).map { UInt8($0) }.filter { contains($0) } }
}

/// `on eth0`, `on { eth0, wlan0 }`, `on eth+` (a trailing `+` or `*` matches any suffix), `on ! lo`.
struct InterfaceSpec: Sendable, Hashable {
    var names: [String] = []
    var prefixes: [String] = []
    var negated = false

    private func hit(_ name: String?) -> Bool {
        guard let name else { return false }
        for candidate in names where candidate == name { return true }
        for prefix in prefixes where name.hasPrefix(prefix) { return true }
        return false
    }

    func matches(_ name: String?) -> Bool {
        hit(name) != negated
    }

    /// For forwarded packets: either interface is (or, negated, neither is) in the list.
    func matchesEither(_ first: String?, _ second: String?) -> Bool {
        (hit(first) || hit(second)) != negated
    }
}

/// Answers whether an address was added at run time to a table (by `overload`).
protocol TableMembership {
    func contains(table: Int, address: IPAddress, now: UInt64) -> Bool
}

/// No run-time additions: only the tables' written contents count (`explain`, `check`).
struct StaticMembership: TableMembership {
    @inline(__always)
    func contains(table: Int, address: IPAddress, now: UInt64) -> Bool { false }
}

/// `from`/`to` compiled: `any`, or a set of prefixes (literals and static tables merged)
/// plus run-time tables to ask, possibly negated.
struct AddressMatcher: Sendable {
    var negated = false
    var matchesAll = true
    var set = PrefixSet()
    var dynamicTables: [Int] = []

    static let any = AddressMatcher()

    @inline(__always)
    func matches<M: TableMembership>(_ address: IPAddress, _ dynamic: M, _ now: UInt64) -> Bool {
        if matchesAll { return !negated }
        var hit = set.contains(address)
        if !hit {
            for table in dynamicTables where dynamic.contains(table: table, address: address, now: now) {
                hit = true
                break
            }
        }
        return hit != negated
    }

    /// True when `self` matches every address that `narrower` matches (for shadow warnings).
    /// Only cases that can be proven cheaply are answered true.
    func covers(_ narrower: AddressMatcher) -> Bool {
        if matchesAll { return !negated }
        if narrower.matchesAll { return false }
        guard negated == narrower.negated else { return false }
        if !negated {
            guard narrower.dynamicTables.allSatisfy(dynamicTables.contains) else { return false }
            return narrower.set == set || PrefixSet.cheaplySubset(narrower.set, of: set)
        }
        // !A covers !B when the complement of B lies in the complement of A, that is A ⊆ B.
        guard dynamicTables.allSatisfy(narrower.dynamicTables.contains) else { return false }
        return set == narrower.set || PrefixSet.cheaplySubset(set, of: narrower.set)
    }
}

extension PrefixSet {
    /// `a ⊆ b`, unless the sets are so large that checking costs more than a warning is worth.
    static func cheaplySubset(_ a: PrefixSet, of b: PrefixSet) -> Bool {
        guard a.rangeCount <= 4096 else { return false }
        return a.isSubset(of: b)
    }
}
