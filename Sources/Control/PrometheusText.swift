/// `synwall stats --prometheus`: the Prometheus text exposition format (version 0.0.4), for
/// node_exporter's textfile collector or a scrape. One series per queue worker; counters end in
/// `_total`.
public enum PrometheusText {
    /// The report as metric families.
    public static func render(_ report: StatsReport) -> String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(labels: [(String, String)], value: Int)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples {
                let labels = sample.labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",")
                out += labels.isEmpty ? "\(name) \(sample.value)\n" : "\(name){\(labels)} \(sample.value)\n"
            }
        }
        func perQueue(_ name: String, _ type: String, _ help: String, _ value: (WorkerStats) -> Int) {
            family(name, type, help, report.workers.map { ([("queue", String($0.queue))], value($0)) })
        }

        family("synwall_up", "gauge", upHelp, [([], 1)])
        if let version = report.version {
            family("synwall_build_info", "gauge", buildInfoHelp,
                   [([("version", version), ("commit", report.commit ?? "unknown")], 1)])
        }
        family("synwall_start_time_seconds", "gauge", "When the daemon started, in Unix seconds.",
               [([], Int(report.startedAt))])
        if let reloads = report.reloads, let failures = report.reloadFailures {
            family("synwall_reloads_total", "counter", "Rule reloads since start, by result (failure: the running rules stayed).",
                   [([("result", "success")], reloads), ([("result", "failure")], failures)])
        }
        if let last = report.lastReloadSuccess {
            out += "# HELP synwall_last_reload_success_timestamp_seconds When rules were last put in force (start or "
                + "reload), in Unix seconds.\n# TYPE synwall_last_reload_success_timestamp_seconds gauge\n"
                + "synwall_last_reload_success_timestamp_seconds \(seconds(last))\n"
        }
        family("synwall_packets_total", "counter", "Packets received from the kernel, by queue and verdict.",
               report.workers.flatMap { w in [([("queue", String(w.queue)), ("verdict", "accept")], w.accepted),
                                              ([("queue", String(w.queue)), ("verdict", "drop")], w.dropped)] })
        family("synwall_drops_total", "counter", "Dropped packets by queue and reason.",
               report.workers.flatMap { w in
                   w.drops.keys.sorted().map { ([("queue", String(w.queue)), ("reason", $0)], w.drops[$0] ?? 0) }
               })
        perQueue("synwall_states", "gauge", "Live entries in the connection table.") { $0.states }
        perQueue("synwall_states_capacity", "gauge", "Capacity of the connection table.") { $0.capacity }
        perQueue("synwall_half_open", "gauge", "TCP connections whose handshake is incomplete.") { $0.halfOpen }
        perQueue("synwall_states_created_total", "counter", "Connection table entries created.") { $0.created }
        perQueue("synwall_states_expired_total", "counter", "Entries removed when their timeout passed.") { $0.expired }
        perQueue("synwall_states_closed_total", "counter", "Entries removed by the TCP state machine.") { $0.closed }
        perQueue("synwall_states_evicted_total", "counter", "Entries evicted to make room.") { $0.evicted }
        family("synwall_new_flows_refused_total", "counter", "New flows refused, by queue and cause.",
               report.workers.flatMap { w in
                   let q = ("queue", String(w.queue))
                   return [([q, ("cause", "table_full")], w.rejectedTableFull),
                           ([q, ("cause", "half_open_cap")], w.rejectedHalfOpen),
                           ([q, ("cause", "syn_rate")], w.rejectedRateLimited),
                           ([q, ("cause", "rules")], w.rejectedByRules)]
               })
        perQueue("synwall_states_flushed_total", "counter",
                 "Connections cut by overload flush.") { $0.flushed }
        perQueue("synwall_states_restored_total", "counter",
                 "Connections put back from the state file after a restart.") { $0.restored }
        perQueue("synwall_states_resumed_total", "counter",
                 "Restored connections whose traffic went on.") { $0.resumed }
        perQueue("synwall_resume_refused_total", "counter",
                 "Segments of restored connections refused for lying behind the saved numbers.") { $0.resumeRefused }
        perQueue("synwall_proven_over_half_open_cap_total", "counter",
                 "New connections from proven sources let in over the half-open cap.") { $0.provenOverHalfOpenCap }
        perQueue("synwall_queue_enobufs_total", "counter",
                 "Receive buffer overruns: the kernel dropped netlink messages (ENOBUFS).") { $0.enobufs }
        perQueue("synwall_verdict_errors_total", "counter", "Verdicts the kernel refused.") { $0.verdictErrors }
        perQueue("synwall_kernel_queue_waiting", "gauge", "Packets waiting in the kernel's queue.") { $0.kernelWaiting }
        perQueue("synwall_kernel_queue_dropped_total", "counter",
                 "Packets the kernel dropped because the queue was full.") { $0.kernelQueueDropped }
        perQueue("synwall_kernel_user_dropped_total", "counter",
                 "Packets the kernel could not deliver to synwall.") { $0.kernelUserDropped }
        perQueue("synwall_events_suppressed_total", "counter",
                 "Events left out because one receive round had too many.") { $0.eventsSuppressed }
        perQueue("synwall_offloaded_total", "counter",
                 "Connections whose plain segments were offloaded to the kernel.") { $0.offloaded }
        perQueue("synwall_offload_ended_total", "counter", "Offloads ended by a FIN or RST.") { $0.offloadEnded }
        perQueue("synwall_offload_kernel_invalid_total", "counter",
                 "Segments of offloaded connections the kernel found out of window, dropped.") { $0.offloadKernelInvalid }
        perQueue("synwall_fragments_held", "gauge",
                 "Fragments whose verdict waits for the rest of their datagram.") { $0.fragmentsHeldNow }
        perQueue("synwall_fragments_held_total", "counter",
                 "Fragments whose verdict was held until their datagram was judged.") { $0.fragmentsHeld }
        perQueue("synwall_fragment_datagrams_reassembled_total", "counter",
                 "Fragmented datagrams judged whole.") { $0.datagramsReassembled }
        perQueue("synwall_fragment_datagrams_abandoned_total", "counter",
                 "Fragmented datagrams given up incomplete (timed out, over a bound).") { $0.datagramsAbandoned }
        if let log = report.log {
            let path = [("path", log.path)]
            family("synwall_log_records_written_total", "counter", "Event log records written.", [(path, log.written)])
            family("synwall_log_events_lost_total", "counter", "Events lost because the writer's ring was full.",
                   [(path, log.lost)])
            family("synwall_log_events_folded_total", "counter", "Occurrences folded by the records-per-second cap.",
                   [(path, log.suppressed)])
            family("synwall_log_write_failures_total", "counter", "Failed opens, writes or rotations of the event log.",
                   [(path, log.writeFailures)])
            family("synwall_log_rotations_total", "counter", "Event log rotations.", [(path, log.rotations)])
        }
        if let kernel = report.offloadedInKernel {
            family("synwall_offload_kernel_packets_total", "counter",
                   "Packets of offloaded connections passed in the kernel without synwall.", [([], kernel.packets)])
            family("synwall_offload_kernel_bytes_total", "counter",
                   "Bytes of offloaded connections passed in the kernel without synwall.", [([], kernel.bytes)])
        }
        if let replies = report.replies {
            family("synwall_block_return_answers_total", "counter",
                   "Answers of block return rules (RST, ICMP unreachable): sent, left out over set return rate, failed.",
                   [([("outcome", "sent")], replies.sent), ([("outcome", "rate_limited")], replies.rateLimited),
                    ([("outcome", "failed")], replies.failed)])
        }
        if !report.rules.isEmpty {
            family("synwall_rule_hits_total", "counter", "New connections each rule decided since the rules were loaded.",
                   report.rules.map { rule in
                       var labels = [("rule", String(rule.number)), ("action", rule.action), ("location", rule.location)]
                       if let label = rule.label { labels.append(("label", label)) }
                       return (labels, rule.hits)
                   })
            // Keyed by label alone: a series that stays the same when rules are inserted or moved.
            var byLabel: [String: Int] = [:]
            for rule in report.rules { if let label = rule.label { byLabel[label, default: 0] += rule.hits } }
            if !byLabel.isEmpty {
                family("synwall_rule_label_hits_total", "counter",
                       "New connections decided by the rules with each label (summed when rules share one).",
                       byLabel.keys.sorted().map { ([("label", $0)], byLabel[$0] ?? 0) })
            }
        }
        return out
    }

    static let upHelp = "Whether synwall stats reached the daemon (1) or not (0)."
    static let buildInfoHelp = "The version and commit of the daemon (of the synwall command when the daemon is down)."

    /// What to write when the daemon cannot be asked: `synwall_up 0` and the build info of the
    /// command itself, so a textfile collector shows the daemon down instead of stale counters.
    public static func down(version: String, commit: String) -> String {
        "# HELP synwall_up \(upHelp)\n# TYPE synwall_up gauge\nsynwall_up 0\n"
            + "# HELP synwall_build_info \(buildInfoHelp)\n# TYPE synwall_build_info gauge\n"
            + "synwall_build_info{version=\"\(escape(version))\",commit=\"\(escape(commit))\"} 1\n"
    }

    /// Unix seconds with up to three decimals, without a trailing `.0`.
    static func seconds(_ value: Double) -> String {
        let millis = Int64((value * 1000).rounded())
        let whole = millis / 1000, fraction = millis % 1000
        if fraction == 0 { return String(whole) }
        var digits = String(fraction)
        while digits.count < 3 { digits = "0" + digits }
        while digits.hasSuffix("0") { digits.removeLast() }
        return "\(whole).\(digits)"
    }

    /// A label value with `\`, `"` and newlines escaped as the format requires.
    static func escape(_ value: String) -> String {
        var out = ""
        for c in value {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }
}
