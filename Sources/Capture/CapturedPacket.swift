/// One IPv4 or IPv6 frame read from a capture file, without its link-layer header.
///
/// A borrowed view: ``networkLayer`` points into libpcap's buffer and is valid only until the
/// reader moves on (inside the ``PcapReader/forEach(_:)`` callback, or until the next
/// ``PcapReader/next()``). Copy the bytes to keep them.
public struct CapturedPacket {
    /// When the frame was captured, in nanoseconds since the Unix epoch (UTC). Microsecond
    /// files give multiples of 1000; times before 1970 read as 0.
    public var timestampNanoseconds: UInt64
    /// The captured bytes from the first byte of the IP header on. Shorter than
    /// ``originalLength`` when the capture used a snap length.
    public var networkLayer: UnsafeRawBufferPointer
    /// The frame's length on the wire minus its link-layer header (VLAN tags included).
    public var originalLength: Int
    /// The frame's 1-based number in the file, counting skipped (non-IP) frames too, as
    /// Wireshark and tcpdump number them.
    public var index: Int

    /// Creates a packet view; for tests and tools that feed the pipeline without a file.
    public init(timestampNanoseconds: UInt64, networkLayer: UnsafeRawBufferPointer, originalLength: Int, index: Int) {
        self.timestampNanoseconds = timestampNanoseconds
        self.networkLayer = networkLayer
        self.originalLength = originalLength
        self.index = index
    }
}
