import Tracking
import Wire

/// Settings of the pure pipeline.
public struct PipelineConfiguration: Sendable, Equatable {
    /// The verdict for packets that decode, until the rule engine decides (placeholder policy).
    public var defaultVerdict: Verdict
    /// Verify checksums the source reports as unverified.
    public var verifyChecksums: Bool

    public init(defaultVerdict: Verdict = .accept, verifyChecksums: Bool = true) {
        self.defaultVerdict = defaultVerdict
        self.verifyChecksums = verifyChecksums
    }
}

/// Decode → track → decide, for one packet at a time. The same code runs live (one pipeline
/// per NFQUEUE worker) and offline (`synwall replay`): a packet gets the same verdict either way.
///
/// Pure: no I/O, time comes in through `PacketContext`, nothing allocates per packet.
public struct Pipeline: Sendable {
    public var configuration: PipelineConfiguration
    public private(set) var counters = PipelineCounters()

    public init(configuration: PipelineConfiguration = PipelineConfiguration()) {
        self.configuration = configuration
    }

    /// Judges one packet; `bytes` start at the IP header.
    public mutating func process(_ bytes: UnsafeRawBufferPointer, context: PacketContext) -> Decision {
        let decision = decide(bytes, context: context)
        count(decision)
        return decision
    }

    @inline(__always)
    private mutating func decide(_ bytes: UnsafeRawBufferPointer, context: PacketContext) -> Decision {
        // Decode.
        let packet: Packet
        switch PacketDecoder.decode(bytes, originalLength: context.originalLength) {
        case .packet(let decoded):
            packet = decoded
        case .malformed(let anomaly):
            return Decision(verdict: .drop, reason: anomaly.dropReason,
                            anomaly: anomaly)
        }
        let summary = PacketSummary(packet)
        if context.checksum == .unverified, configuration.verifyChecksums {
            counters.checksumsVerified += 1
            if packet.version == .v4, !Checksum.verifyIPv4Header(bytes) {
                return Decision(verdict: .drop, reason: .badChecksum, summary: summary)
            }
            if Checksum.verifyTransport(packet, in: bytes) == false {
                return Decision(verdict: .drop, reason: .badChecksum, summary: summary)
            }
        }
        // Track: the connection tracker slots in here (issue 3).
        // Decide: the rule engine slots in here (issue 4); until then the configured default.
        let verdict = configuration.defaultVerdict
        return Decision(verdict: verdict, reason: verdict == .drop ? .policy : nil, summary: summary)
    }

    @inline(__always)
    private mutating func count(_ decision: Decision) {
        counters.packets += 1
        if decision.verdict == .accept {
            counters.accepted += 1
        } else {
            counters.dropped += 1
            if let reason = decision.reason { counters.dropsByReason[PipelineCounters.index(of: reason)] += 1 }
        }
        guard let summary = decision.summary else { return }
        if summary.version == .v6 { counters.ipv6 += 1 }
        switch summary.proto {
        case 6: counters.tcp += 1
        case 17: counters.udp += 1
        case 1, 58: counters.icmp += 1
        default: counters.otherProtocols += 1
        }
    }
}
