/// Which way a packet travels through the host, from the netfilter hook that queued it: what
/// rules match on (`in`, `out`, `forward`) and what event records write as `direction`.
public enum Direction: String, Sendable, Hashable, CaseIterable {
    /// To this host (INPUT hook).
    case `in`
    /// From this host (OUTPUT hook).
    case out
    /// Through this host, routed between interfaces (FORWARD hook).
    case forward

    /// 0, 1, 2: an index for per-direction arrays.
    @inlinable
    public var index: Int {
        switch self {
        case .in: return 0
        case .out: return 1
        case .forward: return 2
        }
    }

    /// One bit per direction, for rule masks.
    @inlinable
    public var bit: UInt8 { UInt8(1) << UInt8(index) }
}
