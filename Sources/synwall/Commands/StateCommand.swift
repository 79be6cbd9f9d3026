import ArgumentParser
import EventLog
import Firewall
import Foundation
import Tracking

struct StateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "Look into the state file that keeps connections across restarts.",
        subcommands: [Inspect.self]
    )

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "inspect",
            abstract: "Print a state file's header and what it holds (checks it as a start would).",
            discussion: """
            Reads FILE the way `synwall run` does at start — no symbolic link, lengths checked \
            against the file's size before anything is read, both checksums — and prints what wrote \
            it and when, the queues and rules it was written for, and how many connections (by \
            state), proven sources and table entries it holds. Exit 1 when it could not be loaded, \
            with the reason. The age limit of `set state max-age` is not applied here.
            """
        )

        @Argument(help: ArgumentHelp("The state file.", valueName: "file"))
        var file: String = StateFileStore.defaultPath

        @Flag(name: .long, help: "One JSON object instead of text.")
        var json = false

        func run() throws {
            try Self.reportingErrors {
                let store = StateFileStore(path: file)
                let now = UInt64(Date().timeIntervalSince1970 * 1e9)
                let loaded: StateFileStore.Loaded
                do {
                    guard let found = try store.read(limitBytes: .max, maxAgeSeconds: 0, now: now) else {
                        throw CLIError("\(file): no such file")
                    }
                    loaded = found
                } catch let error as StateFileError {
                    throw CLIError("\(file): \(error)")
                }
                let header = loaded.snapshot.header
                var byState: [String: Int] = [:]
                loaded.snapshot.connections.withUnsafeBytes { raw in
                    guard let base = raw.baseAddress else { return }
                    for offset in stride(from: 0, to: raw.count, by: SavedConnection.size) {
                        let name = SavedConnection.state(of: base + offset).map { Self.stateName($0) } ?? "invalid"
                        byState[name, default: 0] += 1
                    }
                }
                let sameBoot = header.bootID == StateFileStore.bootID()
                let age = loaded.ageNanoseconds / 1_000_000_000
                let written = Date(timeIntervalSince1970: Double(header.writtenNanoseconds) / 1e9)
                let boot = header.bootID.map { String(format: "%02x", $0) }.joined()
                if json {
                    let states = byState.keys.sorted().map { "\"\($0)\":\(byState[$0]!)" }.joined(separator: ",")
                    writeLine("{\"file\":\(Self.quoted(file)),\"format_version\":\(header.formatVersion),"
                        + "\"writer\":\(Self.quoted(header.writerVersion)),\"kind\":\"\(header.kind == .stop ? "stop" : "checkpoint")\","
                        + "\"written\":\(Self.quoted(ISO8601DateFormatter().string(from: written))),\"age_seconds\":\(age),"
                        + "\"boot_id\":\"\(boot)\",\"same_boot\":\(sameBoot),"
                        + "\"queues\":\"\(header.queues.lowerBound)-\(header.queues.upperBound)\","
                        + "\"rules_digest\":\"\(String(header.rulesDigest, radix: 16))\","
                        + "\"connections\":\(header.connectionCount),\"by_state\":{\(states)},"
                        + "\"proven_sources\":\(header.provenSourceCount),\"table_entries\":\(header.tableEntryCount),"
                        + "\"bytes\":\(loaded.fileBytes)}")
                    return
                }
                var lines = [
                    "file           \(file) (\(loaded.fileBytes) bytes, checksums good)",
                    "format         version \(header.formatVersion), written by \(header.writerVersion)",
                    "written        \(ISO8601DateFormatter().string(from: written)) (\(age) s ago), at a \(header.kind.name)",
                    "boot           \(boot) (\(sameBoot ? "this boot" : "another boot"))",
                    "queues         \(header.queues.lowerBound)-\(header.queues.upperBound)",
                    "rules digest   \(header.rulesDigest == 0 ? "none (no rule file)" : String(header.rulesDigest, radix: 16))",
                    "connections    \(header.connectionCount)",
                ]
                for name in byState.keys.sorted() { lines.append("  \(name.padding(toLength: 13, withPad: " ", startingAt: 0))\(byState[name]!)") }
                lines.append("proven sources \(header.provenSourceCount)")
                lines.append("table entries  \(header.tableEntryCount)")
                for entry in loaded.snapshot.tableEntries.prefix(20) {
                    let prefix = entry.prefixLength.map { "/\($0)" } ?? ""
                    let lifetime = entry.lifetimeNanoseconds.map { ", for \($0 / 1_000_000_000) s" } ?? ""
                    lines.append("  <\(entry.table)> \(entry.address)\(prefix) (\(entry.manual ? "added" : "overload") "
                        + "\((entry.addedAgoNanoseconds / 1_000_000_000) + age) s ago\(lifetime))")
                }
                writeLine(lines.joined(separator: "\n"))
            }
        }

        static func stateName(_ state: ConnectionState) -> String {
            switch state {
            case .udpUnreplied, .udpReplied, .udpStream: "UDP " + state.name
            case .icmpUnreplied, .icmpReplied: "ICMP " + state.name
            case .otherUnreplied, .otherReplied: "other " + state.name
            default: state.name
            }
        }

        /// A JSON string literal, escaped as the event log escapes.
        static func quoted(_ text: String) -> String {
            var bytes: [UInt8] = []
            JSONLinesEncoder.appendString(text, into: &bytes)
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}
