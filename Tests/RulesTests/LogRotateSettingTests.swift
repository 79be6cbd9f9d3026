import Rules
import Testing

@Suite struct LogRotateSettingTests {
    @Test func rotationSizeAndKeep() throws {
        let ruleset = try RuleCompiler.compile(text: "set log \"/tmp/e.jsonl\"\nset log rotate 100M keep 7\n").get()
        #expect(ruleset.settings.logPath == "/tmp/e.jsonl")
        #expect(ruleset.settings.logRotateBytes == 100 << 20)
        #expect(ruleset.settings.logRotateKeep == 7)
        let bytes = try RuleCompiler.compile(text: "set log rotate 65536 keep 1\n").get()
        #expect(bytes.settings.logRotateBytes == 65536)
    }

    @Test func badSizesAndMissingKeepAreErrorsWithAPosition() {
        for (text, message) in [
            ("set log rotate big keep 3\n", "<rules>:1:1: error: expected a size after 'set log rotate'"),
            ("set log rotate 10M\n", "<rules>:1:1: error: expected 'keep N' after the size"),
            ("set log rotate 100 keep 2\n", "<rules>:1:1: error: expected a size after 'set log rotate'"),
        ] {
            guard case .failure(let diagnostics) = RuleCompiler.compile(text: text) else {
                Issue.record("\(text) compiled")
                continue
            }
            #expect(diagnostics.description.contains(message.dropFirst("<rules>:1:1: error: ".count)),
                    "\(text): \(diagnostics.description)")
            #expect(diagnostics.description.hasPrefix("<rules>:1:"), "\(diagnostics.description)")
        }
    }

    @Test func flowRecordsAreOnByDefaultAndCanBeTurnedOff() throws {
        #expect(try RuleCompiler.compile(text: "pass in all\n").get().settings.logFlows)
        #expect(try RuleCompiler.compile(text: "set log flows off\n").get().settings.logFlows == false)
        #expect(try RuleCompiler.compile(text: "set log flows off\nset log flows on\n").get().settings.logFlows)
        guard case .failure(let diagnostics) = RuleCompiler.compile(text: "set log flows maybe\n") else {
            Issue.record("set log flows maybe compiled")
            return
        }
        #expect(diagnostics.description.contains("expected 'on' or 'off' after 'set log flows'"))
    }
}
