import ArgumentParser
import Foundation
import Rules

/// `synwall bench …`: measurements of this build's own speed.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure this build's speed (use a release build: swift build -c release).",
        subcommands: [RulesBench.self]
    )

    /// `synwall bench rules`.
    struct RulesBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rules",
            abstract: "Nanoseconds per rule decision: a 1,000-rule file and a 100,000-prefix table.",
            discussion: """
            Generates the same inputs on every run (a 1,000-rule file, 4,096 SYNs and datagrams, \
            a table of 100,000 IPv4 and IPv6 prefixes, 65,536 probes) and times RuleMatcher.admit, \
            the daemon's path, in 7 repetitions; prints the best and the median. Figures mean \
            something only from a release build (swift build -c release; .build/release/synwall \
            bench rules); a debug build is many times slower. Takes about half a minute.
            """
        )

        @Option(name: .long, help: ArgumentHelp(
            "Passes over the packets for the 1,000-rule cases (the table cases make a tenth as many; at least 7).",
            valueName: "n"))
        var iterations: Int = RuleBenchmark.defaultIterations

        @Flag(name: .long, help: ArgumentHelp("Print one JSON line with every figure instead of text: "
            + "{\"timestamp\":…,\"event_type\":\"bench\",\"bench\":{…}} (docs/json.md)."))
        var json = false

        func validate() throws {
            guard iterations > 0 else { throw ValidationError("--iterations must be a positive number of passes") }
        }

        func run() throws {
            try Self.reportingErrors {
                let report: RuleBenchmark.Report
                do {
                    report = try RuleBenchmark.run(iterations: iterations) { line in
                        if !json { writeLine(line) }
                    }
                } catch {
                    throw CLIError("the generated benchmark rules did not compile (a synwall bug, please report): \(error)")
                }
                if json {
                    writeLine(try JSONOutput.record(type: "bench", report))
                } else {
                    writeLine("")
                    writeLine(report.summary)
                }
            }
        }
    }
}
