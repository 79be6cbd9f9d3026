import CPcap

/// A capture's link-layer header type, as a libpcap `DLT_` number.
///
/// The named constants are the types ``PcapReader`` can read IP packets from; any other value
/// makes it throw ``CaptureError/unsupportedLinkType(path:linkType:name:)``.
public struct LinkType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The libpcap `DLT_` number (not always the `LINKTYPE_` number stored in the file:
    /// libpcap maps `LINKTYPE_RAW` 101 to `DLT_RAW`, for example).
    public var rawValue: Int32

    /// Creates a link type from a libpcap `DLT_` number.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// BSD loopback (`DLT_NULL`, 0): a 4-byte address family in the writer's byte order.
    public static let null = LinkType(rawValue: 0)
    /// Ethernet (`DLT_EN10MB`, 1); 802.1Q and 802.1ad VLAN tags are stripped when reading.
    public static let ethernet = LinkType(rawValue: 1)
    /// Raw IPv4 or IPv6, told apart by the version nibble (`DLT_RAW`; 12 on Linux).
    public static let rawIP = LinkType(rawValue: Int32(DLT_RAW))
    /// OpenBSD loopback (`DLT_LOOP`, 108): a 4-byte address family in network byte order.
    public static let loop = LinkType(rawValue: 108)
    /// Linux cooked capture, version 1 (`DLT_LINUX_SLL`, 113), as `tcpdump -i any` writes.
    public static let linuxSLL = LinkType(rawValue: 113)
    /// Raw IPv4 only (`DLT_IPV4`, 228).
    public static let rawIPv4 = LinkType(rawValue: 228)
    /// Raw IPv6 only (`DLT_IPV6`, 229).
    public static let rawIPv6 = LinkType(rawValue: 229)
    /// Linux cooked capture, version 2 (`DLT_LINUX_SLL2`, 276).
    public static let linuxSLL2 = LinkType(rawValue: 276)

    /// Whether ``PcapReader`` can take IP packets from frames of this type.
    public var isSupported: Bool {
        switch rawValue {
        case 0, 1, 12, 14, 101, 108, 113, 228, 229, 276: return true
        default: return false
        }
    }

    /// libpcap's short name for the type (`EN10MB`, `RAW`, `LINUX_SLL`…), or `DLT n` if it has none.
    public var name: String {
        if let cName = pcap_datalink_val_to_name(rawValue) {
            return String(cString: cName)
        }
        return "DLT \(rawValue)"
    }

    public var description: String { name }
}
