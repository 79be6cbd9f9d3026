import EventLog
import Wire

/// A record as ``LogLineParser/scan(_:)`` leaves it: numbers parsed, strings only located in
/// the line. Filtering looks at this; an ``Event`` (with its `String`s) is built only for the
/// records that match. Valid only with the line it was scanned from.
struct LogRawRecord {
    /// Where a string value sits in the line: `start` and `count` bytes (between the quotes),
    /// and whether it holds backslash escapes. `start` −1: absent.
    struct Slice {
        var start: Int32 = -1
        var count: Int32 = 0
        var escaped = false

        var isPresent: Bool { start >= 0 }

        /// The slice's bytes in `line`.
        @inline(__always)
        func bytes(in line: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
            guard start >= 0, let base = line.baseAddress else { return UnsafeBufferPointer(start: nil, count: 0) }
            return UnsafeBufferPointer(start: base + Int(start), count: Int(count))
        }
    }

    var timestamp: UInt64 = 0
    var eventType: EventType = .drop
    var flowID: UInt64?
    var queue: Int?
    var direction: Direction?
    var inInterface = Slice()
    var proto = Slice()
    var sourceIP = Slice()
    var sourcePort: UInt16?
    var destinationIP = Slice()
    var destinationPort: UInt16?
    var reason = Slice()
    var detail = Slice()
    var state = Slice()
    var hasRule = false
    var ruleFile = Slice()
    var ruleLine = 0
    var ruleLabel = Slice()
    var tcp: TCPFields?
    var count = 1
    var firstSeen: UInt64?
    var lastSeen: UInt64?
    var flow: FlowFields?
    /// A suppressed record's `reasons` and `sources` objects (from `{` to `}`).
    var reasons = Slice()
    var sources = Slice()
}
