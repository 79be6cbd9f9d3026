import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Users and groups from the system's account database (getpwnam_r, getgrnam_r).
enum AccountDatabase {
    /// The uid and primary gid of `name`; a number is taken as a uid when no user has that name.
    static func user(named name: String) throws(PrivilegeError) -> (uid: UInt32, gid: UInt32) {
        var entry = passwd()
        var found: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        let code = getpwnam_r(name, &entry, &buffer, buffer.count, &found)
        if code == 0, found != nil { return (entry.pw_uid, entry.pw_gid) }
        if let uid = UInt32(name) {
            let byID = getpwuid_r(uid, &entry, &buffer, buffer.count, &found)
            if byID == 0, found != nil { return (entry.pw_uid, entry.pw_gid) }
        }
        if code != 0, code != ENOENT, code != ESRCH { throw .lookupFailed(name: name, errno: code) }
        throw .unknownUser(name)
    }

    /// The gid of `name`; a number is taken as a gid when no group has that name.
    static func gid(ofGroup name: String) throws(PrivilegeError) -> UInt32 {
        var entry = Glibc.group()
        var found: UnsafeMutablePointer<Glibc.group>?
        var buffer = [CChar](repeating: 0, count: 65536)
        let code = getgrnam_r(name, &entry, &buffer, buffer.count, &found)
        if code == 0, found != nil { return entry.gr_gid }
        if let gid = UInt32(name) { return gid }
        if code != 0, code != ENOENT, code != ESRCH { throw .lookupFailed(name: name, errno: code) }
        throw .unknownGroup(name)
    }

    /// The name of group `gid`, if it has one.
    static func groupName(of gid: UInt32) -> String? {
        var entry = Glibc.group()
        var found: UnsafeMutablePointer<Glibc.group>?
        var buffer = [CChar](repeating: 0, count: 65536)
        guard getgrgid_r(gid, &entry, &buffer, buffer.count, &found) == 0, found != nil,
              let name = entry.gr_name else { return nil }
        return String(cString: name)
    }
}
