#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import EventLog

/// Reads event logs for review: each file given with its rotations (`FILE.N`, `FILE.N.gz`,
/// oldest first, `FILE` last), several files merged by time. A malformed line or an
/// unreadable rotation is a warning naming the file and line, never a stop.
public struct LogReader: Sendable {
    /// For each path given, the files to read in order.
    public let streams: [[String]]

    /// Resolves `paths`: a path that names a rotation itself (`….3`, `….gz`) is read alone;
    /// any other is read after its rotations (unless `expandRotations` is false).
    ///
    /// - Throws: ``LogReadError/cannotOpen(path:errno:)`` for a path that does not exist and
    ///   has no rotations either.
    public init(paths: [String], expandRotations: Bool = true) throws(LogReadError) {
        var streams: [[String]] = []
        for path in paths {
            var files: [String] = []
            if expandRotations && !Self.namesARotation(path) {
                files = Self.rotations(of: path)
            }
            if Self.exists(path) {
                files.append(path)
            } else if files.isEmpty {
                throw .cannotOpen(path: path, errno: ENOENT)
            }
            streams.append(files)
        }
        self.streams = streams
    }

    /// Every file in reading order, for messages.
    public var files: [String] { streams.flatMap { $0 } }

    /// Calls `body` with each record that matches `query`, in time order across the paths
    /// given (each path's own files are already in order), until the records end or `body`
    /// returns false. Records that do not match are never built into an ``Event``.
    ///
    /// - Parameters:
    ///   - query: which records (nil or empty: all).
    ///   - keepLines: keep each record's original text in ``LogEntry/line``.
    ///   - warning: told about every skipped line or file.
    /// - Returns: how many records were read, matching or not.
    @discardableResult
    public func read(query: LogQuery? = nil, keepLines: Bool = false, warning: @escaping (LogWarning) -> Void,
                     _ body: (LogEntry) throws -> Bool) rethrows -> Int {
        let cursors = streams.map { LogFileStream(files: $0, keepLines: keepLines, query: query, warn: warning) }
        func recordsRead() -> Int { cursors.reduce(0) { $0 + $1.recordsRead } }
        if cursors.count == 1 {
            while let entry = cursors[0].next() {
                if try !body(entry) { return recordsRead() }
            }
            return recordsRead()
        }
        var heads = cursors.map { $0.next() }
        while true {
            var best = -1
            var bestTime = UInt64.max
            for (index, head) in heads.enumerated() {
                guard let head else { continue }
                if best < 0 || head.event.timestampNanoseconds < bestTime {
                    best = index
                    bestTime = head.event.timestampNanoseconds
                }
            }
            guard best >= 0, let entry = heads[best] else { return recordsRead() }
            heads[best] = cursors[best].next()
            if try !body(entry) { return recordsRead() }
        }
    }

    /// The rotations of `path` that exist, oldest first: `path.N` (and `path.N.gz`) for every
    /// N found, highest N first.
    public static func rotations(of path: String) -> [String] {
        let (directory, name) = split(path)
        guard let handle = opendir(directory.isEmpty ? "." : directory) else { return [] }
        defer { closedir(handle) }
        var found: [(number: Int, compressed: Bool, path: String)] = []
        let prefix = name + "."
        while let entry = readdir(handle) {
            let entryName = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard entryName.hasPrefix(prefix) else { continue }
            var rest = Substring(entryName.dropFirst(prefix.count))
            let compressed = rest.hasSuffix(".gz")
            if compressed { rest = rest.dropLast(3) }
            guard !rest.isEmpty, rest.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(rest) else { continue }
            let full = directory.isEmpty ? entryName
                : directory.hasSuffix("/") ? directory + entryName : directory + "/" + entryName
            found.append((number, compressed, full))
        }
        // Highest number first (oldest); for the same number the compressed one first.
        found.sort { $0.number != $1.number ? $0.number > $1.number : ($0.compressed && !$1.compressed) }
        return found.map(\.path)
    }

    /// Whether `path` itself names a rotation or a compressed file (`events.jsonl.3`,
    /// `events.jsonl.2.gz`, `old.gz`).
    static func namesARotation(_ path: String) -> Bool {
        let name = split(path).name
        if name.hasSuffix(".gz") { return true }
        guard let dot = name.lastIndex(of: ".") else { return false }
        let suffix = name[name.index(after: dot)...]
        return !suffix.isEmpty && suffix.allSatisfy { $0.isASCII && $0.isNumber }
    }

    static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return ("", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }
}
