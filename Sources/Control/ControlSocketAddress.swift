#if canImport(Glibc)
import Glibc
#endif

/// Where the daemon's control socket lives, and the `sockaddr_un` for it.
public enum ControlSocketAddress {
    /// The default path: the daemon creates `/run/synwall` if it is missing.
    public static let defaultPath = "/run/synwall/control.sock"

    /// The longest path a Unix socket address holds (without the terminating zero).
    public static var maximumPathLength: Int { MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1 }

    /// Calls `body` with a filled `sockaddr_un` for `path`; nil when the path is too long.
    public static func withAddress<R>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R? {
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty, bytes.count <= maximumPathLength else { return nil }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in bytes.enumerated() { raw[i] = byte }
            raw[bytes.count] = 0
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + 1)
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }
}
