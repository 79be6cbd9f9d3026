/// The shape of a test bed: which network namespaces it has and how they are wired.
public enum SandboxTopology: String, Sendable, CaseIterable {
    /// Three namespaces: client — router — server, two veth pairs, forwarding on in the router.
    /// A firewall runs in the router attached to the forward hook.
    case routed
    /// Two namespaces: client — server on one veth pair. A firewall runs in the server attached
    /// to the input hook, as a host firewall would.
    case direct
}
