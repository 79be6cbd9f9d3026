// Internal state the decoder hands between layers.

/// A decode failure, thrown internally (typed throws: no allocation) and returned as a value.
struct Malformed: Error {
    let anomaly: DecodeAnomaly

    @inline(__always)
    init(_ anomaly: DecodeAnomaly) { self.anomaly = anomaly }
}

/// What the IP layer found, handed to the transport decoder.
struct IPLayer {
    var version: IPVersion
    var source: IPAddress
    var destination: IPAddress
    var protocolNumber: UInt8
    var hopLimit: UInt8
    var trafficClass: UInt8
    var fragment: FragmentInfo
    /// Where the transport header (or fragment data) starts.
    var transportOffset: Int
    /// The packet's length per the IP header (in a quote, at least `transportOffset`).
    var totalLength: Int
    var routingHeaderOffset: Int
}

/// Where the bytes end, and what a shortfall means.
struct DecodeBounds {
    /// Bytes in the buffer.
    let captured: Int
    /// End of the packet per the IP header; unbounded in a quote, where only the buffer counts.
    let end: Int
    /// Decoding an ICMP quote.
    let quoted: Bool
    /// Inside a first fragment: a shortfall against `end` is `.fragmentTooShort`.
    var firstFragment = false
    /// The header being read, for `.fragmentTooShort`.
    var protocolNumber: UInt8 = 0
    /// Where the fragment's data starts, for `.fragmentTooShort`.
    var fragmentDataStart = 0

    /// Throws unless bytes up to `needed` exist: `anomaly` when the packet itself is too
    /// short, a truncation anomaly when only the buffer is.
    @inline(__always)
    func require(_ needed: Int, _ anomaly: DecodeAnomaly) throws(Malformed) {
        if needed > end {
            if firstFragment {
                throw Malformed(.fragmentTooShort(protocolNumber: protocolNumber, length: end - fragmentDataStart))
            }
            throw Malformed(anomaly)
        }
        if needed > captured {
            throw Malformed(quoted ? .quotedPacketTruncated(needed: needed, available: captured)
                                   : .captureTruncated(needed: needed, captured: captured))
        }
    }
}
