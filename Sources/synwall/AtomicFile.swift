import SystemCall
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// Replacing a file so that a reader sees the old contents or the new, never a part: the text
/// goes to a temporary file in the same directory (same file system), is flushed to disk, and
/// is renamed over the target (what node_exporter's textfile collector asks of its writers).
enum AtomicFile {
    /// Why the file could not be written.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Writes `text` to `path` atomically, mode 0644. On failure the target is untouched and
    /// the temporary file removed.
    static func write(_ text: String, to path: String) throws(Failure) {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[..<$0]) }.map { $0.isEmpty ? "/" : $0 } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        // A dot name, which the textfile collector ignores (it reads *.prom only).
        var template = Array("\(directory)/.\(name).XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw Failure(description: "cannot create a file in \(directory): \(Self.error())") }
        let temporary = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var failure: String?
        do {
            _ = try FileDescriptor(rawValue: fd).writeAll(text.utf8)
        } catch {
            failure = "write: \(error)"
        }
        if failure == nil, fchmod(fd, 0o644) != 0 { failure = "chmod: \(Self.error())" }
        if failure == nil, fsync(fd) != 0 { failure = "fsync: \(Self.error())" }
        if close(fd) != 0, failure == nil { failure = "close: \(Self.error())" }
        if failure == nil, rename(temporary, path) != 0 { failure = "rename: \(Self.error())" }
        if let failure {
            unlink(temporary)
            throw Failure(description: failure)
        }
    }

    private static func error() -> String { SystemCall.lastError }
}
