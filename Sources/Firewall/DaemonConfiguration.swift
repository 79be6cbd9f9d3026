import Engine
#if canImport(Glibc)
import Glibc
#endif

/// Everything `synwall run` was asked to do.
public struct DaemonConfiguration: Sendable {
    public var queues: ClosedRange<UInt16>
    public var attach: AttachMode
    public var hooks: [Hook]
    /// Kernel fail-open and rule bypass together: nothing is blocked while synwall is down or
    /// overloaded. Off by default (fail closed).
    public var failOpen: Bool
    /// JSON Lines event log, or nil for none.
    public var logPath: String?
    public var pipeline: PipelineConfiguration
    public var queueMaxLength: UInt32
    public var copyRange: Int
    public var receiveBufferBytes: Int
    /// The rule file, compiled at start and again on SIGHUP; nil: `pipeline.defaultVerdict`.
    public var rulesPath: String?
    /// `--max-states` when given on the command line (it wins over `set limit states`).
    public var maxStatesOverride: Int?
    /// Where the daemon writes its pid (for `synwall reload` and `synwall rules`), or nil.
    public var pidFile: String?
    /// The control socket's path (`synwall stats`, `conns`, `reload`), or nil for none.
    public var controlPath: String? = "/run/synwall/control.sock"
    /// A group allowed to use the control socket (mode 0660); nil: root only (0600).
    public var controlGroup: gid_t?
    /// What the daemon keeps once it is ready: CAP_NET_ADMIN only, and `--user`'s account.
    public var privileges = PrivilegeDrop()
    /// The state file (connections kept across restarts: docs/state-file.md), or nil for none.
    public var statePath: String? = StateFileStore.defaultPath

    public init(queues: ClosedRange<UInt16> = 0 ... 0, attach: AttachMode = .iptables, hooks: [Hook] = [.input, .output],
                failOpen: Bool = false, logPath: String? = nil, pipeline: PipelineConfiguration = .init(),
                queueMaxLength: UInt32 = 8192, copyRange: Int = 512, receiveBufferBytes: Int = 32 << 20,
                rulesPath: String? = nil, pidFile: String? = nil)
    {
        self.rulesPath = rulesPath
        self.pidFile = pidFile
        self.queues = queues
        self.attach = attach
        self.hooks = hooks
        self.failOpen = failOpen
        self.logPath = logPath
        self.pipeline = pipeline
        // Held fragments stay in the kernel's queue: never more than a quarter of it, so
        // whole packets always find room (and fail-open never opens because of fragments).
        self.pipeline.fragmentsHeldLimit = min(pipeline.fragmentsHeldLimit, max(64, Int(queueMaxLength) / 4))
        self.queueMaxLength = queueMaxLength
        self.copyRange = copyRange
        self.receiveBufferBytes = receiveBufferBytes
    }
}
