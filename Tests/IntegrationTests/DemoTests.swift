import Foundation
import Sandbox
import Testing

extension IntegrationTests {
    /// `synwall demo`: the README's main command, run as a user would. It must show a download
    /// through synwall surviving each attack, each attack stopped for the right reason, the
    /// download intact, the log review, and leave nothing behind.
    @Suite struct Demo {
        private func scratch() throws -> URL {
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("synwall-demo-test-\(UUID())")
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            return url
        }

        private func leftoverNamespaces(of pid: Int32) throws -> [String] {
            let ip = try #require(ExecutableLocator.locate("ip"))
            let process = Process()
            process.executableURL = URL(fileURLWithPath: ip)
            process.arguments = ["netns", "list"]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return String(decoding: data, as: UTF8.self).split(separator: "\n")
                .map(String.init).filter { $0.hasPrefix("swdemo\(pid)-") }
        }

        /// The demo's lines from `title` (a step heading such as "6. Attack") up to the next
        /// step heading.
        private func section(_ output: String, _ title: String) -> String {
            var lines: [Substring] = []
            var inside = false
            for line in output.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix(title) {
                    inside = true
                } else if inside, let first = line.first, first.isNumber, line.contains(". ") {
                    break
                }
                if inside { lines.append(line) }
            }
            return lines.joined(separator: "\n")
        }

        @Test("synwall demo: the download survives a SYN flood, scans, RST and data injection and an SSH brute force, each stopped for its reason")
        func demoRuns() throws {
            let directory = try scratch()
            defer { try? FileManager.default.removeItem(at: directory) }
            let started = ContinuousClock.now
            let demo = try SandboxProcess.start([Harness.synwallBinary(), "demo"], outputDirectory: directory)
            defer { demo.stop(grace: .seconds(5)) }
            let ended = demo.waitForExit(timeout: .seconds(150))
            let elapsed = ContinuousClock.now - started
            let output = demo.standardOutput
            #expect(ended == .exited(0), "\(demo.output)")
            #expect(elapsed < .seconds(60), "the demo stays short (about 20 s here): it took \(elapsed)")
            #expect(!output.contains("NOT stopped") && !output.contains("STOPPED") && !output.contains("problem"),
                    "\(output)")

