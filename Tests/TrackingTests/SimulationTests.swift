import Testing
@testable import Tracking
import Wire
import TestSupport

/// Seeded simulations of well-behaved TCP endpoints: every packet must pass. The client's
/// segments are reordered before they reach the firewall, lost segments are retransmitted,
/// windows are scaled (or not), SACK blocks report out-of-order data, both sides send data,
/// idle periods carry keep-alives, and the connection closes with FINs.
@Suite("Simulated connections")
struct SimulationTests {
    typealias Random = SplitMix64

    /// One endpoint's view.
    struct Endpoint {
        var isn: UInt32
        var sendUnacked: UInt32
        var sendNext: UInt32
        /// Right edge the peer allowed (highest ack + window).
        var sendEdge: UInt32
        var receiveNext: UInt32
        /// Out-of-order data received, as [left, right) ranges.
        var outOfOrder: [(UInt32, UInt32)] = []
        /// Bytes of receive window, and the shift it is advertised with.
        var window: UInt32
        var shift: UInt8

        var rawWindow: UInt16 { UInt16(min(65_535, window >> UInt32(shift))) }

        /// Takes in a segment [seq, seq + length).
        mutating func receive(seq: UInt32, length: UInt32) {
            guard length > 0 else { return }
            let end = seq &+ length
            if !SequenceNumber.after(seq, receiveNext) {
                if SequenceNumber.after(end, receiveNext) { receiveNext = end }
                // Pull in out-of-order ranges now contiguous.
                var merged = true
                while merged {
                    merged = false
                    for (index, range) in outOfOrder.enumerated() where !SequenceNumber.after(range.0, receiveNext) {
                        if SequenceNumber.after(range.1, receiveNext) { receiveNext = range.1 }
                        outOfOrder.remove(at: index)
                        merged = true
                        break
                    }
                }
            } else if !outOfOrder.contains(where: { $0.0 == seq }) {
                outOfOrder.append((seq, end))
            }
        }

        /// SACK blocks for the out-of-order data (at most three).
        var sackBlocks: [(UInt32, UInt32)] { Array(outOfOrder.suffix(3)) }

        /// Takes in an acknowledgment and window from the peer.
        mutating func acknowledged(_ ack: UInt32, rawWindow: UInt16, peerShift: UInt8) {
            if SequenceNumber.after(ack, sendUnacked) { sendUnacked = ack }
            let edge = ack &+ (UInt32(rawWindow) << UInt32(peerShift))
            if SequenceNumber.after(edge, sendEdge) { sendEdge = edge }
        }
    }

    static let seeds: [UInt64] = Array(1...24)

