import Foundation
import Sandbox
import Testing

extension IntegrationTests {
    /// `synwall table NAME show|add|delete|flush|test` on the real daemon with two queues:
    /// every worker's table changes at once (IPv4 and IPv6 connections, which the kernel may
    /// spread over either queue), entries survive a reload and a restart (state file), each
    /// change is logged, and mistakes get one-line errors.
    @Suite struct Tables {
        @Test("table add/show/test/delete/flush through the control socket, kept across reload and restart, logged")
        func tableAtRuntime() throws {
            let sandbox = try Harness.sandbox()
            defer { sandbox.teardown() }
            let binary = try Harness.synwallBinary()
            try sandbox.startEchoServer(port: Harness.port)
            let rules = sandbox.workDirectory.appendingPathComponent("tables.rules")
            let ruleText = """
            policy forward drop
            table <blocklist> { 192.0.2.0/24, 2001:db8:ffff::1 }
            table <fixed> const { 192.0.2.1 }
            block forward quick from { <blocklist>, <fixed> }
            pass forward proto tcp to port 8080
            """
            try ruleText.write(to: rules, atomically: true, encoding: .utf8)
            let log = sandbox.workDirectory.appendingPathComponent("events.jsonl").path
            let state = sandbox.workDirectory.appendingPathComponent("state").path
            let socketPath = sandbox.workDirectory.appendingPathComponent("control.sock").path
            let arguments = ["--hook", "forward", "--queues", "0-1", "--rules", rules.path, "--log", log,
                             "--control", socketPath, "--state", state, "--pid-file", "none"]
            var daemon = try Daemon.start(sandbox, arguments)
            func table(_ words: String...) throws -> CommandResult {
                try sandbox.run(in: sandbox.client, [binary, "table"] + words + ["--control", socketPath])
            }
            try sandbox.expectConnections(succeed: true, "before any entry is added")

            // add: the client's IPv4 address and its IPv6 /120, for an hour.
            let v6Prefix = sandbox.client.ipv6 + "/120"
            let added = try table("blocklist", "add", sandbox.client.ipv4, v6Prefix, "--expire", "1h")
            #expect(added.status == 0 && added.stdout == "2 added to <blocklist>\n", "\(added)")
            try sandbox.expectConnections(succeed: false, "once the client is in <blocklist>")

            // show: written ranges and added entries, with their expiry.
            let shown = try table("<blocklist>", "show")
            #expect(shown.status == 0, "\(shown)")
            #expect(shown.stdout.contains("2 written ranges, 2 entries added while running"), "\(shown)")
            #expect(shown.stdout.contains("192.0.2.0/24") && shown.stdout.contains("file"), "\(shown)")
            let clientLine = shown.stdout.split(separator: "\n").first { $0.hasPrefix(sandbox.client.ipv4 + " ") }
            #expect(clientLine?.contains("added") == true && clientLine?.contains("in 59m") == true, "\(shown)")
            let json = try table("blocklist", "show", "--json")
            let records = try json.stdout.split(separator: "\n").map {
                try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
            }
            #expect(records.count == 4, "\(json)")
            let v6Record = records.first { ($0["entry"] as? String ?? "").hasSuffix("/120") }
            #expect(v6Record?["origin"] as? String == "added", "\(json)")
            #expect((v6Record?["expiresInSeconds"] as? Int ?? 0) > 3500, "\(json)")

            // test: exit 0 and the entry when it matches, 1 when not.
            let hit = try table("blocklist", "test", sandbox.client.ipv4)
            #expect(hit.status == 0 && hit.stdout.contains("in <blocklist>, entry \(sandbox.client.ipv4) (added"), "\(hit)")
            let written = try table("blocklist", "test", "192.0.2.77", "--json")
            #expect(written.status == 0 && written.stdout.contains("\"origin\":\"file\""), "\(written)")
            let miss = try table("blocklist", "test", "203.0.113.9")
            #expect(miss.status == 1 && miss.stdout == "203.0.113.9: not in <blocklist>\n", "\(miss)")

            // Mistakes: one line, did-you-mean, exit 2; nothing changes.
            let typo = try table("blocklsit", "show")
            #expect(typo.status == 2 && typo.stderr.contains("no table <blocklsit>") && typo.stderr.contains("did you mean <blocklist>?"),
                    "\(typo)")
            #expect(typo.stderr.split(separator: "\n").count == 1, "\(typo)")
            let constant = try table("fixed", "add", "203.0.113.9")
            #expect(constant.status == 2 && constant.stderr.contains("is const"), "\(constant)")
            let bad = try table("blocklist", "add", "not-an-address")
            #expect(bad.status == 2 && bad.stderr.contains("is not an address or prefix"), "\(bad)")
            let verb = try table("blocklist", "delte", "192.0.2.9")
            #expect(verb.status == 2 && verb.stderr.contains("did you mean 'delete'?"), "\(verb)")

