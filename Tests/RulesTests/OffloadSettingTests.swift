import Testing
@testable import Rules

@Suite struct OffloadSettingTests {
    @Test func offloadAfterAndMarkAreRead() {
        let ruleset = compiled("set offload after 20\nset offload mark 0x200000\npass all\n")
        #expect(ruleset?.settings.offloadAfter == 20)
        #expect(ruleset?.settings.offloadMark == 0x20_0000)
        let plain = compiled("pass all\n")
        #expect(plain?.settings.offloadAfter == nil, "off by default")
        #expect(plain?.settings.offloadMark == RuleSettings.defaultOffloadMark)
    }

    @Test func mistakesAreErrorsAtTheirColumn() {
        #expect(headlines("set offload mark 3\n") == [
            "test.rules:1:18: error: '3' is not a single mark bit below 0x20000000",
        ])
        #expect(headlines("set offload mark 0x40000000\n") == [
            "test.rules:1:18: error: '0x40000000' is not a single mark bit below 0x20000000",
        ])
        #expect(headlines("set offload after 0\n") == ["test.rules:1:19: error: 'after' must be at least 1"])
        #expect(headlines("set offload soon\n") == ["test.rules:1:13: error: expected 'after' or 'mark' after 'set offload'"])
        #expect(headlines("set ofload after 3\n").first?.contains("unknown setting 'ofload'") == true)
    }
}
