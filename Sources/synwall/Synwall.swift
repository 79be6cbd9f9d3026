import ArgumentParser
import Control

/// The `synwall` command: configuration only; each subcommand lives in Commands/.
@main
struct Synwall: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synwall",
        abstract: "A stateful TCP firewall daemon on NFQUEUE.",
        discussion: """
        synwall receives packets from the kernel through NFQUEUE, follows every TCP connection \
        through handshake, data and close, drops what does not fit, and logs every suspicious \
        event as JSON Lines. The same pipeline runs offline on capture files (replay).
        """,
        version: "synwall " + BuildInfo.description,
        subcommands: [RunCommand.self, ReloadCommand.self, ReplayCommand.self, CheckCommand.self, ExplainCommand.self,
                      RulesCommand.self, LogCommand.self, StatsCommand.self, ConnsCommand.self, TableCommand.self,
                      TraceCommand.self, BenchCommand.self,
                      DemoCommand.self, StateCommand.self]
    )
}
