/// An inclusive range of 32-bit TCP sequence space, `lower` to `upper`, that may wrap
/// (`lower` > `upper` means it crosses 2³²).
public struct TCPWindowBounds: Sendable, Equatable, Hashable {
    /// The first acceptable number.
    public var lower: UInt32
    /// The last acceptable number.
    public var upper: UInt32

    /// Creates the bounds `lower...upper` (in sequence space, so possibly wrapping).
    public init(lower: UInt32, upper: UInt32) {
        self.lower = lower
        self.upper = upper
    }
}
