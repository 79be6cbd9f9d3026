/// `synwall stats` as text: one row per counter, a column per queue worker and a total; with a
/// previous report (`--watch`), a rate column for the total.
public enum StatsText {
    /// The report as aligned text. `previous` adds per-second rates computed against it.
    public static func render(_ report: StatsReport, previous: StatsReport? = nil) -> String {
        let total = report.total
        let earlier = previous?.total
        let seconds = previous.map { report.takenAt - $0.takenAt } ?? 0
        let showQueues = report.workers.count > 1
        var header = ["", "total"]
        if previous != nil { header.append("per s") }
        if showQueues { header += report.workers.map { "q\($0.queue)" } }
        var rows: [[String]] = [header]

        func row(_ label: String, counter: Bool = true, _ value: (WorkerStats) -> Int) {
            var cells = [label, String(value(total))]
            if previous != nil {
                if counter, let earlier, seconds > 0 {
                    cells.append(Formatting.format1(Double(value(total) - value(earlier)) / seconds))
                } else {
                    cells.append("")
                }
            }
            if showQueues { cells += report.workers.map { String(value($0)) } }
            rows.append(cells)
        }
        func section(_ title: String) { rows.append([title]) }

        section("packets")
        row("  received") { $0.received }
        row("  accepted") { $0.accepted }
        row("  dropped") { $0.dropped }
        let reasons = total.drops.filter { $0.value > 0 }.map(\.key).sorted()
        if !reasons.isEmpty {
            section("drops by reason")
            for reason in reasons { row("  " + reason) { $0.drops[reason] ?? 0 } }
        }
        section("connection table")
        row("  states", counter: false) { $0.states }
        row("  capacity", counter: false) { $0.capacity }
        row("  half-open", counter: false) { $0.halfOpen }
        row("  created") { $0.created }
        row("  expired") { $0.expired }
        row("  closed") { $0.closed }
        row("  evicted") { $0.evicted }
        row("  refused: table full") { $0.rejectedTableFull }
        row("  refused: half-open cap") { $0.rejectedHalfOpen }
        row("  refused: syn rate") { $0.rejectedRateLimited }
        row("  refused: rules") { $0.rejectedByRules }
        row("  proven over half-open") { $0.provenOverHalfOpenCap }
        row("  flushed (overload)") { $0.flushed }
        row("  restored (state file)") { $0.restored }
        row("  resumed after restart") { $0.resumed }
        row("  refused while resuming") { $0.resumeRefused }
        section("queue")
        row("  kernel waiting", counter: false) { $0.kernelWaiting }
        row("  kernel queue full drops") { $0.kernelQueueDropped }
        row("  kernel delivery drops") { $0.kernelUserDropped }
        row("  enobufs") { $0.enobufs }
        row("  verdict errors") { $0.verdictErrors }
        row("  events over round cap") { $0.eventsSuppressed }
        if total.offloaded > 0 {
            section("offload (docs/offload.md)")
            row("  offloaded") { $0.offloaded }
            row("  ended by FIN or RST") { $0.offloadEnded }
            row("  kernel found out of window") { $0.offloadKernelInvalid }
        }
        if total.fragmentsHeld + total.datagramsAbandoned > 0 {
            section("fragments (reaching synwall unreassembled)")
            row("  held now", counter: false) { $0.fragmentsHeldNow }
            row("  held") { $0.fragmentsHeld }
            row("  datagrams reassembled") { $0.datagramsReassembled }
            row("  datagrams given up") { $0.datagramsAbandoned }
        }

        let uptime = Int(report.takenAt - report.startedAt)
        var text = "synwall pid \(report.pid), up \(Formatting.duration(uptime)), "
        if let file = report.rulesFile {
            text += "rules \(file) (\(report.rulesCount) rules)"
        } else {
            text += "no rule file"
        }
        if report.workers.count > 0 {
            let queues = report.workers.map(\.queue)
            text += ", queues \(queues.min() ?? 0)-\(queues.max() ?? 0)"
        }
        text += "\n"
        if !report.unanswered.isEmpty {
            text += "warning: queue workers \(report.unanswered.map(String.init).joined(separator: ", ")) did not answer; "
                + "their counters are missing\n"
        }
        text += "\n" + Formatting.table(rows, rightAligned: Set(1..<(header.count)))
        if let log = report.log {
            text += "\n\nevent log \(log.path)\n"
            text += Formatting.table([
                ["  records written", String(log.written)],
                ["  events lost (ring full)", String(log.lost)],
                ["  occurrences folded (rate cap)", String(log.suppressed)],
                ["  records not written", String(log.unwritten)],
                ["  write failures", String(log.writeFailures)],
                ["  rotations", String(log.rotations)],
            ], rightAligned: [1])
        }
        if let kernel = report.offloadedInKernel {
            text += "\n\noffloaded connections, passed in the kernel (all queues)\n"
            text += Formatting.table([
                ["  packets", String(kernel.packets)],
                ["  bytes", String(kernel.bytes)],
            ], rightAligned: [1])
        }
        if let replies = report.replies, replies.sent + replies.rateLimited + replies.failed > 0 {
            text += "\n\nblock return answers (set return rate \(replies.rate))\n"
            text += Formatting.table([
                ["  sent (RST, ICMP unreachable)", String(replies.sent)],
                ["  left out (over the rate)", String(replies.rateLimited)],
                ["  send failures", String(replies.failed)],
            ], rightAligned: [1])
        }
        if !report.rules.isEmpty {
            text += "\n\nrule hits (new connections decided since the rules were loaded)\n"
            var ruleRows: [[String]] = [["  #", "HITS", "ACTION", "WHERE", "RULE"]]
            for rule in report.rules {
                ruleRows.append(["  \(rule.number)", String(rule.hits), rule.action, rule.location, rule.text])
            }
            text += Formatting.table(ruleRows, rightAligned: [0, 1])
        }
        return text
    }
}
