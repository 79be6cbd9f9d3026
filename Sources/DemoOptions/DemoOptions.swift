import ArgumentParser

/// The demo's options, the same in `synwall demo` (which checks them, then hands them to the
/// test bed) and in `synwall-testbed demo` (which runs the demo with them).
public struct DemoOptions: ParsableArguments, Sendable {
    @Option(help: "TCP port of the demo's download service.")
    public var port: UInt16 = 8080

    @Option(help: "Size of the download in MiB.")
    public var downloadSize = 48

    @Option(help: "Pace of the download while the attacks run, in KiB per second.")
    public var downloadRate = 1536

    @Option(help: "Spoofed SYNs in the flood.")
    public var flood = 2000

    @Option(help: "Keep synwall's JSON Lines event log at this path (default: a temporary file).")
    public var log: String?

    public init() {}

    public func validate() throws {
        guard (4...4096).contains(downloadSize) else { throw ValidationError("--download-size must be 4 to 4096 MiB.") }
        guard (64...1_048_576).contains(downloadRate) else {
            throw ValidationError("--download-rate must be 64 to 1048576 KiB per second.")
        }
        guard (300...100_000).contains(flood) else { throw ValidationError("--flood must be 300 to 100000 SYNs.") }
        guard port != 22 else { throw ValidationError("--port 22 is the demo's SSH port: choose another.") }
    }

    /// The options as command-line arguments, to hand on to the test bed.
    public var arguments: [String] {
        ["--port", String(port), "--download-size", String(downloadSize), "--download-rate", String(downloadRate),
         "--flood", String(flood)] + (log.map { ["--log", $0] } ?? [])
    }
}
