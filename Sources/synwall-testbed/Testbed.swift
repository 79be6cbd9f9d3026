import ArgumentParser

/// `synwall-testbed`: the demo and the attack tooling, kept out of the daemon's binary (which
/// runs as root and carries no attack code). `synwall demo` finds this program beside itself,
/// or in /usr/lib/synwall, and runs its `demo`; the demo and the integration tests run its
/// `peer` helpers inside the sandbox's namespaces.
@main
struct Testbed: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synwall-testbed",
        abstract: "synwall's test bed: the demo and the traffic and attack helpers (needs root).",
        subcommands: [DemoCommand.self, PeerCommand.self])
}
