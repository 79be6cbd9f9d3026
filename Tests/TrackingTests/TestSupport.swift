import Testing
@testable import Tracking
import Wire

/// Which end of the test connection sends a packet.
enum Side: Sendable {
    case client
    case server
}

/// What a step must get from the tracker.
enum Expected: Sendable, Equatable, CustomStringConvertible {
    /// Accepted; the state checked when given; the event exactly (nil: no event).
    case pass(ConnectionState?, TrackerEvent?)
    /// Dropped with this reason and event.
    case drop(DropReason, TrackerEvent?)

    var description: String {
        switch self {
        case .pass(let state, let event): "pass \(state?.name ?? "-") \(event?.name ?? "-")"
        case .drop(let reason, let event): "drop \(reason.rawValue) \(event?.name ?? "-")"
        }
    }
}

/// One TCP packet of a scenario, in the reference's notation: `c("PA", seq: 1001, ack: 5001, len: 100)`.
struct Step: Sendable, CustomStringConvertible {
    var side: Side
    var flags: String
    var seq: UInt32 = 0
    var ack: UInt32 = 0
    var len = 0
    var win: UInt16 = 65535
    var options = TCPOptions()
    var urgentPointer: UInt16 = 0
    /// Seconds the clock moves before this packet.
    var after: Double = 0
    var expected = Expected.pass(nil, nil)

    var description: String {
        "\(side == .client ? "C>S" : "S>C") \(flags) seq=\(seq) ack=\(ack) len=\(len) win=\(win)"
    }

    /// Expect acceptance (the state when given, exactly this event).
    func ok(_ state: ConnectionState? = nil, _ event: TrackerEvent? = nil) -> Step {
        var step = self
        step.expected = .pass(state, event)
        return step
    }

    /// Expect a drop.
    func drop(_ reason: DropReason, _ event: TrackerEvent?) -> Step {
        var step = self
        step.expected = .drop(reason, event)
        return step
    }

    /// The same packet after `seconds`.
    func at(_ seconds: Double) -> Step {
        var step = self
        step.after = seconds
        return step
    }
}

func c(_ flags: String, seq: UInt32 = 0, ack: UInt32 = 0, len: Int = 0, win: UInt16 = 65535,
       options: TCPOptions = TCPOptions(), urgent: UInt16 = 0) -> Step {
    Step(side: .client, flags: flags, seq: seq, ack: ack, len: len, win: win, options: options, urgentPointer: urgent)
}

func s(_ flags: String, seq: UInt32 = 0, ack: UInt32 = 0, len: Int = 0, win: UInt16 = 65535,
       options: TCPOptions = TCPOptions(), urgent: UInt16 = 0) -> Step {
    Step(side: .server, flags: flags, seq: seq, ack: ack, len: len, win: win, options: options, urgentPointer: urgent)
}

/// Flags from letters: F S R P A U, E (ECE), W (CWR), N (AE).
func flags(_ letters: String) -> TCPFlags {
    var result: TCPFlags = []
    for letter in letters {
        switch letter {
        case "F": result.insert(.fin)
        case "S": result.insert(.syn)
        case "R": result.insert(.rst)
        case "P": result.insert(.psh)
        case "A": result.insert(.ack)
        case "U": result.insert(.urg)
        case "E": result.insert(.ece)
        case "W": result.insert(.cwr)
        case "N": result.insert(.ae)
        default: Issue.record("unknown flag letter \(letter)")
        }
    }
    return result
}

/// Options helpers.
func opts(ws: UInt8? = nil, sackOK: Bool = false, ts: UInt32? = nil, sack: [(UInt32, UInt32)] = [],
          fastOpen: Bool = false) -> TCPOptions {
    var options = TCPOptions()
    options.windowScale = ws
    options.sackPermitted = sackOK
    if let ts { options.timestamp = (ts, 0) }
    for block in sack { options.appendSACKBlock(left: block.0, right: block.1) }
    options.fastOpen = fastOpen
    return options
}

/// The reference's H2 (SYN, SYN-ACK) and H (plus the final ACK), c = 1000, s = 5000.
let h2: [Step] = [
    c("S", seq: 1000).ok(.synSent),
    s("SA", seq: 5000, ack: 1001).ok(.synRecv),
]
let h: [Step] = h2 + [c("A", seq: 1001, ack: 5001).ok(.established)]

/// A test configuration: small table, fixed seed, no per-source rate limit.
func testConfiguration(maxStates: Int = 4096, pickup: Bool = false, rstExact: Bool = false,
                       paws: Bool = false, timestampsStrict: Bool = false) -> TrackerConfiguration {
    var configuration = TrackerConfiguration(maxStates: maxStates, pickup: pickup, rstExact: rstExact,
                                             maxHalfOpen: 250_000, maxHalfOpenPerSource: 0,
                                             synRatePerSource: .unlimited, sourceTableCapacity: 1024, hashSeed: 42)
    configuration.paws = paws
    configuration.timestampsStrict = timestampsStrict
    return configuration
}

/// A tracker and a client/server pair; sends steps as real packets (built, then decoded).
final class Harness {
    var tracker: ConnectionTracker
    /// Nanoseconds of the injected clock.
    var now: UInt64 = 1_000_000 * 1_000_000_000
    var client: IPAddress
    var server: IPAddress
    var clientPort: UInt16 = 40_000
    var serverPort: UInt16 = 80

