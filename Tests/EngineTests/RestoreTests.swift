@testable import Engine
import Rules
import Testing
import Tracking
import Wire

private let client = PacketBuilder(from: "192.0.2.1", to: "198.51.100.2")!
private let server = PacketBuilder(from: "198.51.100.2", to: "192.0.2.1")!
private let second: UInt64 = 1_000_000_000
private let start: UInt64 = 1_700_000_000 * second

private func judge(_ bytes: [UInt8], _ pipeline: inout Pipeline, at time: UInt64 = start) -> Decision {
    bytes.withUnsafeBytes { pipeline.process($0, context: PacketContext(timestampNanoseconds: time, direction: .in)) }
}

private func rules(_ text: String) throws -> CompiledRuleset { try RuleCompiler.compile(text: text).get() }

private func connect(_ pipeline: inout Pipeline, port: UInt16, clientPort: UInt16) {
    _ = judge(client.tcp(sourcePort: clientPort, destinationPort: port, sequence: 1000, flags: .syn), &pipeline)
    _ = judge(server.tcp(sourcePort: port, destinationPort: clientPort, sequence: 5000, acknowledgment: 1001,
                         flags: [.syn, .ack]), &pipeline)
    _ = judge(client.tcp(sourcePort: clientPort, destinationPort: port, sequence: 1001, acknowledgment: 5001,
                         flags: .ack), &pipeline)
}

/// The client's next segment after the restart, far ahead of what was saved.
private func later(_ port: UInt16, clientPort: UInt16) -> [UInt8] {
    client.tcp(sourcePort: clientPort, destinationPort: port, sequence: 901_001, acknowledgment: 5001,
               flags: [.ack, .psh], payload: [1, 2, 3])
}

private let old = """
    policy in drop
    pass in proto tcp to port { 22, 80 } max-src-conn 10
    """
private let new = """
    policy in drop
    pass in proto tcp to port 80 max-src-conn 10
    """

private func saved(_ pipeline: borrowing Pipeline) -> [UInt8] {
    var records: [UInt8] = []
    _ = pipeline.saveConnections(from: 0, limit: .max, now: start, referenceSeconds: UInt32(start / second), queue: 0,
                                 into: &records)
    return records
}

@Suite struct PipelineRestoreTests {
    @Test func restoredFlowsAreCheckedAgainstChangedRulesAndCountedPerSource() throws {
        var before = Pipeline(rules: try rules(old))
        connect(&before, port: 22, clientPort: 40000)
        connect(&before, port: 80, clientPort: 40001)
        let records = saved(before)

        var after = Pipeline(rules: try rules(new))
        let counts = records.withUnsafeBytes {
            after.restoreConnections($0, now: start + 2 * second, elapsedSeconds: 2) { _ in true }
        }
        #expect(counts.restored == 2)
        let outcome = after.checkRestoredFlows(recheck: true, now: start + 2 * second, budget: .max)
        #expect(outcome?.cut == 1 && outcome?.kept == 1)
        #expect(judge(later(22, clientPort: 40000), &after, at: start + 3 * second).reason == .noConnection)
        let resumed = judge(later(80, clientPort: 40001), &after, at: start + 3 * second)
        #expect(resumed.verdict == .accept)
        #expect(resumed.trackerEvent == .stateResumed)
    }

    @Test func unchangedRulesKeepEveryRestoredFlow() throws {
        var before = Pipeline(rules: try rules(old))
        connect(&before, port: 22, clientPort: 40000)
        let records = saved(before)
        var after = Pipeline(rules: try rules(new))
        _ = records.withUnsafeBytes { after.restoreConnections($0, now: start, elapsedSeconds: 0) { _ in true } }
        let outcome = after.checkRestoredFlows(recheck: false, now: start, budget: .max)
        #expect(outcome?.cut == 0 && outcome?.keptBlocked == 1)
        #expect(judge(later(22, clientPort: 40000), &after, at: start + second).verdict == .accept)
    }

    @Test func aPooledConnectionIsClaimedByTheFirstPipelineThatSeesIt() throws {
        var before = Pipeline(rules: try rules(old))
        connect(&before, port: 22, clientPort: 40000)
        connect(&before, port: 80, clientPort: 40001)
        let pool = RestorePool(records: saved(before), writtenNanoseconds: start, recheck: true)
        #expect(pool.count == 2)
        var one = Pipeline(rules: try rules(new))
        var two = Pipeline(rules: try rules(new))
        one.restorePool = pool
        two.restorePool = pool
        // Claimed by `two`, re-checked: port 80 is kept, port 22 is cut by the changed rules.
        #expect(judge(later(80, clientPort: 40001), &two, at: start + second).trackerEvent == .stateResumed)
        #expect(judge(later(22, clientPort: 40000), &two, at: start + second).reason == .noConnection)
        #expect(pool.count == 0 && two.claimedFromPool == 2 && two.trackedFlows == 1)
        // Nothing left for `one`; an unknown flow stays unknown.
        #expect(judge(later(80, clientPort: 40001), &one, at: start + second).reason == .noConnection)
        #expect(one.restorePool == nil, "a spent pool is let go")
    }

    @Test func thePoolEmptiesAfterItsLongestTimeout() throws {
        var configuration = PipelineConfiguration()
        configuration.tracker.timeouts.tcpEstablished = .seconds(100)
        var before = Pipeline(configuration: configuration)
        connect(&before, port: 80, clientPort: 40001)
        let pool = RestorePool(records: saved(before), writtenNanoseconds: start, recheck: false)
        #expect(pool.isActive(now: start + 99 * second))
        #expect(!pool.isActive(now: start + 100 * second))
        var after = Pipeline(configuration: configuration)
        after.restorePool = pool
        #expect(judge(later(80, clientPort: 40001), &after, at: start + 101 * second).reason == .noConnection)
        #expect(after.restorePool == nil)
    }
}
