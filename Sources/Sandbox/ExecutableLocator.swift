import Foundation

/// Finds system tools by name. Root's tools live in `sbin`, which a test runner's or sudo's
/// `PATH` may lack, so the usual system directories are searched first.
public enum ExecutableLocator {
    static let systemDirectories = ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin", "/usr/local/bin"]

    /// The absolute path of the executable `name`, or nil when none is installed.
    /// A name that contains a slash is returned as is when that file is executable.
    public static func locate(_ name: String) -> String? {
        let fileManager = FileManager.default
        if name.contains("/") {
            return fileManager.isExecutableFile(atPath: name) ? name : nil
        }
        let pathDirectories = (ProcessInfo.processInfo.environment["PATH"] ?? "")
            .split(separator: ":").map(String.init)
        for directory in systemDirectories + pathDirectories where !directory.isEmpty {
            let candidate = directory + "/" + name
            if fileManager.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Like ``locate(_:)``, but throws ``SandboxError/toolMissing(name:package:)``.
    static func require(_ name: String, package: String) throws -> String {
        guard let path = locate(name) else { throw SandboxError.toolMissing(name: name, package: package) }
        return path
    }
}
