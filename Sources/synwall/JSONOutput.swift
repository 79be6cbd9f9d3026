import Control
import Engine
import EventLog
import Foundation
import Rules
import Wire

/// The `--json` forms of the commands' outputs, all in the event log's dialect (docs/json.md):
/// snake_case keys, `src_ip`/`src_port`/`dest_ip`/`dest_port` for endpoints, `timestamp` for
/// times, `rule` objects with `file` and `line`, strings escaped as the log escapes them (no
/// `\/`). Objects are written with ``JSONObjectWriter``, so keys keep their documented order.
enum JSONOutput {
    /// A diagnostic of the rule compiler: `severity`, `file`, `line`, `column`, `message`,
    /// `hint`, `source` (the line as written).
    static func diagnostic(_ diagnostic: Diagnostic) -> JSONObjectWriter {
        var object = JSONObjectWriter()
        object.add("severity", diagnostic.severity.rawValue)
        object.add("file", diagnostic.location.file)
        object.add("line", diagnostic.location.line)
        object.add("column", diagnostic.location.column)
        object.add("message", diagnostic.message)
        object.add("hint", diagnostic.hint)
        object.add("source", diagnostic.sourceLine.isEmpty ? nil : diagnostic.sourceLine)
        return object
    }

    /// `synwall check --json`: `file`, `valid`, the counts when valid, `diagnostics`, `note`.
    static func check(file: String, ruleset: CompiledRuleset?, diagnostics: [Diagnostic], valid: Bool) -> JSONObjectWriter {
        var object = JSONObjectWriter()
        object.add("file", file)
        object.add("valid", valid)
        if let ruleset {
            object.add("rules", ruleset.rules.count)
            object.add("tables", ruleset.tables.count)
            object.add("files", ruleset.files.count)
        }
        object.add("diagnostics", diagnostics.map(diagnostic))
        object.add("note", ruleset?.shadowAnalysis.note)
        return object
    }

    /// A rule as `rules list --json` and `explain --json` show it: `number`, `action`, `file`,
    /// `line`, `text`, `label`.
    static func rule(_ rule: Rule, hits: UInt64? = nil) -> JSONObjectWriter {
        var object = JSONObjectWriter()
        object.add("number", rule.index + 1)
        object.add("action", rule.verdict == .accept ? "pass" : "block")
        object.add("file", rule.location.file)
        object.add("line", rule.location.line)
        object.add("text", rule.text)
        object.add("label", rule.label)
        object.add("hits", hits)
        return object
    }

    /// A policy line: `policy` (the direction), `verdict`, `file`, `line`, `text`.
    static func policy(_ policy: Policy, direction: Direction) -> JSONObjectWriter {
        var object = JSONObjectWriter()
        object.add("policy", direction.rawValue)
        object.add("verdict", policy.verdict == .accept ? "pass" : "block")
        object.add("file", policy.location?.file)
        object.add("line", policy.location?.line)
        object.add("text", policy.text)
        return object
    }

    /// `synwall explain --json`: `verdict` (`pass` or `drop`), `reason` and `detail` (the
    /// tracker's drop reason and finer event), `rules_asked`, `packet` (as described),
    /// `direction`, `proto`, `src_ip`, `src_port`, `dest_ip`, `dest_port`, then what the rules
    /// decide: `rules_verdict`, `log`, and `rule` or `policy`.
    static func explanation(_ explanation: Explanation) -> JSONObjectWriter {
        var object = JSONObjectWriter()
        object.add("verdict", explanation.verdict == .accept ? "pass" : "drop")
        if let tracked = explanation.tracked {
            object.add("reason", tracked.verdict == .drop ? (tracked.reason?.rawValue ?? "policy") : nil)
            object.add("detail", tracked.event?.rawValue)
            object.add("rules_asked", tracked.rulesConsulted)
        }
        object.add("packet", explanation.packet.summary)
        let summary = PacketSummary(explanation.packet.packet)
        object.add("direction", explanation.packet.context.direction.rawValue)
        object.add("proto", summary.protocolName)
        object.add("src_ip", summary.source.description)
        object.add("src_port", summary.hasPorts ? Int(summary.sourcePort) : nil)
        object.add("dest_ip", summary.destination.description)
        object.add("dest_port", summary.hasPorts ? Int(summary.destinationPort) : nil)
        object.add("rules_verdict", explanation.decision.verdict == .accept ? "pass" : "block")
        object.add("log", explanation.decision.log)
        switch explanation.decision.origin {
        case .rule(let index):
            object.add("rule", rule(explanation.ruleset.rules[index]))
        case .policy(let direction):
            object.add("policy", policy(explanation.ruleset.policy(for: direction), direction: direction))
        }
        return object
    }

