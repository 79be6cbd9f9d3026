import ArgumentParser
import DemoOptions
import Foundation
import SystemCall

/// `synwall demo`: runs the demo, which lives in the test bed (`synwall-testbed demo`) so that
/// this binary, which runs as root, carries no attack code. The test bed is looked for beside
/// this program (a build directory) and in `../lib/synwall` (the package: /usr/sbin/synwall,
/// /usr/lib/synwall/synwall-testbed); it replaces this process (same pid, same signals) and
/// runs this synwall on the demo's router.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Show synwall stopping attacks on real traffic in a throwaway network (needs root).",
        discussion: """
            Creates four network namespaces — a client, a router running synwall, a server and an \
            attacker. The client downloads from the server through the router while the attacker \
            runs a spoofed SYN flood, NULL/FIN/XMAS scans, a RST and a data injection against the \
            download, and an SSH brute force. The demo reports each attack's fate from synwall's \
            event log, checks the download arrived intact, and ends with `synwall log --top reason` \
            and `--histogram`. Nothing outside the namespaces is touched, and they are removed when \
            the demo ends or is interrupted. The demo and its attackers are the program \
            synwall-testbed, installed beside synwall or in /usr/lib/synwall.
            """)

    @OptionGroup var options: DemoOptions

    /// The test bed's name.
    static let testbedName = "synwall-testbed"

    /// Where the test bed may be, for the synwall binary at `binary`, in the order tried.
    static func testbedCandidates(besides binary: String) -> [String] {
        let directory = URL(fileURLWithPath: binary).deletingLastPathComponent()
        return [directory.appendingPathComponent(testbedName).path,
                directory.deletingLastPathComponent().appendingPathComponent("lib/synwall/\(testbedName)").path]
    }

    func run() throws {
        try Self.reportingErrors(launchTestbed)
    }

    private func launchTestbed() throws {
        guard let binary = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
            throw CLIError("cannot find this program's own path through /proc/self/exe")
        }
        let candidates = Self.testbedCandidates(besides: binary)
        guard let testbed = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw CLIError("the demo is the program \(Self.testbedName), which is not installed (looked for "
                           + candidates.joined(separator: " and ") + "); build it with swift build, "
                           + "or install the synwall package")
        }
        let arguments = [testbed, "demo", "--synwall", binary] + options.arguments
        fflush(nil)
        let argv = arguments.map { strdup($0) } + [nil]
        execv(testbed, argv)
        let problem = SystemCall.lastError
        argv.forEach { free($0) }
        throw CLIError("cannot run \(testbed): \(problem)")
    }
}
