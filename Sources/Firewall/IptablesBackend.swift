/// Which kernel interface the host's `iptables-restore` and `ip6tables-restore` drive.
enum IptablesBackend: Equatable {
    /// iptables-nft: netlink, works with CAP_NET_ADMIN alone under any uid.
    case nfTables
    /// iptables-legacy: a raw socket (CAP_NET_RAW) and /run/xtables.lock; needs root.
    case legacy
    /// The tools did not say (missing, or an unknown version line).
    case unknown

    /// Reads `… v1.8.9 (nf_tables)` or `… (legacy)` from a `--version` line.
    init(versionLine: String) {
        if versionLine.contains("(legacy)") {
            self = .legacy
        } else if versionLine.contains("(nf_tables)") {
            self = .nfTables
        } else {
            self = .unknown
        }
    }

    /// Legacy when either family's restore tool is legacy.
    static func current() -> IptablesBackend {
        let backends = ["iptables-restore", "ip6tables-restore"].map {
            let output = HostCommand.run([$0, "--version"])
            return IptablesBackend(versionLine: output.stdout + output.stderr)
        }
        if backends.contains(.legacy) { return .legacy }
        return backends.allSatisfy { $0 == .nfTables } ? .nfTables : .unknown
    }
}
