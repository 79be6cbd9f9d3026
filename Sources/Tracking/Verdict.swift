/// The decision for one packet.
public enum Verdict: String, Sendable, Equatable {
    case accept
    case drop
}
