/// Finds rules that can never match because an earlier rule matches every packet they would
/// (first match wins, so they are dead). Only what can be proven cheaply is reported: no
/// false warnings, but not every dead rule is found.
///
/// A rule is compared only with the earlier rules that could cover it: those without a
/// destination port, and those naming its lowest destination port (or a wide port range).
/// Rules with different ports, the usual case in a long file, never meet. The comparisons
/// of one compile are bounded (`maximumComparisons`); past that the analysis stops and
/// `Summary` says how many rules it checked.
enum ShadowAnalysis {
    /// Comparisons one compile may make (about a second in a release build at worst).
    static let maximumComparisons = 4_000_000
    /// A port set of at most this many ports is indexed port by port; larger ones are
    /// compared with every later rule that has ports.
    static let indexedPortCount = 64

    /// How far the analysis went.
    struct Outcome {
        var warnings: [Diagnostic]
        var summary: ShadowAnalysisSummary
    }

    static func warnings(rules: [Rule], matchers: [RuleMatch], sourceLine: (SourceLocation) -> String) -> [Diagnostic] {
        analyze(rules: rules, matchers: matchers, sourceLine: sourceLine).warnings
    }

    static func analyze(rules: [Rule], matchers: [RuleMatch], budget: Int = maximumComparisons,
                        sourceLine: (SourceLocation) -> String) -> Outcome {
        // Through a buffer the matchers are compared in place, not copied (and retained) per
        // comparison.
        matchers.withUnsafeBufferPointer { analyze(rules: rules, matchers: $0, budget: budget, sourceLine: sourceLine) }
    }

    private static func analyze(rules: [Rule], matchers: UnsafeBufferPointer<RuleMatch>, budget: Int,
                                sourceLine: (SourceLocation) -> String) -> Outcome {
        var warnings: [Diagnostic] = []
        // Earlier rules, in order, by what their destination ports allow them to cover.
        var anyPort: [Int] = []
        var widePorts: [Int] = []
        var byPort: [UInt16: [Int]] = [:]
        var comparisons = 0

        /// The first rule in `candidates` (ascending) before `limit` that covers `later`.
        func firstCovering(_ candidates: [Int], _ later: Int, before limit: Int) -> Int? {
            for earlier in candidates {
                if earlier >= limit { return nil }
                comparisons += 1
                if covers(matchers[earlier], matchers[later]) { return earlier }
            }
            return nil
        }

        for later in matchers.indices {
            if comparisons > budget {
                return Outcome(warnings: warnings, summary: ShadowAnalysisSummary(checkedRules: later, totalRules: matchers.count,
                                                                                  comparisonLimit: budget))
            }
            var found: Int?
            if let ports = matchers[later].destinationPorts {
                found = firstCovering(anyPort, later, before: later)
                // (A set with no port at all is compared with the wide ones only: a shadow
                // may be missed there, never invented.)
                if let lowest = ports.ranges.first?.lowerBound {
                    found = firstCovering(byPort[lowest] ?? [], later, before: found ?? later) ?? found
                }
                found = firstCovering(widePorts, later, before: found ?? later) ?? found
            } else {
                found = firstCovering(anyPort, later, before: later)
            }
            if let earlier = found {
                let rule = rules[later], shadow = rules[earlier]
                warnings.append(Diagnostic(
                    severity: .warning,
                    message: "rule \(later + 1) can never match: rule \(earlier + 1) (\(shadow.location.fileAndLine)) matches every packet it would",
                    location: rule.location, length: rule.action.rawValue.count, sourceLine: sourceLine(rule.location),
                    hint: "move it above rule \(earlier + 1) (synwall rules move \(later + 1) \(earlier + 1)), narrow rule \(earlier + 1), or delete it"))
            }
            if let ports = matchers[later].destinationPorts {
                let count = ports.ranges.reduce(0) { $0 + Int($1.upperBound) - Int($1.lowerBound) + 1 }
                if count > indexedPortCount {
                    widePorts.append(later)
                } else {
                    for range in ports.ranges { for port in range { byPort[port, default: []].append(later) } }
                }
            } else {
                anyPort.append(later)
            }
        }
        return Outcome(warnings: warnings, summary: ShadowAnalysisSummary(checkedRules: matchers.count, totalRules: matchers.count,
                                                                          comparisonLimit: budget))
    }

    /// True when every packet `narrower` matches is matched by `wider`.
    static func covers(_ wider: RuleMatch, _ narrower: RuleMatch) -> Bool {
        guard narrower.directions & ~wider.directions == 0 else { return false }
        guard wider.family == 0 || wider.family == narrower.family else { return false }
        guard narrower.protocols.isSubset(of: wider.protocols) else { return false }
        guard portsCover(wider.destinationPorts, narrower.destinationPorts),
              portsCover(wider.sourcePorts, narrower.sourcePorts) else { return false }
        if let types = wider.icmpTypes {
            guard let narrowerTypes = narrower.icmpTypes, narrowerTypes.isSubset(of: types) else { return false }
        }
        guard interfaceCovers(wider.interface, narrower.interface),
              interfaceCovers(wider.inInterface, narrower.inInterface),
              interfaceCovers(wider.outInterface, narrower.outInterface) else { return false }
        return wider.source.covers(narrower.source) && wider.destination.covers(narrower.destination)
    }

    private static func portsCover(_ wider: PortSet?, _ narrower: PortSet?) -> Bool {
        guard let wider else { return true }
        guard let narrower else { return false }
        return narrower.isSubset(of: wider)
    }

    private static func interfaceCovers(_ wider: InterfaceSpec?, _ narrower: InterfaceSpec?) -> Bool {
        guard let wider else { return true }
        return wider == narrower
    }
}

/// How much of a ruleset the shadowed-rule analysis checked: all of it, unless the
/// comparisons it may make ran out first (a long file of rules that share their ports).
public struct ShadowAnalysisSummary: Sendable, Hashable {
    /// Rules checked against the rules before them, from the first.
    public var checkedRules: Int
    /// Rules in the ruleset.
    public var totalRules: Int
    /// The comparisons the analysis may make.
    public var comparisonLimit: Int

    /// True when every rule was checked.
    public var isComplete: Bool { checkedRules >= totalRules }

    /// One sentence for `synwall check` when the analysis stopped early, else nil.
    public var note: String? {
        guard !isComplete else { return nil }
        return "shadowed-rule analysis stopped after rule \(checkedRules) of \(totalRules) "
            + "(it makes at most \(comparisonLimit) rule comparisons); rules after that were not checked"
    }
}
