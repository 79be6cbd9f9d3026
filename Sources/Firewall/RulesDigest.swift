import Foundation
import Rules

/// A 64-bit digest of the rule files in force (FNV-1a over each file's path and bytes), kept
/// in the state file: a different digest at start means the rules changed while the daemon was
/// down, and the restored connections are checked against them.
enum RulesDigest {
    /// 0 without rules; files that cannot be read count by their path alone.
    static func of(_ rules: CompiledRuleset?) -> UInt64 {
        guard let rules else { return 0 }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
            for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        }
        for file in rules.files {
            mix(file.utf8)
            mix([0])
            if let data = FileManager.default.contents(atPath: file) { mix(data) }
            mix([0])
        }
        return hash == 0 ? 1 : hash
    }
}
