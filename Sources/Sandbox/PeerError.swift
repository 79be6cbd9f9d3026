import SystemCall
#if canImport(Glibc)
import Glibc
#endif

/// Why an echo exchange of `synwall peer` failed: one line, fit for stderr.
public enum PeerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The host or port could not be resolved.
    case resolve(host: String, reason: String)
    /// A socket call failed.
    case system(operation: String, errno: Int32)
    /// The remote side refused, reset or could not be reached.
    case connect(host: String, port: UInt16, errno: Int32)
    /// The time limit ran out during `phase` (connecting, sending, waiting for the echo).
    case timedOut(phase: String, host: String, port: UInt16, seconds: Double)
    /// The remote side closed before echoing everything.
    case closedEarly(received: Int, expected: Int)
    /// The echo differs from what was sent.
    case mismatch(received: Int)
    /// A request the helper cannot carry out, with what to change (one sentence).
    case unusable(String)

    public var description: String {
        switch self {
        case let .resolve(host, reason):
            return "cannot resolve \(host): \(reason)"
        case let .system(operation, errno):
            return "\(operation) failed: \(Self.text(errno))"
        case let .connect(host, port, errno):
            return "cannot connect to \(host) port \(port): \(Self.text(errno))"
        case let .timedOut(phase, host, port, seconds):
            return "timed out after \(seconds) s \(phase) (\(host) port \(port))"
        case let .closedEarly(received, expected):
            return "connection closed after \(received) of \(expected) echoed bytes"
        case let .mismatch(received):
            return "the echo (\(received) bytes) differs from what was sent"
        case let .unusable(sentence):
            return sentence
        }
    }

    static func text(_ errno: Int32) -> String {
        SystemCall.describe(errno)
    }
}
