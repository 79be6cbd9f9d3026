import Foundation

/// The capabilities this process holds right now.
public enum ProcessCapabilities {
    /// Whether the calling thread's effective set holds `capability` (from /proc/self/status;
    /// false when it cannot be read).
    public static func effectiveHas(_ capability: Capability) -> Bool {
        guard let text = try? String(contentsOfFile: "/proc/thread-self/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") }),
              let mask = UInt64(line.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces), radix: 16)
        else { return false }
        return mask & Capability.mask([capability]) != 0
    }
}
