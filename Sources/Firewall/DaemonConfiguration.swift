import Engine

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

    public init(queues: ClosedRange<UInt16> = 0 ... 0, attach: AttachMode = .iptables, hooks: [Hook] = [.input, .output],
                failOpen: Bool = false, logPath: String? = nil, pipeline: PipelineConfiguration = .init(),
                queueMaxLength: UInt32 = 8192, copyRange: Int = 512, receiveBufferBytes: Int = 32 << 20)
    {
        self.queues = queues
        self.attach = attach
        self.hooks = hooks
        self.failOpen = failOpen
        self.logPath = logPath
        self.pipeline = pipeline
        self.queueMaxLength = queueMaxLength
        self.copyRange = copyRange
        self.receiveBufferBytes = receiveBufferBytes
    }
}
