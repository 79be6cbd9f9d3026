import ArgumentParser
import Foundation
import Sandbox
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

extension PeerCommand {
    /// `synwall peer download-server --port P [--rate BYTES]`
    struct DownloadServe: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "download-server",
            abstract: "Serve paced downloads of a checkable byte pattern, IPv4 and IPv6, until stopped.",
            discussion: """
                A client sends a byte count and a newline; the server answers with that many bytes \
                of the pattern at --rate bytes per second, then closes. Prints \
                '\(Sandbox.peerListeningPrefix) on [::] port P' once listening and \
                'synwall peer: sent N of M bytes to ADDRESS port P fnv1a=HEX' per transfer. \
                SIGUSR1 lifts the pace; SIGTERM/SIGINT stop it.
                """)

        @Option(help: "TCP port to listen on.")
        var port: UInt16

        @Option(help: "Pace of each transfer in bytes per second (0: as fast as TCP allows).")
        var rate = 0

        func validate() throws {
            guard rate >= 0 else { throw ValidationError("--rate must be 0 or more bytes per second.") }
        }

        func run() throws {
            let printing = Mutex(())
            let server = DownloadServer(port: port, bytesPerSecond: rate)
            do {
                try server.run(onListening: {
                    say("\(Sandbox.peerListeningPrefix) on [::] port \(port)")
                }, onTransfer: { transfer in
                    printing.withLock { _ in say("synwall peer: \(transfer)") }
                })
            } catch {
                printError("synwall peer: \(error)")
                throw ExitCode.failure
            }
        }
    }

    /// `synwall peer download HOST PORT --bytes N`
    struct Download: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download bytes from a download-server, check every one, report progress.",
            discussion: """
                Prints 'synwall peer: received N bytes' every --progress seconds, then \
                'synwall peer: download complete bytes=N mismatches=M fnv1a=HEX seconds=S' and exits 0 \
                when all bytes came and matched; exits 1 with a one-line reason on stderr otherwise \
                (a reset connection says so).
                """)

        @Argument(help: "Host name or IPv4/IPv6 address.")
        var host: String

        @Argument(help: "TCP port.")
        var port: UInt16

        @Option(help: "Bytes to download.")
        var bytes: UInt64

        @Option(help: "Seconds between progress lines.")
        var progress: Double = 0.25

        @Option(help: "Give up when no byte comes for this many seconds.")
        var idleTimeout: Double = 10

        func validate() throws {
            guard bytes > 0, bytes <= DownloadServer.maximumRequest else {
                throw ValidationError("--bytes must be between 1 and \(DownloadServer.maximumRequest).")
            }
            guard progress >= 0.01, progress <= 60 else { throw ValidationError("--progress must be 0.01 to 60 seconds.") }
            guard idleTimeout > 0, idleTimeout <= 3600 else {
                throw ValidationError("--idle-timeout must be between 0 and 3600 seconds.")
            }
        }

        func run() throws {
            let client = DownloadClient(host: host, port: port, bytes: bytes,
                                        idleTimeout: .milliseconds(Int64(idleTimeout * 1000)),
                                        progressInterval: .milliseconds(Int64(progress * 1000)))
            do {
                let result = try client.run { say("synwall peer: received \($0) bytes") }
                say("synwall peer: download complete bytes=\(result.bytes) mismatches=\(result.mismatches) "
                    + "fnv1a=\(result.checksum) seconds=\(String(format: "%.2f", result.seconds))")
                if result.mismatches > 0 { throw ExitCode.failure }
            } catch let error as PeerError {
                printError("synwall peer: \(error)")
                throw ExitCode.failure
            }
        }
    }
}

/// Prints a line and flushes at once, so a parent reading the output file sees it.
func say(_ line: String) {
    print(line)
    fflush(nil)
}
