import Wire

/// What the daemon knows about a packet besides its bytes: the hook it came from, its
/// interfaces and the time.
public struct RuleContext: Sendable, Hashable {
    /// The hook's direction.
    public var direction: Direction
    /// The interface the packet arrived on (in, forward), or nil.
    public var inInterface: String?
    /// The interface the packet leaves by (out, forward), or nil.
    public var outInterface: String?
    /// Now, in nanoseconds on a clock that never goes back (any epoch): rate limits and table
    /// expiry only look at differences.
    public var now: UInt64

    /// A context from its parts.
    @inlinable
    public init(direction: Direction, inInterface: String? = nil, outInterface: String? = nil, now: UInt64 = 0) {
        self.direction = direction
        self.inInterface = inInterface
        self.outInterface = outInterface
        self.now = now
    }
}
