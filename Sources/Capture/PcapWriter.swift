import CPcap

/// Writes frames to a pcap file with nanosecond timestamps, through libpcap.
///
/// For tests and tools (for example turning crafted packets into a replayable capture); the
/// daemon never writes captures. Not `Sendable`.
public final class PcapWriter {
    /// The path the writer was opened with.
    public let path: String
    /// The link type written in the file header; each frame must start with that header.
    public let linkType: LinkType
    /// The longest frame kept; longer ones are cut, keeping their original length.
    public let snapshotLength: Int

    private let deadHandle: OpaquePointer
    private var dumper: OpaquePointer?

    /// Creates (or truncates) `path` and writes the pcap file header.
    ///
    /// - Parameters:
    ///   - linkType: what each written frame starts with; raw IP (no link header) by default.
    ///   - snapshotLength: the longest frame stored, in bytes.
    /// - Throws: ``CaptureError/cannotWrite(path:reason:)`` when the file cannot be created.
    public init(path: String, linkType: LinkType = .rawIP, snapshotLength: Int = 262_144) throws(CaptureError) {
        guard snapshotLength > 0, snapshotLength <= Int(Int32.max) else {
            throw .cannotWrite(path: path, reason: "snapshot length \(snapshotLength) is not between 1 and \(Int32.max)")
        }
        guard let dead = pcap_open_dead_with_tstamp_precision(linkType.rawValue, Int32(snapshotLength),
                                                              UInt32(PCAP_TSTAMP_PRECISION_NANO)) else {
            throw .cannotWrite(path: path, reason: "libpcap could not set up link type \(linkType.name)")
        }
        guard let dumper = pcap_dump_open(dead, path) else {
            let reason = pcap_geterr(dead).map { String(cString: $0) } ?? "unknown libpcap error"
            pcap_close(dead)
            throw .cannotWrite(path: path, reason: reason)
        }
        self.path = path
        self.linkType = linkType
        self.snapshotLength = snapshotLength
        self.deadHandle = dead
        self.dumper = dumper
    }

    deinit {
        if let dumper {
            pcap_dump_close(dumper)
        }
        pcap_close(deadHandle)
    }

    /// Appends one frame. Does nothing after ``close()``.
    ///
    /// - Parameters:
    ///   - bytes: the frame, starting with the link header of ``linkType``.
    ///   - timestampNanoseconds: capture time in nanoseconds since the Unix epoch.
    ///   - originalLength: the frame's length on the wire; `bytes.count` when nil.
    public func write(_ bytes: UnsafeRawBufferPointer, timestampNanoseconds: UInt64, originalLength: Int? = nil) {
        guard let dumper else { return }
        let captured = min(bytes.count, snapshotLength)
        var header = pcap_pkthdr()
        header.ts.tv_sec = Int(timestampNanoseconds / 1_000_000_000)
        header.ts.tv_usec = Int(timestampNanoseconds % 1_000_000_000)  // nanoseconds: the handle is nano
        header.caplen = UInt32(captured)
        header.len = UInt32(clamping: max(originalLength ?? bytes.count, captured))
        let emptyFrame: [UInt8] = [0]
        emptyFrame.withUnsafeBufferPointer { fallback in
            let data = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? fallback.baseAddress
            pcap_dump(UnsafeMutableRawPointer(dumper).assumingMemoryBound(to: UInt8.self), &header, data)
        }
    }

    /// Appends one frame, copied from an array; see the raw-buffer overload.
    public func write(_ bytes: [UInt8], timestampNanoseconds: UInt64, originalLength: Int? = nil) {
        bytes.withUnsafeBytes { write($0, timestampNanoseconds: timestampNanoseconds, originalLength: originalLength) }
    }

    /// Flushes and closes the file. Later writes are ignored; closing twice does nothing.
    ///
    /// - Throws: ``CaptureError/cannotWrite(path:reason:)`` when buffered frames could not be
    ///   written (for example, the disk is full).
    public func close() throws(CaptureError) {
        guard let dumper else { return }
        self.dumper = nil
        let flushed = pcap_dump_flush(dumper)
        let file = pcap_dump_file(dumper)
        let streamFailed = file.map { ferror($0) != 0 } ?? false
        pcap_dump_close(dumper)
        if flushed != 0 || streamFailed {
            throw .cannotWrite(path: path, reason: "writing the buffered frames failed")
        }
    }
}
