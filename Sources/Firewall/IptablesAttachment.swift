import Control
import NetfilterQueue

/// synwall's chains in the `mangle` table of iptables and ip6tables.
///
/// A queue verdict ends the traversal of the whole table it was issued from, so the chains live
/// in `mangle` (priority −150): after synwall accepts a packet the administrator's `filter`
/// rules still apply. Each built-in chain (INPUT, FORWARD, OUTPUT) gets one jump rule carrying
/// the comment `synwall pid=N`; everything is added and removed with `iptables-restore
/// --noflush`, one transaction per family. A chain nothing jumps to, `SYNWALL-DEFRAG`, makes
/// the kernel reassemble fragments first (`KernelReassembly`), in its own transaction: when
/// the kernel lacks the socket match, synwall still attaches and says so.
public struct IptablesAttachment: Attachment {
    public let plan: AttachmentPlan
    let reassembly = ReassemblyOutcome()

    public init(plan: AttachmentPlan) { self.plan = plan }

    public var summary: String {
        "iptables (mangle " + plan.hooks.map(\.synwallChain).joined(separator: ", ") + "; "
            + KernelReassembly.summary(reassembly.reassembled) + ")"
    }

    enum Family: CaseIterable {
        case ipv4, ipv6
        var restore: String { self == .ipv4 ? "iptables-restore" : "ip6tables-restore" }
        var save: String { self == .ipv4 ? "iptables-save" : "ip6tables-save" }
    }

    public func install() throws(AttachError) {
        // Refuse when a live instance owns the chains; clear stale ones.
        for family in Family.allCases {
            let current = HostCommand.run([family.save, "-t", "mangle"])
            if current.status != 0 {
                throw .toolFailed(tool: family.save, message: current.firstErrorLine)
            }
            for line in current.stdout.split(separator: "\n") where line.contains("-j SYNWALL-") {
                if let pid = InstanceOwner.pid(in: line), InstanceOwner.isLiveOtherInstance(pid) {
                    throw .ownedByLiveInstance(what: "synwall's \(family == .ipv4 ? "iptables" : "ip6tables") chains",
                                               pid: pid)
                }
            }
            removeAll(family: family, saved: current.stdout)
        }
        // A crashed instance's offloaded connections start over (docs/offload.md, "Restarts").
        plan.offload?.deleteMarkedConnections()
        for family in Family.allCases {
            let result = HostCommand.run([family.restore, "--noflush"], input: installScript(family: family))
            if result.status != 0 {
                remove()
                throw .toolFailed(tool: family.restore, message: result.firstErrorLine)
            }
        }
        var reassembled = true
        for family in Family.allCases {
            let result = HostCommand.run([family.restore, "--noflush"], input: Self.reassemblyScript)
            if result.status != 0 { reassembled = false }
        }
        reassembly.record(reassembled)
    }

    /// The iptables-restore input adding the unreferenced reassembly chain (either family).
    static let reassemblyScript = """
        *mangle
        :\(KernelReassembly.iptablesChain) - [0:0]
        -A \(KernelReassembly.iptablesChain) -m socket --transparent -m comment --comment "\(KernelReassembly.comment)"
        COMMIT

        """

    public func remove() {
        for family in Family.allCases {
            let current = HostCommand.run([family.save, "-t", "mangle"])
            guard current.status == 0 else { continue }
            removeAll(family: family, saved: current.stdout, onlyOwner: plan.ownerPID)
        }
        // The connections offload marked in the kernel go too (docs/offload.md): without the
        // rules their mark means nothing, and a later start must not inherit it.
        plan.offload?.deleteMarkedConnections()
    }

