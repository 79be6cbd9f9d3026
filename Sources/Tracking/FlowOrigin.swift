/// What the tracker keeps about how a flow began, besides its key: the rule that admitted it
/// and the netfilter hook and interfaces of its first packet. An `Admission` hands it over when
/// it admits a flow; a reload with `set reload recheck` uses it to judge live flows against the
/// new rules as if their first packet arrived again.
public struct FlowOrigin: Sendable, Hashable {
    /// `ruleIndex` when no rule admitted the flow: a policy, a pickup without rules, or no
    /// rule file at all.
    public static let noRule: UInt32 = .max

    /// Index into the ruleset's rules of the rule that admitted the flow, or `noRule`.
    public var ruleIndex: UInt32
    /// The hook of the first packet, as the rules number directions (`Direction.index`):
    /// 0 in (INPUT), 1 out (OUTPUT), 2 forward.
    public var hook: UInt8
    /// Input interface index of the first packet (0: none or unknown).
    public var inInterface: UInt32
    /// Output interface index of the first packet (0: none or unknown).
    public var outInterface: UInt32

    /// An origin from its parts; the defaults mean "no rule, in, no interface".
    @inlinable
    public init(ruleIndex: UInt32 = FlowOrigin.noRule, hook: UInt8 = 0, inInterface: UInt32 = 0,
                outInterface: UInt32 = 0) {
        self.ruleIndex = ruleIndex
        self.hook = hook
        self.inInterface = inInterface
        self.outInterface = outInterface
    }

    /// `ruleIndex` as an optional `Int` (nil for `noRule`).
    @inlinable
    public var rule: Int? { ruleIndex == FlowOrigin.noRule ? nil : Int(ruleIndex) }
}
