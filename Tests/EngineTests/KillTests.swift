@testable import Engine
import EventLog
import Rules
import Testing
import Tracking
import Wire

/// `synwall conns --kill` on the pipeline: the matching flows leave the table, the others stay,
/// and a killed connection's next segment is judged as new (no_connection).
@Suite struct KillTests {
    let client = PacketBuilder(from: "192.0.2.1", to: "198.51.100.2")!
    let server = PacketBuilder(from: "198.51.100.2", to: "192.0.2.1")!

    /// Opens a TCP connection from `port` to `destinationPort` through `pipeline`.
    func open(_ pipeline: inout Pipeline, port: UInt16, to destinationPort: UInt16, at now: UInt64) {
        let steps = [
            client.tcp(sourcePort: port, destinationPort: destinationPort, sequence: 100, flags: .syn, window: 1024),
            server.tcp(sourcePort: destinationPort, destinationPort: port, sequence: 500, acknowledgment: 101,
                       flags: [.syn, .ack], window: 1024),
            client.tcp(sourcePort: port, destinationPort: destinationPort, sequence: 101, acknowledgment: 501,
                       flags: .ack, window: 1024),
        ]
        for bytes in steps {
            let decision = bytes.withUnsafeBytes { pipeline.process($0, context: PacketContext(timestampNanoseconds: now)) }
            #expect(decision.verdict == .accept)
        }
    }

    @Test func killRemovesTheMatchingFlowsAndTheirNextSegmentIsNoConnection() {
        var pipeline = Pipeline()
        let now: UInt64 = 1_000_000_000_000
        for port: UInt16 in 40000..<40010 { open(&pipeline, port: port, to: port < 40003 ? 22 : 80, at: now) }
        #expect(pipeline.trackedFlows == 10)
        var killed: [ConnectionSnapshot] = []
        let count = pipeline.killFlows(now: now + 1, matching: { $0.responderPort == 22 }, killed: { killed.append($0) })
        #expect(count == 3)
        #expect(killed.map(\.initiatorPort).sorted() == [40000, 40001, 40002])
        #expect(killed.allSatisfy { $0.state == .established })
        #expect(pipeline.trackedFlows == 7)
        let next = client.tcp(sourcePort: 40000, destinationPort: 22, sequence: 101, acknowledgment: 501, flags: .ack,
                              window: 1024, payload: Array("more".utf8))
        let decision = next.withUnsafeBytes { pipeline.process($0, context: PacketContext(timestampNanoseconds: now + 2)) }
        #expect(decision.verdict == .drop)
        #expect(decision.reason == .noConnection)
        let other = client.tcp(sourcePort: 40005, destinationPort: 80, sequence: 101, acknowledgment: 501, flags: .ack,
                               window: 1024, payload: Array("more".utf8))
        #expect(other.withUnsafeBytes { pipeline.process($0, context: PacketContext(timestampNanoseconds: now + 2)) }.verdict
            == .accept)
    }

    @Test func killingMoreFlowsThanTheDepartureRingHoldsTakesThemAll() {
        var pipeline = Pipeline()
        let now: UInt64 = 1_000_000_000_000
        for index in 0..<3000 {
            let datagram = client.udp(sourcePort: UInt16(20000 + index), destinationPort: 53)
            _ = datagram.withUnsafeBytes { pipeline.process($0, context: PacketContext(timestampNanoseconds: now)) }
        }
        #expect(pipeline.trackedFlows == 3000)
        #expect(pipeline.killFlows(now: now, matching: { _ in true }) == 3000)
        #expect(pipeline.trackedFlows == 0)
        #expect(pipeline.trackerStatistics.closed == 3000)
    }

    @Test func aKilledConnectionIsLoggedAsTheEndOfItsFlow() {
        var pipeline = Pipeline()
        open(&pipeline, port: 40000, to: 22, at: 1_000_000_000_000)
        var killed: [ConnectionSnapshot] = []
        pipeline.killFlows(now: 1_000_000_000_000, matching: { _ in true }, killed: { killed.append($0) })
        let event = Event(killed: killed[0], timestampNanoseconds: 1_000_000_000_000, queue: 2)
        let line = JSONLinesEncoder().line(for: event)
        #expect(line.contains("\"event_type\":\"flow\""))
        #expect(line.contains("\"queue\":2,\"proto\":\"TCP\",\"src_ip\":\"192.0.2.1\",\"src_port\":40000,"
            + "\"dest_ip\":\"198.51.100.2\",\"dest_port\":22,\"flow\":{\"reason\":\"killed\""), "\(line)")
        #expect(line.contains("\"detail\":\"killed by synwall conns --kill\""))
        #expect(line.contains("\"state\":\"ESTABLISHED\",\"pkts_toserver\":2,\"pkts_toclient\":1,\"bytes_toserver\":"))
        #expect(event.flowID != nil)
    }
}
