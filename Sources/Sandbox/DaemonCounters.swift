/// The counters of the daemon's stop line,
/// `synwall: stopped: received=N accepted=N dropped=N malformed=N enobufs=N`.
///
/// Unknown `key=value` pairs are kept in ``values``, so the line may grow without breaking this.
public struct DaemonCounters: Sendable, Equatable, CustomStringConvertible {
    /// The prefix of the daemon's stop line.
    public static let stopLinePrefix = "synwall: stopped:"
    /// The prefix of the daemon's ready line.
    public static let readyLinePrefix = "synwall: ready"

    /// Every `key=value` pair of the line whose value is a whole number.
    public let values: [String: Int]

    /// Parses a stop line; nil when it is not one or has no counters.
    public init?(stopLine: String) {
        guard let start = stopLine.range(of: Self.stopLinePrefix) else { return nil }
        var values: [String: Int] = [:]
        for word in stopLine[start.upperBound...].split(separator: " ") {
            let pair = word.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, let value = Int(pair[1]) else { continue }
            values[String(pair[0])] = value
        }
        guard !values.isEmpty else { return nil }
        self.values = values
    }

    /// Finds and parses the stop line in a daemon's output.
    public init?(output: String) {
        guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix(Self.stopLinePrefix) })
        else { return nil }
        self.init(stopLine: String(line))
    }

    /// Packets the daemon received from the kernel.
    public var received: Int { values["received", default: 0] }
    /// Packets it accepted.
    public var accepted: Int { values["accepted", default: 0] }
    /// Packets it dropped (malformed ones included).
    public var dropped: Int { values["dropped", default: 0] }
    /// Packets it dropped because they did not decode.
    public var malformed: Int { values["malformed", default: 0] }
    /// Times the kernel reported a full socket buffer (lost packets).
    public var enobufs: Int { values["enobufs", default: 0] }

    public var description: String {
        values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }
}
