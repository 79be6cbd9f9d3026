import Engine
import FuzzSupport
import Tracking
import Wire

/// Fuzzes packet decoding: the input is one packet from its IP header on. It is decoded
/// (whole, as a truncated copy, and as an ICMP error's quote), its checksums verified, then
/// filled and verified again, and judged by a fresh pipeline.
@_cdecl("LLVMFuzzerTestOneInput")
public func decodeFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    let result = PacketDecoder.decode(bytes)
    fuzzCheck(PacketDecoder.decode(bytes) == result, "decoding is not deterministic")
    if let packet = result.packet {
        check(packet, decodedFrom: bytes)
        _ = Checksum.verifyTransport(packet, in: bytes)
    }
    _ = PacketDecoder.decode(bytes, originalLength: bytes.count + 100)
    if let quoted = PacketDecoder.decodeQuoted(bytes).packet {
        fuzzCheck(quoted.transportOffset <= bytes.count, "quote's transport offset past the buffer")
    }
    _ = Checksum.verifyIPv4Header(bytes)
    _ = Checksum.internetChecksum(bytes)

    // Filled checksums must verify.
    var copy = Array(bytes)
    let filled = Checksum.fill(&copy)
    copy.withUnsafeBytes { filledBytes in
        if filledBytes.count >= 20, filledBytes[0] >> 4 == 4, Int(filledBytes[0] & 0x0F) >= 5,
           Int(filledBytes[0] & 0x0F) * 4 <= filledBytes.count {
            fuzzCheck(Checksum.verifyIPv4Header(filledBytes), "a filled IPv4 header checksum does not verify")
        }
        if filled, let packet = PacketDecoder.decode(filledBytes).packet {
            fuzzCheck(Checksum.verifyTransport(packet, in: filledBytes) == true,
                      "a filled transport checksum does not verify")
        }
    }

    // The whole pipeline, checksums unverified, in both directions.
    var pipeline = Pipeline(configuration: PipelineConfiguration(
        tracker: TrackerConfiguration(maxStates: 16, sourceTableCapacity: 16, hashSeed: 1)))
    let first = pipeline.process(bytes, context: PacketContext(timestampNanoseconds: 1_000_000_000,
                                                              checksum: .unverified))
    _ = pipeline.process(bytes, context: PacketContext(timestampNanoseconds: 2_000_000_000, checksum: .partial,
                                                       originalLength: bytes.count + 1, direction: .out))
    if result.packet == nil {
        fuzzCheck(first.verdict == .drop, "a packet that does not decode was not dropped")
    }
    fuzzCheck(pipeline.trackedFlows <= 16, "more flows than the table holds")
    return 0
}

/// Facts every decoded packet must satisfy.
func check(_ packet: Packet, decodedFrom bytes: UnsafeRawBufferPointer) {
    fuzzCheck(packet.capturedLength <= bytes.count, "captured length \(packet.capturedLength) > \(bytes.count)")
    fuzzCheck(packet.transportOffset >= 0 && packet.transportOffset <= bytes.count,
              "transport offset \(packet.transportOffset) outside \(bytes.count) bytes")
    fuzzCheck(packet.ipHeaderLength <= packet.transportOffset || packet.transportOffset == 0,
              "IP header length \(packet.ipHeaderLength) past transport offset \(packet.transportOffset)")
    if case .tcp(let header) = packet.transport {
        fuzzCheck(header.headerLength >= 20 && header.headerLength <= 60, "TCP header length \(header.headerLength)")
        fuzzCheck(header.payloadLength >= 0, "negative TCP payload length")
        let options = header.options
        fuzzCheck(options.sackBlockCount <= TCPOptions.maximumSACKBlocks, "too many SACK blocks")
        for index in 0 ..< options.sackBlockCount { _ = options.sackBlock(index) }
        _ = options.mss
        _ = options.windowScale
        _ = options.timestamp
    }
}
