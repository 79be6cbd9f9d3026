import Foundation
import SystemCall
import SystemPackage
import Tracking

/// The state file on disk (docs/state-file.md): written atomically (a temporary file beside
/// it, fsync, rename, fsync of the directory) with mode 0600; read without following a symbolic
/// link, after checking the header's lengths against the file's size and a limit, before
/// reading the body; a file that fails any check is moved aside to `FILE.bad`.
public struct StateFileStore: Sendable {
    /// The default state file.
    public static let defaultPath = "/var/lib/synwall/state"

    public let path: String

    public init(path: String) { self.path = path }

    /// The temporary file a write goes to before it is renamed into place.
    var temporaryPath: String { path + ".tmp" }

    /// Where a file that could not be loaded is moved.
    public var asidePath: String { path + ".bad" }

    // MARK: Writing

    /// Writes `header` (its body length and checksum filled in here) followed by `chunks`, in
    /// order, atomically. Returns the file's size in bytes.
    @discardableResult
    public func write(header: StateFileHeader, chunks: [[UInt8]]) throws(StateFileError) -> Int {
        var header = header
        var checksum: UInt32 = 0
        var bodyLength = 0
        for chunk in chunks {
            chunk.withUnsafeBytes { checksum = StateChecksum.crc32($0, continuing: checksum) }
            bodyLength += chunk.count
        }
        header.bodyLength = UInt64(bodyLength)
        header.bodyChecksum = checksum
        let head = header.encoded()

        let temporary = temporaryPath
        if unlink(temporary) != 0 && errno != ENOENT {
            throw .system(operation: "remove the stale \(temporary)", errno: errno)
        }
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .system(operation: "create \(temporary)", errno: errno) }
        var failure: StateFileError?
        for chunk in [head] + chunks where failure == nil {
            failure = Self.writeAll(fd, chunk, path: temporary)
        }
        if failure == nil, fsync(fd) != 0 { failure = .system(operation: "fsync \(temporary)", errno: errno) }
        close(fd)
        if failure == nil, rename(temporary, path) != 0 {
            failure = .system(operation: "rename \(temporary) to \(path)", errno: errno)
        }
        if let failure {
            unlink(temporary)
            throw failure
        }
        let directory = open(FileAccess.directory(of: path), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
        return head.count + bodyLength
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) -> StateFileError? {
        do {
            _ = try FileDescriptor(rawValue: fd).writeAll(bytes)
            return nil
        } catch {
            return .system(operation: "write \(path)", errno: (error as? Errno)?.rawValue ?? EIO)
        }
    }

    /// Creates the file's directory (mode 0700) when it is missing, and gives it to `owner`
    /// when given (the account `--user` drops to, which must be able to write it at stop).
    /// Returns a warning when that fails; writing is then reported at stop.
    public func prepareDirectory(owner: (uid: uid_t, gid: gid_t)?) -> String? {
        let directory = FileAccess.directory(of: path)
        var info = stat()
        if lstat(directory, &info) != 0 {
            guard mkdir(directory, 0o700) == 0 || errno == EEXIST else {
                return "cannot create the state directory \(directory): \(SystemCall.lastError)"
            }
            if let owner, lchown(directory, owner.uid, owner.gid) != 0 {
                return "cannot give the state directory \(directory) to uid \(owner.uid): "
                    + SystemCall.lastError
            }
        }
        return nil
    }

    // MARK: Reading

    /// What a successful read found.
    public struct Loaded: Sendable {
        public var snapshot: StateSnapshot
        /// Seconds between the file's time and `now` (0 if the file is from the future by less
        /// than a minute).
        public var ageNanoseconds: UInt64
        public var fileBytes: Int
    }

