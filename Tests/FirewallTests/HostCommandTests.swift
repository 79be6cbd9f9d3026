import Foundation
import Testing
@testable import Firewall

/// `HostCommand` runs iptables-restore and nft: a command that writes much to stderr (or
/// reads a large stdin slowly) must not deadlock the daemon.
@Suite struct HostCommandTests {
    @Test func aCommandThatFillsStderrFirstDoesNotDeadlock() {
        // 1 MiB to stderr before anything to stdout: reading stdout to its end first would
        // wait forever while the command waits for room in the full stderr pipe.
        let script = "head -c 1048576 /dev/zero | tr '\\\\0' e >&2; echo done"
        let output = HostCommand.run(["sh", "-c", script], timeout: .seconds(30))
        #expect(output.status == 0)
        #expect(output.stdout == "done\n")
        #expect(output.stderr.utf8.count == 1 << 20)
        #expect(output.firstErrorLine.count == 500)
    }

    @Test func aLargeInputIsFedWhileOutputIsRead() {
        // cat echoes 4 MiB of stdin to stdout: writing it all before reading would block once
        // both pipes are full.
        let input = String(repeating: "0123456789abcdef", count: 1 << 18)
        let output = HostCommand.run(["cat"], input: input, timeout: .seconds(30))
        #expect(output.status == 0)
        #expect(output.stdout.utf8.count == input.utf8.count)
        #expect(output.stdout == input)
    }

    @Test func aCommandThatHangsIsKilledAtTheTimeout() {
        let output = HostCommand.run(["sleep", "30"], timeout: .milliseconds(300))
        #expect(output.status == 124)
        #expect(output.stderr.contains("did not finish"))
        let early = HostCommand.run(["true"], input: String(repeating: "x", count: 1 << 20), timeout: .seconds(30))
        #expect(early.status == 0)  // closed its stdin without reading: no SIGPIPE for us
    }
}
