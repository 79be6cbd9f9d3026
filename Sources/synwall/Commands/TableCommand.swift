import ArgumentParser
import Control
import EventLog
import Foundation
import Rules
import Wire

struct TableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "table",
        abstract: "Show, change or test one of the running daemon's address tables.",
        discussion: """
        synwall table NAME ACTION, where ACTION is one of:
          show                 the entries, their origin and expiry
          add ADDR… [--expire] addresses or prefixes (192.0.2.7, 2001:db8::/48)
          delete ADDR…         remove entries added while running
          flush                remove every entry added while running
          test ADDR…           which entry holds each address

        Changes reach every queue's worker in the same step (between two receive rounds), so \
        every new connection after the answer sees them; connections already open are not \
        cut (use synwall conns --kill --src ADDR). Each change is logged as a 'table' record \
        (reason table_add, table_delete or table_flush).

        Entries are of three origins: 'file' (written in the rule file, inline or file "…"), \
        'overload' (put there by an overload rule) and 'added' (by this command). Only the \
        last two can be deleted or flushed; to remove a written entry, edit the file and \
        reload. A const table cannot change. An added entry stays --expire long, else as long \
        as the table's 'expire' says, else until removed.

        Across a reload, entries added while running (overload or table add) stay in every \
        table of the same name that is still declared and not const; across a restart they \
        are kept in the state file (--state, with the connections), each with its age, and \
        expire on time; a state file older than 'set state max-age' still gives them back.

        Exit status: 0 done (test: every address matched), 1 test: some address matched no \
        entry, 2 error (no such table, bad address, no daemon).
        """
    )

    @Argument(help: ArgumentHelp("The table's name, with or without angle brackets.", valueName: "name"))
    var name: String

    @Argument(help: ArgumentHelp("show, add, delete, flush or test.", valueName: "action"))
    var action: String = "show"

    @Argument(help: ArgumentHelp("Addresses or prefixes (add, delete), addresses (test).", valueName: "address"))
    var addresses: [String] = []

    @Option(name: .long, help: ArgumentHelp("With add: how long the entries stay (90s, 30m, 1h, 2d).", valueName: "duration"))
    var expire: String?

    @Option(name: .long, help: ArgumentHelp("With show: list at most this many entries of each origin.", valueName: "n"))
    var limit: Int = 10_000

    @Flag(name: .long, help: "Print JSON (show: one entry per line; test: one result per line; others: the report).")
    var json = false

    @OptionGroup var controlOptions: ControlOptions

    var tableName: String {
        name.hasPrefix("<") && name.hasSuffix(">") && name.count > 2 ? String(name.dropFirst().dropLast()) : name
    }

    func run() throws {
        do {
            try perform()
        } catch let error as CLIError {
            writeText("synwall: error: \(error.message)", to: 2)
            throw ExitCode(error.status == 1 ? 2 : error.status)
        }
    }

    private func perform() throws {
        guard let verb = TableRequest.Action(rawValue: action) else {
            let names = TableRequest.Action.allCases.map(\.rawValue)
            throw CLIError("unknown table action '\(TerminalText.sanitize(action))'; "
                + (Suggestion.hint(for: action, among: names) ?? "use one of: " + names.joined(separator: ", ")), status: 2)
        }
        switch verb {
        case .add, .delete, .test:
            guard !addresses.isEmpty else { throw CLIError("\(verb.rawValue) needs at least one address", status: 2) }
        case .show, .flush:
            guard addresses.isEmpty else {
                throw CLIError("\(verb.rawValue) takes no address (did you mean add, delete or test?)", status: 2)
            }
        }
        var expireSeconds: Int?
        if let expire {
            guard verb == .add else { throw CLIError("--expire applies to add", status: 2) }
            guard let nanoseconds = DurationText.nanoseconds(expire), nanoseconds >= 1_000_000_000 else {
                throw CLIError("--expire '\(TerminalText.sanitize(expire))' is not a duration of at least 1s (90s, 30m, 1h, 2d)",
                               status: 2)
            }
            expireSeconds = Int(clamping: nanoseconds / 1_000_000_000)
        }
        guard limit >= 0 else { throw CLIError("--limit must not be negative", status: 2) }
        // A request line is bounded (64 KiB): long lists go in several requests.
        let chunks = addresses.isEmpty ? [[]] : stride(from: 0, to: addresses.count, by: 1_000).map {
            Array(addresses[$0 ..< min($0 + 1_000, addresses.count)])
        }
        var reports: [TableReport] = []
        for chunk in chunks {
            let request = TableRequest(table: tableName, action: verb, entries: chunk, expireSeconds: expireSeconds,
                                       limit: verb == .show ? limit : nil)
            guard let report = try controlOptions.send(ControlRequest(command: .table, table: request)).table else {
                throw CLIError("the daemon's answer has no table report (is it an older synwall?)", status: 2)
            }
            reports.append(report)
        }
        try print(verb, reports)
    }

    private func print(_ verb: TableRequest.Action, _ reports: [TableReport]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        func encoded<T: Encodable>(_ value: T) -> String { String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self) }
        guard let first = reports.first else { return }
        if let missing = first.unanswered, !missing.isEmpty {
            writeText("synwall: warning: queue\(missing.count == 1 ? "" : "s") "
                + missing.map(String.init).joined(separator: ", ") + " did not answer in time; their tables may differ", to: 2)
        }
        let table = "<\(first.table)>"
        switch verb {
        case .show:
            let entries = first.entries ?? []
            if json {
                for entry in entries { writeLine(encoded(entry)) }
                return
            }
            let written = first.writtenCount ?? 0, runtime = first.runtimeCount ?? 0
            let expire = first.expireSeconds.map { "expire \(Formatting.duration($0))" } ?? "no expire"
            writeLine("table \(table) (\(first.location), \(expire)): \(written) written range\(written == 1 ? "" : "s"), "
                + "\(runtime) entr\(runtime == 1 ? "y" : "ies") added while running")
            var rows = [["ENTRY", "ORIGIN", "ADDED", "EXPIRES"]]
            let now = Date().timeIntervalSince1970
            for entry in entries {
                let added = entry.addedAt.map { Formatting.duration(Int(max(0, now - $0))) + " ago" } ?? "-"
                let expires = entry.expiresInSeconds.map { "in " + Formatting.duration($0) } ?? "never"
                rows.append([TerminalText.sanitize(entry.entry), entry.origin, added, expires])
            }
            if entries.count > 0 { writeLine(TableText.columns(rows)) }
            let shown = entries.count, total = written + runtime
            if shown < total { writeLine("(\(shown) of \(total) shown; --limit N for more)") }
        case .add:
            let added = reports.flatMap { $0.added ?? [] }, renewed = reports.flatMap { $0.renewed ?? [] }
            let refused = reports.flatMap { $0.refused ?? [] }
            if json {
                var merged = first
                merged.added = added
                merged.renewed = renewed
                merged.refused = refused.isEmpty ? nil : refused
                writeLine(encoded(merged))
            } else {
                writeLine("\(added.count) added to \(table)" + (renewed.isEmpty ? "" : ", \(renewed.count) already there (renewed)"))
            }
            if !refused.isEmpty {
                throw CLIError("\(refused.count) not added, the table is full (set limit table-entries): "
                    + refused.prefix(5).joined(separator: ", ") + (refused.count > 5 ? ", …" : ""), status: 2)
            }
        case .delete:
            let removed = reports.flatMap { $0.removed ?? [] }, missing = reports.flatMap { $0.refused ?? [] }
            if json {
                var merged = first
                merged.removed = removed
                merged.refused = missing.isEmpty ? nil : missing
                writeLine(encoded(merged))
            } else {
                writeLine("\(removed.count) deleted from \(table)")
                if !missing.isEmpty {
                    writeText("synwall: \(missing.count) not among the entries added while running (written entries "
                        + "change only with the file): " + missing.prefix(5).joined(separator: ", ")
                        + (missing.count > 5 ? ", …" : ""), to: 2)
                }
            }
        case .flush:
            if json {
                writeLine(encoded(first))
            } else {
                let count = first.runtimeCount ?? 0
                writeLine("\(count) entr\(count == 1 ? "y" : "ies") flushed from \(table)"
                    + ((first.writtenCount ?? 0) > 0 ? "; its \(first.writtenCount!) written range(s) stay (edit the file to change them)" : ""))
            }
        case .test:
            let tests = reports.flatMap { $0.tests ?? [] }
            for test in tests {
                if json {
                    writeLine(encoded(test))
                } else if let entry = test.entry {
                    let expiry = entry.expiresInSeconds.map { ", expires in " + Formatting.duration($0) } ?? ""
                    writeLine("\(test.address): in \(table), entry \(TerminalText.sanitize(entry.entry)) (\(entry.origin)\(expiry))")
                } else {
                    writeLine("\(test.address): not in \(table)")
                }
            }
            let matched = tests.filter(\.matched).count
            if !json, tests.count > 1 { writeLine("\(matched)/\(tests.count) addresses match") }
            if matched < tests.count { throw ExitCode(1) }
        }
    }
}

/// Columns for `synwall table`'s text.
enum TableText {
    /// Left-aligned columns two spaces apart.
    static func columns(_ rows: [[String]]) -> String {
        var widths: [Int] = []
        for row in rows {
            for (index, cell) in row.enumerated() {
                if index >= widths.count { widths.append(0) }
                widths[index] = max(widths[index], cell.count)
            }
        }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index] + 2, withPad: " ", startingAt: 0)
            }.joined()
        }.joined(separator: "\n")
    }
}
