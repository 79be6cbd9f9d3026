#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A readable name and text for an errno value, e.g. "EPERM (Operation not permitted)".
func errnoText(_ code: Int32) -> String {
    let text = String(cString: strerror(code))
    return "errno \(code) (\(text))"
}

/// An errno value carried as an error (receive paths hand it back in a `Result`).
struct Errno: Error, Equatable {
    var code: Int32
}

/// The command name of process `pid` from /proc, or nil.
func processName(pid: UInt32) -> String? {
    guard let file = fopen("/proc/\(pid)/comm", "r") else { return nil }
    defer { fclose(file) }
    var buffer = [CChar](repeating: 0, count: 64)
    guard fgets(&buffer, Int32(buffer.count), file) != nil else { return nil }
    let name = String(String(cString: buffer).prefix { $0 != "\n" })
    return name.isEmpty ? nil : name
}
