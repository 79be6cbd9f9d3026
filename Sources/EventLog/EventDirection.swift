/// Which way a packet was going, as the `direction` of a record: a public format.
public enum EventDirection: String, Sendable, CaseIterable, Hashable {
    /// To this host (the input hook).
    case `in`
    /// From this host (the output hook).
    case out
    /// Through this host (the forward hook).
    case forward
}
