import SystemCall

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a log file could not be read.
public enum LogReadError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `open(2)` failed; `errno` says why.
    case cannotOpen(path: String, errno: Int32)
    /// Reading failed part-way (an I/O error, or a damaged gzip stream).
    case cannotRead(path: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, code):
            let text = SystemCall.describe(code)
            return "cannot open log file '\(path)': \(text); check the path and that you may read it "
                + "(the daemon's log is usually readable by root and the adm group)"
        case let .cannotRead(path, reason):
            return "cannot read log file '\(path)': \(reason); the rest of this file is skipped"
        }
    }
}
