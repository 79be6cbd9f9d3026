extension Sandbox {
    /// The names and addresses of a topology, decided before anything is created.
    ///
    /// Routed:  client c0 10.91.1.2 fd00:91:1::2 — r0 10.91.1.1 fd00:91:1::1 [router]
    ///          r1 10.91.2.1 fd00:91:2::1 — s0 10.91.2.2 fd00:91:2::2 server
    /// Direct:  client c0 10.91.3.2 fd00:91:3::2 — s0 10.91.3.3 fd00:91:3::3 server
    /// Attacker (routed only, on request): router r2 10.91.4.1 fd00:91:4::1 — a0 10.91.4.2
    ///          fd00:91:4::2 attacker
    struct Plan {
        struct Link {
            let a: SandboxHost
            let aInterface: SandboxInterface
            let b: SandboxHost
            let bInterface: SandboxInterface
        }

        let client: SandboxHost
        let router: SandboxHost?
        let server: SandboxHost
        let attacker: SandboxHost?
        let links: [Link]

        init(topology: SandboxTopology, base: String, attacker withAttacker: Bool = false) {
            func interface(_ name: String, subnet: Int, host: Int, peer: Int) -> SandboxInterface {
                SandboxInterface(
                    name: name, mac: Self.mac(subnet: subnet, host: host),
                    peerMAC: Self.mac(subnet: subnet, host: peer),
                    ipv4: "10.91.\(subnet).\(host)", ipv4PrefixLength: 24,
                    ipv6: "fd00:91:\(subnet)::\(host)", ipv6PrefixLength: 64)
            }
            switch topology {
            case .routed:
                let c0 = interface("c0", subnet: 1, host: 2, peer: 1)
                let r0 = interface("r0", subnet: 1, host: 1, peer: 2)
                let r1 = interface("r1", subnet: 2, host: 1, peer: 2)
                let s0 = interface("s0", subnet: 2, host: 2, peer: 1)
                let r2 = interface("r2", subnet: 4, host: 1, peer: 2)
                let a0 = interface("a0", subnet: 4, host: 2, peer: 1)
                let client = SandboxHost(role: .client, namespace: "\(base)-client", interfaces: [c0])
                let router = SandboxHost(role: .router, namespace: "\(base)-router",
                                         interfaces: withAttacker ? [r0, r1, r2] : [r0, r1])
                let server = SandboxHost(role: .server, namespace: "\(base)-server", interfaces: [s0])
                let attacker = withAttacker
                    ? SandboxHost(role: .attacker, namespace: "\(base)-attacker", interfaces: [a0]) : nil
                self.client = client
                self.router = router
                self.server = server
                self.attacker = attacker
                links = [
                    Link(a: client, aInterface: c0, b: router, bInterface: r0),
                    Link(a: router, aInterface: r1, b: server, bInterface: s0),
                ] + (attacker.map { [Link(a: router, aInterface: r2, b: $0, bInterface: a0)] } ?? [])
            case .direct:
                let c0 = interface("c0", subnet: 3, host: 2, peer: 3)
                let s0 = interface("s0", subnet: 3, host: 3, peer: 2)
                let client = SandboxHost(role: .client, namespace: "\(base)-client", interfaces: [c0])
                let server = SandboxHost(role: .server, namespace: "\(base)-server", interfaces: [s0])
                self.client = client
                router = nil
                self.server = server
                attacker = nil
                links = [Link(a: client, aInterface: c0, b: server, bInterface: s0)]
            }
        }

        static func mac(subnet: Int, host: Int) -> String {
            let hex = { (value: Int) in String(value, radix: 16).leftPadded(to: 2) }
            return "02:91:\(hex(subnet)):00:00:\(hex(host))"
        }
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
