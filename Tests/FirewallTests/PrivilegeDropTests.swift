import Foundation
@testable import Firewall
import Testing

/// The parts of the privilege drop that need no privilege: reading credentials back, the
/// backend check, account lookup, permission judgement and the messages. The drop itself runs
/// in the real daemon (IntegrationTests' Privileges suite): it cannot be undone in a test process.
@Suite struct PrivilegeDropTests {
    static let dropped = """
    Name:\tsynwall-q0
    Umask:\t0022
    State:\tS (sleeping)
    Uid:\t65534\t65534\t65534\t65534
    Gid:\t65534\t65534\t65534\t65534
    Groups:\t65534 
    NoNewPrivs:\t1
    CapInh:\t0000000000001000
    CapPrm:\t0000000000001000
    CapEff:\t0000000000001000
    CapBnd:\t0000000000001000
    CapAmb:\t0000000000001000
    Seccomp:\t0
    """

    static let nobody = PrivilegeDrop.Account(user: "nobody", uid: 65534, group: "nogroup", gid: 65534)

    @Test func droppedThreadMatches() throws {
        let credentials = try #require(ThreadCredentials(status: Self.dropped))
        #expect(credentials.effective == 0x1000)
        #expect(credentials.uids == [65534, 65534, 65534, 65534])
        #expect(credentials.groups == [65534])
        #expect(credentials.noNewPrivileges)
        #expect(credentials.mismatch(mask: Capability.mask([.netAdmin]), account: Self.nobody) == nil)
    }

    @Test func eachLeftoverIsNamed() throws {
        let wideBounding = Self.dropped.replacingOccurrences(of: "CapBnd:\t0000000000001000",
                                                             with: "CapBnd:\t000001ffffffffff")
        let bounding = try #require(ThreadCredentials(status: wideBounding))
        #expect(bounding.mismatch(mask: 0x1000, account: Self.nobody)?.0 == "CapBnd")

        let savedRoot = Self.dropped.replacingOccurrences(of: "Uid:\t65534\t65534\t65534\t65534",
                                                          with: "Uid:\t65534\t65534\t0\t65534")
        let uid = try #require(ThreadCredentials(status: savedRoot))
        #expect(uid.mismatch(mask: 0x1000, account: Self.nobody)?.0 == "Uid", "a saved uid 0 could get root back")
        #expect(uid.mismatch(mask: 0x1000, account: nil) == nil, "without --user the ids are not checked")

        let noNNP = Self.dropped.replacingOccurrences(of: "NoNewPrivs:\t1", with: "NoNewPrivs:\t0")
        #expect(try #require(ThreadCredentials(status: noNNP)).mismatch(mask: 0x1000, account: nil)?.0 == "NoNewPrivs")

        let groups = Self.dropped.replacingOccurrences(of: "Groups:\t65534 ", with: "Groups:\t0 65534 ")
        #expect(try #require(ThreadCredentials(status: groups)).mismatch(mask: 0x1000, account: Self.nobody)?.0
            == "Groups")

