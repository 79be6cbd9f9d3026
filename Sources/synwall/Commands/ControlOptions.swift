import ArgumentParser
import Control
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How to reach the running daemon.
struct ControlOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The daemon's control socket.", valueName: "path"))
    var control: String = ControlSocketAddress.defaultPath

    @Option(name: .long, help: ArgumentHelp("Seconds to wait for the daemon's answer.", valueName: "seconds"))
    var timeout: Int = 10

    func validate() throws {
        guard timeout > 0 else { throw ValidationError("--timeout must be at least 1 second") }
    }

    /// Asks the daemon; its errors become one-line CLI errors (exit 1).
    func send(_ request: ControlRequest) throws -> ControlResponse {
        do throws(ControlError) {
            return try ControlClient(path: control, timeoutSeconds: timeout).send(request)
        } catch {
            throw CLIError(error.description)
        }
    }
}

/// `--watch`: redraw every `--interval` seconds, `--count` times (0: until interrupted).
struct WatchOptions: ParsableArguments {
    @Flag(name: .long, help: "Redraw every --interval seconds (in place on a terminal) until interrupted.")
    var watch = false

    @Option(name: .long, help: ArgumentHelp("Seconds between redraws with --watch.", valueName: "seconds"))
    var interval: Double = 2

    @Option(name: .long, help: ArgumentHelp("With --watch, stop after this many redraws (0: never).",
                                            valueName: "n"))
    var count: Int = 0

    func validate() throws {
        guard interval >= 0.1, interval <= 3600 else { throw ValidationError("--interval must be between 0.1 and 3600 seconds") }
        guard count >= 0 else { throw ValidationError("--count must not be negative") }
        if count > 0, !watch { throw ValidationError("--count only applies with --watch") }
    }

    /// Calls `frame` once, or repeatedly with --watch, drawing what it returns.
    func run(_ frame: (_ iteration: Int) throws -> String) throws {
        guard watch else {
            writeLine(try frame(0))
            return
        }
        let terminal = isatty(1) == 1
        var iteration = 0
        while count == 0 || iteration < count {
            let text = try frame(iteration)
            if terminal {
                writeLine("\u{1B}[H\u{1B}[2J" + text)
            } else {
                if iteration > 0 { writeLine("") }
                writeLine(text)
            }
            iteration += 1
            if count != 0, iteration >= count { break }
            usleep(useconds_t(interval * 1_000_000))
        }
    }
}
