import Foundation
import Testing
@testable import Control

/// The metrics `synwall stats --prometheus` writes for monitoring, and the Grafana dashboard in
/// contrib/ that reads them.
@Suite struct MonitoringTests {
    /// A report with every optional part: log, rules (one labelled), reloads, version.
    static func report() -> StatsReport {
        var report = ViewTests.report()
        report.version = "0.1.0"
        report.commit = "1a2b3c4d5e6f"
        report.reloads = 3
        report.reloadFailures = 1
        report.lastReloadSuccess = 1100.5
        report.rules.append(RuleHits(number: 2, action: "pass", location: "/etc/synwall/synwall.rules:4",
                                     text: "pass in proto tcp to port 22 label \"ssh\"", label: "s\"sh", hits: 3))
        report.rules.append(RuleHits(number: 3, action: "block", location: "/etc/synwall/synwall.rules:5",
                                     text: "block in proto tcp to port 23", label: nil, hits: 4))
        return report
    }

    @Test("up, build info, reloads and the last successful reload; rule hits summed by label")
    func prometheusAdditions() {
        let text = PrometheusText.render(Self.report())
        #expect(text.contains("# TYPE synwall_up gauge\nsynwall_up 1\n"), "\(text)")
        #expect(text.contains("# TYPE synwall_build_info gauge\nsynwall_build_info{version=\"0.1.0\",commit=\"1a2b3c4d5e6f\"} 1\n"),
                "\(text)")
        #expect(text.contains("synwall_reloads_total{result=\"success\"} 3\nsynwall_reloads_total{result=\"failure\"} 1\n"),
                "\(text)")
        #expect(text.contains("# TYPE synwall_last_reload_success_timestamp_seconds gauge\n"
            + "synwall_last_reload_success_timestamp_seconds 1100.5\n"), "\(text)")
        // Two rules labelled s"sh: one series, 12 + 3; the unlabelled rule has none.
        #expect(text.contains("# TYPE synwall_rule_label_hits_total counter\n"
            + "synwall_rule_label_hits_total{label=\"s\\\"sh\"} 15\n"), "\(text)")
        #expect(text.split(separator: "\n").filter { $0.hasPrefix("synwall_rule_label_hits_total{") }.count == 1, "\(text)")
        let families = text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] }
        #expect(families.count == Set(families).count, "each family once")
    }

    @Test("a daemon that cannot be asked: synwall_up 0 and the build info of this binary, nothing else")
    func down() {
        let text = PrometheusText.down(version: "0.1.0", commit: "unknown")
        #expect(text == "# HELP synwall_up Whether synwall stats reached the daemon (1) or not (0).\n"
            + "# TYPE synwall_up gauge\nsynwall_up 0\n"
            + "# HELP synwall_build_info The version and commit of the daemon (of the synwall command when the daemon is down).\n"
            + "# TYPE synwall_build_info gauge\nsynwall_build_info{version=\"0.1.0\",commit=\"unknown\"} 1\n", "\(text)")
    }

    @Test("contrib/grafana-dashboard.json is valid JSON, and every metric its queries name is one synwall writes")
    func dashboard() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let data = try Data(contentsOf: root.appendingPathComponent("contrib/grafana-dashboard.json"))
        let json = try JSONSerialization.jsonObject(with: data)
        guard let dashboard = json as? [String: Any], let panels = dashboard["panels"] as? [[String: Any]] else {
            Issue.record("no panels")
            return
        }
        var expressions: [String] = []
        for panel in panels {
            #expect(panel["title"] is String && panel["gridPos"] is [String: Any], "\(panel)")
            let targets = panel["targets"] as? [[String: Any]] ?? []
            #expect(!targets.isEmpty, "a panel without a query: \(panel["title"] ?? "")")
            expressions += targets.compactMap { $0["expr"] as? String }
        }
        // The variables' queries too.
        if let templating = dashboard["templating"] as? [String: Any], let list = templating["list"] as? [[String: Any]] {
            expressions += list.compactMap { $0["query"] as? String }.filter { $0.contains("synwall_") }
        }
        let written = Set((PrometheusText.render(Self.report()) + PrometheusText.down(version: "0", commit: "x"))
            .split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { String($0.split(separator: " ")[2]) })
        var named: Set<String> = []
        for expression in expressions {
            var rest = Substring(expression)
            while let range = rest.range(of: "synwall_") {
                let name = rest[range.lowerBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                named.insert(String(name))
                rest = rest[name.endIndex...]
            }
        }
        #expect(named.count >= 12, "\(named)")
        for name in named.sorted() {
            #expect(written.contains(name), "the dashboard asks for \(name), which synwall does not write")
        }
        // What the issue asks the dashboard to show.
        for needed in ["synwall_packets_total", "synwall_drops_total", "synwall_states", "synwall_states_capacity",
                       "synwall_half_open", "synwall_rule_hits_total", "synwall_log_events_lost_total",
                       "synwall_log_events_folded_total", "synwall_reloads_total"] {
            #expect(named.contains(needed), "the dashboard does not show \(needed)")
        }
    }
}