        #expect(ThreadCredentials(status: "Name:\tx\nCapEff:\t0\n") == nil, "missing fields are not taken as dropped")
    }

    @Test func thisProcessReadsBack() throws {
        let text = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let credentials = try #require(ThreadCredentials(status: text))
        #expect(credentials.uids.count == 4)
        #expect(credentials.uids[1] == geteuid())
    }

    @Test func iptablesBackendFromVersion() {
        #expect(IptablesBackend(versionLine: "iptables-restore v1.8.9 (nf_tables)\n") == .nfTables)
        #expect(IptablesBackend(versionLine: "iptables-restore v1.8.9 (legacy)\n") == .legacy)
        #expect(IptablesBackend(versionLine: "iptables-restore v1.4.21\n") == .unknown)
    }

    @Test func capabilityMaskAndNames() {
        #expect(Capability.mask([.netAdmin]) == 0x1000)
        #expect(Capability.mask([.netAdmin, .netRaw]) == 0x3000)
        #expect(Capability.netAdmin.description == "cap_net_admin")
    }

    @Test func accountLookup() throws {
        let root = try PrivilegeDrop.resolve(user: "root", group: nil)
        #expect(root.account == PrivilegeDrop.Account(user: "root", uid: 0, group: "root", gid: 0))
        #expect(root.keep == [.netAdmin])
        #expect(try PrivilegeDrop.resolve(user: "0", group: "0").account?.uid == 0, "numeric ids work too")
        #expect(try PrivilegeDrop.resolve(user: nil, group: nil).account == nil)
        #expect(throws: PrivilegeError.unknownUser("synwall-no-such-user")) {
            try PrivilegeDrop.resolve(user: "synwall-no-such-user", group: nil)
        }
        #expect(throws: PrivilegeError.unknownGroup("synwall-no-such-group")) {
            try PrivilegeDrop.resolve(user: "root", group: "synwall-no-such-group")
        }
    }

    @Test func accessJudgedFromModeBits() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("synwall-access-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o750])
        defer { try? FileManager.default.removeItem(at: directory) }
        var info = stat()
        #expect(stat(directory.path, &info) == 0)
        let owner = FileAccess.Identity(uid: info.st_uid, groups: [])
        let member = FileAccess.Identity(uid: info.st_uid &+ 12345, groups: [info.st_gid])
        let stranger = FileAccess.Identity(uid: info.st_uid &+ 12345, groups: [info.st_gid &+ 12345])
        #expect(FileAccess.allows(directory.path, owner, [.write, .execute]) == true)
        #expect(FileAccess.allows(directory.path, member, [.read, .execute]) == true)
        #expect(FileAccess.allows(directory.path, member, [.write]) == false)
        #expect(FileAccess.allows(directory.path, stranger, [.execute]) == false)
        #expect(FileAccess.allows(directory.appendingPathComponent("missing").path, owner, [.read]) == nil)

        let warnings = PrivilegeDrop.accessWarnings(identity: stranger, name: "synwall",
                                                    logPath: directory.appendingPathComponent("events.jsonl").path,
                                                    pidFile: directory.appendingPathComponent("synwall.pid").path,
                                                    rulesPath: nil,
                                                    controlPath: directory.appendingPathComponent("control.sock").path)
        #expect(warnings.count == 3, "\(warnings)")
        #expect(warnings.first?.contains("LogsDirectory=synwall") == true, "\(warnings)")
        #expect(warnings[1].contains("pid file") && warnings[1].contains("RuntimeDirectory=synwall"), "\(warnings)")
        #expect(warnings[2].contains("control socket") && warnings[2].contains("the next start replaces it"),
                "\(warnings)")
        #expect(PrivilegeDrop.accessWarnings(identity: owner, name: "synwall", logPath: directory.path + "/e",
                                             pidFile: directory.path + "/p", rulesPath: nil,
                                             controlPath: directory.path + "/c").isEmpty)
    }

    @Test func messagesSayWhatToDo() {
        #expect(PrivilegeError.unknownUser("synwall").description.contains("useradd --system"))
        #expect(PrivilegeError.legacyIptables(user: "synwall").description.contains("iptables-nft"))
        let step = PrivilegeError.stepFailed(step: .uid, errno: EPERM, thread: 7, capability: nil)
        #expect(step.description.contains("setresuid failed in thread 7: Operation not permitted"), "\(step)")
        #expect(step.description.contains("CAP_SETUID"), "\(step)")
        #expect(step.description.contains("refuses to run"), "\(step)")
        let bounding = PrivilegeError.stepFailed(step: .bounding, errno: EPERM, thread: 7, capability: Capability(number: 0))
        #expect(bounding.description.contains("dropping from the bounding set (cap_0)"), "\(bounding)")
        #expect(bounding.description.contains("CapabilityBoundingSet=CAP_NET_ADMIN"), "\(bounding)")
        #expect(PrivilegeError.threadDidNotRespond(thread: 9).description.contains("thread 9"))
    }
}
