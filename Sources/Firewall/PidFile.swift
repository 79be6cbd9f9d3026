import Foundation

/// The daemon's pid file: written once it is ready, removed when it stops, read by
/// `synwall reload` and `synwall rules` to signal it.
public enum PidFile {
    /// The default path.
    public static let defaultPath = "/run/synwall.pid"

    static func write(_ path: String?) {
        guard let path else { return }
        try? "\(getpid())\n".write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Removes the file if it still holds our pid. A daemon that dropped to `--user` may not
    /// be allowed to unlink it (its directory belongs to root): then it empties it, so nobody
    /// signals a stale pid.
    static func remove(_ path: String?) {
        guard let path, read(path) == getpid() else { return }
        if unlink(path) != 0, errno != ENOENT {
            _ = truncate(path, 0)
        }
    }

    /// The pid in `path`, if the file holds one.
    public static func read(_ path: String) -> Int32? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
