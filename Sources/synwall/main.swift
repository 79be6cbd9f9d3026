// LOCAL DEV ROOT (not committed): the lead's Synwall.swift replaces this.
import ArgumentParser
struct DevRoot: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "synwall", subcommands: [PeerCommand.self, DemoCommand.self])
}
DevRoot.main()
