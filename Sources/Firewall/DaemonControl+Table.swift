import Control
import EventLog
import Foundation
import Rules
import Wire

extension DaemonControl {
    /// Most entries one `table add`/`delete`/`test` request may carry.
    static let maximumTableEntries = 4_096

    /// A table request the rules in force accept: the table, the entries read, the lifetime.
    private struct CheckedTableRequest {
        var info: TableInfo
        var prefixes: [IPPrefix]
        var lifetime: UInt64?
    }

    /// `synwall table NAME show|add|delete|flush|test`: checks the request against the rules
    /// in force, then has every worker carry out the very same change (same entries, same
    /// time) between its rounds, and logs each change once.
    func table(_ request: TableRequest) -> ControlResponse {
        let checked: CheckedTableRequest
        switch check(request) {
        case .success(let accepted): checked = accepted
        case .failure(let message): return ControlResponse(error: message.text)
        }
        let info = checked.info
        let now = QueueWorker.now()
        let operation = TableOperation(table: info.name, action: request.action, prefixes: checked.prefixes,
                                       lifetime: checked.lifetime, now: now)
        let reports = workers.ask(connections: nil, limit: 0, queues: queues, timeout: Self.answerTimeout, table: operation)
        let results = queues.compactMap { reports[$0]?.table }
        guard let first = results.first else {
            return ControlResponse(error: "no queue worker answered within \(Int(Self.answerTimeout)) s; nothing changed")
        }
        var report = TableReport(table: info.name, location: "\(info.location.file):\(info.location.line)",
                                 expireSeconds: info.expire.map { Int($0.components.seconds) })
        let missing = queues.filter { reports[$0]?.table == nil }.map(Int.init)
        if !missing.isEmpty { report.unanswered = missing }
        switch request.action {
        case .show: show(info, results, limit: max(0, request.limit ?? Int.max), now: now, into: &report)
        case .add: added(checked, first, into: &report)
        case .delete: deleted(checked, results, into: &report)
        case .flush: flushed(info, results, now: now, into: &report)
        case .test:
            report.tests = checked.prefixes.enumerated().map { offset, prefix in
                Self.testResult(prefix, results.lazy.compactMap { $0.matches[offset] }.first, now: now)
            }
        }
        return ControlResponse(table: report)
    }

    /// A one-line refusal of a table request.
    private struct TableRefusal: Error {
        var text: String
    }

    /// The request against the rules in force: the table exists, may change, and the entries
    /// and lifetime are what the action takes.
    private func check(_ request: TableRequest) -> Result<CheckedTableRequest, TableRefusal> {
        guard let ruleset = rules() else {
            return .failure(TableRefusal(text: "the daemon runs without a rule file, so it has no tables"))
        }
        guard let index = ruleset.tableIndex(named: request.table) else {
            let names = ruleset.tables.map(\.name)
            var message = "no table <\(TerminalText.sanitize(request.table))> in \(ruleset.mainFile)"
            if let hint = Suggestion.hint(for: request.table, among: names, quote: { "<\($0)>" }) {
                message += "; \(hint)"
            } else {
                message += names.isEmpty ? " (it declares no table)"
                    : " (its tables: " + names.prefix(10).map { "<\($0)>" }.joined(separator: ", ") + (names.count > 10 ? ", …)" : ")")
            }
            return .failure(TableRefusal(text: message))
        }
        let info = ruleset.tables[index]
        if info.isConst, [.add, .delete, .flush].contains(request.action) {
            return .failure(TableRefusal(text: "table <\(info.name)> is const (\(info.location.file):\(info.location.line)): "
                + "it cannot change while running; remove const and reload to change it"))
        }
        guard request.entries.count <= Self.maximumTableEntries else {
            return .failure(TableRefusal(text: "at most \(Self.maximumTableEntries) entries per request"))
        }
        var prefixes: [IPPrefix] = []
        for text in request.entries {
            guard let prefix = IPPrefix(text) else {
                return .failure(TableRefusal(text: "'\(TerminalText.sanitize(text))' is not an address or prefix "
                    + "(such as 192.0.2.7, 198.51.100.0/24 or 2001:db8::/48)"))
            }
            if request.action == .test, !prefix.isHost || text.contains("/") {
                return .failure(TableRefusal(text: "test takes addresses, not prefixes: '\(TerminalText.sanitize(text))'"))
            }
            prefixes.append(prefix)
        }
        if [.add, .delete, .test].contains(request.action), prefixes.isEmpty {
            return .failure(TableRefusal(text: "\(request.action.rawValue) needs at least one address"))
        }
        var lifetime: UInt64?
        if let seconds = request.expireSeconds {
            guard request.action == .add, seconds > 0, seconds <= 10 * 365 * 86_400 else {
                return .failure(TableRefusal(text: "--expire applies to add, between 1 second and 10 years"))
            }
            lifetime = UInt64(seconds) * 1_000_000_000
        }
        return .success(CheckedTableRequest(info: info, prefixes: prefixes, lifetime: lifetime))
    }

