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
