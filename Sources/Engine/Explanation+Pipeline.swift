import Rules
import Tracking
import Wire

extension Explanation {
    /// Explains `packet` as the daemon would judge it: the packet's bytes go through a fresh
    /// `Pipeline` with `ruleset` (decode → track → decide, as `replay` runs them, the rule
    /// file's `set` lines applied), so a packet the tracker drops before the rules (bad flags,
    /// no connection) gets that verdict, and the rule lines say what the rules would decide.
    /// Only this one packet is seen: no earlier flow, per-source counter or table addition.
    public static func judged(packet: PacketDescription, ruleset: CompiledRuleset,
                              now: UInt64 = 1_000_000_000_000) -> Explanation
    {
        // Interfaces travel as indexes, as from the kernel: 1 is the input's name, 2 the output's.
        let names = (packet.context.inInterface, packet.context.outInterface)
        let interfaceNames = InterfaceNames { index in
            switch index {
            case 1: return names.0
            case 2: return names.1
            default: return nil
            }
        }
        let configuration = PipelineConfiguration(defaultVerdict: .drop, verifyChecksums: false,
                                                  tracker: TrackerConfiguration(ruleset.settings))
        var pipeline = Pipeline(configuration: configuration, rules: ruleset, interfaceNames: interfaceNames)
        let context = PacketContext(timestampNanoseconds: now, checksum: .verified, direction: packet.context.direction,
                                    inInterface: names.0 == nil ? 0 : 1, outInterface: names.1 == nil ? 0 : 2)
        let decision = packet.bytes.withUnsafeBytes { pipeline.process($0, context: context) }
        let tracked = TrackedVerdict(verdict: decision.verdict, reason: decision.verdict == .drop ? decision.reason : nil,
                                     event: decision.trackerEvent, rulesConsulted: decision.rule != nil)
        return Explanation(packet: packet, ruleset: ruleset, tracked: tracked)
    }
}
