/// synwall's own nftables table, `inet synwall`, one base chain per hook at priority `mangle`
/// (−150), like the iptables variant, so the administrator's filter chains still apply after
/// synwall accepts. Needs the kernel's nft `queue` support (CONFIG_NFT_QUEUE), probed first.
/// A chain `defrag` that no base chain jumps to makes the kernel reassemble fragments first
/// (`KernelReassembly`), added in its own transaction; it goes with the table.
public struct NftAttachment: Attachment {
    public let plan: AttachmentPlan
    static let table = "synwall"
    let reassembly = ReassemblyOutcome()

    public init(plan: AttachmentPlan) { self.plan = plan }

    public var summary: String {
        "nft (table inet synwall: " + plan.hooks.map(\.rawValue).joined(separator: ", ") + "; "
            + KernelReassembly.summary(reassembly.reassembled) + ")"
    }

    /// The nft input adding the unreferenced reassembly chain to synwall's table.
    static let reassemblyScript = """
        table inet \(table) {
            chain defrag {
                comment "\(KernelReassembly.comment)"
                meta l4proto tcp tproxy ip to :1
                meta l4proto tcp tproxy ip6 to :1
            }
        }

        """

    /// Checks (without committing anything) that the kernel accepts a queue rule.
    public static func probe() throws(AttachError) {
        let script = """
        table inet synwall_probe {
            chain probe { type filter hook input priority mangle; policy accept; meta l4proto tcp queue to 0; }
        }

        """
        let result = HostCommand.run(["nft", "-c", "-f", "-"], input: script)
        if result.status == 127 { throw .toolFailed(tool: "nft", message: result.firstErrorLine) }
        if result.status != 0 { throw .nftQueueUnsupported(message: result.firstErrorLine) }
    }

    public func install() throws(AttachError) {
        try Self.probe()
        let existing = HostCommand.run(["nft", "list", "table", "inet", Self.table])
        if existing.status == 0, let pid = InstanceOwner.pid(in: Substring(existing.stdout)),
           InstanceOwner.isLiveOtherInstance(pid)
        {
            throw .ownedByLiveInstance(what: "nft table inet synwall", pid: pid)
        }
        let result = HostCommand.run(["nft", "-f", "-"], input: script())
        if result.status != 0 { throw .toolFailed(tool: "nft", message: result.firstErrorLine) }
        let defrag = HostCommand.run(["nft", "-f", "-"], input: Self.reassemblyScript)
        reassembly.record(defrag.status == 0)
    }

    public func remove() {
        let existing = HostCommand.run(["nft", "list", "table", "inet", Self.table])
        guard existing.status == 0, InstanceOwner.pid(in: Substring(existing.stdout)) == plan.ownerPID else { return }
        _ = HostCommand.run(["nft", "delete", "table", "inet", Self.table])
    }

    /// The nft script: creating then deleting the table first makes a re-run replace it atomically.
    func script() -> String {
        let queue = plan.queues.lowerBound == plan.queues.upperBound
            ? "\(plan.queues.lowerBound)" : "\(plan.queues.lowerBound)-\(plan.queues.upperBound)"
        let flags = plan.bypass ? "flags bypass " : ""
        var text = "table inet \(Self.table) {}\ndelete table inet \(Self.table)\n"
        text += "table inet \(Self.table) {\n    comment \"\(InstanceOwner.mark(pid: plan.ownerPID))\"\n"
        for hook in plan.hooks {
            text += "    chain \(hook.rawValue) {\n"
            text += "        type filter hook \(hook.rawValue) priority mangle; policy accept;\n"
            switch hook {
            case .input: text += "        iif \"lo\" accept\n"
            case .output: text += "        oif \"lo\" accept\n"
            case .forward: break
            }
            text += "        icmpv6 type { nd-router-solicit, nd-router-advert, nd-neighbor-solicit, "
                + "nd-neighbor-advert, nd-redirect } accept\n"
            text += "        queue \(flags)to \(queue)\n    }\n"
        }
        return text + "}\n"
    }
}
