import Foundation
import Testing
@testable import Firewall
import Tracking
import Wire

/// A scratch directory, removed afterwards.
private final class Scratch {
    let directory: String

    init() {
        directory = NSTemporaryDirectory() + "synwall-state-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    func path(_ name: String) -> String { directory + "/" + name }
}

private let now: UInt64 = 1_800_000_000 * 1_000_000_000

private func header(kind: StateFileHeader.Kind = .stop, written: UInt64 = now) -> StateFileHeader {
    StateFileHeader(writtenNanoseconds: written, bootID: [UInt8](repeating: 7, count: 16), queues: 2...5, kind: kind,
                    rulesDigest: 0xABCDEF, connectionCount: 2, provenSourceCount: 1, tableEntryCount: 2, bodyLength: 0,
                    bodyChecksum: 0, writerVersion: "synwall test")
}

/// Two records' worth of bytes (not real flows: the store does not look inside them).
private let records: [UInt8] = (0 ..< 2 * SavedConnection.size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
private let tail = StateSnapshot.encodeTail(
    proven: [SavedProvenSource(address: IPAddress("192.0.2.9")!, provenAgoNanoseconds: 5_000_000_000)],
    tables: [SavedTableEntry(table: "bruteforce", address: IPAddress("2001:db8::7")!, addedAgoNanoseconds: 9),
             SavedTableEntry(table: "blocklist", address: IPAddress("198.51.100.0")!, addedAgoNanoseconds: 11,
                             prefixLength: 24, lifetimeNanoseconds: 3_600_000_000_000, manual: true)])

@Suite("State file: format and store")
struct StateFileTests {
    private func written(_ scratch: Scratch, kind: StateFileHeader.Kind = .stop, written time: UInt64 = now) throws -> StateFileStore {
        let store = StateFileStore(path: scratch.path("state"))
        try store.write(header: header(kind: kind, written: time), chunks: [Array(records[..<SavedConnection.size]),
                                                                        Array(records[SavedConnection.size...]), tail])
        return store
    }

    private func expectRefused(_ store: StateFileStore, _ expected: (StateFileError) -> Bool, limit: UInt64 = 1 << 30,
                               maxAge: UInt64 = 600, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try store.read(limitBytes: limit, maxAgeSeconds: maxAge, now: now + 1_000_000_000)
            Issue.record("the file was loaded", sourceLocation: sourceLocation)
        } catch {
            #expect(expected(error), "\(error)", sourceLocation: sourceLocation)
        }
    }

    @Test("written and read back: header, records, proven sources, tables; mode 0600, no temporary left")
    func roundTrip() throws {
        let scratch = Scratch()
        let store = try written(scratch)
        let loaded = try #require(try store.read(limitBytes: 1 << 30, maxAgeSeconds: 600, now: now + 3_000_000_000))
        #expect(loaded.snapshot.connections == records)
        #expect(loaded.snapshot.header.queues == 2...5 && loaded.snapshot.header.kind == .stop)
        #expect(loaded.snapshot.header.rulesDigest == 0xABCDEF && loaded.snapshot.header.writerVersion == "synwall test")
        #expect(loaded.snapshot.provenSources.first?.provenAgoNanoseconds == 5_000_000_000)
        #expect(loaded.snapshot.tableEntries.first?.table == "bruteforce")
        #expect(loaded.snapshot.tableEntries.first?.prefixLength == nil && loaded.snapshot.tableEntries.first?.manual == false)
        // An entry of `synwall table add`: its prefix, own lifetime and origin come back.
        #expect(loaded.snapshot.tableEntries.last == SavedTableEntry(
            table: "blocklist", address: IPAddress("198.51.100.0")!, addedAgoNanoseconds: 11, prefixLength: 24,
            lifetimeNanoseconds: 3_600_000_000_000, manual: true))
        #expect(loaded.ageNanoseconds == 3_000_000_000)
        var info = stat()
        #expect(stat(store.path, &info) == 0 && info.st_mode & 0o777 == 0o600)
        #expect(!FileManager.default.fileExists(atPath: store.path + ".tmp"))
    }

    @Test("a version 1 file (table entries without prefix length, lifetime or origin) is still read")
    func versionOneIsRead() throws {
        let scratch = Scratch()
        let store = StateFileStore(path: scratch.path("state"))
        var old = StateFileHeader(formatVersion: 1, writtenNanoseconds: now, queues: 0...0, kind: .stop, rulesDigest: 0,
                                  connectionCount: 0, provenSourceCount: 0, tableEntryCount: 1)
        old.writerVersion = "synwall old"
        var body: [UInt8] = [3] + Array("bad".utf8)
        let address = IPAddress("192.0.2.44")!
        for value in [address.high, address.low, 7_000_000_000] { withUnsafeBytes(of: value.littleEndian) { body += $0 } }
        try store.write(header: old, chunks: [body])
        let loaded = try #require(try store.read(limitBytes: 1 << 30, maxAgeSeconds: 600, now: now))
        #expect(loaded.snapshot.tableEntries == [SavedTableEntry(table: "bad", address: address, addedAgoNanoseconds: 7_000_000_000)])
    }

    @Test("a missing file is no error")
    func missing() throws {
        let scratch = Scratch()
        #expect(try StateFileStore(path: scratch.path("none")).read(limitBytes: 1 << 20, maxAgeSeconds: 0, now: now) == nil)
    }

    @Test("every byte of the file is covered: any flip is refused")
    func everyByteChecked() throws {
        let scratch = Scratch()
        let store = try written(scratch)
        let good = try Data(contentsOf: URL(fileURLWithPath: store.path))
        var refused = 0
        for position in stride(from: 0, to: good.count, by: 7) {
            var bad = good
            bad[position] ^= 0x40
            try bad.write(to: URL(fileURLWithPath: store.path))
            if (try? store.read(limitBytes: 1 << 30, maxAgeSeconds: 0, now: now)) == nil { refused += 1 }
        }
        #expect(refused == (good.count + 6) / 7)
    }

    @Test("truncated anywhere, or with bytes after the body")
    func truncated() throws {
        let scratch = Scratch()
        let store = try written(scratch)
        let good = try Data(contentsOf: URL(fileURLWithPath: store.path))
        for length in [0, 7, 60, 100, good.count - 1] {
            try good.prefix(length).write(to: URL(fileURLWithPath: store.path))
            expectRefused(store) { error in
                if case .truncated = error { return true }
                return error == .notAStateFile && length < 8
            }
        }
        try (good + Data([0])).write(to: URL(fileURLWithPath: store.path))
        expectRefused(store) { if case .corrupt = $0 { return true } else { return false } }
    }

    @Test("foreign, another format version, too old, from the future, larger than the limit")
    func refusedFiles() throws {
        let scratch = Scratch()
        let store = StateFileStore(path: scratch.path("state"))
        try Data(contentsOf: URL(fileURLWithPath: "/bin/ls")).prefix(65536).write(to: URL(fileURLWithPath: store.path))
        expectRefused(store) { $0 == .notAStateFile }

        _ = try written(scratch)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: store.path))
        bytes[8] = 3
        try bytes.write(to: URL(fileURLWithPath: store.path))
        expectRefused(store) { $0 == .unsupportedVersion(3) }

        _ = try written(scratch, written: now - 700_000_000_000)
        expectRefused(store) { if case .tooOld = $0 { return true } else { return false } }
        // No age limit: loaded.
        #expect(try store.read(limitBytes: 1 << 30, maxAgeSeconds: 0, now: now) != nil)

        _ = try written(scratch, written: now + 3_600_000_000_000)
        expectRefused(store) { if case .fromTheFuture = $0 { return true } else { return false } }

        _ = try written(scratch)
        expectRefused(store, { if case .tooLarge = $0 { return true } else { return false } }, limit: 100)
    }

    @Test("a sparse 10 GB file is refused without reading it (bounded time and memory)")
    func sparseHuge() throws {
        let scratch = Scratch()
        let store = try written(scratch)
        // A valid header declaring a 10 GB body, and a file of that size.
        var huge = header()
        huge.bodyLength = 10 << 30
        let head = huge.encoded()
        try Data(head).write(to: URL(fileURLWithPath: store.path))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: store.path))
        try handle.truncate(atOffset: UInt64(head.count) + (10 << 30))
        try handle.close()
        // This thread's own read counter: no other test adds to it.
        let before = try threadBytesRead()
        expectRefused(store, { if case .tooLarge = $0 { return true } else { return false } }, limit: 1 << 30)
        let read = try threadBytesRead() - before
        #expect(read < 1 << 20, "refused from the header, but \(read) bytes were read")
    }

    /// Bytes read by the calling thread so far (`rchar` of /proc/thread-self/io).
    func threadBytesRead() throws -> Int {
        let text = try String(contentsOfFile: "/proc/thread-self/io", encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("rchar:") })
        return try #require(Int(line.dropFirst("rchar:".count).trimmingCharacters(in: .whitespaces)))
    }

    @Test("a symbolic link, a directory, a FIFO: refused, and moved aside without touching a target")
    func notRegular() throws {
        let scratch = Scratch()
        let target = scratch.path("target")
        try "keep me".write(toFile: target, atomically: true, encoding: .utf8)
        let store = StateFileStore(path: scratch.path("state"))
        try FileManager.default.createSymbolicLink(atPath: store.path, withDestinationPath: target)
        expectRefused(store) { $0 == .symbolicLink }
        #expect(store.moveAside() == nil)
        var info = stat()
        #expect(lstat(store.asidePath, &info) == 0 && info.st_mode & S_IFMT == S_IFLNK)
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "keep me")

        try FileManager.default.createDirectory(atPath: store.path, withIntermediateDirectories: false)
        expectRefused(store) { $0 == .notARegularFile("a directory") }
        try FileManager.default.removeItem(atPath: store.path)
        #expect(mkfifo(store.path, 0o600) == 0)
        expectRefused(store) { $0 == .notARegularFile("a FIFO") }
    }

    @Test("a write never goes through a link planted at the temporary name")
    func plantedTemporaryLink() throws {
        let scratch = Scratch()
        let target = scratch.path("victim")
        try "keep me".write(toFile: target, atomically: true, encoding: .utf8)
        let store = StateFileStore(path: scratch.path("state"))
        try FileManager.default.createSymbolicLink(atPath: store.path + ".tmp", withDestinationPath: target)
        try store.write(header: header(), chunks: [records, tail])
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "keep me")
        #expect(try store.read(limitBytes: 1 << 30, maxAgeSeconds: 0, now: now) != nil)
    }

    @Test("a header whose counts need more bytes than the body is refused before any record is read")
    func countsBeyondBody() throws {
        var big = header()
        big.connectionCount = 1 << 40
        #expect(throws: StateFileError.self) {
            _ = try StateSnapshot.decodeBody(records + tail, header: big)
        }
        var tables = header()
        tables.tableEntryCount = 1_000
        #expect(throws: StateFileError.self) {
            _ = try StateSnapshot.decodeBody(records + tail, header: tables)
        }
    }
}
