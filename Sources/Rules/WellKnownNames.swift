import Wire

/// Built-in name tables: services (ports) and ICMP types, so rule files read the same on every
/// host (no /etc/services needed). IP protocol names are `Wire.IPProtocol`'s.
public enum WellKnownNames {
    /// Service names and their port numbers (IANA assignments; one port per name, the same
    /// for TCP and UDP). Aliases share a port (`www` and `http`, `domain` and `dns`).
    public static let services: [String: UInt16] = [
        "tcpmux": 1, "echo": 7, "discard": 9, "daytime": 13, "ftp-data": 20, "ftp": 21, "ssh": 22,
        "telnet": 23, "smtp": 25, "time": 37, "whois": 43, "tacacs": 49, "domain": 53, "dns": 53,
        "bootps": 67, "bootpc": 68, "tftp": 69, "gopher": 70, "finger": 79, "http": 80, "www": 80,
        "kerberos": 88, "pop3": 110, "sunrpc": 111, "rpcbind": 111, "auth": 113, "ident": 113,
        "nntp": 119, "ntp": 123, "epmap": 135, "netbios-ns": 137, "netbios-dgm": 138,
        "netbios-ssn": 139, "imap": 143, "snmp": 161, "snmp-trap": 162, "xdmcp": 177, "bgp": 179,
        "irc": 194, "ldap": 389, "https": 443, "microsoft-ds": 445, "smb": 445, "kpasswd": 464,
        "isakmp": 500, "login": 513, "shell": 514, "syslog": 514, "printer": 515, "dhcpv6-client": 546,
        "dhcpv6-server": 547, "submission": 587, "ipp": 631, "ldaps": 636, "domain-s": 853,
        "rsync": 873, "ftps-data": 989, "ftps": 990, "telnets": 992, "imaps": 993, "pop3s": 995,
        "socks": 1080, "openvpn": 1194, "ms-sql-s": 1433, "ms-sql-m": 1434, "l2tp": 1701,
        "pptp": 1723, "radius": 1812, "radius-acct": 1813, "nfs": 2049, "mysql": 3306,
        "ms-wbt-server": 3389, "rdp": 3389, "svn": 3690, "ipsec-nat-t": 4500, "sip": 5060,
        "sip-tls": 5061, "xmpp-client": 5222, "xmpp-server": 5269, "mdns": 5353, "postgresql": 5432,
        "amqp": 5672, "vnc": 5900, "x11": 6000, "redis": 6379, "ircd": 6667, "http-alt": 8080,
        "https-alt": 8443, "prometheus": 9090, "elasticsearch": 9200, "git": 9418,
        "memcached": 11211, "mongodb": 27017, "wireguard": 51820,
    ]

    /// ICMP (IPv4) type names as pf spells them.
    public static let icmpTypes: [String: UInt8] = [
        "echorep": 0, "unreach": 3, "squench": 4, "redir": 5, "althost": 6, "echoreq": 8,
        "routeradv": 9, "routersol": 10, "timex": 11, "paramprob": 12, "timereq": 13, "timerep": 14,
        "inforeq": 15, "inforep": 16, "maskreq": 17, "maskrep": 18, "trace": 30,
    ]

    /// ICMPv6 type names as pf spells them.
    public static let icmp6Types: [String: UInt8] = [
        "unreach": 1, "toobig": 2, "timex": 3, "paramprob": 4, "echoreq": 128, "echorep": 129,
        "groupqry": 130, "grouprep": 131, "groupterm": 132, "routersol": 133, "routeradv": 134,
        "neighbrsol": 135, "neighbradv": 136, "redir": 137, "routrrenum": 138,
    ]

    /// Names sorted, for suggestions (stable order).
    static let serviceNames = services.keys.sorted()
    static let protocolNames = IPProtocol.names.keys.sorted()
    static let icmpTypeNames = icmpTypes.keys.sorted()
    static let icmp6TypeNames = icmp6Types.keys.sorted()
}
