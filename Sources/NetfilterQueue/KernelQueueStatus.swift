#if canImport(Glibc)
import Glibc
#endif

/// One line of `/proc/net/netfilter/nfnetlink_queue`: the kernel's own view of a queue.
public struct KernelQueueStatus: Sendable, Equatable {
    /// Queue number.
    public var queue: UInt16
    /// Netlink port id of the socket bound to it.
    public var portID: UInt32
    /// Packets waiting for a verdict right now.
    public var waiting: Int
    /// Copy mode (2 = whole packet) and copy range.
    public var copyMode: Int
    public var copyRange: Int
    /// Packets dropped because the queue was full (or the id index was).
    public var queueDropped: Int
    /// Packets dropped because the socket buffer was full (ENOBUFS on our side).
    public var userDropped: Int
    /// The last packet id handed out.
    public var lastID: UInt32

    /// Parses the whole file's text. Lines that do not parse are skipped.
    public static func parse(_ text: String) -> [KernelQueueStatus] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count >= 8, let q = UInt16(f[0]), let port = UInt32(f[1]), let waiting = Int(f[2]),
                  let mode = Int(f[3]), let range = Int(f[4]), let qd = Int(f[5]), let ud = Int(f[6]),
                  let last = UInt32(f[7])
            else { return nil }
            return KernelQueueStatus(queue: q, portID: port, waiting: waiting, copyMode: mode, copyRange: range,
                                     queueDropped: qd, userDropped: ud, lastID: last)
        }
    }

    /// Reads the current network namespace's queue table; empty when it cannot be read.
    public static func read(path: String = "/proc/net/netfilter/nfnetlink_queue") -> [KernelQueueStatus] {
        guard let file = fopen(path, "r") else { return [] }
        defer { fclose(file) }
        var text = ""
        var chunk = [CChar](repeating: 0, count: 4096)
        while fgets(&chunk, Int32(chunk.count), file) != nil {
            text += String(cString: chunk)
        }
        return parse(text)
    }
}
