/// `synwall conns` as a table, one connection a line, like `conntrack -L` but aligned and
/// with units.
public enum ConnectionTable {
    /// The table for `records`, with a last line saying how many there are (and how many more
    /// matched when the list was cut).
    public static func render(_ records: [ConnectionRecord], matched: Int) -> String {
        var rows: [[String]] = [["PROTO", "SOURCE", "DESTINATION", "STATE", "AGE", "IDLE", "PKTS>", "BYTES>",
                                 "PKTS<", "BYTES<", "RULE"]]
        for r in records {
            rows.append([
                r.proto, Formatting.endpoint(r.src, r.sport, proto: r.proto),
                Formatting.endpoint(r.dst, r.dport, proto: r.proto), r.state + (r.offloaded == true ? "*" : ""),
                Formatting.duration(r.ageSeconds), Formatting.duration(r.idleSeconds),
                Formatting.count(r.packetsOut), Formatting.count(r.bytesOut),
                Formatting.count(r.packetsIn), Formatting.count(r.bytesIn),
                r.rule.map { "#\($0) \(r.ruleLocation ?? "")" } ?? "policy",
            ])
        }
        var text = Formatting.table(rows, rightAligned: [4, 5, 6, 7, 8, 9])
        if records.contains(where: { $0.offloaded == true }) {
            text += "\n* offloaded: its plain segments pass in the kernel (counts are what synwall saw)"
        }
        let noun = matched == 1 ? "connection" : "connections"
        if records.count < matched {
            text += "\n\(matched) \(noun), \(records.count) shown (raise --limit to see more)"
        } else {
            text += "\n\(matched) \(noun)"
        }
        return text
    }
}