    /// `show`: the written entries, then those added while running.
    private func show(_ info: TableInfo, _ results: [WorkerTableResult], limit: Int, now: UInt64,
                      into report: inout TableReport) {
        let written = info.staticEntries.ranges(limit: limit)
        report.writtenCount = info.staticEntries.rangeCount
        var entries = written.prefix(limit).map {
            TableEntryRecord(entry: PrefixSet.describe(first: $0.first, last: $0.last), origin: "file")
        }
        // Every worker holds the same entries, but an `overload` on one reaches the others
        // a round later: the union, the earliest time of each.
        var runtime: [IPPrefix: RuntimeTableEntry] = [:]
        for result in results {
            for entry in result.entries where runtime[entry.prefix].map({ entry.time.since < $0.time.since }) ?? true {
                runtime[entry.prefix] = entry
            }
        }
        let sorted = runtime.values.sorted { ($0.prefix.address, $0.prefix.length) < ($1.prefix.address, $1.prefix.length) }
        report.runtimeCount = sorted.count
        entries += sorted.prefix(limit).map { Self.record($0, now: now) }
        report.entries = entries
    }

    /// `add`: what each entry became (the first worker's answer; all made the same change).
    private func added(_ checked: CheckedTableRequest, _ first: WorkerTableResult, into report: inout TableReport) {
        let info = checked.info
        var added: [String] = [], renewed: [String] = [], refused: [String] = []
        for (offset, prefix) in checked.prefixes.enumerated() {
            switch first.changes[offset] {
            case .added: added.append(prefix.description)
            case .renewed: renewed.append(prefix.description)
            case .full, .notChangeable: refused.append(prefix.description)
            }
            if first.changes[offset] == .added || first.changes[offset] == .renewed {
                let expiry = checked.lifetime.map { "expires in \(Formatting.duration(Int($0 / 1_000_000_000)))" }
                    ?? info.expire.map { "expires in \(Formatting.duration(Int($0.components.seconds)))" } ?? "never expires"
                logChange("table_add", prefix, table: info.name,
                          detail: "\(first.changes[offset] == .added ? "added to" : "renewed in") <\(info.name)> by synwall table add; \(expiry)")
            }
        }
        report.added = added
        report.renewed = renewed
        if !refused.isEmpty { report.refused = refused }
    }

    /// `delete`: an entry is removed when any worker had it (an overload may not have reached
    /// them all yet).
    private func deleted(_ checked: CheckedTableRequest, _ results: [WorkerTableResult], into report: inout TableReport) {
        let name = checked.info.name
        var removed: [String] = [], refused: [String] = []
        for (offset, prefix) in checked.prefixes.enumerated() {
            if results.contains(where: { $0.removed[offset] != nil }) {
                removed.append(prefix.description)
                logChange("table_delete", prefix, table: name, detail: "removed from <\(name)> by synwall table delete")
            } else {
                refused.append(prefix.description)
            }
        }
        report.removed = removed
        if !refused.isEmpty { report.refused = refused }
    }

    /// `flush`: every entry added while running goes; one record says how many.
    private func flushed(_ info: TableInfo, _ results: [WorkerTableResult], now: UInt64, into report: inout TableReport) {
        let count = results.map(\.flushed).max() ?? 0
        report.removed = []
        report.writtenCount = info.staticEntries.rangeCount
        report.runtimeCount = count
        guard count > 0 else { return }
        log?.record(Event(timestampNanoseconds: now, eventType: .table, reason: "table_flush",
                          detail: "\(count) entr\(count == 1 ? "y" : "ies") added while running removed from <\(info.name)> "
                              + "by synwall table flush"))
    }

    /// `test`: the entry an address matched, if any.
    private static func testResult(_ prefix: IPPrefix, _ match: TableMatch?, now: UInt64) -> TableTestResult {
        switch match {
        case .written(let low, let high):
            return TableTestResult(address: prefix.address.description, matched: true,
                                   entry: TableEntryRecord(entry: PrefixSet.describe(first: low, last: high), origin: "file"))
        case .runtime(let entry):
            return TableTestResult(address: prefix.address.description, matched: true, entry: Self.record(entry, now: now))
        case nil:
            return TableTestResult(address: prefix.address.description, matched: false)
        }
    }

    /// An entry added while running, as listed.
    static func record(_ entry: RuntimeTableEntry, now: UInt64) -> TableEntryRecord {
        TableEntryRecord(entry: entry.prefix.description, origin: entry.time.manual ? "added" : "overload",
                         addedAt: Double(entry.time.since) / 1e9,
                         expiresAt: entry.expiresAt.map { Double($0) / 1e9 },
                         expiresInSeconds: entry.expiresAt.map { Int(($0 &- min($0, now)) / 1_000_000_000) })
    }

    /// One `table` record in the event log.
    private func logChange(_ reason: String, _ prefix: IPPrefix, table: String, detail: String) {
        log?.record(Event(timestampNanoseconds: QueueWorker.now(), eventType: .table, sourceIP: prefix.description,
                          reason: reason, detail: detail))
    }
}
