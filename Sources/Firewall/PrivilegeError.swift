import SystemCall
#if canImport(Glibc)
import Glibc
#endif

/// Why synwall would not drop to the privileges it was asked to keep. Either way it does not
/// go on with more privilege than asked: the start stops (and detaches) instead.
public enum PrivilegeError: Error, CustomStringConvertible, Equatable {
    /// `--user NAME`: no such account.
    case unknownUser(String)
    /// `--group NAME`: no such group.
    case unknownGroup(String)
    /// The account database could not be read.
    case lookupFailed(name: String, errno: Int32)
    /// `--user` with iptables' legacy backend, which needs root to remove synwall's chains.
    case legacyIptables(user: String)
    /// A step of the drop failed in one thread.
    case stepFailed(step: Step, errno: Int32, thread: Int32, capability: Capability?)
    /// A thread did not take the drop in time.
    case threadDidNotRespond(thread: Int32)
    /// After the drop a thread still shows something else than asked.
    case notDropped(thread: Int32, field: String, found: String, expected: String)

    public var description: String {
        switch self {
        case .unknownUser(let name):
            return "--user \(name): no such user; create it (for example "
                + "`useradd --system --no-create-home --shell /usr/sbin/nologin \(name)`) or name another"
        case .unknownGroup(let name):
            return "--group \(name): no such group; create it (`groupadd --system \(name)`) or name another"
        case let .lookupFailed(name, code):
            return "cannot look up \(name) in the account database: \(SystemCall.describe(code)); "
                + "check /etc/nsswitch.conf and /etc/passwd"
        case .legacyIptables(let user):
            return "--user \(user) needs iptables' nf_tables backend: the legacy backend needs root to remove "
                + "synwall's chains at stop; switch (`update-alternatives --set iptables /usr/sbin/iptables-nft` "
                + "and the same for ip6tables), use --attach nft, or run without --user"
        case let .stepFailed(step, code, thread, capability):
            let what = capability.map { "\(step.what) (\($0))" } ?? step.what
            return "cannot drop privileges: \(what) failed in thread \(thread): \(SystemCall.describe(code)); "
                + step.hint + "; synwall refuses to run with more privilege than asked"
        case .threadDidNotRespond(let thread):
            return "cannot drop privileges: thread \(thread) did not take the drop within the time limit "
                + "(it blocks SIGSYS or is stuck in the kernel); synwall refuses to run with more privilege than asked"
        case let .notDropped(thread, field, found, expected):
            return "privilege drop incomplete: thread \(thread) shows \(field) \(found), expected \(expected); "
                + "synwall refuses to run with more privilege than asked"
        }
    }

    /// The steps of the drop, in order.
    public enum Step: Sendable, Equatable {
        case bounding, keepCapabilities, groups, gid, uid, capset, ambient, noNewPrivileges, signalling, threadCount

        /// The operation, as the message names it.
        public var what: String {
            switch self {
            case .bounding: return "dropping from the bounding set"
            case .keepCapabilities: return "prctl(PR_SET_KEEPCAPS)"
            case .groups: return "setgroups"
            case .gid: return "setresgid"
            case .uid: return "setresuid"
            case .capset: return "capset"
            case .ambient: return "raising the ambient set"
            case .noNewPrivileges: return "prctl(PR_SET_NO_NEW_PRIVS)"
            case .signalling: return "signalling the other threads"
            case .threadCount: return "counting threads (more than 1024)"
            }
        }

        /// What to do about it.
        public var hint: String {
            switch self {
            case .bounding:
                return "start synwall with CAP_SETPCAP, or with a bounding set of CAP_NET_ADMIN alone "
                    + "(CapabilityBoundingSet=CAP_NET_ADMIN, as contrib/synwall.service does)"
            case .keepCapabilities, .groups, .gid, .uid:
                return "--user needs CAP_SETUID and CAP_SETGID at start (root, or add them to CapabilityBoundingSet=)"
            case .capset, .ambient, .noNewPrivileges:
                return "the kernel refused (a security module or a locked securebit may forbid it)"
            case .signalling, .threadCount:
                return "the process could not reach all its threads"
            }
        }
    }
}
