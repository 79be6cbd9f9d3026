import ArgumentParser
import Foundation
import Sandbox
#if canImport(Glibc)
import Glibc
#endif

/// `synwall-testbed peer`: helpers, so the demo and the integration tests push real connections
/// and real attacks through the firewall without Python or netcat: a TCP echo server and client,
/// a paced download server and a checking client, and attack modes built on raw sockets
/// (PeerCommand+Attacks.swift). They live in the test bed, not in the daemon's binary; their
/// lines keep the `synwall peer:` prefix that the demo and the tests read.
struct PeerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peer",
        abstract: "Traffic and attack helpers for the demo and the tests (run inside a sandbox).",
        subcommands: [Listen.self, Connect.self, DownloadServe.self, Download.self, SynFlood.self, Scan.self,
                      Sniff.self, Inject.self, BruteForce.self])
}

extension PeerCommand {
    /// `synwall peer listen --port P [--address A] [--max-connections N]`
    struct Listen: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Echo every TCP connection on a port, IPv4 and IPv6, until stopped.",
            discussion: """
                Prints '\(Sandbox.peerListeningPrefix) on ADDRESS port P' once listening. \
                Exits 0 after --max-connections connections, or on SIGTERM/SIGINT.
                """)

        @Option(help: "TCP port to listen on.")
        var port: UInt16

        @Option(help: "Address to bind (default: all IPv4 and IPv6 addresses).")
        var address: String?

        @Option(help: "Exit after serving this many connections.")
        var maxConnections: Int?

        func validate() throws {
            if let maxConnections, maxConnections < 1 {
                throw ValidationError("--max-connections must be at least 1.")
            }
        }

        func run() throws {
            let server = EchoServer(port: port, address: address, maxConnections: maxConnections)
            do {
                let served = try server.run { where_ in
                    print("\(Sandbox.peerListeningPrefix) on \(where_)")
                    fflush(nil)
                }
                print("synwall peer: served \(served) connection\(served == 1 ? "" : "s")")
            } catch {
                printError("synwall peer: \(error)")
                throw ExitCode.failure
            }
        }
    }

    /// `synwall peer connect HOST PORT [--message TEXT] [--timeout SECONDS]`
    struct Connect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Connect over TCP, send a message and expect it echoed back.",
            discussion: "Exits 0 when the echo matches, 1 with a one-line reason on stderr otherwise.")

        @Argument(help: "Host name or IPv4/IPv6 address.")
        var host: String

        @Argument(help: "TCP port.")
        var port: UInt16

        @Option(help: "Text to send.")
        var message = "hello through synwall"

        @Option(help: "Overall time limit in seconds.")
        var timeout: Double = 3

        func validate() throws {
            guard timeout > 0, timeout <= 3600 else {
                throw ValidationError("--timeout must be between 0 and 3600 seconds.")
            }
            guard !message.isEmpty else { throw ValidationError("--message must not be empty.") }
        }

        func run() throws {
            let client = EchoClient(host: host, port: port, timeout: .milliseconds(Int64(timeout * 1000)))
            do {
                try client.exchange(Array(message.utf8))
            } catch {
                printError("synwall peer: \(error)")
                throw ExitCode.failure
            }
        }
    }
}

func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
