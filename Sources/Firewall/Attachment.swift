import Control

/// Where synwall hooks into the host's packet path.
public enum AttachMode: String, Sendable, CaseIterable {
    /// Chains of its own in the mangle table of iptables and ip6tables (works everywhere).
    case iptables
    /// A table of its own, `inet synwall` (needs the kernel's nft queue support).
    case nft
    /// Install nothing: only listen on the queue(s); the administrator queues packets.
    case none
}

/// A netfilter hook synwall's rules are attached to.
public enum Hook: String, Sendable, CaseIterable, Comparable {
    case input, forward, output

    public static func < (a: Hook, b: Hook) -> Bool { a.order < b.order }
    private var order: Int { Hook.allCases.firstIndex(of: self) ?? 0 }

    /// The iptables built-in chain.
    var iptablesChain: String { rawValue.uppercased() }
    /// The chain synwall owns for this hook.
    var synwallChain: String {
        switch self {
        case .input: return "SYNWALL-IN"
        case .forward: return "SYNWALL-FWD"
        case .output: return "SYNWALL-OUT"
        }
    }
}

/// What to install: which hooks send which packets to which queues, and how a missing
/// listener is treated.
public struct AttachmentPlan: Sendable, Equatable {
    public var hooks: [Hook]
    public var queues: ClosedRange<UInt16>
    /// With bypass, packets pass unfiltered while no daemon listens (fail-open).
    public var bypass: Bool
    /// The pid written into the rules' ownership mark.
    public var ownerPID: Int32
    /// The offload mark bit when the rule file says `set offload after N` (docs/offload.md):
    /// the rules then let offloaded connections' plain segments pass in the kernel.
    public var offload: OffloadMarks?

    public init(hooks: [Hook], queues: ClosedRange<UInt16>, bypass: Bool, ownerPID: Int32,
                offload: OffloadMarks? = nil) {
        self.hooks = Array(Set(hooks)).sorted()
        self.queues = queues
        self.bypass = bypass
        self.ownerPID = ownerPID
        self.offload = offload
    }
}

/// Why attaching failed. Each description is one sentence saying what to do.
public enum AttachError: Error, Equatable, CustomStringConvertible {
    case ownedByLiveInstance(what: String, pid: Int32)
    case toolFailed(tool: String, message: String)
    case nftQueueUnsupported(message: String)
    case nftProbeRejected(message: String)

    public var description: String {
        switch self {
        case let .ownedByLiveInstance(what, pid):
            return "\(what) already installed by a running synwall (pid \(pid)); stop it first, "
                + "or use another --queue with --attach none"
        case let .toolFailed(tool, message):
            return "\(tool) failed: \(message)"
        case let .nftQueueUnsupported(message):
            return "this kernel cannot queue packets from nft: it refuses nft's 'queue' statement "
                + "(CONFIG_NFT_QUEUE missing; nft says: \(message)); use --attach iptables"
        case let .nftProbeRejected(message):
            return "nft could not read synwall's probe rule (nft says: \(message)); this is a bug in synwall, "
                + "please report it with 'nft --version'; meanwhile use --attach iptables"
        }
    }
}

/// Installs and removes synwall's rules on the host.
public protocol Attachment: Sendable {
    /// Human-readable summary for the start-up line, e.g. "iptables (mangle SYNWALL-FWD;
    /// kernel reassembles fragments first)": after `install`, it says whether fragments can
    /// reach the queue unreassembled.
    var summary: String { get }
    /// Installs the rules, replacing stale ones left by a dead instance.
    func install() throws(AttachError)
    /// Removes exactly what `install` added. Safe to call more than once.
    func remove()
    /// What offloaded connections passed in the kernel since `install`, from the offload
    /// rule's counters; nil when it cannot tell (no offload, or no counters to read).
    func offloadedTraffic() -> KernelTraffic?
}

extension Attachment {
    public func offloadedTraffic() -> KernelTraffic? { nil }
}

/// `--attach none`: nothing to install.
public struct NoAttachment: Attachment {
    public init() {}
    public var summary: String {
        "none (listening only; fragments reach the queue unreassembled unless the kernel's "
            + "defragmentation is loaded in this network namespace; synwall then holds their verdicts "
            + "until each datagram is whole: see README, Fragments)"
    }
    public func install() throws(AttachError) {}
    public func remove() {}
}
