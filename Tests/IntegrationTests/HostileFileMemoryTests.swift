import Foundation
import Testing

/// Hostile files cost the real command little memory. Each case runs `synwall` as a child and
/// compares its peak resident memory with the same command on a small, honest file measured in
/// the same test; the unit tests (HostileInputTests, LogReaderTests) check what is reported.
@Suite struct HostileFileMemoryTests {
    let scratch: URL

    init() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("synwall-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { scratch.appendingPathComponent(name).path }

    func write(_ name: String, _ data: Data) throws -> String {
        try data.write(to: URL(fileURLWithPath: path(name)))
        return path(name)
    }

    /// Runs `synwall arguments` with its peak memory.
    func measure(_ arguments: [String]) throws -> MeasuredRun {
        try MeasuredRun.run(try Harness.synwallBinary(), arguments)
    }

    func cleanUp() { try? FileManager.default.removeItem(at: scratch) }

    @Test func aBinaryAndAMacroBombAreOneErrorInLittleMemory() throws {
        defer { cleanUp() }
        let honest = try write("honest.rules", Data("pass in proto tcp to port 22\n".utf8))
        // An ELF-like header, then 4 MB of bytes with few newlines and NULs late.
        var state: UInt64 = 7
        var bytes: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x01, 0x00]
        bytes.reserveCapacity(4 << 20 + 8)
        for _ in 0..<(4 << 20) {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            bytes.append(UInt8(truncatingIfNeeded: state >> 56) | 1)
        }
        let binary = try write("binary", Data(bytes))
        // Each macro doubles the one before: m30 would be a billion tokens.
        var text = "m0 = 22\n"
        for level in 1...30 { text += "m\(level) = $m\(level - 1), $m\(level - 1)\n" }
        text += "pass in proto tcp to port { $m30 }\n"
        let bomb = try write("bomb.rules", Data(text.utf8))

        let baseline = try measure(["check", honest])
        #expect(baseline.status == 0, "\(baseline.stderr)")
        let readBinary = try measure(["check", binary])
        #expect(readBinary.status == 1)
        #expect(readBinary.stderr.contains("not a text file (a NUL byte at byte 7)"), "\(readBinary.stderr)")
        let expanded = try measure(["check", bomb])
        #expect(expanded.status == 1)
        #expect(expanded.stderr.contains("macro expansion too large"), "\(expanded.stderr)")
        print("peak: honest \(baseline.peakBytes >> 10) kB, 4 MB binary \(readBinary.peakBytes >> 10) kB, "
              + "macro bomb \(expanded.peakBytes >> 10) kB")
        // The binary is read once (4 MB) and nothing per byte is kept; the bomb stops at the cap.
        #expect(readBinary.peakBytes - baseline.peakBytes < 16 << 20)
        #expect(expanded.peakBytes - baseline.peakBytes < 48 << 20)
    }

    @Test func aGzipBombAndBinaryGarbageAmongTheRotationsReadInBoundedMemory() throws {
        defer { cleanUp() }
        let line = { (minute: Int) in
            "{\"timestamp\":\"2026-11-24T10:\(String(format: "%02d", minute)):00.000000+0000\",\"event_type\":\"drop\","
                + "\"reason\":\"bad_seq\",\"src_ip\":\"203.0.113.7\",\"src_port\":40000,\"dest_ip\":\"192.0.2.1\",\"dest_port\":22,\"proto\":\"TCP\"}\n"
        }
        let small = try write("small.jsonl", Data(line(0).utf8))
        _ = try write("events.jsonl.3", Data(line(0).utf8))
        // 64 MiB of zeros gzip to 64 KiB: one endless line once inflated.
        _ = try write("events.jsonl.2", Data(count: 64 << 20))
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/usr/bin/gzip")
        gzip.arguments = ["-f", path("events.jsonl.2")]
        try gzip.run()
        gzip.waitUntilExit()
        #expect(gzip.terminationStatus == 0)
        var garbage = Data((0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) })
        garbage.append(contentsOf: Array("\n".utf8))
        _ = try write("events.jsonl.1", garbage)
        let current = try write("events.jsonl", Data(line(1).utf8))

        let baseline = try measure(["log", small, "--json"])
        #expect(baseline.status == 0, "\(baseline.stderr)")
        let hostile = try measure(["log", current, "--json"])
        #expect(hostile.status == 0, "\(hostile.stderr)")
        #expect(hostile.stdout.split(separator: "\n").count == 2)
        #expect(hostile.stderr.contains("events.jsonl.2.gz: skipped a line longer than 1048576 bytes"), "\(hostile.stderr)")
        print("peak: one-line log \(baseline.peakBytes >> 10) kB, with a gzip bomb and 4 MB of garbage \(hostile.peakBytes >> 10) kB")
        // The reader's buffer is fixed (1 MiB a line): the 64 MiB line is never held.
        #expect(hostile.peakBytes - baseline.peakBytes < 16 << 20)
    }
}
