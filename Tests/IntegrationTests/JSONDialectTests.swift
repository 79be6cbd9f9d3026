import Foundation
import Testing

/// `--json` on the commands that print something, all in the event log's dialect
/// (docs/json.md): snake_case keys, `src_ip`/`dest_port`, `timestamp`, no `\/`.
@Suite struct JSONDialectTests {
    let cli = CLITests()

    func object(_ text: Substring) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
    }

    func temporary(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("synwall-json-\(getpid())-\(name)").path
    }

    @Test func checkExplainAndRulesListSpeakJSON() throws {
        let rules = temporary("fw.rules")
        try "policy in drop\npass in proto tcp to port ssh label \"ssh/admin\"\n".write(toFile: rules, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: rules) }

        let check = try cli.synwall("check", "--json", rules)
        #expect(check.status == 0, "\(check)")
        let checked = try object(check.stdout.dropLast())
        #expect(checked["valid"] as? Bool == true && checked["rules"] as? Int == 1)
        let broken = temporary("broken.rules")
        try "pass in proto tcp to prot 22\n".write(toFile: broken, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: broken) }
        let bad = try cli.synwall("check", "--json", broken)
        #expect(bad.status == 1)
        let failed = try object(bad.stdout.dropLast())
        let diagnostic = try #require((failed["diagnostics"] as? [[String: Any]])?.first)
        #expect(diagnostic["line"] as? Int == 1 && diagnostic["column"] as? Int == 22 && diagnostic["severity"] as? String == "error")

        let explain = try cli.synwall("explain", "--json", "--rules", rules, "tcp 203.0.113.7:51000 > 192.0.2.10:22 flags FPU")
        let explained = try object(explain.stdout.dropLast())
        #expect(explained["verdict"] as? String == "drop")
        #expect(explained["reason"] as? String == "invalid_flags" && explained["detail"] as? String == "flags_xmas")
        #expect(explained["src_ip"] as? String == "203.0.113.7" && explained["dest_port"] as? Int == 22)
        #expect((explained["rule"] as? [String: Any])?["label"] as? String == "ssh/admin")
        #expect(!explain.stdout.contains(#"\/"#), "no escaped slashes: \(explain.stdout)")

        let list = try cli.synwall("rules", "list", "--json", "--file", rules, "--control", temporary("none.sock"))
        let lines = list.stdout.split(separator: "\n")
        #expect(lines.count == 4, "one rule, three policies: \(list)")
        let rule = try object(lines[0])
        #expect(rule["number"] as? Int == 1 && rule["line"] as? Int == 2 && rule["action"] as? String == "pass")
        #expect(try object(lines[1])["policy"] as? String == "in")
    }

    @Test func replayLinesAndReplayLogAreInTheLogsDialect() throws {
        let capture = Harness.packageRoot.appendingPathComponent("Tests/FirewallTests/Fixtures/scans.pcap").path
        let log = temporary("replay.jsonl")
        defer { try? FileManager.default.removeItem(atPath: log) }
        let replay = try cli.synwall("replay", "--log", log, capture)
        #expect(replay.status == 0, "\(replay)")
        let lines = replay.stdout.split(separator: "\n")
        let first = try object(lines[0])
        #expect(first["index"] as? Int == 1 && first["timestamp"] is String && first["src_ip"] is String)
        #expect(first["verdict"] as? String == "drop" && first["reason"] as? String == "invalid_flags")
        let summary = try #require(try object(lines.last!)["summary"] as? [String: Any])
        let dropped = try #require(summary["dropped"] as? Int)
        // synwall log reads what replay --log wrote, and counts every drop.
        let top = try cli.synwall("log", log, "--top", "reason", "--json")
        #expect(top.status == 0, "\(top)")
        let row = try object(top.stdout.split(separator: "\n")[0])
        #expect(row["reason"] as? String == "invalid_flags" && row["count"] as? Int == dropped, "\(top.stdout)")
        // Not on a terminal: no progress line.
        #expect(replay.stderr.isEmpty, "\(replay.stderr)")
    }
}