    /// A connection as `conns --json` prints it: `queue`, `proto`, `src_ip`, `src_port`,
    /// `dest_ip`, `dest_port`, `state`, `age`, `idle`, `expires_in` (seconds),
    /// `pkts_toserver`, `bytes_toserver`, `pkts_toclient`, `bytes_toclient` (EVE's flow
    /// names: to the server is from `src`), `rule` (`number`, `file`, `line`, `text`).
    static func connection(_ record: ConnectionRecord) -> JSONObjectWriter {
        var object = JSONObjectWriter()
        object.add("queue", record.queue)
        object.add("proto", IPProtocol(name: record.proto)?.eventName ?? record.proto)
        object.add("src_ip", record.src)
        object.add("src_port", record.sport)
        object.add("dest_ip", record.dst)
        object.add("dest_port", record.dport)
        object.add("state", record.state)
        object.add("age", record.ageSeconds)
        object.add("idle", record.idleSeconds)
        object.add("expires_in", record.expiresInSeconds)
        object.add("pkts_toserver", record.packetsOut)
        object.add("bytes_toserver", record.bytesOut)
        object.add("pkts_toclient", record.packetsIn)
        object.add("bytes_toclient", record.bytesIn)
        if record.offloaded == true { object.add("offloaded", true) }
        if let number = record.rule {
            var rule = JSONObjectWriter()
            rule.add("number", number)
            if let location = record.ruleLocation, let colon = location.lastIndex(of: ":") {
                rule.add("file", String(location[..<colon]))
                rule.add("line", Int(location[location.index(after: colon)...]))
            }
            rule.add("text", record.ruleText)
            object.add("rule", rule)
        }
        return object
    }

    /// `synwall stats --json`: an EVE `stats` record, `{"timestamp":…,"event_type":"stats",
    /// "stats":{…}}`, the report's keys in snake_case (sorted).
    static func stats(_ report: StatsReport) -> String {
        (try? record(type: "stats", report, at: UInt64(max(0, report.takenAt) * 1e9))) ?? "{}"
    }

    /// An EVE-style record of a report: `{"timestamp":…,"event_type":TYPE,TYPE:{…}}`, the
    /// report's keys in snake_case, sorted, one line, no escaped slashes.
    static func record<T: Encodable>(type: String, _ report: T, at nanoseconds: UInt64? = nil) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let inner = String(decoding: try encoder.encode(report), as: UTF8.self)
        var head = JSONObjectWriter()
        let now = nanoseconds ?? UInt64(max(0, Date().timeIntervalSince1970) * 1e9)
        head.add("timestamp", EventTimestamp.string(nanoseconds: now))
        head.add("event_type", type)
        let text = head.text
        var key: [UInt8] = []
        JSONLinesEncoder.appendString(type, into: &key)
        return String(text.dropLast()) + "," + String(decoding: key, as: UTF8.self) + ":" + inner + "}"
    }

    /// `reload --json`: `reloaded`, `file`, `rules`, `diagnostics`; or `requested` with the
    /// `pid` signalled.
    static func reload(_ report: ReloadReport) -> JSONObjectWriter {
        var object = JSONObjectWriter()
        object.add("reloaded", report.reloaded)
        object.add("file", report.file)
        object.add("rules", report.rules)
        object.add("diagnostics", report.diagnostics)
        return object
    }
}
