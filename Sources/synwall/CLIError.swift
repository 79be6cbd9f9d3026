import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// A failure the user can act on: printed as one line `synwall: error: …`, exit status 1
/// (or the status given).
struct CLIError: Error, CustomStringConvertible {
    var message: String
    var status: Int32

    init(_ message: String, status: Int32 = 1) {
        self.message = message
        self.status = status
    }

    var description: String { message }
}

extension ParsableCommand {
    /// Runs `body`, turning a `CLIError` into one line on stderr and its exit status.
    static func reportingErrors(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as CLIError {
            fputs("synwall: error: \(error.message)\n", stderr)
            throw ExitCode(error.status)
        }
    }
}
