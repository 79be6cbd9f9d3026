import Rules
import Tracking

/// What a reload did to one pipeline's live flows (`Pipeline.replaceRules`): how many stayed,
/// how many the new rules cut (`set reload recheck`), and the first few of those.
public struct ReloadOutcome: Sendable, Equatable {
    /// The rule file's `set reload` mode.
    public var mode: RuleSettings.ReloadStates
    /// Live flows left in the table.
    public var kept: Int
    /// Of `kept`: flows the new rules would block, kept because the mode is `keep`.
    public var keptBlocked: Int
    /// Flows removed because the new rules block them (`recheck` only).
    public var cut: Int
    /// The first `exampleLimit` flows cut, as they were.
    public var cutExamples: [ConnectionSnapshot]

    /// How many cut flows `cutExamples` keeps.
    public static let exampleLimit = 3

    /// An outcome with nothing counted yet.
    public init(mode: RuleSettings.ReloadStates, kept: Int = 0, keptBlocked: Int = 0, cut: Int = 0,
                cutExamples: [ConnectionSnapshot] = []) {
        self.mode = mode
        self.kept = kept
        self.keptBlocked = keptBlocked
        self.cut = cut
        self.cutExamples = cutExamples
    }

    /// True when the reload is worth a `reload` record of its own: always with `recheck`, and
    /// with `keep` when flows the new rules would block were kept.
    public var isWorthAnEvent: Bool { mode == .recheck || keptBlocked > 0 }
}
