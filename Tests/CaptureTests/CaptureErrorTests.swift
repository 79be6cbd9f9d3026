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
