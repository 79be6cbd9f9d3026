import Tracking
import Wire

/// A ruleset ready to match: immutable, shared freely between threads. A reload compiles a
/// new one aside and swaps it in; run-time state (counters, limits, addresses added to
/// tables) lives in a `RuleMatcher`.
public final class CompiledRuleset: Sendable {
    /// The file compiled (as given).
    public let mainFile: String
    /// Every file read, the main one first, then includes and table files in reading order.
    public let files: [String]
    /// The rules in evaluation order.
    public let rules: [Rule]
    /// The policy of each direction, indexed by `Direction.index`.
    public let policies: [Policy]
    /// The declared tables; `RuleDecision.overloadTable` indexes this.
    public let tables: [TableInfo]
    /// The `set` lines.
    public let settings: RuleSettings
    /// Warnings found while compiling (shadowed rules, unused tables, host bits).
    public let warnings: [Diagnostic]
    /// How much of the ruleset the shadowed-rule analysis checked (it is bounded).
    public let shadowAnalysis: ShadowAnalysisSummary

    let matchers: ContiguousArray<RuleMatch>
    /// The same matchers as objects, kept alive here and scanned through `unretained`.
    let frozen: [FrozenRuleMatch]
    let unretained: ContiguousArray<Unmanaged<FrozenRuleMatch>>
    /// Candidate rules by direction, protocol and destination port; nil for small rulesets.
    let index: RuleIndex?
    /// Per direction, the policy's verdict and log flag as plain values.
    let policyOutcomes: ContiguousArray<(verdict: Verdict, log: Bool)>
    /// Per rule, plain values for the decision (no strings to retain per packet).
    let outcomes: ContiguousArray<RuleOutcome>

    init(mainFile: String, files: [String], rules: [Rule], matchers: [RuleMatch], policies: [Policy],
         tables: [TableInfo], settings: RuleSettings, warnings: [Diagnostic],
         shadowAnalysis: ShadowAnalysisSummary? = nil) {
        self.shadowAnalysis = shadowAnalysis
            ?? ShadowAnalysisSummary(checkedRules: rules.count, totalRules: rules.count, comparisonLimit: ShadowAnalysis.maximumComparisons)
        self.mainFile = mainFile
        self.files = files
        self.rules = rules
        self.matchers = ContiguousArray(matchers)
        self.frozen = matchers.map(FrozenRuleMatch.init)
        self.unretained = ContiguousArray(frozen.map { Unmanaged.passUnretained($0) })
        self.index = RuleIndex(self.matchers)
        self.policyOutcomes = ContiguousArray(policies.map { ($0.verdict, $0.log) })
        self.outcomes = ContiguousArray(rules.map(RuleOutcome.init))
        self.policies = policies
        self.tables = tables
        self.settings = settings
        self.warnings = warnings
    }

    /// The same rules with other `set` lines (the daemon fits a reload's offload settings to
    /// the kernel rules it attached at start).
    public func replacingSettings(_ settings: RuleSettings) -> CompiledRuleset {
        CompiledRuleset(mainFile: mainFile, files: files, rules: rules, matchers: Array(matchers), policies: policies,
                        tables: tables, settings: settings, warnings: warnings, shadowAnalysis: shadowAnalysis)
    }

    /// The built-in policy when a file has no `policy` line for a direction: drop in and
    /// forward, pass out (as ufw: deny incoming, allow outgoing, deny routed).
    public static func defaultPolicy(_ direction: Direction) -> Verdict {
        direction == .out ? .accept : .drop
    }

    /// The policy for `direction`.
    public func policy(for direction: Direction) -> Policy {
        policies[direction.index]
    }

    /// The index of the table named `name`, or nil.
    public func tableIndex(named name: String) -> Int? {
        tables.firstIndex { $0.name == name }
    }

    /// Decides for `packet` from the file alone: first matching rule, else the policy.
    /// Run-time state is ignored (limits never refuse; tables hold only their written
    /// addresses). The daemon uses `RuleMatcher`; `explain` uses this.
    public func evaluate(_ packet: Packet, context: RuleContext) -> RuleDecision {
        if let index = firstMatch(packet, context, StaticMembership()) {
            return RuleDecision(verdict: outcomes[index].verdict, origin: .rule(index), log: outcomes[index].log,
                                reply: outcomes[index].reply)
        }
        let policy = policyOutcomes[context.direction.index]
        return RuleDecision(verdict: policy.verdict, origin: .policy(context.direction), log: policy.log)
    }

    /// The index of the first rule matching `packet`, or nil. Rules are read in place
    /// (never copied), through the index when there is one.
    @inline(__always)
    func firstMatch<M: TableMembership>(_ packet: Packet, _ context: RuleContext, _ dynamic: M) -> Int? {
        unretained.withUnsafeBufferPointer { rules -> Int? in
            if let index {
                return index.first(packet, context.direction) { rule in
                    rules[rule]._withUnsafeGuaranteedRef { $0.rule.matchesRest(packet, context, dynamic) }
                }
            }
            for rule in 0..<rules.count
            where rules[rule]._withUnsafeGuaranteedRef({ $0.rule.matches(packet, context, dynamic) }) {
                return rule
            }
            return nil
        }
    }

    // MARK: - Describing decisions (for events and explain; these build strings)

    /// The deciding rule's label, or nil (policies have none).
    public func label(of decision: RuleDecision) -> String? {
        decision.ruleIndex.flatMap { $0 < rules.count ? rules[$0].label : nil }
    }

    /// Where the deciding rule or policy line is; nil for a built-in default policy.
    public func location(of decision: RuleDecision) -> SourceLocation? {
        switch decision.origin {
        case .rule(let index): return index < rules.count ? rules[index].location : nil
        case .policy(let direction): return policies[direction.index].location
        }
    }

    /// The deciding rule or policy as written.
    public func text(of decision: RuleDecision) -> String {
        switch decision.origin {
        case .rule(let index): return index < rules.count ? rules[index].text : ""
        case .policy(let direction): return policies[direction.index].text
        }
    }

    /// The name of the table an `overload` just added the source to, or nil.
    public func overloadTable(of decision: RuleDecision) -> String? {
        decision.overloadTable.flatMap { $0 < tables.count ? tables[$0].name : nil }
    }
}

/// What a matching rule decides, as plain values: verdict, log, and its limits if any.
struct RuleOutcome: Sendable {
    var verdict: Verdict
    var log: Bool
    /// `max-src-conn`, 0 when absent.
    var maxConnections: Int
    /// `max-src-conn-rate` count, 0 when absent.
    var rateCount: Int
    /// `max-src-conn-rate` window in nanoseconds.
    var rateWindow: UInt64
    /// Table index for `overload`, -1 when absent.
    var overloadTable: Int
    var flush: Bool
    /// `block return…`, or nil.
    var reply: RuleReply?

    var hasLimits: Bool { maxConnections > 0 || rateCount > 0 }

    init(_ rule: Rule) {
        verdict = rule.verdict
        log = rule.log
        maxConnections = rule.limits?.maxConnections ?? 0
        rateCount = rule.limits?.rateCount ?? 0
        rateWindow = UInt64(rule.limits?.rateSeconds ?? 0) * 1_000_000_000
        overloadTable = rule.limits?.overloadTableIndex ?? -1
        flush = rule.limits?.flush ?? false
        reply = rule.reply
    }
}
