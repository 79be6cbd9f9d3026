import CPrivilege
import Foundation

/// What `synwall run` keeps once it is ready: only the capabilities it still needs
/// (CAP_NET_ADMIN, for verdicts and for removing its rules at stop) and, with `--user`, an
/// unprivileged account.
///
/// Call ``apply(attach:logPath:pidFile:rulesPath:controlPath:)`` once, after the queues are bound, the
/// event log is open, the attachment is installed and the pid file (and anything else that
/// needs root) is written. It changes every thread of the process (credentials are per thread
/// on Linux), then reads them back from `/proc/self/task` and throws unless each one shows
/// exactly what was asked; the caller must then detach and stop instead of running on.
public struct PrivilegeDrop: Sendable, Equatable {
    /// An account to switch to.
    public struct Account: Sendable, Equatable {
        public var user: String
        public var uid: UInt32
        public var group: String
        public var gid: UInt32

        /// Creates an account from names and ids already resolved.
        public init(user: String, uid: UInt32, group: String, gid: UInt32) {
            self.user = user
            self.uid = uid
            self.group = group
            self.gid = gid
        }
    }

    /// The account to switch to; nil keeps the current ids (root), with the capabilities dropped.
    public var account: Account?
    /// The capabilities every thread keeps (more only where the host's tools need it: see
    /// ``apply(attach:logPath:pidFile:rulesPath:controlPath:)``).
    public var keep: Set<Capability>
    /// How long each thread may take to apply the drop.
    public var threadTimeoutMilliseconds: Int32 = 3000

    /// Keeps `keep`, and switches to `account` if one is given.
    public init(account: Account? = nil, keep: Set<Capability> = [.netAdmin]) {
        self.account = account
        self.keep = keep
    }

    /// Looks up `--user` and `--group` now, before anything is bound, so a typo stops the start
    /// at once. `group` defaults to the user's primary group; a number is taken as an id when
    /// no account has that name.
    public static func resolve(user: String?, group: String?) throws(PrivilegeError) -> PrivilegeDrop {
        guard let user else { return PrivilegeDrop() }
        let (uid, primary) = try AccountDatabase.user(named: user)
        var gid = primary
        var groupName: String
        if let group {
            gid = try AccountDatabase.gid(ofGroup: group)
            groupName = group
        } else {
            groupName = AccountDatabase.groupName(of: primary) ?? String(primary)
        }
        if groupName.isEmpty { groupName = String(gid) }
        return PrivilegeDrop(account: Account(user: user, uid: uid, group: groupName, gid: gid))
    }

    /// Drops to ``keep`` (and ``account``) in every thread and checks the result.
    ///
    /// Before the drop, with an account: the event log file and the pid file, when root owns
    /// them, are given to the account (so it can reopen the log after rotation and empty the
    /// pid file at exit). What the account will not be able to do later is returned as
    /// warnings: rotate or reopen the log (its directory is not writable), remove the pid
    /// file or the control socket, re-read the rule file on reload.
    ///
    /// With `attach` `.iptables` and iptables' legacy backend, CAP_NET_RAW is kept too (legacy
    /// iptables needs a raw socket to remove the chains at stop); with an account it throws
    /// ``PrivilegeError/legacyIptables(user:)`` instead, since legacy iptables needs root.
    ///
    /// - Throws: ``PrivilegeError``: the process may be partly dropped; detach and stop.
    public func apply(attach: AttachMode, logPath: String?, pidFile: String?,
                      rulesPath: String?, controlPath: String? = nil) throws(PrivilegeError) -> PrivilegeReport {
        var keep = self.keep
        let switching = account.map { $0.uid != 0 } ?? false
        if attach == .iptables, IptablesBackend.current() == .legacy {
            if switching, let account { throw .legacyIptables(user: account.user) }
            keep.insert(.netRaw)
        }

        var warnings: [String] = []
        let identity = FileAccess.Identity(uid: account?.uid ?? geteuid(),
                                           groups: account.map { [$0.gid] } ?? FileAccess.currentGroups())
        if switching, let account {
            for path in [logPath, pidFile].compactMap({ $0 }) {
                if let problem = FileAccess.handOver(path, to: account) { warnings.append(problem) }
            }
        }
        warnings += Self.accessWarnings(identity: identity, name: account?.user ?? "root without CAP_DAC_OVERRIDE",
                                        logPath: logPath, pidFile: pidFile, rulesPath: rulesPath,
                                        controlPath: controlPath)

        let mask = Capability.mask(keep)
        var plan = synwall_privilege_plan()
        plan.keep = mask
        plan.last_cap = Self.lastCapability()
        plan.change_ids = account == nil ? 0 : 1
        plan.uid = account?.uid ?? 0
        plan.gid = account?.gid ?? 0
        var failure = synwall_privilege_failure()
        if synwall_privilege_apply_all(&plan, threadTimeoutMilliseconds, &failure) != 0 {
            throw Self.error(failure)
        }
        let threads = try ThreadCredentials.verifyAllThreads(mask: mask, account: account)

        let who = account.map { "user \($0.user) (uid \($0.uid)), group \($0.group) (gid \($0.gid))" }
            ?? "user root (uid \(getuid()))"
        let caps = keep.sorted().map(\.description).joined(separator: ",")
        return PrivilegeReport(summary: "\(who), capabilities \(caps) only, no-new-privs, \(threads) threads",
                               warnings: warnings)
    }

