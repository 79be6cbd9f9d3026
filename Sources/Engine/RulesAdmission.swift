import Rules
import Tracking
import Wire

/// Names of network interfaces by index, learned on demand and kept: rules match `on eth0`,
/// the kernel hands out indexes. Only packets that would start a flow need a name.
public struct InterfaceNames: Sendable {
    /// Looks an index up (the daemon passes `if_indextoname`; replay passes nothing).
    public typealias Resolver = @Sendable (UInt32) -> String?
    private var known: [UInt32: String] = [:]
    private let resolver: Resolver?

    public init(resolver: Resolver? = nil) { self.resolver = resolver }

    /// The name of interface `index`, or nil for 0 or an unknown index.
    public mutating func name(of index: UInt32) -> String? {
        guard index != 0 else { return nil }
        if let name = known[index] { return name }
        guard let name = resolver?(index) else { return nil }
        if known.count > 4096 { known.removeAll(keepingCapacity: true) }
        known[index] = name
        return name
    }
}

/// The rules' say on new flows, for the tracker: asks the per-worker `RuleMatcher` and
/// answers with its decision (handed back with the tracker's result, so the event can name
/// the rule).
struct RulesAdmission: Admission {
    var matcher: RuleMatcher
    var names: InterfaceNames
    let direction: Direction
    let inInterface: UInt32
    let outInterface: UInt32
    let now: UInt64

    mutating func admit(_ packet: Packet, key: FlowKey) -> NewFlowRuling {
        let context = RuleContext(direction: direction, inInterface: names.name(of: inInterface),
                                  outInterface: names.name(of: outInterface), now: now)
        let decision = matcher.admit(packet, key: key, context: context)
        guard decision.verdict == .accept else { return NewFlowRuling(admittedOrigin: nil, rule: decision) }
        // The admitting rule and the packet's hook and interfaces, kept with the flow.
        let origin = FlowOrigin(ruleIndex: decision.ruleIndex.map { UInt32(clamping: $0) } ?? FlowOrigin.noRule,
                                hook: UInt8(truncatingIfNeeded: direction.index), inInterface: inInterface,
                                outInterface: outInterface)
        return NewFlowRuling(admittedOrigin: origin, rule: decision)
    }
}
