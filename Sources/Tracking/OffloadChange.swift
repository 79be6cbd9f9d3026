/// A change in whether a connection's plain segments pass in the kernel (docs/offload.md).
public enum OffloadChange: Sendable, Equatable {
    /// The connection passed `set offload after N` packets each way with no anomaly: from now
    /// on its segments without SYN, FIN, RST or URG pass in the kernel.
    case start
    /// A FIN or RST of an offloaded connection: every segment comes to synwall again.
    case end
}
