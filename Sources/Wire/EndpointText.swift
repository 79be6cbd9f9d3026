/// An address with a port as people read it: `192.0.2.1:22`, and an IPv6 address in brackets
/// so its colons stay apart from the port's, `[2001:db8::1]:443` (RFC 3986 §3.2.2). Every view
/// that prints a flow's ends (`conns`, `trace`, `log`, `explain`, reload records) writes them here.
public enum EndpointText {
    /// `host:port`, `[host]:port` when `host` holds a colon, or `host` alone without a port.
    public static func format(_ host: String, port: Int?) -> String {
        guard let port else { return host }
        return host.utf8.contains(UInt8(ascii: ":")) ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// The text of `address` with `port` (see ``format(_:port:)-(String,_)``); the address alone
    /// when `port` is nil.
    public static func format(_ address: IPAddress, port: UInt16?) -> String {
        let host = address.description
        guard let port else { return host }
        return address.isIPv4 ? "\(host):\(port)" : "[\(host)]:\(port)"
    }
}
