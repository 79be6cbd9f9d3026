import CSystemd
#if canImport(Glibc)
import Glibc
#endif

/// systemd's service protocol, through libsystemd (sd_notify(3), sd_listen_fds(3)): readiness
/// and status, and the file-descriptor store that keeps synwall's NFQUEUE sockets open across a
/// restart or a crash (docs/state-file.md, "No packet lost"). Outside systemd (no
/// `NOTIFY_SOCKET`, no `LISTEN_FDS`) every call does nothing.
enum ServiceManager {
    /// The name a queue's socket is stored under.
    static func descriptorName(queue: UInt16) -> String { "synwall-queue-\(queue)" }

    /// The queue a stored name stands for, if it is one of ours.
    static func queue(ofDescriptorName name: String) -> UInt16? {
        guard name.hasPrefix("synwall-queue-") else { return nil }
        return UInt16(name.dropFirst("synwall-queue-".count))
    }

    /// The descriptors the service manager handed this process (`LISTEN_FDS`, `LISTEN_PID`,
    /// `LISTEN_FDNAMES`), by name; the variables are removed so no child inherits them. Each
    /// descriptor is marked close-on-exec.
    static func inheritedDescriptors() -> [(name: String, fd: Int32)] {
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        let count = sd_listen_fds_with_names(1, &names)
        guard count > 0 else { return [] }
        var result: [(name: String, fd: Int32)] = []
        for index in 0..<Int(count) {
            let fd = SD_LISTEN_FDS_START + Int32(index)
            let name = names?[index].map { String(cString: $0) } ?? ""
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            result.append((name, fd))
        }
        if let names {
            for index in 0..<Int(count) { free(names[index]) }
            free(names)
        }
        return result
    }

    /// Whether a service manager listens for notifications.
    static var isNotifying: Bool { getenv("NOTIFY_SOCKET") != nil }

    /// Sends `state` (`READY=1`, `STATUS=…`, `STOPPING=1`); false when nobody listens.
    @discardableResult
    static func notify(_ state: String) -> Bool {
        sd_notify(0, state) > 0
    }

    /// Puts `fd` in the service manager's file-descriptor store under `name` (it keeps a
    /// duplicate; the unit needs `FileDescriptorStoreMax=`). False when nobody listens.
    @discardableResult
    static func store(_ fd: Int32, name: String) -> Bool {
        var descriptors = [fd]
        return sd_pid_notify_with_fds(0, 0, "FDSTORE=1\nFDNAME=\(name)", &descriptors, 1) > 0
    }
}
