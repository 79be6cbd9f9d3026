import Foundation
import SystemCall

/// What an account may do with a file, judged from its owner, group and mode (ACLs aside), and
/// handing root-owned files over to the account the daemon drops to.
enum FileAccess {
    /// The ids a permission check uses.
    struct Identity {
        var uid: UInt32
        var groups: [UInt32]
    }

    /// Permission bits of one class (owner, group, other).
    struct Permission: OptionSet {
        let rawValue: UInt32
        static let read = Permission(rawValue: 4)
        static let write = Permission(rawValue: 2)
        static let execute = Permission(rawValue: 1)
    }

    /// The effective gid and supplementary groups of this process.
    static func currentGroups() -> [UInt32] {
        var groups = [gid_t](repeating: 0, count: 256)
        let count = getgroups(Int32(groups.count), &groups)
        return [getegid()] + groups.prefix(max(0, Int(count)))
    }

    /// The directory a path is in (`.` for a bare name).
    static func directory(of path: String) -> String {
        let parent = (path as NSString).deletingLastPathComponent
        return parent.isEmpty ? "." : parent
    }

    /// Whether `identity` has every bit of `wanted` on `path` (without capabilities, so root
    /// too goes by the mode bits); nil when `path` cannot be examined.
    static func allows(_ path: String, _ identity: Identity, _ wanted: Permission) -> Bool? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        let mode = UInt32(info.st_mode)
        let bits: UInt32
        if info.st_uid == identity.uid {
            bits = (mode >> 6) & 7
        } else if identity.groups.contains(info.st_gid) {
            bits = (mode >> 3) & 7
        } else {
            bits = mode & 7
        }
        return Permission(rawValue: bits).isSuperset(of: wanted)
    }

    /// Gives a regular file owned by root to `account` (symbolic links are not followed).
    /// Returns nil, or a warning saying what failed.
    static func handOver(_ path: String, to account: PrivilegeDrop.Account) -> String? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }  // not there (yet): nothing to hand over
        guard (info.st_mode & S_IFMT) == S_IFREG, info.st_uid == 0 else { return nil }
        if lchown(path, account.uid, account.gid) != 0 {
            return "cannot give \(path) to \(account.user): \(SystemCall.lastError); "
                + "\(account.user) may be unable to reopen or remove it"
        }
        return nil
    }
}
