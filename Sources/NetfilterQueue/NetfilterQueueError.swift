/// What went wrong while talking to the kernel's NFQUEUE subsystem.
///
/// Each description is one sentence an operator can act on.
public enum NetfilterQueueError: Error, Equatable, CustomStringConvertible {
    /// A system call failed; `errno` is the value it left.
    case systemCall(operation: String, errno: Int32)
    /// Another socket (another process, or a stale instance) already holds the queue.
    case queueBusy(queue: UInt16, ownerPortID: UInt32?)
    /// The kernel refused the request for lack of privilege (CAP_NET_ADMIN).
    case permissionDenied(queue: UInt16)
    /// The kernel answered the configuration message with an error.
    case configurationRejected(queue: UInt16, errno: Int32)
    /// The kernel did not answer the configuration message at all.
    case noAcknowledgement(queue: UInt16)
    /// An inherited descriptor (`LISTEN_FDS`) that is not a netfilter netlink socket.
    case notANetfilterSocket(fd: Int32)

    public var description: String {
        switch self {
        case let .systemCall(operation, code):
            return "\(operation) failed: \(errnoText(code))"
        case let .queueBusy(queue, owner):
            let who = owner.map { port in
                // The first netlink socket of a process gets the process id as its port id.
                if let name = processName(pid: port) { return " by process \(port) (\(name))" }
                return " by netlink port \(port)"
            } ?? ""
            return "NFQUEUE queue \(queue) is already bound\(who): another synwall (or another NFQUEUE "
                + "program) is using it; stop it or choose another queue with --queue"
        case let .permissionDenied(queue):
            return "binding NFQUEUE queue \(queue) needs CAP_NET_ADMIN: run synwall as root or grant the capability"
        case let .configurationRejected(queue, code):
            return "the kernel rejected the configuration of NFQUEUE queue \(queue): \(errnoText(code))"
        case let .noAcknowledgement(queue):
            return "the kernel did not acknowledge the configuration of NFQUEUE queue \(queue); "
                + "is nfnetlink_queue available (CONFIG_NETFILTER_NETLINK_QUEUE)?"
        case let .notANetfilterSocket(fd):
            return "inherited descriptor \(fd) is not a netfilter netlink socket; a new one is opened instead"
        }
    }
}
