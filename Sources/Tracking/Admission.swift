import Wire

/// Decides whether a packet that would create a new flow may do so: a TCP SYN (or, with
/// pickup, a mid-stream ACK), the first UDP datagram of a flow, an ICMP echo request, the first
/// packet of another protocol's flow. The rules engine implements it; the tracker asks only for
/// such packets, after the flags check and before the flood limits.
///
/// The answer is a value (`Ruling`): it says whether the flow may start and what to keep with
/// it, and the tracker hands it back with its result (`ConnectionTracker.trackWithRuling`), so
/// the caller learns what the rules decided without reading it back from the admission.
public protocol Admission {
    /// What the admission says about one new flow: `Bool` for a plain yes or no, or a richer
    /// value (the rules' decision) that the caller wants back.
    associatedtype Ruling: AdmissionRuling
    /// The ruling on `packet` starting the flow `key`; a refusal drops it with reason `policy`.
    mutating func admit(_ packet: Packet, key: FlowKey) -> Ruling
}

/// An admission's answer, as far as the tracker reads it.
public protocol AdmissionRuling {
    /// What to store with the new flow when it may start (the admitting rule's index, the
    /// first packet's hook and interfaces); nil when it may not.
    var admittedOrigin: FlowOrigin? { get }
}

extension Bool: AdmissionRuling {
    /// Yes: no rule, hook in, no interface.
    @inlinable
    public var admittedOrigin: FlowOrigin? { self ? FlowOrigin() : nil }
}

/// A yes with an origin to keep, or a no.
public struct AdmissionAnswer: AdmissionRuling, Sendable, Equatable {
    public var admittedOrigin: FlowOrigin?

    /// An answer: `origin` to let the flow start with it, nil to refuse it.
    @inlinable
    public init(admittedOrigin: FlowOrigin?) { self.admittedOrigin = admittedOrigin }

    /// The flow may start, and keeps `origin`.
    @inlinable
    public static func admit(_ origin: FlowOrigin) -> AdmissionAnswer { AdmissionAnswer(admittedOrigin: origin) }

    /// The flow may not start.
    public static let refuse = AdmissionAnswer(admittedOrigin: nil)
}

/// Admits every new flow (running without rules): the tracker's checks still apply.
public struct AdmitAll: Admission, Sendable {
    /// An admission that says yes.
    @inlinable
    public init() {}

    /// Always yes.
    @inlinable
    public mutating func admit(_ packet: Packet, key: FlowKey) -> Bool { true }
}
