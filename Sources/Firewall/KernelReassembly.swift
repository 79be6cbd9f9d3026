import Atomics

/// Making the kernel reassemble IP fragments before synwall's queue (docs/fragments.md).
///
/// The kernel reassembles a packet addressed to the host itself before the INPUT hook (IPv4)
/// and never fragments its own before OUTPUT, but a forwarded packet crosses FORWARD in pieces
/// unless the netfilter defragmentation hooks (PREROUTING and OUTPUT, priority −400) are
/// registered in the network namespace. Conntrack registers them, but also tracks every
/// packet; a rule using the `socket` match with `--transparent` (iptables) or the `tproxy`
/// statement (nft) registers them alone, for as long as the rule exists. synwall adds one such
/// rule to a chain nothing jumps to: it is never evaluated, costs no time per packet, and goes
/// with the chain at detach. (A raw-table `CT --notrack` rule does not do it with iptables-nft:
/// it becomes nft's native `notrack`, which loads nothing.)
enum KernelReassembly {
    /// The unreferenced chain in mangle that holds the iptables rule.
    static let iptablesChain = "SYNWALL-DEFRAG"
    /// The comment on that rule, and on the nft chain.
    static let comment = "never jumped to: makes the kernel reassemble fragments before the queue"

    /// The start line's words for the outcome.
    static func summary(_ reassembled: Bool) -> String {
        reassembled ? "kernel reassembles fragments first"
            : "fragments may reach the queue unreassembled: the kernel refused the reassembly rule"
    }
}

/// Whether the reassembly rule went in, shared by an attachment's copies (set by `install`).
final class ReassemblyOutcome: Sendable {
    private let installed = ManagedAtomic<Bool>(false)

    var reassembled: Bool { installed.load(ordering: .acquiring) }

    func record(_ ok: Bool) { installed.store(ok, ordering: .releasing) }
}
