/// Size-based rotation, as `set log rotate 100M keep 10` says: when the log reaches
/// ``maxBytes`` it becomes `FILE.1`, the old `FILE.1` becomes `FILE.2`, and so on up to
/// `FILE.<keep>`; the oldest goes. Compressed rotations (`FILE.N.gz`, from logrotate) move
/// along with the plain ones, so a mix stays in order.
public struct LogRotation: Sendable, Equatable {
    /// The size at which the file is rotated. It is checked after each batch is written, so a
    /// file may pass it by up to one batch (at most the writer's flush threshold).
    public var maxBytes: Int
    /// How many rotated files are kept (at least 1).
    public var keep: Int

    /// Creates a rotation policy; `keep` below 1 counts as 1.
    public init(maxBytes: Int, keep: Int) {
        self.maxBytes = max(1, maxBytes)
        self.keep = max(1, keep)
    }

    /// Parses a size as the rule file writes it: a number with an optional unit `K`, `M` or
    /// `G` (powers of 1024; `KB`, `MiB`… and lowercase also accepted), e.g. `100M`. Nil when it
    /// is not such a size or is zero.
    public static func parseSize(_ text: String) -> Int? {
        var digits = Substring(text)
        var unit = ""
        while let last = digits.last, !last.isNumber {
            unit.insert(last, at: unit.startIndex)
            digits = digits.dropLast()
        }
        guard let value = Int(digits), value > 0 else { return nil }
        let multiplier: Int
        switch unit.lowercased() {
        case "", "b": multiplier = 1
        case "k", "kb", "kib": multiplier = 1 << 10
        case "m", "mb", "mib": multiplier = 1 << 20
        case "g", "gb", "gib": multiplier = 1 << 30
        default: return nil
        }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : bytes
    }

    /// The path of rotation `number` of `path` (`events.jsonl.3`).
    public static func rotatedPath(_ path: String, _ number: Int, compressed: Bool = false) -> String {
        compressed ? "\(path).\(number).gz" : "\(path).\(number)"
    }

    /// Shifts the rotations of `path` up by one and renames `path` to `path.1`. A file that
    /// does not exist is not an error.
    ///
    /// - Returns: nil, or the errno and path of the first rename that failed (the files
    ///   before it have moved; `path` itself stays where it is when its own rename fails).
    func rotate(_ path: String, syscalls: Syscalls) -> (errno: Int32, path: String)? {
        let enoent: Int32 = 2
        for compressed in [false, true] {
            let oldest = Self.rotatedPath(path, keep, compressed: compressed)
            let code = syscalls.unlink(oldest)
            if code != 0 && code != enoent { return (code, oldest) }
        }
        var number = keep - 1
        while number >= 1 {
            for compressed in [false, true] {
                let from = Self.rotatedPath(path, number, compressed: compressed)
                let code = syscalls.rename(from, Self.rotatedPath(path, number + 1, compressed: compressed))
                if code != 0 && code != enoent { return (code, from) }
            }
            number -= 1
        }
        let code = syscalls.rename(path, Self.rotatedPath(path, 1))
        if code != 0 && code != enoent { return (code, path) }
        return nil
    }
}
