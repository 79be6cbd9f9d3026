import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The daemon's own messages (start, attach, reload, errors), on standard error, one line each:
/// `<N>synwall: message key=value …` under systemd (journald reads the `<N>` syslog priority
/// prefix), `synwall: level: message key=value …` elsewhere. Separate from the event log.
struct DaemonLogHandler: LogHandler {
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    let journald: Bool

    init(level: Logger.Level, journald: Bool) {
        logLevel = level
        self.journald = journald
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let level = event.level, message = event.message
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let pairs = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.quoted("\($0.value)"))" }
        let tail = pairs.isEmpty ? "" : " " + pairs.joined(separator: " ")
        let text = journald
            ? "<\(Self.priority(level))>synwall: \(message)\(tail)"
            : "synwall: \(level): \(message)\(tail)"
        writeLine(text, to: 2)
    }

    /// Values with spaces or quotes are quoted so a line splits back into its pairs.
    static func quoted(_ value: String) -> String {
        guard value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }) else { return value }
        let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
        return "\"\(escaped)\""
    }

    /// syslog priorities (sd-daemon(3)).
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }

    /// True when standard error goes to journald (systemd sets JOURNAL_STREAM).
    static var underJournald: Bool { getenv("JOURNAL_STREAM") != nil }
}