    /// - Parameters:
    ///   - ipv6: use IPv6 addresses.
    ///   - clientHigh: give the client the higher address (the initiator is the key's high end).
    init(_ configuration: TrackerConfiguration = testConfiguration(), ipv6: Bool = false, clientHigh: Bool = false) {
        tracker = ConnectionTracker(configuration: configuration)
        let low = ipv6 ? IPAddress("2001:db8::1") : IPAddress("192.0.2.1")
        let high = ipv6 ? IPAddress("2001:db8::2") : IPAddress("192.0.2.2")
        let a = low ?? IPAddress(ipv4: 1), b = high ?? IPAddress(ipv4: 2)
        client = clientHigh ? b : a
        server = clientHigh ? a : b
    }

    func advance(_ seconds: Double) {
        now += UInt64(seconds * 1_000_000_000)
    }

    /// The packet bytes for `step`.
    func bytes(_ step: Step) -> [UInt8] {
        let from = step.side == .client ? client : server
        let to = step.side == .client ? server : client
        let builder = PacketBuilder(source: from, destination: to)
        return builder.tcp(sourcePort: step.side == .client ? clientPort : serverPort,
                           destinationPort: step.side == .client ? serverPort : clientPort,
                           sequence: step.seq, acknowledgment: step.ack, flags: flags(step.flags), window: step.win,
                           urgentPointer: step.urgentPointer, options: step.options,
                           payload: [UInt8](repeating: 0x61, count: step.len))
    }

    /// Sends raw packet bytes through the decoder and the tracker.
    func send(bytes: [UInt8], originalLength: Int? = nil, admission: inout some Admission) -> TrackResult? {
        guard let packet = bytes.withUnsafeBytes({ PacketDecoder.decode($0, originalLength: originalLength) }).packet
        else {
            Issue.record("test packet does not decode")
            return nil
        }
        let time = now
        return bytes.withUnsafeBytes { tracker.track(packet, bytes: $0, now: time, admission: &admission) }
    }

    func send(bytes: [UInt8], originalLength: Int? = nil) -> TrackResult? {
        var admission = AdmitAll()
        return send(bytes: bytes, originalLength: originalLength, admission: &admission)
    }

    func send(_ step: Step) -> TrackResult? {
        advance(step.after)
        return send(bytes: bytes(step))
    }

    /// Sends every step and checks each result; returns the results.
    @discardableResult
    func run(_ steps: [Step], sourceLocation: SourceLocation = #_sourceLocation) -> [TrackResult] {
        var results: [TrackResult] = []
        for (number, step) in steps.enumerated() {
            guard let result = send(step) else { continue }
            results.append(result)
            check(result, step.expected, "step \(number + 1): \(step)", sourceLocation: sourceLocation)
        }
        return results
    }

    /// The only flow's snapshot (nil when there is not exactly one).
    var onlyConnection: ConnectionSnapshot? {
        let all = tracker.snapshot()
        return all.count == 1 ? all[0] : nil
    }
}

/// Checks a result against an expectation.
func check(_ result: TrackResult, _ expected: Expected, _ context: String,
           sourceLocation: SourceLocation = #_sourceLocation) {
    switch expected {
    case .pass(let state, let event):
        #expect(result.verdict == .accept, "\(context): got \(result)", sourceLocation: sourceLocation)
        #expect(result.reason == nil, "\(context)", sourceLocation: sourceLocation)
        if let state {
            #expect(result.state == state, "\(context): state", sourceLocation: sourceLocation)
        }
        #expect(result.event == event, "\(context): event", sourceLocation: sourceLocation)
    case .drop(let reason, let event):
        #expect(result.verdict == .drop, "\(context): got \(result)", sourceLocation: sourceLocation)
        #expect(result.reason == reason, "\(context): reason", sourceLocation: sourceLocation)
        #expect(result.event == event, "\(context): event", sourceLocation: sourceLocation)
    }
}

/// A scenario of the catalogue: a name (its number and title) and its packets.
struct Scenario: Sendable, CustomTestStringConvertible {
    var name: String
    var steps: [Step]
    var pickup = false
    var rstExact = false

    init(_ name: String, _ steps: [Step], pickup: Bool = false, rstExact: Bool = false) {
        self.name = name
        self.steps = steps
        self.pickup = pickup
        self.rstExact = rstExact
    }

    var testDescription: String { name }
}

/// The address families and endpoint orders every scenario runs in.
struct Family: Sendable, CustomTestStringConvertible {
    var ipv6: Bool
    var clientHigh: Bool
    var testDescription: String { "\(ipv6 ? "IPv6" : "IPv4")\(clientHigh ? ", client high" : "")" }

    static let all = [Family(ipv6: false, clientHigh: false), Family(ipv6: true, clientHigh: false),
                      Family(ipv6: false, clientHigh: true), Family(ipv6: true, clientHigh: true)]
}

/// Admits only what the closure says (tests only).
struct AdmitIf: Admission {
    var rule: (Packet, FlowKey) -> Bool
    var asked = 0
    mutating func admit(_ packet: Packet, key: FlowKey) -> Bool {
        asked += 1
        return rule(packet, key)
    }
}