    /// The iptables-restore input that creates the chains and jumps for `family`.
    func installScript(family: Family) -> String {
        var lines = ["*mangle"]
        for hook in plan.hooks { lines.append(":\(hook.synwallChain) - [0:0]") }
        let target: String
        if plan.queues.lowerBound == plan.queues.upperBound {
            target = "NFQUEUE --queue-num \(plan.queues.lowerBound)"
        } else {
            target = "NFQUEUE --queue-balance \(plan.queues.lowerBound):\(plan.queues.upperBound)"
        }
        let bypass = plan.bypass ? " --queue-bypass" : ""
        for hook in plan.hooks {
            let chain = hook.synwallChain
            switch hook {
            case .input: lines.append("-A \(chain) -i lo -j RETURN")
            case .output:
                lines.append("-A \(chain) -o lo -j RETURN")
                // synwall's own block return answers (ReplySender's socket mark) are not judged again.
                lines.append("-A \(chain) -m mark --mark \(ReplySender.markText) -j RETURN")
            case .forward: break
            }
            if family == .ipv6 {
                // Neighbour discovery keeps the link alive; it never starts a connection.
                for type in ["router-solicitation", "router-advertisement", "neighbour-solicitation",
                             "neighbour-advertisement", "redirect"]
                {
                    lines.append("-A \(chain) -p ipv6-icmp -m icmp6 --icmpv6-type \(type) -j RETURN")
                }
            }
            if let marks = plan.offload { lines += Self.offloadRules(chain: chain, marks: marks) }
            lines.append("-A \(chain) -j \(target)\(bypass)")
            lines.append("-I \(hook.iptablesChain) 1 -m comment --comment \"\(InstanceOwner.mark(pid: plan.ownerPID))\" -j \(chain)")
        }
        lines.append("COMMIT")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The offload rule's counters in both families' chains (docs/offload.md, "Counting").
    public func offloadedTraffic() -> KernelTraffic? {
        guard let marks = plan.offload else { return nil }
        var total = KernelTraffic(packets: 0, bytes: 0)
        for family in Family.allCases {
            let saved = HostCommand.run([family.save, "-c", "-t", "mangle"])
            guard saved.status == 0 else { return nil }
            let counted = Self.offloadedTraffic(saved: saved.stdout, marks: marks)
            total.packets += counted.packets
            total.bytes += counted.bytes
        }
        return total
    }

    /// Sums the `[packets:bytes]` of the offload pass rules (connection mark, RETURN) in
    /// synwall's chains of `iptables-save -c` output.
    static func offloadedTraffic(saved: String, marks: OffloadMarks) -> KernelTraffic {
        let m = OffloadMarks.hex(marks.offload)
        var total = KernelTraffic(packets: 0, bytes: 0)
        for line in saved.split(separator: "\n") where line.hasPrefix("[") {
            guard let close = line.firstIndex(of: "]") else { continue }
            let rule = line[line.index(after: close)...].drop { $0 == " " }
            guard rule.hasPrefix("-A SYNWALL-"), rule.contains("-m connmark --mark \(m)/\(m)"),
                  rule.hasSuffix("-j RETURN") else { continue }
            let counters = line[line.index(after: line.startIndex)..<close].split(separator: ":")
            guard counters.count == 2, let packets = Int(counters[0]), let bytes = Int(counters[1]) else { continue }
            total.packets += packets
            total.bytes += bytes
        }
        return total
    }

    /// The offload rules of `chain`, before its queue rule (docs/offload.md): a packet synwall
    /// sent back with the offload or end bit marks or unmarks its connection and passes; an
    /// offloaded connection's segments without SYN, FIN, RST or URG pass; a packet the kernel's
    /// tracking finds INVALID is marked for synwall, which drops it if offloaded.
    static func offloadRules(chain: String, marks: OffloadMarks) -> [String] {
        let m = OffloadMarks.hex(marks.offload), e = OffloadMarks.hex(marks.end), i = OffloadMarks.hex(marks.invalid)
        // The three bits are matched together: a packet marked by something else that happens
        // to carry one of them (with others) never marks a connection.
        let all = OffloadMarks.hex(marks.offload | marks.end | marks.invalid)
        return [
            // First, for the packets offload is for: an offloaded connection's plain segments.
            // (A packet sent back to mark its connection does not match yet; one sent back to
            // unmark it carries FIN or RST.)
            "-A \(chain) -p tcp -m connmark --mark \(m)/\(m) -m conntrack --ctstate ESTABLISHED "
                + "-m tcp --tcp-flags SYN,FIN,RST,URG NONE -j RETURN",
            "-A \(chain) -m mark --mark \(m)/\(all) -j CONNMARK --set-xmark \(m)/\(m)",
            "-A \(chain) -m mark --mark \(m)/\(all) -j RETURN",
            "-A \(chain) -m mark --mark \(e)/\(all) -j CONNMARK --set-xmark 0x0/\(m)",
            "-A \(chain) -m mark --mark \(e)/\(all) -j RETURN",
            "-A \(chain) -m conntrack --ctstate INVALID -j MARK --set-xmark \(i)/\(i)",
        ]
    }

    /// Deletes every jump to a SYNWALL chain found in `saved` (only those marked with
    /// `onlyOwner` when given), then flushes and deletes the SYNWALL chains.
    private func removeAll(family: Family, saved: String, onlyOwner: Int32? = nil) {
        var deletions: [String] = []
        var chains = Set<String>()
        for line in saved.split(separator: "\n") {
            if line.hasPrefix(":SYNWALL-") {
                chains.insert(String(line.dropFirst().prefix { $0 != " " }))
            } else if line.hasPrefix("-A "), line.contains("-j SYNWALL-"), !line.hasPrefix("-A SYNWALL-") {
                if let owner = onlyOwner, InstanceOwner.pid(in: line) != owner { continue }
                deletions.append("-D " + line.dropFirst(3))
            }
        }
        if onlyOwner != nil {
            // Our chains only: the ones our plan created.
            chains = chains.intersection(plan.hooks.map(\.synwallChain) + [KernelReassembly.iptablesChain])
        }
        guard !deletions.isEmpty || !chains.isEmpty else { return }
        var lines = ["*mangle"] + deletions
        for chain in chains.sorted() { lines.append("-F \(chain)") }
        for chain in chains.sorted() { lines.append("-X \(chain)") }
        lines.append("COMMIT")
        _ = HostCommand.run([family.restore, "--noflush"], input: lines.joined(separator: "\n") + "\n")
    }
}