            #expect(output.contains("(3 rules)"), "the demo runs with its own rule file: \(output)")
            #expect(output.contains("64 KiB downloaded from 10.91.2.2 port 8080"), "\(output)")
            #expect(output.contains("64 KiB downloaded from fd00:91:2::2 port 8080"), "\(output)")
            #expect(output.contains("~ download: ") && output.contains("still flowing"),
                    "the download's progress is printed live: \(output)")

            // Each attack: stopped, for its reason, and the download kept going.
            let restart = section(output, "6. Restart synwall in the middle of the download")
            #expect(restart.contains("| synwall: state: saved "), "\(restart)")
            let restored = restart.split(separator: "\n").first { $0.contains("| synwall: state: restored ") }
                .flatMap { $0.split(separator: " ").drop { $0 != "restored" }.dropFirst().first.flatMap { Int($0) } }
            #expect((restored ?? 0) >= 1, "the download's connection came back: \(restart)")
            #expect(restart.contains(" proven source"), "the client (v4 and v6) stays proven across the restart: \(restart)")
            #expect(restart.contains("The download kept going: ") && restart.contains(", connection open."),
                    "the download went on across the restart: \(restart)")
            let flood = section(output, "7. Attack: SYN flood")
            let admitted = flood.split(separator: "\n").first { $0.contains("Stopped: synwall let ") }
                .flatMap { line in line.split(separator: " ").drop { $0 != "let" }.dropFirst().first }
                .flatMap { Int($0) }
            #expect(admitted.map { (1...200).contains($0) } == true, "at most the half-open limit got in: \(flood)")
            #expect(flood.contains("as table_full (half_open_cap)"), "\(flood)")
            #expect(flood.contains("synwall peer: sent 2000 SYNs from 2000 spoofed sources"), "\(flood)")
            // The client, proven by its earlier handshakes, got a new connection in over the full cap.
            let proven = flood.split(separator: "\n").first { $0.contains("A new connection from the client went through during the flood") }
            let overCap = proven.flatMap { line in
                line.firstIndex(of: "(").flatMap { Int(line[line.index(after: $0)...].prefix { $0.isNumber }) }
            }
            #expect((overCap ?? 0) >= 1, "the daemon's stats count it as let in over the cap: \(flood)")

            let scans = section(output, "8. Attack: NULL, FIN and XMAS scans")
            #expect(scans.contains("Stopped: all 30 of 30 probes dropped as invalid_flags "
                                   + "(flags_fin_no_ack, flags_null, flags_xmas)"), "\(scans)")
            #expect(scans.contains("scan sent=30 replies=0"), "the scanner saw no answer: \(scans)")

            let rst = section(output, "9. Attack: RST injection")
            #expect(rst.contains("A tap on the client's link shows the download: client 10.91.1.2 port "), "\(rst)")
            #expect(rst.contains("Stopped: synwall dropped the RST as rst_invalid (rst_inexact)"), "\(rst)")

            let data = section(output, "10. Attack: data injection")
            #expect(data.contains("Stopped: synwall dropped the segment as bad_seq (seq_above_window)"), "\(data)")

            let brute = section(output, "11. Attack: SSH brute force")
            #expect(brute.contains("A new connection from the client goes through again"), "\(brute)")
            #expect(brute.contains("synwall peer: brute force answered=5 unanswered=7"), "\(brute)")
            #expect(brute.contains("an overload record (source added to <bruteforce>)"), "\(brute)")
            #expect(brute.contains("then the block rule \"brute force\" dropped 6 more connection attempts from 10.91.4.2"),
                    "\(brute)")

            for attack in [flood, scans, rst, data, brute] {
                #expect(attack.contains("The download kept going: ") && attack.contains(", connection open."),
                        "the download flowed through every attack: \(attack)")
            }

            // The download arrived whole and unchanged.
            let finish = section(output, "12. Finish the download")
            #expect(finish.contains("Download complete: 50331648 bytes (48.0 MiB), the whole file, never reset"), "\(finish)")
            let sums = finish.split(separator: "\n").first { $0.contains("the checksums agree") }
                .map { $0.split(separator: "=").dropFirst().map { $0.prefix(16) } }
            #expect(sums?.count == 2 && sums?.first == sums?.last, "client and server checksums: \(finish)")

            // The daemon's own counters agree with the demo's story.
            let stopLine = output.split(separator: "\n").first { $0.contains(DaemonCounters.stopLinePrefix) }
            let counters = stopLine.flatMap { line in
                line.range(of: DaemonCounters.stopLinePrefix).flatMap { DaemonCounters(stopLine: String(line[$0.lowerBound...])) }
            }
            #expect(counters?.values["drop.invalid_flags"] == 30, "\(stopLine ?? "no stop line")")
            #expect(counters?.values["drop.rst_invalid"] == 1, "\(stopLine ?? "no stop line")")
            #expect(counters?.values["drop.bad_seq"] == 1, "\(stopLine ?? "no stop line")")
            #expect(counters?.values["drop.rate_limited"] == 1, "the brute force's refused attempt: \(stopLine ?? "")")
            #expect(counters?.values["drop.policy"] == 6, "the blocked attempts: \(stopLine ?? "")")
            #expect((counters?.values["drop.table_full"] ?? 0) >= 1800, "\(stopLine ?? "no stop line")")
            #expect(counters?.values["verdict_errors"] == 0, "\(stopLine ?? "no stop line")")
            #expect(output.contains("has no synwall rule left"), "the demo checked the router: \(output)")

            // The log review, through `synwall log`.
            let review = section(output, "14. Review the event log")
            #expect(review.contains("$ synwall log --top reason"), "\(review)")
            let top = review.split(separator: "\n").drop { !$0.hasPrefix("REASON") }
            #expect(top.first?.hasPrefix("REASON") == true, "the --top table: \(review)")
            for reason in ["table_full", "invalid_flags", "policy", "bad_seq", "rate_limited", "rst_invalid"] {
                #expect(top.contains { $0.hasPrefix(reason + " ") }, "\(reason) in --top reason: \(review)")
            }
            #expect(review.contains("$ synwall log --histogram --bucket 5s"), "\(review)")
            #expect(review.contains("occurrences per 5s (UTC)"), "the histogram: \(review)")

            #expect(output.contains("Cleaned up"), "\(output)")
            #expect(try leftoverNamespaces(of: demo.pid).isEmpty, "no namespace left")
            let demoScratch = FileManager.default.temporaryDirectory.appendingPathComponent("synwall-demo-\(demo.pid)")
            #expect(!FileManager.default.fileExists(atPath: demoScratch.path), "the scratch directory is gone")
        }

        @Test("the download pattern: any chunking checks clean, one changed byte is caught")
        func downloadPattern() {
            var sender = DownloadPattern()
            var bytes = [UInt8](repeating: 0, count: 100_003)
            var start = 0
            for size in [1, 7, 8, 4096, 13, 65_536] + [Int](repeating: 5_000, count: 10) where start < bytes.count {
                let end = min(bytes.count, start + size)
                bytes.withUnsafeMutableBytes { sender.produce(into: UnsafeMutableRawBufferPointer(rebasing: $0[start..<end])) }
                start = end
            }
            #expect(start == bytes.count && sender.offset == UInt64(bytes.count))
            var receiver = DownloadPattern()
            for range in [0..<3, 3..<50_000, 50_000..<100_003] {
                bytes.withUnsafeBytes { receiver.consume(UnsafeRawBufferPointer(rebasing: $0[range])) }
            }
            #expect(receiver.mismatches == 0 && receiver.checksum == sender.checksum && receiver.offset == sender.offset)
            bytes[77_777] ^= 0x20
            var tampered = DownloadPattern()
            bytes.withUnsafeBytes { tampered.consume($0) }
            #expect(tampered.mismatches == 1 && tampered.checksum != sender.checksum)
            #expect(tampered.checksumText.count == 16)
        }

        @Test("a sniffed connection's line reads back as printed")
        func sniffedConnectionLine() {
            let connection = SniffedConnection(
                clientAddress: "10.91.1.2", clientPort: 40000, serverAddress: "10.91.2.2", serverPort: 8080,
                clientNext: 4_000_000_000, clientAcknowledgment: 17, serverNext: nil, segments: 9)
            #expect(SniffedConnection(line: "synwall peer: sniffed \(connection)") == connection)
            var withServer = connection
            withServer.serverNext = 18
            #expect(SniffedConnection(line: withServer.description) == withServer)
            #expect(SniffedConnection(line: "client=10.91.1.2 client_port=x") == nil)
        }

        @Test("Ctrl-C during the attacks of synwall demo cleans up and exits 130")
        func demoInterrupted() throws {
            let directory = try scratch()
            defer { try? FileManager.default.removeItem(at: directory) }
            let demo = try SandboxProcess.start([Harness.synwallBinary(), "demo"], outputDirectory: directory)
            defer { demo.stop(grace: .seconds(5)) }
            // Once the download runs and the attacks begin, interrupt.
            let attacking = demo.waitForLine(prefix: "7. Attack", timeout: .seconds(40))
            #expect(attacking != nil, "\(demo.output)")
            #expect(try !leftoverNamespaces(of: demo.pid).isEmpty, "the demo's namespaces exist while it runs")
            demo.signal(SIGINT)
            let ended = demo.waitForExit(timeout: .seconds(15))
            #expect(ended == .exited(130), "\(demo.output)")
            #expect(demo.standardOutput.contains("Interrupted: cleaning up."), "\(demo.output)")
            #expect(try leftoverNamespaces(of: demo.pid).isEmpty, "Ctrl-C removed every namespace")
        }

        @Test("the daemon's binary carries no attack code: no Sandbox symbol, no peer command, no peer text")
        func daemonBinaryHasNoAttackCode() throws {
            let synwall = try Harness.synwallBinary()
            let bytes = try Data(contentsOf: URL(fileURLWithPath: synwall))
            // `7Sandbox` starts every mangled name of the Sandbox module; `synwall peer: ` every
            // line the attack helpers print. The test bed has both.
            for marker in ["7Sandbox", "synwall peer: ", "PeerCommand"] {
                #expect(bytes.range(of: Data(marker.utf8)) == nil, "\(synwall) contains '\(marker)'")
            }
            let testbed = try Data(contentsOf: URL(fileURLWithPath: try Harness.testbedBinary()))
            #expect(testbed.range(of: Data("synwall peer: ".utf8)) != nil, "the test bed holds the helpers")

            let directory = try scratch()
            defer { try? FileManager.default.removeItem(at: directory) }
            let peer = try SandboxProcess.start([synwall, "peer", "listen"], outputDirectory: directory)
            defer { peer.stop(grace: .seconds(1)) }
            #expect(peer.waitForExit(timeout: .seconds(10)) == .exited(64), "\(peer.output)")
            #expect(peer.standardError.hasPrefix("synwall: error: unknown command 'peer'"), "\(peer.output)")
        }

        @Test("synwall demo without the test bed beside it says where it looked, in one line, and exits 1")
        func demoNeedsTheTestbed() throws {
            let directory = try scratch()
            defer { try? FileManager.default.removeItem(at: directory) }
            let lonely = directory.appendingPathComponent("synwall").path
            try FileManager.default.copyItem(atPath: try Harness.synwallBinary(), toPath: lonely)
            let demo = try SandboxProcess.start([lonely, "demo"], outputDirectory: directory)
            defer { demo.stop(grace: .seconds(2)) }
            #expect(demo.waitForExit(timeout: .seconds(10)) == .exited(1), "\(demo.output)")
            let lines = demo.standardError.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].hasPrefix("synwall: error: the demo is the program synwall-testbed")
                    && lines[0].contains(directory.appendingPathComponent("synwall-testbed").path), "\(demo.output)")
        }

        @Test("synwall demo without root says so in one line and exits 1")
        func demoNeedsRoot() throws {
            let directory = try scratch()
            defer { try? FileManager.default.removeItem(at: directory) }
            let setpriv = try #require(ExecutableLocator.locate("setpriv"), "setpriv (util-linux) runs it unprivileged")
            let demo = try SandboxProcess.start(
                [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", Harness.synwallBinary(), "demo"],
                outputDirectory: directory)
            defer { demo.stop(grace: .seconds(2)) }
            #expect(demo.waitForExit(timeout: .seconds(10)) == .exited(1), "\(demo.output)")
            let lines = demo.standardError.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].hasPrefix("synwall: error:") && lines[0].contains("root"),
                    "\(demo.output)")
        }
    }
}
