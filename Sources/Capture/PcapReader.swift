import CPcap

/// Reads the IPv4 and IPv6 packets of a pcap or pcapng file through libpcap.
///
/// Supported link types are listed in ``LinkType``; frames that carry something else (ARP,
/// LLDP…) are skipped and counted in ``skippedFrames``. Timestamps are read with nanosecond
/// precision. Not `Sendable`: one reader belongs to one thread.
///
/// ```swift
/// let reader = try PcapReader(path: "capture.pcapng")
/// try reader.forEach { packet in engine.process(packet.networkLayer, at: packet.timestampNanoseconds) }
/// ```
public final class PcapReader {
    /// The path the reader was opened with.
    public let path: String
    /// The file's link-layer type.
    public let linkType: LinkType
    /// Frames read so far that carried no IPv4/IPv6 packet (or were too short for their own
    /// link header).
    public private(set) var skippedFrames: Int = 0
    /// Frames read so far, IP or not; the ``CapturedPacket/index`` of the last frame read.
    public private(set) var framesRead: Int = 0

    private let handle: OpaquePointer
    private let nanosecondTimestamps: Bool
    private var finished = false

    /// libpcap's name of the link type (`EN10MB`, `RAW`, `LINUX_SLL`, `LINUX_SLL2`…).
    public var linkTypeName: String { linkType.name }

    /// Opens a capture file.
    ///
    /// - Throws: ``CaptureError/cannotOpen(path:reason:)`` when the file is missing,
    ///   unreadable or not a capture; ``CaptureError/unsupportedLinkType(path:linkType:name:)``
    ///   when its frames are not of a type listed in ``LinkType``.
    public init(path: String) throws(CaptureError) {
        self.path = path
        var errorText = ""
        let opened: OpaquePointer? = withUnsafeTemporaryAllocation(of: CChar.self, capacity: Int(PCAP_ERRBUF_SIZE)) { buffer in
            guard let base = buffer.baseAddress else { return nil }
            base[0] = 0
            let pcap = pcap_open_offline_with_tstamp_precision(path, UInt32(PCAP_TSTAMP_PRECISION_NANO), base)
            if pcap == nil {
                errorText = String(cString: base)
            }
            return pcap
        }
        guard let opened else {
            throw .cannotOpen(path: path, reason: Self.withoutPathPrefix(errorText, path: path))
        }
        let linkType = LinkType(rawValue: pcap_datalink(opened))
        guard linkType.isSupported else {
            pcap_close(opened)
            throw .unsupportedLinkType(path: path, linkType: linkType.rawValue, name: linkType.name)
        }
        self.handle = opened
        self.linkType = linkType
        self.nanosecondTimestamps = pcap_get_tstamp_precision(opened) == PCAP_TSTAMP_PRECISION_NANO
    }

    deinit {
        pcap_close(handle)
    }

    /// Reads up to the next IPv4/IPv6 frame, skipping (and counting) others.
    ///
    /// - Returns: the packet, valid until the next call; nil at the end of the file (and on
    ///   every later call).
    /// - Throws: ``CaptureError/corrupt(path:frame:reason:)`` when the file is damaged, for
    ///   example cut off inside a record. Later calls return nil.
    public func next() throws(CaptureError) -> CapturedPacket? {
        // Bounded by the file: every iteration consumes one record or ends the loop.
        while !finished {
            var headerPointer: UnsafeMutablePointer<pcap_pkthdr>?
            var dataPointer: UnsafePointer<UInt8>?
            let result = pcap_next_ex(handle, &headerPointer, &dataPointer)
            switch result {
            case 1:
                break
            case 0:
                continue  // A live-capture timeout; offline files never give one.
            case PCAP_ERROR_BREAK:  // -2: no more records.
                finished = true
                return nil
            default:  // PCAP_ERROR (-1) or anything unexpected.
                finished = true
                throw .corrupt(path: path, frame: framesRead + 1, reason: lastErrorText())
            }
            framesRead += 1
            guard let header = headerPointer?.pointee, let dataPointer else {
                finished = true
                throw .corrupt(path: path, frame: framesRead, reason: "libpcap returned a record without data")
            }
            let frame = UnsafeRawBufferPointer(start: dataPointer, count: Int(header.caplen))
            guard let offset = linkType.networkLayerOffset(in: frame) else {
                skippedFrames += 1
                continue
            }
            return CapturedPacket(
                timestampNanoseconds: timestamp(of: header),
                networkLayer: UnsafeRawBufferPointer(rebasing: frame[offset...]),
                originalLength: max(0, Int(header.len) - offset),
                index: framesRead)
        }
        return nil
    }

    /// Calls `body` for each remaining IPv4/IPv6 frame, in file order.
    ///
    /// - Throws: ``CaptureError/corrupt(path:frame:reason:)`` when the file is damaged (after
    ///   `body` has seen the frames before the damage), or whatever `body` throws, which stops
    ///   the reading.
    public func forEach(_ body: (CapturedPacket) throws -> Void) throws {
        while let packet = try next() {
            try body(packet)
        }
    }

    private func timestamp(of header: pcap_pkthdr) -> UInt64 {
        guard header.ts.tv_sec >= 0, header.ts.tv_usec >= 0 else { return 0 }
        let seconds = UInt64(header.ts.tv_sec)
        let fraction = UInt64(header.ts.tv_usec)
        let (secondsInNanoseconds, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return .max }
        let fractionInNanoseconds = nanosecondTimestamps ? fraction : fraction &* 1000
        let (total, carry) = secondsInNanoseconds.addingReportingOverflow(fractionInNanoseconds)
        return carry ? .max : total
    }

    private func lastErrorText() -> String {
        guard let text = pcap_geterr(handle) else { return "unknown libpcap error" }
        let message = String(cString: text)
        return message.isEmpty ? "unknown libpcap error" : Self.withoutPathPrefix(message, path: path)
    }

    /// libpcap often starts messages with "PATH: "; the error description names the path already.
    private static func withoutPathPrefix(_ message: String, path: String) -> String {
        let prefix = path + ": "
        if message.hasPrefix(prefix) {
            return String(message.dropFirst(prefix.count))
        }
        return message.isEmpty ? "libpcap gave no reason" : message
    }
}
