import SystemCall
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An errno value with its text, e.g. "errno 1 (Operation not permitted)".
func errnoText(_ code: Int32) -> String {
    "errno \(code) (\(SystemCall.describe(code)))"
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