    /// Reads and checks the file. Nil when there is none (a normal first start). Throws when it
    /// is a link, not a regular file, foreign, damaged, truncated, of another format version,
    /// larger than `limitBytes` or older than `maxAgeSeconds` at `now` (0: no age limit).
    public func read(limitBytes: UInt64, maxAgeSeconds: UInt64, now: UInt64) throws(StateFileError) -> Loaded? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 {
            switch errno {
            case ENOENT: return nil
            case ELOOP: throw .symbolicLink
            default: throw .system(operation: "open \(path)", errno: errno)
            }
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .system(operation: "stat \(path)", errno: errno) }
        guard info.st_mode & S_IFMT == S_IFREG else {
            let kind: String
            switch info.st_mode & S_IFMT {
            case S_IFDIR: kind = "a directory"
            case S_IFIFO: kind = "a FIFO"
            case S_IFSOCK: kind = "a socket"
            case S_IFCHR, S_IFBLK: kind = "a device"
            default: kind = "unknown type"
            }
            throw .notARegularFile(kind)
        }
        let size = UInt64(info.st_size)
        var headBytes = [UInt8](repeating: 0, count: Int(min(size, UInt64(StateFileHeader.maximumLength))))
        guard try Self.readAll(fd, into: &headBytes, at: 0, path: path) == headBytes.count else {
            throw .truncated(what: "header")
        }
        let decoded: Result<StateFileHeader, StateFileError> = headBytes.withUnsafeBytes { raw in
            Result { () throws(StateFileError) in try StateFileHeader.decode(raw) }
        }
        let header = try decoded.get()
        let headerLength = UInt64(header.encodedLength)
        guard header.bodyLength <= limitBytes else { throw .tooLarge(declared: header.bodyLength, limit: limitBytes) }
        if size < headerLength + header.bodyLength { throw .truncated(what: "body") }
        if size > headerLength + header.bodyLength {
            throw .corrupt("\(size - headerLength - header.bodyLength) bytes after the body")
        }
        if header.writtenNanoseconds > now {
            let ahead = (header.writtenNanoseconds - now) / 1_000_000_000
            if ahead > 60 { throw .fromTheFuture(aheadSeconds: ahead) }
        }
        let age = now > header.writtenNanoseconds ? now - header.writtenNanoseconds : 0
        if maxAgeSeconds > 0, age / 1_000_000_000 > maxAgeSeconds {
            throw .tooOld(ageSeconds: age / 1_000_000_000, limitSeconds: maxAgeSeconds)
        }
        var body = [UInt8](repeating: 0, count: Int(header.bodyLength))
        guard try Self.readAll(fd, into: &body, at: off_t(headerLength), path: path) == body.count else {
            throw .truncated(what: "body")
        }
        let checksum = body.withUnsafeBytes { StateChecksum.crc32($0) }
        guard checksum == header.bodyChecksum else { throw .checksum(what: "body") }
        let snapshot = try StateSnapshot.decodeBody(body, header: header)
        return Loaded(snapshot: snapshot, ageNanoseconds: age, fileBytes: Int(size))
    }

    private static func readAll(_ fd: Int32, into buffer: inout [UInt8], at start: off_t,
                                path: String) throws(StateFileError) -> Int {
        let file = FileDescriptor(rawValue: fd)
        let result: Result<Int, StateFileError> = buffer.withUnsafeMutableBytes { raw in
            var done = 0
            while done < raw.count {
                do {
                    let got = try file.read(fromAbsoluteOffset: Int64(start) + Int64(done),
                                            into: UnsafeMutableRawBufferPointer(rebasing: raw[done...]))
                    if got == 0 { break }
                    done += got
                } catch {
                    return .failure(.system(operation: "read \(path)", errno: (error as? Errno)?.rawValue ?? EIO))
                }
            }
            return .success(done)
        }
        return try result.get()
    }

    /// Moves the file (or the link, never its target) aside to `asidePath`, replacing an older
    /// one there. Returns nil when done, else what went wrong.
    public func moveAside() -> String? {
        if rename(path, asidePath) != 0 {
            return "cannot move \(path) aside to \(asidePath): \(SystemCall.lastError)"
        }
        return nil
    }

    /// The kernel's boot id (16 bytes), or zeros when it cannot be read.
    public static func bootID() -> [UInt8] {
        guard let text = try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8) else {
            return [UInt8](repeating: 0, count: 16)
        }
        let hex = Array(text.filter(\.isHexDigit).utf8)
        guard hex.count == 32 else { return [UInt8](repeating: 0, count: 16) }
        return (0..<16).map { i in
            let pair = String(decoding: hex[(2 * i)...(2 * i + 1)], as: UTF8.self)
            return UInt8(pair, radix: 16) ?? 0
        }
    }
}
