import Logging

/// Says each ``LifecycleEvent`` once: as its plain line (a terminal), or as a structured
/// swift-log message (journald, or when `--log-level` asks for levels) — never both.
public struct LifecycleReporter: Sendable {
    /// How the events are rendered.
    public enum Rendering: Sendable {
        /// The plain line, handed to `write` (stdout for `synwall run`).
        case plain(@Sendable (String) -> Void)
        /// Level, constant message and metadata, through the logger.
        case structured(Logger)
    }

    public let rendering: Rendering

    public init(_ rendering: Rendering) {
        self.rendering = rendering
    }

    /// Renders `event` the one way this reporter was made for.
    public func report(_ event: LifecycleEvent) {
        switch rendering {
        case .plain(let write): write(event.line)
        case .structured(let logger): logger.log(level: event.level, event.message, metadata: event.metadata)
        }
    }
}
