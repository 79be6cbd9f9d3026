import EventLog
import Tracking

extension Event {
    /// The record of a connection removed by `synwall conns --kill`: a `flow` record (the end
    /// of that flow), reason `killed`, with the connection's endpoints, protocol and state at
    /// the time, and `detail` its packets and bytes each way (`packets 12>10< bytes 840>1203<`).
    public init(killed flow: ConnectionSnapshot, timestampNanoseconds: UInt64, queue: Int?) {
        let ports = flow.proto == 6 || flow.proto == 17
        self.init(timestampNanoseconds: timestampNanoseconds, eventType: .flow, flowID: flow.key.flowID, queue: queue,
                  proto: Event.protocolName(flow.proto),
                  sourceIP: flow.initiatorAddress.description, sourcePort: ports ? flow.initiatorPort : nil,
                  destinationIP: flow.responderAddress.description, destinationPort: ports ? flow.responderPort : nil,
                  reason: "killed",
                  detail: "killed by synwall conns --kill; packets \(flow.initiatorPackets)>\(flow.responderPackets)< "
                      + "bytes \(flow.initiatorBytes)>\(flow.responderBytes)<",
                  state: flow.state.name)
    }
}
