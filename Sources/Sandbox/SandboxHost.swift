/// One network namespace of a ``Sandbox`` and the addresses it was given.
public struct SandboxHost: Sendable, Hashable, CustomStringConvertible {
    /// What the namespace stands for in the topology.
    public enum Role: String, Sendable, Hashable {
        case client, router, server
        /// A fourth namespace hanging off the router, for an attacker (see
        /// ``Sandbox/create(topology:prefix:synwall:attacker:defaultTimeout:)``).
        case attacker
    }

    /// The host's part in the topology.
    public let role: Role
    /// The network namespace name (as listed by `ip netns list`), unique per sandbox instance.
    public let namespace: String
    /// The host's veth interfaces, in creation order (the router's client-facing one first,
    /// then the server-facing one, then the attacker-facing one when there is an attacker).
    public let interfaces: [SandboxInterface]

    /// The IPv4 address of the first interface (for the router: its client-facing side).
    public var ipv4: String { interfaces.first?.ipv4 ?? "" }
    /// The IPv6 address of the first interface (for the router: its client-facing side).
    public var ipv6: String { interfaces.first?.ipv6 ?? "" }

    /// The interface with this name, if the host has one.
    public func interface(named name: String) -> SandboxInterface? {
        interfaces.first { $0.name == name }
    }

    public var description: String { "\(role.rawValue) (netns \(namespace))" }
}

/// One end of a veth pair inside a ``SandboxHost``.
public struct SandboxInterface: Sendable, Hashable {
    /// Interface name inside the namespace (short and fixed, e.g. `c0`, `r0`, `r1`, `s0`).
    public let name: String
    /// The interface's MAC address (fixed, locally administered).
    public let mac: String
    /// The MAC address of the other end of the veth pair: the next hop for frames sent here.
    public let peerMAC: String
    /// IPv4 address, without prefix length.
    public let ipv4: String
    /// IPv4 prefix length.
    public let ipv4PrefixLength: Int
    /// IPv6 address, without prefix length (added with `nodad`).
    public let ipv6: String
    /// IPv6 prefix length.
    public let ipv6PrefixLength: Int
}
