import Rules
import Tracking

/// The pipeline's admissions' answer on a new flow: whether it may start (and what the
/// tracker keeps with it), and the rules' decision when rules are in force. The tracker hands
/// it back with its result; `Decision(tracked:summary:rule:)` takes the rule from it.
struct NewFlowRuling: AdmissionRuling {
    /// What to keep with the flow when it may start; nil when it may not.
    var admittedOrigin: FlowOrigin?
    /// The rules' decision (nil without a rule file).
    var rule: RuleDecision?
}
