import Engine
import Rules
import Testing
import Tracking

/// The rule file's `set` lines become the tracker's configuration.
@Suite("Tracker settings from the rule file")
struct TrackerSettingsTests {
    @Test("limits, the SYN rate and every timeout name reach the tracker; absent lines keep the base")
    func settingsApply() throws {
        let rules = try RuleCompiler.compile(text: """
        set limit states 5000
        set limit half-open 300
        set limit half-open-per-source 8
        set syn-rate 100/2 burst 250
        set timeout tcp.syn_sent 1m30s
        set timeout tcp.pickup 20
        set timeout other 2m
        set timeout source.proven 10m
        set tcp pickup
        set tcp rst exact
        set tcp paws
        set tcp timestamps strict
        """).get()
        let base = TrackerConfiguration(maxStates: 9, hashSeed: 1)
        let configuration = TrackerConfiguration(rules.settings, base: base)
        #expect(configuration.maxStates == 5000)
        #expect(configuration.maxHalfOpen == 300 && configuration.maxHalfOpenPerSource == 8)
        #expect(configuration.synRatePerSource == SYNRateLimit(perSecond: 50, burst: 250))
        #expect(configuration.timeouts.tcpSynSent == .seconds(90))
        #expect(configuration.timeouts.tcpPickup == .seconds(20))
        #expect(configuration.timeouts.other == .seconds(120))
        #expect(configuration.provenSourceMemorySeconds == 600)
        #expect(configuration.pickup && configuration.rstExact)
        #expect(configuration.paws && configuration.timestampsStrict)
        #expect(configuration.hashSeed == 1)
        #expect(TrackerConfiguration(rules.settings, base: base, maxStatesOverride: 77).maxStates == 77)

        let off = try RuleCompiler.compile(text: "set timeout source.proven 0\n").get()
        #expect(TrackerConfiguration(off.settings, base: base).provenSourceMemorySeconds == 0)
        let none = try RuleCompiler.compile(text: "# nothing\n").get()
        let untouched = TrackerConfiguration(none.settings, base: base)
        #expect(untouched.maxStates == 9 && untouched.provenSourceMemorySeconds == 3_600)
        #expect(!untouched.paws && !untouched.timestampsStrict)
        // rules/README.md: `set syn-rate` defaults to none. A file that sets no rate gets none
        // (it once got 1,000/s burst 2,000, and one busy honest client was cut).
        #expect(TrackerConfiguration(none.settings).synRatePerSource == .unlimited)
        #expect(TrackerConfiguration().synRatePerSource.perSecond == 0)
    }
}
