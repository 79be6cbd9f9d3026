/// The TCP options a tracker needs, in fixed inline storage (no arrays, no allocation).
///
/// The decoder keeps the first occurrence of each known option and sets `hasDuplicates` when
/// one repeats. Unknown options are skipped. The setters exist so tests and `PacketBuilder`
/// can describe options to write.
public struct TCPOptions: Sendable, Equatable, Hashable {
    @usableFromInline static let mssBit: UInt8 = 0x01
    @usableFromInline static let windowScaleBit: UInt8 = 0x02
    @usableFromInline static let sackPermittedBit: UInt8 = 0x04
    @usableFromInline static let timestampBit: UInt8 = 0x08
    @usableFromInline static let sackBit: UInt8 = 0x10
    @usableFromInline static let fastOpenBit: UInt8 = 0x20
    @usableFromInline static let md5Bit: UInt8 = 0x40
    @usableFromInline static let duplicateBit: UInt8 = 0x80

    /// The most SACK blocks one option can hold (34-byte option).
    public static let maximumSACKBlocks = 4

    @usableFromInline var present: UInt8 = 0
    /// Oddities of accepted options (`emptySACKBit`).
    @usableFromInline var oddities: UInt8 = 0
    @usableFromInline static let emptySACKBit: UInt8 = 0x01
    @usableFromInline var windowScaleValue: UInt8 = 0
    @usableFromInline var sackCount: UInt8 = 0
    @usableFromInline var mssValue: UInt16 = 0
    @usableFromInline var timestampValue: UInt32 = 0
    @usableFromInline var timestampEcho: UInt32 = 0
    // SACK blocks, each left << 32 | right; unused ones stay 0 so equality is meaningful.
    @usableFromInline var sack0: UInt64 = 0
    @usableFromInline var sack1: UInt64 = 0
    @usableFromInline var sack2: UInt64 = 0
    @usableFromInline var sack3: UInt64 = 0

    /// No options.
    @inlinable
    public init() {}

    @inlinable
    func has(_ bit: UInt8) -> Bool { present & bit != 0 }

    @inlinable
    mutating func set(_ bit: UInt8, _ on: Bool) {
        if on { present |= bit } else { present &= ~bit }
    }

    /// Maximum segment size (kind 2), or nil when absent.
    @inlinable
    public var mss: UInt16? {
        get { has(Self.mssBit) ? mssValue : nil }
        set { mssValue = newValue ?? 0; set(Self.mssBit, newValue != nil) }
    }

    /// Window-scale shift as sent (kind 3), not clamped to 14; nil when absent.
    @inlinable
    public var windowScale: UInt8? {
        get { has(Self.windowScaleBit) ? windowScaleValue : nil }
        set { windowScaleValue = newValue ?? 0; set(Self.windowScaleBit, newValue != nil) }
    }

    /// SACK-permitted (kind 4) was present.
    @inlinable
    public var sackPermitted: Bool {
        get { has(Self.sackPermittedBit) }
        set { set(Self.sackPermittedBit, newValue) }
    }

    /// Timestamps (kind 8): TSval and TSecr; nil when absent.
    @inlinable
    public var timestamp: (value: UInt32, echoReply: UInt32)? {
        get { has(Self.timestampBit) ? (timestampValue, timestampEcho) : nil }
        set {
            timestampValue = newValue?.value ?? 0
            timestampEcho = newValue?.echoReply ?? 0
            set(Self.timestampBit, newValue != nil)
        }
    }

    /// A SACK option (kind 5) was present; its blocks are `sackBlock(0..<sackBlockCount)`.
    @inlinable
    public var hasSACK: Bool { has(Self.sackBit) }

    /// Number of SACK blocks (0…4).
    @inlinable
    public var sackBlockCount: Int { Int(sackCount) }

    /// SACK block `index` (0-based) as left and right edges; (0, 0) when `index` is not below
    /// `sackBlockCount`.
    @inlinable
    public func sackBlock(_ index: Int) -> (left: UInt32, right: UInt32) {
        guard index >= 0, index < Int(sackCount) else { return (0, 0) }
        let packed: UInt64
        switch index {
        case 0: packed = sack0
        case 1: packed = sack1
        case 2: packed = sack2
        default: packed = sack3
        }
        return (UInt32(truncatingIfNeeded: packed >> 32), UInt32(truncatingIfNeeded: packed))
    }

    /// Appends a SACK block (and marks SACK present); returns false when four are held already.
    @inlinable
    @discardableResult
    public mutating func appendSACKBlock(left: UInt32, right: UInt32) -> Bool {
        guard Int(sackCount) < Self.maximumSACKBlocks else { return false }
        let packed = UInt64(left) << 32 | UInt64(right)
        switch sackCount {
        case 0: sack0 = packed
        case 1: sack1 = packed
        case 2: sack2 = packed
        default: sack3 = packed
        }
        sackCount += 1
        set(Self.sackBit, true)
        return true
    }

    /// TCP Fast Open (kind 34, or experimental kind 254 with ExID 0xF989) was present: a
    /// cookie or a cookie request (RFC 7413).
    @inlinable
    public var fastOpen: Bool {
        get { has(Self.fastOpenBit) }
        set { set(Self.fastOpenBit, newValue) }
    }

    /// The TCP MD5 signature option (kind 19, RFC 2385) was present.
    @inlinable
    public var md5Signature: Bool {
        get { has(Self.md5Bit) }
        set { set(Self.md5Bit, newValue) }
    }

    /// A known option (MSS, window scale, SACK-permitted, SACK, timestamps, Fast Open, MD5)
    /// occurred more than once; the first occurrence is the one kept.
    @inlinable
    public var hasDuplicates: Bool {
        get { has(Self.duplicateBit) }
        set { set(Self.duplicateBit, newValue) }
    }

    /// A SACK option without blocks (kind 5, length 2) was present and ignored, as Linux
    /// ignores it; `hasSACK` stays false.
    @inlinable
    public var emptySACK: Bool {
        get { oddities & Self.emptySACKBit != 0 }
        set { if newValue { oddities |= Self.emptySACKBit } else { oddities &= ~Self.emptySACKBit } }
    }

    /// True when no option is recorded.
    @inlinable
    public var isEmpty: Bool { present == 0 }
}
