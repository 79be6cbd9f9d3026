/// Why a capture file could not be read or written.
///
/// Each description is one line that names the file and says what to do, so the command-line
/// tool can print it as is and exit with status 2.
public enum CaptureError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file could not be opened as a capture: it is missing, unreadable, not a pcap or
    /// pcapng file, or cut short inside its file header. `reason` is libpcap's explanation.
    case cannotOpen(path: String, reason: String)
    /// The capture's link-layer type is not one synwall can take IP packets from.
    /// `linkType` is the libpcap DLT number, `name` its libpcap name (e.g. `IEEE802_11`).
    case unsupportedLinkType(path: String, linkType: Int32, name: String)
    /// The file is damaged at `frame` (1-based), for example cut off in the middle of a record.
    /// The frames before it were delivered.
    case corrupt(path: String, frame: Int, reason: String)
    /// A capture file could not be created or written (``PcapWriter``).
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason):
            return "cannot open capture file '\(path)': \(reason); give the path of a readable pcap or pcapng file"
        case let .unsupportedLinkType(path, linkType, name):
            return "capture file '\(path)' has link type \(name) (DLT \(linkType)), which synwall cannot read; "
                + "capture on an Ethernet interface or with `tcpdump -i any` (Linux cooked) instead"
        case let .corrupt(path, frame, reason):
            return "capture file '\(path)' is damaged at frame \(frame): \(reason); "
                + "frames before it were read; repair the file (e.g. with pcapfix) or cut it before that frame"
        case let .cannotWrite(path, reason):
            return "cannot write capture file '\(path)': \(reason); check that the directory exists, is writable and has space"
        }
    }
}
