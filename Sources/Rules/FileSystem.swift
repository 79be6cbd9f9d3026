import SystemCall

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The few file operations rules need, on plain POSIX calls: read a whole file, resolve a
/// path, and replace a file atomically keeping its owner and mode.
enum FileSystem {
    /// A failed operation: what was attempted and the system's reason.
    struct Failure: Error, CustomStringConvertible {
        var operation: String
        var path: String
        var code: Int32

        var reason: String { SystemCall.describe(code) }
        var description: String { "cannot \(operation) '\(path)': \(reason)" }
    }

    /// The file's contents as UTF-8 text (invalid bytes replaced).
    static func read(_ path: String) -> Result<String, Failure> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(Failure(operation: "read", path: path, code: errno)) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { buffer in
                SystemCall.retryingInterrupts { Glibc.read(fd, buffer.baseAddress, buffer.count) }
            }
            if count > 0 {
                bytes.append(contentsOf: chunk[0..<count])
            } else if count == 0 {
                break
            } else {
                return .failure(Failure(operation: "read", path: path, code: errno))
            }
        }
        return .success(String(decoding: bytes, as: UTF8.self))
    }

    /// Why `readBytes` gave no bytes: the system refused, or the file is over the cap.
    enum ReadFailure: Error {
        case system(Failure)
        /// `size` is the file's size, or `nil` when it is not a regular file (read until
        /// the cap was passed).
        case tooLarge(size: Int?, limit: Int)
    }

    /// The file's bytes, at most `limit` of them: a regular file larger than that is refused
    /// before anything is read, anything else (a pipe, `/dev/zero`) once `limit` is passed.
    static func readBytes(_ path: String, limit: Int) -> Result<[UInt8], ReadFailure> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(.system(Failure(operation: "read", path: path, code: errno))) }
        defer { close(fd) }
        var info = stat()
        var expected = 0
        if fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG {
            let size = Int(info.st_size)
            guard size <= limit else { return .failure(.tooLarge(size: size, limit: limit)) }
            expected = size
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(min(expected, limit) + 1)
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { buffer in
                SystemCall.retryingInterrupts { Glibc.read(fd, buffer.baseAddress, buffer.count) }
            }
            if count > 0 {
                guard bytes.count + count <= limit else { return .failure(.tooLarge(size: nil, limit: limit)) }
                bytes.append(contentsOf: chunk[0..<count])
            } else if count == 0 {
                return .success(bytes)
            } else {
                return .failure(.system(Failure(operation: "read", path: path, code: errno)))
            }
        }
    }

    /// The canonical absolute path (symlinks resolved), or nil when it does not exist.
    static func canonicalPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// True when something exists at `path`.
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// The directory part of a path (`""` for a bare name, `/` for a top-level file).
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    /// `path` taken relative to the directory of `base` (unless absolute), with `./` parts dropped.
    static func resolve(_ path: String, relativeTo base: String) -> String {
        if path.hasPrefix("/") { return path }
        let directory = directory(of: base)
        let joined = directory.isEmpty ? path : (directory.hasSuffix("/") ? directory + path : directory + "/" + path)
        let parts = joined.split(separator: "/", omittingEmptySubsequences: false).enumerated()
            .filter { offset, part in part != "." && (part != "" || offset == 0) }.map(\.element)
        return parts.isEmpty ? "." : parts.joined(separator: "/")
    }

    /// Replaces `path` with `text` atomically: writes a temporary file in the same directory,
    /// gives it the original's owner, group and mode (or 0644 for a new file), flushes it to
    /// disk and renames it over the original. When `backup` is set, the original's previous
    /// contents are first copied (the same way) to that path, replacing an older backup.
    ///
    /// When `path` is a symbolic link, the file it points to is replaced (in its own directory)
    /// and the link stays a link; the backup still goes to `backup`.
    static func writeAtomically(_ text: String, to linkOrPath: String, backup: String? = nil) -> Result<Void, Failure> {
        var linkInfo = stat()
        var path = linkOrPath
        if lstat(linkOrPath, &linkInfo) == 0, linkInfo.st_mode & S_IFMT == S_IFLNK {
            guard let target = canonicalPath(linkOrPath) else {
                return .failure(Failure(operation: "follow the symbolic link", path: linkOrPath, code: errno))
            }
            path = target
        }
        var info = stat()
        let existed = stat(path, &info) == 0
        let mode: mode_t = existed ? info.st_mode & 0o7777 : 0o644
        if let backup, existed {
            switch read(path) {
            case .success(let original):
                if case .failure(let failure) = replace(backup, with: original, mode: mode, owner: existed ? info : nil) {
                    return .failure(failure)
                }
            case .failure(let failure):
                return .failure(failure)
            }
        }
        return replace(path, with: text, mode: mode, owner: existed ? info : nil)
    }

    private static func replace(_ path: String, with text: String, mode: mode_t, owner: stat?) -> Result<Void, Failure> {
        let directory = directory(of: path)
        let name = path.split(separator: "/").last.map(String.init) ?? path
        let templateText = (directory.isEmpty ? "" : directory + "/") + ".\(name).synwall-XXXXXX"
        var template = Array(templateText.utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { buffer -> Int32 in
            guard let base = buffer.baseAddress else { return -1 }
            return mkstemp(base)
        }
        guard fd >= 0 else { return .failure(Failure(operation: "create a temporary file next to", path: path, code: errno)) }
        let temporary = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        func fail(_ operation: String) -> Result<Void, Failure> {
            let code = errno
            close(fd)
            unlink(temporary)
            return .failure(Failure(operation: operation, path: path, code: code))
        }
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return SystemCall.retryingInterrupts { write(fd, base + offset, buffer.count - offset) }
            }
            if written > 0 {
                offset += written
            } else {
                return fail("write")
            }
        }
        if let owner, fchown(fd, owner.st_uid, owner.st_gid) != 0, owner.st_uid != geteuid() {
            // Without privilege the new file stays ours: refuse only when that changes its owner.
            return fail("keep the owner of")
        }
        guard fchmod(fd, mode) == 0 else { return fail("keep the mode of") }
        guard fsync(fd) == 0 else { return fail("flush") }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            return .failure(Failure(operation: "replace", path: path, code: code))
        }
        let directoryFD = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            _ = fsync(directoryFD)
            close(directoryFD)
        }
        return .success(())
    }
}
