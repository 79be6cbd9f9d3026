import NetfilterQueue
import Foundation

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

    /// The probe: a table with one queue rule, checked by `nft -c` (nothing is committed).
    /// Statements inside braces end with `;` (nft 1.0.6 refuses one that ends at `}`).
    static let probeScript = """
        table inet synwall_probe {
            chain probe { type filter hook input priority mangle; policy accept; meta l4proto tcp queue to 0; }
        }

        """

    /// Checks (without committing anything) that the kernel accepts a queue rule.
    public static func probe() throws(AttachError) {
        let result = HostCommand.run(["nft", "-c", "-f", "-"], input: probeScript)
        switch NftProbeOutcome(status: result.status, output: result.stderr.isEmpty ? result.stdout : result.stderr) {
        case .supported: return
        case .toolMissing(let message): throw .toolFailed(tool: "nft", message: message)
        case .queueUnsupported(let message): throw .nftQueueUnsupported(message: message)
        case .probeRejected(let message): throw .nftProbeRejected(message: message)
        case .failed(let message): throw .toolFailed(tool: "nft", message: message)
        }
    }

    public func install() throws(AttachError) {
        try Self.probe()
        let existing = HostCommand.run(["nft", "list", "table", "inet", Self.table])
        if existing.status == 0, let pid = InstanceOwner.pid(in: Substring(existing.stdout)),
           InstanceOwner.isLiveOtherInstance(pid)
        {
            throw .ownedByLiveInstance(what: "nft table inet synwall", pid: pid)
        }
        // A crashed instance's offloaded connections start over (docs/offload.md, "Restarts").
        plan.offload?.deleteMarkedConnections()
        let result = HostCommand.run(["nft", "-f", "-"], input: script())
        if result.status != 0 { throw .toolFailed(tool: "nft", message: result.firstErrorLine) }
        let defrag = HostCommand.run(["nft", "-f", "-"], input: Self.reassemblyScript)
        reassembly.record(defrag.status == 0)
    }

    public func remove() {
        let existing = HostCommand.run(["nft", "list", "table", "inet", Self.table])
        guard existing.status == 0, InstanceOwner.pid(in: Substring(existing.stdout)) == plan.ownerPID else { return }
        _ = HostCommand.run(["nft", "delete", "table", "inet", Self.table])
        plan.offload?.deleteMarkedConnections()
    }

    /// The offload rules of a chain, before its queue rule: those of
    /// `IptablesAttachment.offloadRules` in nft's words (docs/offload.md). Checked with `nft -c`
    /// here; this kernel has no queue statement to run them with.
    static func offloadRules(_ marks: OffloadMarks) -> String {
        let m = OffloadMarks.hex(marks.offload), e = OffloadMarks.hex(marks.end), i = OffloadMarks.hex(marks.invalid)
        let all = OffloadMarks.hex(marks.offload | marks.end | marks.invalid)
        let notM = OffloadMarks.hex(~marks.offload)
        return "        tcp flags & (fin | syn | rst | urg) == 0 ct mark & \(m) == \(m) ct state established accept\n"
            + "        meta mark & \(all) == \(m) ct mark set ct mark or \(m) accept\n"
            + "        meta mark & \(all) == \(e) ct mark set ct mark and \(notM) accept\n"
            + "        ct state invalid meta mark set meta mark or \(i)\n"
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
            case .output:
                text += "        oif \"lo\" accept\n"
                // synwall's own block return answers (ReplySender's socket mark) are not judged again.
                text += "        meta mark \(ReplySender.markText) accept\n"
            case .forward: break
            }
            text += "        icmpv6 type { nd-router-solicit, nd-router-advert, nd-neighbor-solicit, "
                + "nd-neighbor-advert, nd-redirect } accept\n"
            if let marks = plan.offload { text += Self.offloadRules(marks) }
            text += "        queue \(flags)to \(queue)\n    }\n"
        }
        return text + "}\n"
    }
}

/// What `nft -c` said about the probe, told apart by its error text: a kernel without nft's
/// `queue` statement (CONFIG_NFT_QUEUE) makes the kernel refuse the rule ("Could not process
/// rule: No such file or directory", or "Operation not supported"), whereas a script this nft
/// cannot parse ("syntax error") is synwall's fault, and anything else (no permission, no
/// nf_tables at all) is reported as nft said it.
enum NftProbeOutcome: Equatable {
    /// The kernel accepts a queue rule.
    case supported
    /// `nft` is not installed.
    case toolMissing(String)
    /// The kernel lacks the queue statement; the message is nft's.
    case queueUnsupported(String)
    /// nft could not read the probe itself (a bug in synwall); the message is nft's.
    case probeRejected(String)
    /// Anything else; the message is nft's.
    case failed(String)

    /// Classifies `nft -c`'s exit status and error output.
    init(status: Int32, output: String) {
        let lines = output.split(separator: "\n").map(String.init)
        // nft prints "FILE:LINE:COL: Error: …" then the line and a caret; keep the error lines.
        let errors = lines.filter { $0.contains("Error:") }
        let first = (errors.first ?? lines.first).map(Self.withoutPosition) ?? "exit status \(status)"
        if status == 0 {
            self = .supported
        } else if status == 127 {
            self = .toolMissing(first)
        } else if let syntax = errors.first(where: { $0.contains("syntax error") }) {
            self = .probeRejected(Self.withoutPosition(syntax))
        } else if let refused = errors.first(where: { $0.contains("Could not process rule")
            && ($0.contains("No such file or directory") || $0.contains("Operation not supported")) })
        {
            self = .queueUnsupported(Self.withoutPosition(refused))
        } else {
            self = .failed(first)
        }
    }

    /// `/dev/stdin:2:91-100: Error: Could not …` without the place: `Could not …`.
    private static func withoutPosition(_ line: String) -> String {
        guard let range = line.range(of: "Error: ") else { return line }
        return String(line[range.upperBound...])
    }
}
