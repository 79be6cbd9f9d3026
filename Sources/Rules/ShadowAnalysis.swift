/// Finds rules that can never match because an earlier rule matches every packet they would
/// (first match wins, so they are dead). Only what can be proven cheaply is reported: no
/// false warnings, but not every dead rule is found.
enum ShadowAnalysis {
    static func warnings(rules: [Rule], matchers: [RuleMatch], sourceLine: (SourceLocation) -> String) -> [Diagnostic] {
        var warnings: [Diagnostic] = []
        for later in matchers.indices {
            for earlier in 0..<later where covers(matchers[earlier], matchers[later]) {
                let rule = rules[later], shadow = rules[earlier]
                warnings.append(Diagnostic(
                    severity: .warning,
                    message: "rule \(later + 1) can never match: rule \(earlier + 1) (\(shadow.location.fileAndLine)) matches every packet it would",
                    location: rule.location, length: rule.action.rawValue.count, sourceLine: sourceLine(rule.location),
                    hint: "move it above rule \(earlier + 1) (synwall rules move \(later + 1) \(earlier + 1)), narrow rule \(earlier + 1), or delete it"))
                break
            }
        }
        return warnings
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
