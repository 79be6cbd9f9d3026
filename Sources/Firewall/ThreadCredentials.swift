import Foundation

/// One thread's credentials as `/proc/<pid>/task/<tid>/status` shows them.
struct ThreadCredentials: Equatable {
    var inheritable: UInt64
    var permitted: UInt64
    var effective: UInt64
    var bounding: UInt64
    var ambient: UInt64
    var noNewPrivileges: Bool
    /// Real, effective, saved and file-system uid.
    var uids: [UInt32]
    /// Real, effective, saved and file-system gid.
    var gids: [UInt32]
    var groups: [UInt32]

    /// Parses a status file; nil when a field is missing.
    init?(status: String) {
        var fields: [Substring: Substring] = [:]
        for line in status.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon]] = line[line.index(after: colon)...]
        }
        func mask(_ key: Substring) -> UInt64? {
            fields[key].flatMap { UInt64($0.trimmingCharacters(in: .whitespaces), radix: 16) }
        }
        func ids(_ key: Substring) -> [UInt32]? {
            fields[key].map { $0.split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { UInt32($0) } }
        }
        guard let inheritable = mask("CapInh"), let permitted = mask("CapPrm"), let effective = mask("CapEff"),
              let bounding = mask("CapBnd"), let ambient = mask("CapAmb"),
              let noNewPrivileges = fields["NoNewPrivs"]?.trimmingCharacters(in: .whitespaces),
              let uids = ids("Uid"), let gids = ids("Gid"), let groups = ids("Groups")
        else { return nil }
        self.inheritable = inheritable
        self.permitted = permitted
        self.effective = effective
        self.bounding = bounding
        self.ambient = ambient
        self.noNewPrivileges = noNewPrivileges == "1"
        self.uids = uids
        self.gids = gids
        self.groups = groups
    }

    /// The first field that differs from what the drop asked, as (field, found, expected).
    func mismatch(mask: UInt64, account: PrivilegeDrop.Account?) -> (String, String, String)? {
        func hex(_ value: UInt64) -> String { String(format: "%016llx", value) }
        for (name, value) in [("CapEff", effective), ("CapPrm", permitted), ("CapInh", inheritable),
                              ("CapAmb", ambient), ("CapBnd", bounding)] where value != mask {
            return (name, hex(value), hex(mask))
        }
        if !noNewPrivileges { return ("NoNewPrivs", "0", "1") }
        if let account {
            if uids.contains(where: { $0 != account.uid }) {
                return ("Uid", uids.map(String.init).joined(separator: " "), "\(account.uid) everywhere")
            }
            if gids.contains(where: { $0 != account.gid }) {
                return ("Gid", gids.map(String.init).joined(separator: " "), "\(account.gid) everywhere")
            }
            if groups != [account.gid] {
                return ("Groups", groups.map(String.init).joined(separator: " "), "\(account.gid)")
            }
        }
        return nil
    }

    /// Reads every thread of this process and throws at the first one that is not as asked.
    /// Returns how many threads were checked.
    static func verifyAllThreads(mask: UInt64, account: PrivilegeDrop.Account?) throws(PrivilegeError) -> Int {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        var checked = 0
        for task in tasks {
            guard let tid = Int32(task) else { continue }
            // A thread that ended since the listing has no status any more: nothing to check.
            guard let text = try? String(contentsOfFile: "/proc/self/task/\(task)/status", encoding: .utf8) else {
                continue
            }
            guard let credentials = ThreadCredentials(status: text) else {
                throw .notDropped(thread: tid, field: "status", found: "unreadable", expected: "Cap*, Uid, Gid lines")
            }
            if let (field, found, expected) = credentials.mismatch(mask: mask, account: account) {
                throw .notDropped(thread: tid, field: field, found: found, expected: expected)
            }
            checked += 1
        }
        if checked == 0 {
            throw .notDropped(thread: getpid(), field: "/proc/self/task", found: "nothing readable",
                              expected: "one status file per thread")
        }
        return checked
    }
}
