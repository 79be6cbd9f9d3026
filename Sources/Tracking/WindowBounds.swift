/// The acceptable ranges a packet was judged against when it failed a window check, for the
/// event log (`seq_min`…`seq_max`, `ack_min`…`ack_max`). Inclusive, in 32-bit sequence space
/// (a lower bound above the upper one means the range wraps).
public struct WindowBounds: Sendable, Equatable {
    public var seqLower: UInt32
    public var seqUpper: UInt32
    public var ackLower: UInt32
    public var ackUpper: UInt32

    @inlinable
    public init(seqLower: UInt32, seqUpper: UInt32, ackLower: UInt32, ackUpper: UInt32) {
        self.seqLower = seqLower
        self.seqUpper = seqUpper
        self.ackLower = ackLower
        self.ackUpper = ackUpper
    }

    /// The ranges S1–S4 (docs/tracking.md, "Windows") allow for a segment from `sender` to `receiver`.
    static func data(sender: DirectionState, receiver: DirectionState) -> WindowBounds {
        WindowBounds(seqLower: receiver.maxWindow == 0 ? sender.end : sender.end &- receiver.maxWindow,
                     seqUpper: sender.maxEnd,
                     ackLower: receiver.end &- max(sender.maxWindow, TCPWindow.minimumAckWindow),
                     ackUpper: receiver.end)
    }

    /// The ranges a RST from `sender` is judged against (docs/tracking.md, "RST").
    static func reset(sender: DirectionState, receiver: DirectionState) -> WindowBounds {
        var bounds = data(sender: sender, receiver: receiver)
        bounds.seqLower = receiver.has(DirectionState.Flags.maxAckSet) ? receiver.maxAck : sender.end
        return bounds
    }
}
