/// What the IP layer says about fragmentation: IPv4's flags and offset, or the IPv6
/// fragment header's. An IPv6 atomic fragment (offset 0, no more fragments; RFC 6946) is not
/// a fragment.
public struct FragmentInfo: Sendable, Equatable, Hashable {
    /// True when the packet is part of a fragmented datagram (more fragments follow, or the
    /// offset is not 0).
    public let isFragment: Bool
    /// True when the offset is 0: a whole packet or the first fragment, which carries the
    /// transport header.
    public let isFirst: Bool
    /// The fragment's offset in the original datagram, in bytes.
    public let offset: Int
    /// True when the MF ("more fragments") flag is set.
    public let moreFragments: Bool
    /// The IPv4 identification (16 bits, zero-extended) or the IPv6 fragment header's
    /// identification; 0 for an IPv6 packet without a fragment header.
    public let identification: UInt32

    /// Fragment facts from the header fields.
    @inlinable
    public init(offset: Int, moreFragments: Bool, identification: UInt32) {
        self.offset = offset
        self.moreFragments = moreFragments
        self.identification = identification
        self.isFragment = moreFragments || offset != 0
        self.isFirst = offset == 0
    }

    /// Not fragmented, identification 0.
    public static let none = FragmentInfo(offset: 0, moreFragments: false, identification: 0)
}
