/// Which timeout an entry runs on, and so which timer list holds it. Each list is kept in
/// expiry order (approximately: a refresh only rewrites the entry's deadline, and the sweep
/// re-files an entry whose deadline moved on), so expiry and eviction look only at list heads.
enum TimerClass: UInt8, CaseIterable {
    case synSent = 0
    case synRecv
    case established
    case finWait
    case closeWait
    case lastAck
    case timeWait
    case close
    /// ESTABLISHED with the 300 s cap (unacknowledged data, retransmissions).
    case tcpCapped
    /// Any state after a RST in the window but not exact (close timeout; not evictable).
    case resetPending
    case udpUnreplied
    case udpReplied
    case udpStream
    case icmpUnreplied
    case icmpReplied
    /// A TCP connection picked up mid-stream (`set tcp pickup`) until the other side speaks.
    case tcpPickup
    case otherUnreplied
    case otherReplied

    /// Number of classes.
    static let count = 18

    /// The class of a state's own timeout.
    @inline(__always)
    static func of(_ state: ConnectionState) -> TimerClass {
        switch state {
        case .synSent, .synSent2: .synSent
        case .synRecv: .synRecv
        case .established: .established
        case .finWait: .finWait
        case .closeWait: .closeWait
        case .lastAck: .lastAck
        case .timeWait: .timeWait
        case .close: .close
        case .udpUnreplied: .udpUnreplied
        case .udpReplied: .udpReplied
        case .udpStream: .udpStream
        case .icmpUnreplied: .icmpUnreplied
        case .icmpReplied: .icmpReplied
        case .otherUnreplied: .otherUnreplied
        case .otherReplied: .otherReplied
        }
    }
}
