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

    static func remove(_ path: String?) {
        guard let path, read(path) == getpid() else { return }
        try? FileManager.default.removeItem(atPath: path)
    }

    /// The pid in `path`, if the file holds one.
    public static func read(_ path: String) -> Int32? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
