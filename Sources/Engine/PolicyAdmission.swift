import Tracking
import Wire

/// Admission without a rule file: every new flow, or none.
struct PolicyAdmission: Admission {
    /// The verdict for every new flow.
    var verdict: Verdict
    /// What the tracker stores with an admitted flow (no rule; the packet's hook and interfaces).
    var origin: FlowOrigin

    func admit(_ packet: Packet, key: FlowKey) -> NewFlowRuling {
        NewFlowRuling(admittedOrigin: verdict == .accept ? origin : nil)
    }
}