            // A reload keeps what was added.
            let reload = try sandbox.run(in: sandbox.client, [binary, "reload", "--control", socketPath, "--pid-file", "/nonexistent"])
            #expect(reload.status == 0, "\(reload)")
            #expect(try table("blocklist", "test", sandbox.client.ipv4).status == 0, "kept across the reload")
            try sandbox.expectConnections(succeed: false, "after the reload")

            // delete the IPv4 entry: IPv4 passes again, IPv6 (the /120) is still refused.
            let deleted = try table("blocklist", "delete", sandbox.client.ipv4, "192.0.2.1")
            #expect(deleted.status == 0 && deleted.stdout == "1 deleted from <blocklist>\n", "\(deleted)")
            #expect(deleted.stderr.contains("1 not among the entries added while running"), "\(deleted)")
            #expect(try sandbox.connectToServer(ipv6: false).succeeded, "IPv4 deleted")
            #expect(!(try sandbox.connectToServer(ipv6: true, timeout: Harness.blockedTimeout)).succeeded, "IPv6 still in")

            // flush: every added entry goes, the written ones stay.
            let flushed = try table("blocklist", "flush")
            #expect(flushed.status == 0 && flushed.stdout.hasPrefix("1 entry flushed from <blocklist>"), "\(flushed)")
            try sandbox.expectConnections(succeed: true, "after the flush")
            #expect(try table("blocklist", "test", "192.0.2.77").status == 0, "written entries stay")

            // Kept across a restart (state file), with the time it had left.
            #expect(try table("blocklist", "add", sandbox.client.ipv4, "--expire", "2h").status == 0)
            _ = try daemon.stop()
            daemon = try Daemon.start(sandbox, arguments)
            let restored = try table("blocklist", "test", sandbox.client.ipv4, "--json")
            #expect(restored.status == 0 && restored.stdout.contains("\"origin\":\"added\""), "\(restored)")
            #expect(try sandbox.connectToServer(ipv6: true).succeeded, "IPv6 was not added again")
            #expect(!(try sandbox.connectToServer(ipv6: false, timeout: Harness.blockedTimeout)).succeeded, "IPv4 still blocked after restart")
            _ = try daemon.stop()

            // A state file older than set state max-age: its connections stay out, but a ban
            // outlives a long restart.
            try ("set state max-age 1s\n" + ruleText).write(to: rules, atomically: true, encoding: .utf8)
            Thread.sleep(forTimeInterval: 2.5)
            daemon = try Daemon.start(sandbox, arguments)
            #expect(daemon.process.firstLine(prefix: "synwall: state: ")?.contains("its table entries are") == true,
                    "\(daemon.process.output)")
            #expect(try table("blocklist", "test", sandbox.client.ipv4).status == 0, "kept from a file older than max-age")
            _ = try daemon.stop()

            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            let changes = text.split(separator: "\n").filter { $0.contains("\"event_type\":\"table\"") }
            #expect(changes.filter { $0.contains("\"reason\":\"table_add\"") }.count == 3, "\(changes)")
            #expect(changes.contains { $0.contains("\"reason\":\"table_delete\"") && $0.contains("\"src_ip\":\"\(sandbox.client.ipv4)\"") },
                    "\(changes)")
            #expect(changes.contains { $0.contains("\"reason\":\"table_flush\"") }, "\(changes)")
            let review = try sandbox.run(in: sandbox.client, [binary, "log", log, "--event", "table"])
            #expect(review.status == 0 && review.stdout.contains("table_add"), "\(review)")
        }
    }
}
