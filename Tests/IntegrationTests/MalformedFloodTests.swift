import Foundation
import Sandbox
import Testing

extension IntegrationTests {
    /// (e) a flood of crafted malformed packets leaves the daemon running and traffic flowing.
    ///
    /// The flood is sent from the client with scapy on an AF_PACKET socket, addressed to the
    /// server through the next hop (the router, or the server itself in the direct topology).
    /// IPv4/IPv6 header errors (IHL < 5, total or payload length past the end, bad header
    /// checksum, truncated header) are checked by the receiving kernel in ip_rcv / ipv6_rcv,
    /// before any netfilter hook: they are dropped there and never reach the queue, in the
    /// router as in the server. Nor can they be injected from inside the router: a raw IPv4
    /// socket refuses IHL < 5 (EINVAL, checked here) and rewrites total length and checksum, so
    /// on this kernel no path delivers them to a queue. That is expected; they are sent anyway,
    /// to show that nothing breaks. TCP-level errors
    /// (truncated header, data offset < 5 or past the end, bad options) pass the IP layer
    /// untouched and do reach the queue, on the forward hook and on the input hook alike: those
    /// are the ones synwall must count as malformed.
    @Suite struct MalformedFlood {
        /// Rounds of all cases: 43 cases a round, about 2,600 frames, about 2 s of scapy.
        static let rounds = 60

        @Test("a malformed flood through the router leaves synwall (forward hook) running")
        func floodThroughRouter() throws {
            try flood(topology: .routed)
        }

        @Test("a malformed flood to the server leaves synwall (input hook) running")
        func floodToServer() throws {
            try flood(topology: .direct)
        }

        private func flood(topology: SandboxTopology) throws {
            let sandbox = try Harness.sandbox(topology)
            defer { sandbox.teardown() }
            // Real checksums on the wire: veth would otherwise mark frames as already verified.
            try sandbox.disableOffloads()
            try sandbox.startEchoServer(port: Harness.port)
            let daemon = try Daemon.start(sandbox, Harness.hookArguments(for: sandbox))

            let link = sandbox.client.interfaces[0]
            let result = try sandbox.runPython(in: sandbox.client, script: Harness.script("malformed_flood"), arguments: [
                "--iface", link.name, "--src-mac", link.mac, "--dst-mac", link.peerMAC,
                "--src4", sandbox.client.ipv4, "--dst4", sandbox.server.ipv4,
                "--src6", sandbox.client.ipv6, "--dst6", sandbox.server.ipv6,
                "--dport", String(Harness.port), "--repeat", String(Self.rounds),
            ], timeout: .seconds(60))
            try #require(result.succeeded, "the flood script ran: \(result)")
            let sent = try FloodCounts(json: result.stdout)
            #expect(sent.sent >= 2000, "a few thousand frames: \(result.stdout)")

            #expect(daemon.process.isRunning, "synwall survives the flood: \(daemon.process.output)")
            try sandbox.expectConnections(succeed: true, "after the flood")

            let counters = try daemon.stop()
            #expect(counters.malformed > 0, "the flood reached synwall and was found malformed: \(counters)")
            // Every TCP header and option error reached the queue and cannot decode; the L3 ones
            // never got there.
            #expect(counters.malformed >= sent.header + sent.options,
                    "every TCP header and option error is malformed: \(counters), sent \(result.stdout)")
            #expect(counters.malformed <= sent.sent, "\(counters), sent \(result.stdout)")
            #expect(counters.dropped >= counters.malformed, "malformed packets are dropped: \(counters)")
            #expect(counters.received >= sent.header + counters.accepted, "\(counters)")
            try sandbox.expectNoSynwallRules("after SIGTERM")
        }
    }
}

/// The JSON summary line of `malformed_flood.py`.
struct FloodCounts: Decodable {
    let sent: Int
    let l3: Int
    let header: Int
    let options: Int
    let cases: Int

    init(json: String) throws {
        guard let line = json.split(separator: "\n").last(where: { $0.hasPrefix("{") }) else {
            throw HarnessError("the flood script printed no JSON summary: \(json)")
        }
        self = try JSONDecoder().decode(FloodCounts.self, from: Data(line.utf8))
    }
}
