@testable import Firewall
import Rules
import Testing

/// Workers name an `overload … flush` rule to each other by index and generation.
@Suite struct RuleReferenceTests {
    private func compile(_ text: String) throws -> CompiledRuleset {
        try RuleCompiler.compile(text: text).get()
    }

    @Test("within a generation the index is the rule; across a reload the same rule is found renumbered")
    func referencesResolve() throws {
        let first = try compile("""
            table <bruteforce> persist
            pass in proto tcp to port 22 max-src-conn-rate 3/60 overload <bruteforce> flush
            pass in proto tcp to port 80
            """)
        let second = try compile("""
            table <bruteforce> persist
            block in proto udp
            pass in proto tcp to port 80
            pass in proto tcp to port 22 max-src-conn-rate 3/60 overload <bruteforce> flush
            """)
        let control = WorkerControl()
        control.noteStartingRules(first)
        control.publish(second)
        #expect(control.currentRules()?.generation == 1)
        let flushRule = RuleReference(index: 0, generation: 0)
        #expect(control.ruleIndex(of: flushRule, in: first, generation: 0) == 0)
        #expect(control.ruleIndex(of: flushRule, in: second, generation: 1) == 2, "renumbered by the reload")
        let newer = RuleReference(index: 2, generation: 1)
        #expect(control.ruleIndex(of: newer, in: first, generation: 0) == 0, "a worker not yet reloaded")
        #expect(control.ruleIndex(of: RuleReference(index: 0, generation: 7), in: second, generation: 1) == nil,
                "an unknown generation names nothing")
        #expect(control.ruleIndex(of: RuleReference(index: 9, generation: 1), in: second, generation: 1) == nil)
    }

    @Test("only the last few generations are kept")
    func historyIsBounded() throws {
        let rules = try compile("pass in proto tcp to port 22\n")
        let control = WorkerControl()
        control.noteStartingRules(rules)
        for _ in 0..<WorkerControl.ruleHistoryLimit { control.publish(rules) }
        #expect(control.ruleIndex(of: RuleReference(index: 0, generation: 0), in: rules, generation: 4) == nil)
        #expect(control.ruleIndex(of: RuleReference(index: 0, generation: 1), in: rules, generation: 4) == 0)
    }
}
