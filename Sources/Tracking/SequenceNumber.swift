/// Wrap-aware comparisons of 32-bit TCP sequence and acknowledgment numbers (RFC 9293 §3.4):
/// all arithmetic is modulo 2^32, `a` is before `b` when `(Int32)(a &- b) < 0`. Raw `UInt32`
/// values are never compared with `<`.
enum SequenceNumber {
    /// `a` comes strictly before `b`.
    @inline(__always)
    static func before(_ a: UInt32, _ b: UInt32) -> Bool { Int32(bitPattern: a &- b) < 0 }

    /// `a` comes strictly after `b`.
    @inline(__always)
    static func after(_ a: UInt32, _ b: UInt32) -> Bool { Int32(bitPattern: b &- a) < 0 }

    /// The later of two sequence numbers.
    @inline(__always)
    static func later(_ a: UInt32, _ b: UInt32) -> UInt32 { after(a, b) ? a : b }

    /// `value` lies in the closed range `[low, high]` (all modulo 2^32).
    @inline(__always)
    static func within(_ value: UInt32, _ low: UInt32, _ high: UInt32) -> Bool {
        !before(value, low) && !after(value, high)
    }
}
