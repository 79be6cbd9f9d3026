import Wire

/// What a tap on the path learned of one live TCP connection: its endpoints and where each
/// side's sequence numbers stand. This is how an off-path attacker who can watch a link (the
/// demo's attacker, a test) aims spoofed segments at a connection it is not part of.
///
/// The client is the side that does not use the server port. Sequence numbers are those of the
/// latest segment seen in each direction.
public struct SniffedConnection: Sendable, Equatable, CustomStringConvertible {
    /// The client's address, as text.
    public var clientAddress: String
    /// The client's port.
    public var clientPort: UInt16
    /// The server's address, as text.
    public var serverAddress: String
    /// The server's port.
    public var serverPort: UInt16
    /// The sequence number after the client's latest segment: what it will send next.
    public var clientNext: UInt32
    /// The client's latest acknowledgment number: the server's data it has received so far.
    public var clientAcknowledgment: UInt32
    /// The sequence number after the server's latest segment, once one was seen.
    public var serverNext: UInt32?
    /// Segments of the connection seen, both directions.
    public var segments: Int

    /// The line `synwall peer sniff` prints: `key=value` pairs, see ``init(line:)``.
    public var description: String {
        "client=\(clientAddress) client_port=\(clientPort) server=\(serverAddress) server_port=\(serverPort) "
            + "client_next=\(clientNext) client_ack=\(clientAcknowledgment) "
            + "server_next=\(serverNext.map(String.init) ?? "-") segments=\(segments)"
    }

    /// A connection from its fields.
    public init(clientAddress: String, clientPort: UInt16, serverAddress: String, serverPort: UInt16,
                clientNext: UInt32, clientAcknowledgment: UInt32, serverNext: UInt32?, segments: Int) {
        self.clientAddress = clientAddress
        self.clientPort = clientPort
        self.serverAddress = serverAddress
        self.serverPort = serverPort
        self.clientNext = clientNext
        self.clientAcknowledgment = clientAcknowledgment
        self.serverNext = serverNext
        self.segments = segments
    }

    /// Parses a ``description`` line (anything before the first `key=` pair is ignored); nil
    /// when a field is missing or does not parse.
    public init?(line: String) {
        var fields: [Substring: Substring] = [:]
        for word in line.split(separator: " ") {
            let pair = word.split(separator: "=", maxSplits: 1)
            if pair.count == 2 { fields[pair[0]] = pair[1] }
        }
        guard let client = fields["client"], let clientPort = fields["client_port"].flatMap({ UInt16($0) }),
              let server = fields["server"], let serverPort = fields["server_port"].flatMap({ UInt16($0) }),
              let clientNext = fields["client_next"].flatMap({ UInt32($0) }),
              let clientAck = fields["client_ack"].flatMap({ UInt32($0) }),
              let segments = fields["segments"].flatMap({ Int($0) })
        else { return nil }
        self.init(clientAddress: String(client), clientPort: clientPort, serverAddress: String(server),
                  serverPort: serverPort, clientNext: clientNext, clientAcknowledgment: clientAck,
                  serverNext: fields["server_next"].flatMap { UInt32($0) }, segments: segments)
    }

    /// Watches `sniffer` for the first TCP connection to or from `serverPort` (an established
    /// one: segments with ACK and without SYN, RST or FIN) and follows it until `clientSegments`
    /// of the client's segments and one of the server's have been seen, or `timeout` ends.
    ///
    /// - Returns: the connection as last seen; nil when no client segment came in time.
    public static func observe(
        _ sniffer: PacketSniffer, serverPort: UInt16, clientSegments: Int = 3, timeout: Duration
    ) throws(PeerError) -> SniffedConnection? {
        let deadline = ContinuousClock.now + timeout
        var found: SniffedConnection?
        var fromClient = 0
        while fromClient < clientSegments || found?.serverNext == nil {
            let left = deadline - ContinuousClock.now
            guard left > .zero, let bytes = try sniffer.next(timeout: left) else { break }
            let decoded = bytes.withUnsafeBytes { PacketDecoder.decode($0) }
            guard let packet = decoded.packet, let tcp = packet.tcp,
                  tcp.flags.contains(.ack), tcp.flags.isDisjoint(with: [.syn, .rst, .fin]) else { continue }
            let toServer = tcp.destinationPort == serverPort
            guard toServer || tcp.sourcePort == serverPort else { continue }
            let client = toServer ? packet.source : packet.destination
            let clientPort = toServer ? tcp.sourcePort : tcp.destinationPort
            let end = tcp.sequenceNumber &+ UInt32(truncatingIfNeeded: max(0, tcp.payloadLength))
            if var known = found {
                guard known.clientAddress == client.description, known.clientPort == clientPort else { continue }
                known.segments += 1
                if toServer {
                    known.clientNext = end
                    known.clientAcknowledgment = tcp.acknowledgmentNumber
                    fromClient += 1
                } else {
                    known.serverNext = end
                }
                found = known
            } else if toServer {
                fromClient = 1
                found = SniffedConnection(
                    clientAddress: client.description, clientPort: clientPort,
                    serverAddress: packet.destination.description, serverPort: serverPort, clientNext: end,
                    clientAcknowledgment: tcp.acknowledgmentNumber, serverNext: nil, segments: 1)
            }
        }
        return found
    }
}
