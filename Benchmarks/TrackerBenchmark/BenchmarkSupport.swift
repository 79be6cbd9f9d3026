#if canImport(Glibc)
import Glibc
#endif
import Tracking
import Wire

/// Monotonic wall-clock nanoseconds (for measuring; the tracker gets its own injected clock).
func monotonicNanoseconds() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}

/// CPU time of the calling thread in nanoseconds (not counting time other processes took
/// from it: this machine is shared).
func threadCPUNanoseconds() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}

/// The process's resident set size in bytes, from /proc/self/statm (second field, in pages).
func residentBytes() -> Int {
    guard let file = fopen("/proc/self/statm", "r") else { return 0 }
    defer { fclose(file) }
    var size = 0, resident = 0
    guard withUnsafeMutablePointer(to: &size, { sizePointer in
        withUnsafeMutablePointer(to: &resident) { residentPointer in
            withVaList([sizePointer, residentPointer]) { vfscanf(file, "%ld %ld", $0) }
        }
    }) == 2 else { return 0 }
    return resident * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// Anonymous memory backed by transparent huge pages (kB), from /proc/self/smaps_rollup.
func anonymousHugePagesKilobytes() -> Int {
    guard let file = fopen("/proc/self/smaps_rollup", "r") else { return 0 }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 256)
    while fgets(&line, Int32(line.count), file) != nil {
        let text = String(cString: line)
        if text.hasPrefix("AnonHugePages:") {
            return Int(text.split(separator: " ").dropFirst().first ?? "0") ?? 0
        }
    }
    return 0
}

/// Heap allocations so far, when the process runs with the counting shim preloaded
/// (`count-allocations.sh`); nil otherwise.
func allocationCount() -> UInt64? {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "synwall_allocation_count") else { return nil }
    typealias Counter = @convention(c) () -> UInt64
    return unsafeBitCast(symbol, to: Counter.self)()
}

/// glibc's `mallopt(M_MMAP_THRESHOLD, bytes)` (not in Swift's Glibc module): fixes the
/// threshold, which glibc otherwise raises after large frees.
func setMmapThreshold(_ bytes: Int32) {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
    typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
    let mMmapThreshold: Int32 = -3
    _ = unsafeBitCast(symbol, to: Mallopt.self)(mMmapThreshold, bytes)
}

/// Makes TCP packets as the decoder would: one template per flag set is built as bytes and
/// decoded once; variants change addresses, ports, numbers and payload length.
struct PacketFactory {
    var templates: [UInt16: Packet] = [:]

    /// The decoded template for `flags` (with window scale 7 and SACK-permitted on SYNs).
    mutating func template(_ flags: TCPFlags) -> Packet {
        if let packet = templates[flags.rawValue] { return packet }
        var options = TCPOptions()
        if flags.contains(.syn) {
            options.mss = 1460
            options.windowScale = 7
            options.sackPermitted = true
        }
        let bytes = PacketBuilder(source: IPAddress(ipv4: 0x0A00_0001), destination: IPAddress(ipv4: 0x0A00_0002))
            .tcp(sourcePort: 1, destinationPort: 2, flags: flags, window: 65535, options: options)
        guard let packet = bytes.withUnsafeBytes({ PacketDecoder.decode($0) }).packet else {
            preconditionFailure("benchmark template does not decode")
        }
        templates[flags.rawValue] = packet
        return packet
    }

    /// A variant of the template for `flags`.
    mutating func tcp(_ flags: TCPFlags, from source: IPAddress, _ sourcePort: UInt16, to destination: IPAddress,
                      _ destinationPort: UInt16, seq: UInt32, ack: UInt32, payload: Int = 0) -> Packet {
        let template = template(flags)
        guard case .tcp(let t) = template.transport else { preconditionFailure("template is TCP") }
        let header = TCPHeader(sourcePort: sourcePort, destinationPort: destinationPort, sequenceNumber: seq,
                               acknowledgmentNumber: ack, headerLength: t.headerLength, flags: t.flags,
                               reservedBits: t.reservedBits, window: t.window, checksum: t.checksum,
                               urgentPointer: t.urgentPointer, options: t.options, payloadLength: payload)
        let length = template.ipHeaderLength + t.headerLength + payload
        return Packet(version: template.version, source: source, destination: destination, protocolNumber: 6,
                      hopLimit: template.hopLimit, trafficClass: template.trafficClass, fragment: template.fragment,
                      ipHeaderLength: template.ipHeaderLength, transportOffset: template.transportOffset,
                      ipTotalLength: length, capturedLength: length, transport: .tcp(header))
    }
}

/// One connection of the synthetic mix: endpoints and the next sequence numbers.
struct Flow {
    var client: IPAddress
    var clientPort: UInt16
    var server: IPAddress
    var serverPort: UInt16
    var clientSeq: UInt32
    var serverSeq: UInt32

    /// Flow `number`: clients 10.64.0.0/10 with 64 ports each, one server.
    static func number(_ number: Int) -> Flow {
        Flow(client: IPAddress(ipv4: 0x0A40_0000 + UInt32(number / 64)), clientPort: UInt16(20_000 + number % 64),
             server: IPAddress(ipv4: 0xC0A8_0001), serverPort: 443,
             clientSeq: UInt32(truncatingIfNeeded: number &* 7_919), serverSeq: UInt32(truncatingIfNeeded: number &* 104_729))
    }
}

/// Results of one timed loop.
struct Measurement {
    var packets: Int
    /// Thread CPU time.
    var nanoseconds: UInt64
    /// Wall-clock time.
    var wallNanoseconds: UInt64
    var accepted: Int
    var allocations: UInt64?

    var packetsPerSecond: Double { Double(packets) / (Double(nanoseconds) / 1e9) }
    var nanosecondsPerPacket: Double { Double(nanoseconds) / Double(packets) }
}

/// Tracks `packets` (all at injected times `start`, `start + step`, …), timed.
func measure(_ tracker: inout ConnectionTracker, _ packets: [Packet], start: inout UInt64, step: UInt64) -> Measurement {
    var admission = AdmitAll()
    var accepted = 0
    var now = start
    let allocationsBefore = allocationCount()
    let began = monotonicNanoseconds()
    let beganCPU = threadCPUNanoseconds()
    packets.withUnsafeBufferPointer { buffer in
        // By index: `for packet in buffer` would copy each 208-byte value first.
        for index in buffer.indices {
            now &+= step
            if tracker.track(buffer[index], now: now, admission: &admission).verdict == .accept { accepted += 1 }
        }
    }
    let elapsedCPU = threadCPUNanoseconds() - beganCPU
    let elapsed = monotonicNanoseconds() - began
    let allocations = allocationCount().flatMap { after in allocationsBefore.map { after - $0 } }
    start = now
    return Measurement(packets: packets.count, nanoseconds: elapsedCPU, wallNanoseconds: elapsed, accepted: accepted,
                       allocations: allocations)
}

/// Adds up measurements.
func total(_ parts: [Measurement]) -> Measurement {
    var sum = Measurement(packets: 0, nanoseconds: 0, wallNanoseconds: 0, accepted: 0, allocations: 0)
    for part in parts {
        sum.packets += part.packets
        sum.nanoseconds += part.nanoseconds
        sum.wallNanoseconds += part.wallNanoseconds
        sum.accepted += part.accepted
        if let allocations = part.allocations, let running = sum.allocations {
            sum.allocations = running + allocations
        } else {
            sum.allocations = nil
        }
    }
    return sum
}

func format(_ value: Double, _ decimals: Int = 1) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    return "\(rounded)"
}
