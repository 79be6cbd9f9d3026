import EventLog
import Tracking

extension Event {
    /// The record of a connection removed by `synwall conns --kill`, from its snapshot: a
    /// `flow` record (the end of that flow), reason `killed`, with the connection's endpoints,
    /// protocol, state at the time, and its packets and bytes each way (the daemon writes the
    /// same record from the tracker's departure, see `Event(endedFlow:)`).
    public init(killed flow: ConnectionSnapshot, timestampNanoseconds: UInt64, queue: Int?) {
        let ports = flow.proto == 6 || flow.proto == 17
        self.init(timestampNanoseconds: timestampNanoseconds, eventType: .flow, flowID: flow.key.flowID, queue: queue,
                  proto: Event.protocolName(flow.proto),
                  sourceIP: flow.initiatorAddress.description, sourcePort: ports ? flow.initiatorPort : nil,
                  destinationIP: flow.responderAddress.description, destinationPort: ports ? flow.responderPort : nil,
                  reason: FlowEnd.killed.rawValue, detail: "killed by synwall conns --kill",
                  state: flow.state.name,
                  flow: FlowFields(packetsToServer: flow.initiatorPackets, packetsToClient: flow.responderPackets,
                                   bytesToServer: flow.initiatorBytes, bytesToClient: flow.responderBytes,
                                   startNanoseconds: flow.createdSeconds * 1_000_000_000,
                                   endNanoseconds: flow.lastSeenSeconds * 1_000_000_000))
    }
}
