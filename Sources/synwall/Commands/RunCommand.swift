import ArgumentParser
import Control
import Engine
import Tracking
import Firewall
import Logging
#if canImport(Glibc)
import Glibc
#endif

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the firewall: attach to the host, judge every queued packet, detach on exit.",
        discussion: """
        synwall binds its NFQUEUE queue(s) first, then installs its rules: with --attach \
        iptables (the default) chains SYNWALL-IN/-FWD/-OUT in the mangle table of iptables and \
        ip6tables, so your own filter rules still apply after synwall accepts; with --attach nft \
        a table 'inet synwall' (the kernel must support nft's queue statement); with --attach \
        none it only listens and you queue packets yourself.

        It fails closed by default: while synwall is down or its queue is full, queued packets \
        are dropped. --fail-open lets them pass instead (queue bypass and kernel fail-open).

        The rule file (--rules, default /etc/synwall/synwall.rules, which must then exist) \
        decides which new connections may start; with --rules none there is no rule file and \
        --policy decides. Either way the tracker judges every packet of every connection.

        SIGINT or SIGTERM removes exactly what synwall installed and stops it; SIGHUP (or \
        synwall reload) re-reads the rule file and swaps it in only if it is valid, keeping \
        every live connection; SIGUSR1 reopens the event log (for log rotation).

        Needs CAP_NET_ADMIN (root, or the capability given by systemd), and CAP_NET_RAW at \
        start for block return's answers (its two raw sockets are opened then; without it \
        such rules drop without answering). Once ready it keeps CAP_NET_ADMIN only, in every \
        thread and for the tools it runs at stop, and sets no-new-privs; with --user it also \
        switches to that account.
        """
    )

    @Option(name: .long, help: ArgumentHelp("Rule file deciding which new connections may start "
        + "(see synwall.rules(5)); checked at start and on every reload. Default: /etc/synwall/synwall.rules; "
        + "'none' for no rule file (--policy decides).", valueName: "file"))
    var rules: String?

    @Option(name: .long, help: ArgumentHelp("NFQUEUE queue number.", valueName: "n"))
    var queue: UInt16?

    @Option(name: .long, help: ArgumentHelp("A range of queues, one worker thread each; the kernel keeps both "
        + "directions of a connection on one queue.", valueName: "a-b"))
    var queues: QueueRange?

    @Option(name: .long, help: ArgumentHelp("How to attach: iptables, nft or none.", valueName: "mode"))
    var attach: AttachMode = .iptables

    @Option(name: .long, parsing: .singleValue,
            help: ArgumentHelp("Hook to attach to: input, forward or output (repeat for several). Default: "
                + "input and output, so synwall sees both halves of the host's connections.", valueName: "hook"))
    var hook: [Hook] = []

    @Flag(name: .long, help: "Let packets pass unfiltered while synwall is down or overloaded.")
    var failOpen = false

    @Option(name: .long, help: ArgumentHelp("Append events (drops) as JSON Lines to this file.", valueName: "file"))
    var log: String?

    @Option(name: .long, help: ArgumentHelp("Whether new connections may start when there is no rule file (--rules none): "
        + "accept (the tracker still enforces handshake, flags and windows) or drop.", valueName: "verdict"))
    var policy: Verdict = .accept

    @Option(name: .long, help: ArgumentHelp("Most packets the kernel holds for each queue (1-65536).",
                                            valueName: "n"))
    var queueMaxlen: UInt32 = 8192

    @Option(name: .long, help: ArgumentHelp("Bytes of each packet copied to synwall (64-65531); the default "
        + "covers every header the tracker reads.", valueName: "bytes"))
    var copyRange: Int = 512

    @Option(name: .long, help: ArgumentHelp("Netlink socket receive buffer per queue, in bytes.",
                                            valueName: "bytes"))
    var receiveBuffer: Int = 32 << 20

    @Option(name: .long, help: ArgumentHelp("Capacity of the connection table, fixed at start (per queue).",
                                            valueName: "n"))
    var maxStates: Int?

    @Option(name: .long, help: ArgumentHelp("Write the daemon's pid here (for synwall reload and synwall rules); "
        + "'none' for no pid file.", valueName: "file"))
    var pidFile: String = PidFile.defaultPath

    @Option(name: .long, help: ArgumentHelp("The control socket for synwall stats, conns and reload (mode 0600); "
        + "'none' for no socket.", valueName: "path"))
    var control: String = ControlSocketAddress.defaultPath

    @Option(name: .long, help: ArgumentHelp("The state file: connections saved at stop (and every 10 s for a "
        + "crash) and restored at start, so a restart keeps them; 'none' for no state file.", valueName: "file"))
    var state: String = StateFileStore.defaultPath

    @Option(name: .long, help: ArgumentHelp("A group whose members may use the control socket (mode 0660).",
                                            valueName: "group"))
    var controlGroup: String?

    @Option(name: .long, help: ArgumentHelp("Say the daemon's own messages as leveled lines on stderr, from this "
        + "level up: trace, debug, info, notice, warning, error, critical (under systemd: info; otherwise plain "
        + "lines on stdout).", valueName: "level"))
    var logLevel: Logger.Level?

    @Option(name: .long, help: ArgumentHelp("Once ready, switch to this user (name or uid), keeping only "
        + "CAP_NET_ADMIN. The event log's directory should be writable by it (for rotation).", valueName: "name"))
    var user: String?

    @Option(name: .long, help: ArgumentHelp("Group for --user (default: the user's primary group); the "
        + "supplementary groups are dropped.", valueName: "name"))
    var group: String?

    @Flag(name: .long, inversion: .prefixedNo,
          help: "Verify checksums the kernel reports as unverified (drop bad ones as bad_checksum).")
    var verifyChecksums = true

    func validate() throws {
        if queue != nil, queues != nil {
            throw ValidationError("use either --queue or --queues, not both")
        }
        if !(1 ... 65536).contains(queueMaxlen) {
            throw ValidationError("--queue-maxlen must be between 1 and 65536 (the kernel holds at most 65536)")
        }
        if !(64 ... 65531).contains(copyRange) {
            throw ValidationError("--copy-range must be between 64 and 65531 bytes")
        }
        if let maxStates, !(16 ... 100_000_000).contains(maxStates) {
            throw ValidationError("--max-states must be between 16 and 100000000")
        }
        if receiveBuffer < 65536 {
            throw ValidationError("--receive-buffer must be at least 65536 bytes")
        }
        if group != nil, user == nil {
            throw ValidationError("--group needs --user (the account to switch to)")
        }
        if attach == .none, !hook.isEmpty {
            throw ValidationError("--hook has no effect with --attach none; remove it or choose iptables or nft")
        }
    }

    func run() throws {
        try Self.reportingErrors { try runDaemon() }
    }

    private func runDaemon() throws {
        guard ProcessCapabilities.effectiveHas(.netAdmin) else {
            throw CLIError("synwall run needs CAP_NET_ADMIN to bind NFQUEUE queues and attach rules: run it as root, "
                + "or give it the capability (systemd: AmbientCapabilities=CAP_NET_ADMIN, see contrib/synwall.service)")
        }
        let rulesPath: String? = rules == "none" ? nil : try ruleFile(rules, override: "--rules FILE (or --rules none)")
        if let user, geteuid() != 0 {
            throw CLIError("--user \(user) needs synwall to start as root (it switches after binding its queues); "
                + "started as another user already, leave --user out")
        }
        let privileges: PrivilegeDrop
        do {
            privileges = try PrivilegeDrop.resolve(user: user, group: group)
        } catch {
            throw CLIError(error.description)
        }
        let range: ClosedRange<UInt16> = queues?.range ?? {
            let q = queue ?? 0
            return q ... q
        }()
        var configuration = DaemonConfiguration(
            queues: range, attach: attach, hooks: hook.isEmpty ? [.input, .output] : hook, failOpen: failOpen, logPath: log,
            pipeline: PipelineConfiguration(defaultVerdict: policy, verifyChecksums: verifyChecksums,
                                            tracker: TrackerConfiguration(maxStates: maxStates ?? 1_000_000)),
            queueMaxLength: queueMaxlen, copyRange: copyRange, receiveBufferBytes: receiveBuffer,
            rulesPath: rulesPath, pidFile: pidFile == "none" ? nil : pidFile)
        configuration.maxStatesOverride = maxStates
        configuration.controlPath = control == "none" ? nil : control
        configuration.statePath = state == "none" ? nil : state
        if let controlGroup {
            guard let group = getgrnam(controlGroup) else {
                throw CLIError("--control-group: no group named '\(controlGroup)' (create it with groupadd, or leave the socket root-only)")
            }
            configuration.controlGroup = group.pointee.gr_gid
        }
        configuration.privileges = privileges
        let hooks = Set(configuration.hooks)
        if attach != .none, !hooks.contains(.forward), hooks.count == 1 {
            writeLine("synwall: warning: with only --hook \(hooks.first?.rawValue ?? "") synwall sees one direction of "
                + "the host's connections and drops the rest as out of order; add --hook "
                + "\(hooks.contains(.input) ? "output" : "input")", to: 2)
        }
        // Each lifecycle fact is said once: under systemd (or with --log-level) as a structured
        // message with its level on stderr; interactively as its plain line on stdout.
        let journald = DaemonLogHandler.underJournald
        let structured = journald || logLevel != nil
        let level = logLevel ?? .info
        let logger = Logger(label: "synwall") { _ in DaemonLogHandler(level: level, journald: journald) }
        let reporter = LifecycleReporter(structured ? .structured(logger) : .plain { writeLine($0) })
        let daemon = Daemon(configuration: configuration, reporter: reporter)
        do {
            _ = try daemon.run()
        } catch {
            if structured { logger.error("start failed", metadata: ["error": "\(error.description)"]) }
            throw CLIError(error.description)
        }
    }
}

/// `A-B` on the command line.
struct QueueRange: ExpressibleByArgument {
    var range: ClosedRange<UInt16>

    init?(argument: String) {
        let parts = argument.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let a = UInt16(parts[0]), let b = UInt16(parts[1]), a <= b else { return nil }
        range = a ... b
    }
}

extension AttachMode: ExpressibleByArgument {}
extension Hook: ExpressibleByArgument {}
extension Verdict: ExpressibleByArgument {}

extension Logger.Level: @retroactive ExpressibleByArgument {}
