import Foundation
import Sandbox
import Testing

extension IntegrationTests {
    /// `synwall demo`: the README's main command, run as a user would.
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

        @Test("synwall demo pushes IPv4 and IPv6 connections through synwall and reports it")
        func demoRuns() throws {
            let directory = try scratch()
            defer { try? FileManager.default.removeItem(at: directory) }
            let demo = try SandboxProcess.start([Harness.synwallBinary(), "demo"], outputDirectory: directory)
            defer { demo.stop(grace: .seconds(5)) }
            let ended = demo.waitForExit(timeout: .seconds(90))
            let output = demo.standardOutput
            #expect(ended == .exited(0), "\(demo.output)")
            #expect(output.contains("3 of 3 TCP connections from the client to 10.91.2.2"), "\(output)")
            #expect(output.contains("3 of 3 TCP connections from the client to fd00:91:2::2"), "\(output)")
            #expect(output.contains("| synwall: ready"), "the daemon's ready line is shown: \(output)")
            #expect(output.contains("(3 rules)"), "the demo runs with its rule file: \(output)")
            #expect(output.contains("but no rule opens it: synwall dropped"), "the blocked port stays blocked: \(output)")
            #expect(output.contains("\"reason\":\"policy\""), "the drop is in the event log: \(output)")
            let stopLine = output.split(separator: "\n").first { $0.contains(DaemonCounters.stopLinePrefix) }
            let counters = stopLine.flatMap { line in
                line.range(of: DaemonCounters.stopLinePrefix).flatMap { DaemonCounters(stopLine: String(line[$0.lowerBound...])) }
            }
            #expect((counters?.received ?? 0) > 0, "the demo's traffic went through the queue: \(output)")
            #expect(output.contains("has no synwall rule left"), "the demo checked the router: \(output)")
            #expect(output.contains("Cleaned up"), "\(output)")
            #expect(try leftoverNamespaces(of: demo.pid).isEmpty)
        }

        @Test("Ctrl-C in the middle of synwall demo cleans up and exits 130")
        func demoInterrupted() throws {
            let directory = try scratch()
            defer { try? FileManager.default.removeItem(at: directory) }
            let demo = try SandboxProcess.start([Harness.synwallBinary(), "demo"], outputDirectory: directory)
            defer { demo.stop(grace: .seconds(5)) }
            // Once the network exists (the client line is printed), interrupt.
            let built = demo.waitForLine(prefix: "   client ", timeout: .seconds(20))
            #expect(built != nil, "\(demo.output)")
            #expect(try !leftoverNamespaces(of: demo.pid).isEmpty, "the demo's namespaces exist while it runs")
            demo.signal(SIGINT)
            let ended = demo.waitForExit(timeout: .seconds(15))
            #expect(ended == .exited(130), "\(demo.output)")
            #expect(demo.standardOutput.contains("Interrupted: cleaning up."), "\(demo.output)")
            #expect(try leftoverNamespaces(of: demo.pid).isEmpty, "Ctrl-C removed every namespace")
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