    /// Warnings about what the dropped process will not be able to do with these files.
    static func accessWarnings(identity: FileAccess.Identity, name: String, logPath: String?, pidFile: String?,
                               rulesPath: String?, controlPath: String? = nil) -> [String] {
        var warnings: [String] = []
        /// The directory of `path` when `identity` cannot create or remove files in it.
        func lockedDirectory(of path: String?) -> String? {
            guard let path else { return nil }
            let directory = FileAccess.directory(of: path)
            return FileAccess.allows(directory, identity, [.write, .execute]) == false ? directory : nil
        }
        if let directory = lockedDirectory(of: logPath) {
            warnings.append("\(name) cannot write the event log's directory \(directory): reopening the log after "
                + "logrotate (SIGUSR1) and `set log rotate` will fail; give the directory to \(name) "
                + "(the unit's LogsDirectory=synwall does)")
        }
        if let pidFile, let directory = lockedDirectory(of: pidFile) {
            warnings.append("\(name) cannot remove the pid file \(pidFile) at exit (\(directory) is not writable): "
                + "it is emptied instead; put it in a directory \(name) owns (the unit's RuntimeDirectory=synwall, "
                + "--pid-file /run/synwall/synwall.pid)")
        }
        if let controlPath, let directory = lockedDirectory(of: controlPath) {
            warnings.append("\(name) cannot remove the control socket \(controlPath) at exit (\(directory) is not "
                + "writable): the next start replaces it; let the daemon create the directory, or give it to "
                + "\(name) (the unit's RuntimeDirectory=synwall does)")
        }
        if let rulesPath, FileAccess.allows(rulesPath, identity, [.read]) == false {
            warnings.append("\(name) cannot read the rule file \(rulesPath): reloads (SIGHUP) will fail and keep the "
                + "running rules; make it readable (mode 0644, or group \(name))")
        }
        return warnings
    }

    /// /proc/sys/kernel/cap_last_cap, or 63 (the drop stops at the first number the kernel rejects).
    static func lastCapability() -> Int32 {
        let text = (try? String(contentsOfFile: "/proc/sys/kernel/cap_last_cap", encoding: .utf8)) ?? ""
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 63
    }

    static func error(_ failure: synwall_privilege_failure) -> PrivilegeError {
        let step: PrivilegeError.Step
        switch UInt32(failure.step) {
        case SYNWALL_PRIVILEGE_BOUNDING.rawValue: step = .bounding
        case SYNWALL_PRIVILEGE_KEEPCAPS.rawValue: step = .keepCapabilities
        case SYNWALL_PRIVILEGE_GROUPS.rawValue: step = .groups
        case SYNWALL_PRIVILEGE_GID.rawValue: step = .gid
        case SYNWALL_PRIVILEGE_UID.rawValue: step = .uid
        case SYNWALL_PRIVILEGE_CAPSET.rawValue: step = .capset
        case SYNWALL_PRIVILEGE_AMBIENT.rawValue: step = .ambient
        case SYNWALL_PRIVILEGE_NO_NEW_PRIVS.rawValue: step = .noNewPrivileges
        case SYNWALL_PRIVILEGE_TOO_MANY_THREADS.rawValue: step = .threadCount
        case SYNWALL_PRIVILEGE_TIMEOUT.rawValue: return .threadDidNotRespond(thread: failure.tid)
        default: step = .signalling
        }
        return .stepFailed(step: step, errno: failure.error, thread: failure.tid,
                           capability: failure.capability >= 0 ? Capability(number: Int(failure.capability)) : nil)
    }
}

/// What ``PrivilegeDrop/apply(attach:logPath:pidFile:rulesPath:controlPath:)`` did.
public struct PrivilegeReport: Sendable {
    /// `user synwall (uid 998), group synwall (gid 998), capabilities cap_net_admin only, …`.
    public var summary: String
    /// What the dropped process will not be able to do (one sentence each, with the fix).
    public var warnings: [String]
}
