import Capture
import Foundation
import Testing

@Suite struct CaptureErrorTests {
    private func openError(_ path: String) -> CaptureError? {
        do {
            _ = try PcapReader(path: path)
            return nil
        } catch {
            return error
        }
    }

    @Test func missingFileCannotBeOpened() throws {
        let path = "/nonexistent/synwall/missing.pcap"
        let error = try #require(openError(path))
        guard case let .cannotOpen(errorPath, reason) = error else {
            Issue.record("expected cannotOpen, got \(error)")
            return
        }
        #expect(errorPath == path)
        #expect(reason == "No such file or directory")
        #expect(error.description
            == "cannot open capture file '/nonexistent/synwall/missing.pcap': No such file or directory; give the path of a readable pcap or pcapng file")
    }

    @Test func textFileIsNotACapture() throws {
        let path = try fixturePath("not-a-capture.txt")
        let error = try #require(openError(path))
        guard case let .cannotOpen(errorPath, reason) = error else {
            Issue.record("expected cannotOpen, got \(error)")
            return
        }
        #expect(errorPath == path)
        #expect(reason.contains("unknown file format"))
    }

    @Test func emptyFileAndDirectoryCannotBeOpened() throws {
        let directory = try TemporaryDirectory()
        let empty = directory.path("empty.pcap")
        #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
        for path in [empty, directory.url.path] {
            let error = try #require(openError(path), "\(path) opened")
            guard case .cannotOpen(path, _) = error else {
                Issue.record("expected cannotOpen for \(path), got \(error)")
                continue
            }
        }
    }

    @Test func fileCutInsideARecordIsCorruptAfterItsWholeFrames() throws {
        let path = try fixturePath("truncated.pcap")
        let reader = try PcapReader(path: path)
        var indexes: [Int] = []
        do {
            try reader.forEach { indexes.append($0.index) }
            Issue.record("reading a truncated file did not fail")
        } catch let error as CaptureError {
            guard case let .corrupt(errorPath, frame, reason) = error else {
                Issue.record("expected corrupt, got \(error)")
                return
            }
            #expect(errorPath == path)
            #expect(frame == 3)
            #expect(reason == "truncated dump file; tried to read 70 captured bytes, only got 20")
            #expect(!error.description.contains("\n"))
        }
        #expect(indexes == [2])  // frame 1 is ARP, frame 2 the IPv4 SYN
        #expect(reader.skippedFrames == 1)
        #expect(try reader.next() == nil)
    }

    @Test func fileCutInsideARecordHeaderIsCorrupt() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("cut-header.pcap")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: try fixturePath("raw.pcap")))
        try bytes.prefix(24 + 16 + 52 + 7).write(to: URL(fileURLWithPath: path))
        let reader = try PcapReader(path: path)
        #expect(try reader.next()?.index == 1)
        #expect(throws: CaptureError.corrupt(path: path, frame: 2,
                                             reason: "truncated dump file; tried to read 16 header bytes, only got 7")) {
            try reader.next()
        }
    }

    /// Hand-made headers and records: lengths that lie, snaplens of 0 and 4 GB, an empty record,
    /// pcapng blocks of an unknown type and of a 2 GB size. Each is read or refused at its frame,
    /// never allocated for.
    @Test func oddAndLyingLengthsAreReadOrRefusedAtTheirFrame() throws {
        let directory = try TemporaryDirectory()
        func le32(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }
        func le16(_ value: UInt16) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }
        func header(snaplen: UInt32) -> [UInt8] {
            le32(0xA1B2_C3D4) + le16(2) + le16(4) + le32(0) + le32(0) + le32(snaplen) + le32(1)
        }
        // Ethernet, IPv4, TCP SYN (checksums zero: not verified by the reader).
        let packet: [UInt8] = [UInt8](repeating: 0, count: 12) + [0x08, 0x00]
            + [0x45, 0, 0, 0x28, 0, 1, 0, 0, 0x40, 6, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2]
            + [0x04, 0xD2, 0, 0x16, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x02, 0x02, 0, 0, 0, 0, 0]
        func record(_ bytes: [UInt8], length: UInt32? = nil) -> [UInt8] {
            le32(1) + le32(0) + le32(length ?? UInt32(bytes.count)) + le32(length ?? UInt32(bytes.count)) + bytes
        }
        func frames(_ name: String, _ bytes: [UInt8]) throws -> (indexes: [Int], skipped: Int, error: CaptureError?) {
            let path = directory.path(name)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let reader = try PcapReader(path: path)
            var indexes: [Int] = []
            do {
                try reader.forEach { indexes.append($0.index) }
                return (indexes, reader.skippedFrames, nil)
            } catch let error as CaptureError {
                return (indexes, reader.skippedFrames, error)
            }
        }

        for snaplen: UInt32 in [0, 0xFFFF_FFFF] {
            let read = try frames("snaplen-\(snaplen).pcap", header(snaplen: snaplen) + record(packet))
            #expect(read.indexes == [1] && read.error == nil, "snaplen \(snaplen): \(read)")
        }
        let empty = try frames("empty-record.pcap", header(snaplen: 65535) + record([]) + record(packet))
        #expect(empty.indexes == [2] && empty.skipped == 1 && empty.error == nil, "\(empty)")

        let lying = try frames("lying-length.pcap", header(snaplen: 65535) + record(packet) + record(packet, length: 0x7FFF_FFF0))
        #expect(lying.indexes == [1])
        if case let .corrupt(_, frame, reason) = lying.error {
            #expect(frame == 2)
            #expect(reason.contains("2147483632"), "\(reason)")
        } else {
            Issue.record("expected corrupt at frame 2, got \(String(describing: lying.error))")
        }

        func block(_ type: UInt32, _ body: [UInt8]) -> [UInt8] {
            let padded = body + [UInt8](repeating: 0, count: (4 - body.count % 4) % 4)
            let length = UInt32(12 + padded.count)
            return le32(type) + le32(length) + padded + le32(length)
        }
        let section = block(0x0A0D_0D0A, le32(0x1A2B_3C4D) + le16(1) + le16(0) + [UInt8](repeating: 0xFF, count: 8))
        let interface = block(1, le16(1) + le16(0) + le32(65535))
        let unknown = block(0x1234_5678, Array("hello".utf8))
        let enhanced = block(6, le32(0) + le32(0) + le32(1) + le32(UInt32(packet.count)) + le32(UInt32(packet.count)) + packet)
        let huge = le32(6) + le32(0x7FFF_FFF0) + [UInt8](repeating: 0, count: 16)
        let odd = try frames("odd.pcapng", section + interface + unknown + enhanced + huge)
        #expect(odd.indexes == [1], "\(odd)")
        if case let .corrupt(_, frame, reason) = odd.error {
            #expect(frame == 2)
            #expect(reason.contains("block size"), "\(reason)")
        } else {
            Issue.record("expected corrupt at frame 2, got \(String(describing: odd.error))")
        }
    }

    @Test func unsupportedLinkTypeIsNamed() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("wifi.pcap")
        let writer = try PcapWriter(path: path, linkType: LinkType(rawValue: 105))  // IEEE 802.11
        writer.write([0x08, 0x00, 0x00, 0x00], timestampNanoseconds: 1)
        try writer.close()
        let error = try #require(openError(path))
        #expect(error == .unsupportedLinkType(path: path, linkType: 105, name: "IEEE802_11"))
        #expect(error.description.hasPrefix("capture file '\(path)' has link type IEEE802_11 (DLT 105), which synwall cannot read;"))
    }

    @Test func writerReportsAnUncreatableFile() {
        #expect(throws: CaptureError.self) {
            _ = try PcapWriter(path: "/nonexistent/synwall/out.pcap")
        }
    }
}

/// A fresh directory under the system temporary directory, removed when the value goes away.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("synwall-capture-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}
