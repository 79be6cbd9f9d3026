/// The `event_type` of an event record: a public format, never renamed silently.
public enum EventType: String, Sendable, CaseIterable {
    /// A packet was dropped (malformed, invalid for its connection, or refused by the rules).
    case drop
    /// Something suspicious was seen but the packet was let through.
    case anomaly
    /// A flow record (a connection started or ended).
    case flow
}