    @Test("every packet of a well-behaved connection passes", arguments: seeds)
    func wellBehaved(seed: UInt64) {
        var random = Random(seed: seed &* 0x1234_5678_9ABC_DEF1)
        let harness = Harness(ipv6: seed % 2 == 0, clientHigh: seed % 3 == 0)
        var drops: [String] = []
        var staleDuplicates = 0
        @discardableResult
        func send(_ step: Step) -> TrackResult? {
            guard let result = harness.send(step) else { return nil }
            if result.verdict != .accept { drops.append("\(step) → \(result)") }
            return result
        }

        // Options: window scaling on both, one or neither side; SACK on both or not.
        let clientScale: UInt8? = random.chance(75) ? UInt8(random.below(10)) : nil
        let serverScale: UInt8? = random.chance(75) ? UInt8(random.below(10)) : nil
        let scaling = clientScale != nil && serverScale != nil
        let sack = random.chance(60)
        let nearWrap = random.chance(30)
        let clientISN = nearWrap ? UInt32.max &- UInt32(random.below(200_000)) : UInt32(truncatingIfNeeded: random.next())
        let serverISN = UInt32(truncatingIfNeeded: random.next())
        func windowBytes(_ shift: UInt8?) -> UInt32 {
            let scale = UInt32(scaling ? (shift ?? 0) : 0)
            return UInt32(4_096 + random.below(61_440)) << scale
        }
        var client = Endpoint(isn: clientISN, sendUnacked: clientISN &+ 1, sendNext: clientISN &+ 1, sendEdge: 0,
                              receiveNext: serverISN &+ 1, window: windowBytes(clientScale),
                              shift: scaling ? clientScale ?? 0 : 0)
        var server = Endpoint(isn: serverISN, sendUnacked: serverISN &+ 1, sendNext: serverISN &+ 1, sendEdge: 0,
                              receiveNext: clientISN &+ 1, window: windowBytes(serverScale),
                              shift: scaling ? serverScale ?? 0 : 0)
        let synWindowClient = UInt16(min(65_535, client.window))
        let synWindowServer = UInt16(min(65_535, server.window))
        send(c("S", seq: clientISN, win: synWindowClient, options: opts(ws: clientScale, sackOK: sack)))
        send(s("SA", seq: serverISN, ack: clientISN &+ 1, win: synWindowServer, options: opts(ws: serverScale, sackOK: sack)))
        client.sendEdge = clientISN &+ 1 &+ UInt32(synWindowServer)
        server.sendEdge = serverISN &+ 1 &+ UInt32(synWindowClient)
        send(c("A", seq: client.sendNext, ack: client.receiveNext, win: client.rawWindow))
        server.acknowledged(client.sendNext, rawWindow: client.rawWindow, peerShift: client.shift)

        // Client segments in flight before the firewall (reordered among the first four).
        var inFlight: [Step] = []
        func clientSegment(seq: UInt32, length: UInt32) -> Step {
            c("PA", seq: seq, ack: client.receiveNext, len: Int(length), win: client.rawWindow)
        }
        func deliver() {
            guard !inFlight.isEmpty else { return }
            let step = inFlight.remove(at: random.below(min(4, inFlight.count)))
            guard let result = harness.send(step) else { return }
            let end = step.seq &+ UInt32(step.len)
            if result.verdict == .accept {
                server.receive(seq: step.seq, length: UInt32(step.len))
            } else if result.event == .seqBelowWindow && !SequenceNumber.after(end, server.receiveNext) {
                // A retransmission delayed past more than a window of progress: all of it is
                // below what the server has (S2 guarantees it), so the drop costs nothing.
                staleDuplicates += 1
            } else {
                drops.append("\(step) → \(result)")
            }
        }
        func serverAck() {
            let blocks = sack ? server.sackBlocks : []
            send(s("A", seq: server.sendNext, ack: server.receiveNext, win: server.rawWindow, options: opts(sack: blocks)))
            client.acknowledged(server.receiveNext, rawWindow: server.rawWindow, peerShift: server.shift)
        }

        for _ in 0..<1_500 {
            switch random.below(100) {
            case 0..<45:
                // New data, if the window allows.
                let length = UInt32(1 + random.below(1_460))
                if !SequenceNumber.after(client.sendNext &+ length, client.sendEdge) {
                    inFlight.append(clientSegment(seq: client.sendNext, length: length))
                    client.sendNext &+= length
                }
            case 45..<70:
                deliver()
            case 70..<85:
                serverAck()
            case 85..<90:
                // Retransmit the oldest unacknowledged bytes.
                let outstanding = client.sendNext &- client.sendUnacked
                if outstanding > 0 {
                    inFlight.append(clientSegment(seq: client.sendUnacked, length: min(outstanding, 1_460)))
                }
            case 90..<96:
                // The server sends data; the client acks it.
                let length = UInt32(1 + random.below(1_000))
                if !SequenceNumber.after(server.sendNext &+ length, server.sendEdge) {
                    send(s("PA", seq: server.sendNext, ack: server.receiveNext, len: Int(length), win: server.rawWindow))
                    client.acknowledged(server.receiveNext, rawWindow: server.rawWindow, peerShift: server.shift)
                    server.sendNext &+= length
                    client.receive(seq: server.sendNext &- length, length: length)
                    send(c("A", seq: client.sendNext, ack: client.receiveNext, win: client.rawWindow))
                    server.acknowledged(client.receiveNext, rawWindow: client.rawWindow, peerShift: client.shift)
                }
            default:
                // Idle: a keep-alive when nothing is outstanding.
                if inFlight.isEmpty && client.sendUnacked == client.sendNext {
                    send(c("A", seq: client.sendNext &- 1, ack: client.receiveNext, win: client.rawWindow).at(60))
                    serverAck()
                }
            }
        }
        // Drain, retransmit what is missing, then close.
        var rounds = 0
        while (client.sendUnacked != client.sendNext || !inFlight.isEmpty) && rounds < 10_000 {
            rounds += 1
            if inFlight.isEmpty {
                let outstanding = client.sendNext &- client.sendUnacked
                inFlight.append(clientSegment(seq: client.sendUnacked, length: min(outstanding, 1_460)))
            }
            deliver()
            serverAck()
        }
        send(c("FA", seq: client.sendNext, ack: client.receiveNext, win: client.rawWindow))
        send(s("FA", seq: server.sendNext, ack: client.sendNext &+ 1, win: server.rawWindow))
        send(c("A", seq: client.sendNext &+ 1, ack: server.sendNext &+ 1, win: client.rawWindow))
        #expect(drops.isEmpty, "seed \(seed): \(drops.count) drops, first: \(drops.first ?? "")")
        #expect(harness.onlyConnection?.state == .timeWait)
        // Not vacuous: data moved both ways and the whole stream was acknowledged.
        #expect(client.sendUnacked &- clientISN > 50_000, "seed \(seed): \(client.sendUnacked &- clientISN) bytes")
        #expect(server.sendNext &- serverISN > 1_000)
        #expect(server.receiveNext == client.sendNext)
        #expect(staleDuplicates < 400)
    }
}
