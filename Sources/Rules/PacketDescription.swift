import Wire

/// A packet described in words, as `synwall explain` takes it:
///
///     tcp 203.0.113.7:51000 > 192.0.2.10:22 in on eth0 flags S
///     udp [2001:db8::7]:5353 > [2001:db8::10]:53 out on eth1
///     icmp 198.51.100.1 > 192.0.2.10 type echoreq
///     tcp 192.0.2.20:40000 > 198.51.100.5:443 forward in on lan0 out on wan0
///
/// Protocol first (`tcp`, `udp`, `icmp`, `icmp6` or another name or number), then
/// `SOURCE > DESTINATION` (IPv6 with a port in brackets), then in any order: a direction
/// (`in`, the default, `out` or `forward`), `on IF` (the interface of that direction),
/// `in on IF` / `out on IF`, `flags LETTERS` for TCP (`S` by default; letters F S R P A U E C),
/// `type T` for ICMP (`echoreq` by default).
public struct PacketDescription: Sendable {
    /// The packet, built and decoded as the daemon would see it.
    public var packet: Packet
    /// Direction and interfaces.
    public var context: RuleContext
    /// The TCP flags given (empty for other protocols).
    public var flags: TCPFlags
    /// The packet's bytes from the IP header on, with valid checksums, as the daemon would
    /// receive them (what `Explanation.judged` puts through the pipeline).
    public var bytes: [UInt8]

    /// Why a description could not be read; `description` says what to write instead.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        /// One sentence.
        public var description: String
    }

    /// Reads a description.
    public static func parse(_ text: String) -> Result<PacketDescription, ParseError> {
        do {
            return .success(try read(text))
        } catch {
            return .failure(error)
        }
    }

    /// The description in a canonical spelling (`tcp 203.0.113.7:51000 > 192.0.2.10:22 in on eth0 flags S`).
    public var summary: String {
        var text = IPProtocol(rawValue: packet.protocolNumber).name + " "
        func endpoint(_ address: IPAddress, _ port: UInt16) -> String {
            EndpointText.format(address, port: packet.hasPorts ? port : nil)
        }
        text += endpoint(packet.source, packet.sourcePort) + " > " + endpoint(packet.destination, packet.destinationPort)
        text += " " + context.direction.rawValue
        switch context.direction {
        case .in: if let name = context.inInterface { text += " on \(name)" }
        case .out: if let name = context.outInterface { text += " on \(name)" }
        case .forward:
            if let name = context.inInterface { text += " in on \(name)" }
            if let name = context.outInterface { text += " out on \(name)" }
        }
        if packet.tcp != nil { text += " flags \(flags)" }
        if let icmp = packet.icmp { text += " type \(icmp.type)" }
        return text
    }

    /// True when the tracker would hand this packet to the rules: a TCP SYN without ACK, RST
    /// or FIN (or, with `set tcp pickup`, a bare ACK); any UDP datagram, ICMP message other
    /// than an error or echo reply, or other protocol packet with no flow yet. (ICMP errors
    /// travel with the connection they quote; the rules never see them.)
    public func startsConnection(pickup: Bool) -> Bool {
        guard packet.tcp != nil else {
            if let icmp = packet.icmp { return !icmp.isError && !icmp.isEchoReply }
            return true
        }
        if flags.contains(.syn) { return flags.isDisjoint(with: [.ack, .rst, .fin]) }
        return pickup && flags.contains(.ack) && flags.isDisjoint(with: [.rst, .fin])
    }

    // MARK: - Reading

    private static func read(_ text: String) throws(ParseError) -> PacketDescription {
        let words = Self.words(text)
        guard words.count >= 4 else {
            throw ParseError(description: "describe a packet as: PROTO SOURCE > DESTINATION [in|out|forward] [on IF] [flags S], "
                + "e.g. 'tcp 203.0.113.7:51000 > 192.0.2.10:22 in on eth0 flags S'")
        }
        let proto = try ipProtocol(words[0])
        guard words[2] == ">" else {
            throw ParseError(description: "expected '>' between source and destination, found '\(words[2])'")
        }
        let (source, sourcePort) = try endpoint(words[1], wantsPort: proto.hasPorts, defaultPort: 49152, role: "source")
        let (destination, destinationPort) = try endpoint(words[3], wantsPort: proto.hasPorts, defaultPort: nil,
                                                          role: "destination")
        guard source.isIPv4 == destination.isIPv4 else {
            throw ParseError(description: "the source and destination must both be IPv4 or both IPv6")
        }
        let options = try Options.read(words.dropFirst(4), proto: proto)
        let bytes = try build(proto, from: (source, sourcePort), to: (destination, destinationPort), options)
        let decodedPacket: Packet? = bytes.withUnsafeBytes { buffer in
            if case .packet(let packet) = PacketDecoder.decode(buffer) { return packet }
            return nil
        }
        guard let packet = decodedPacket else {
            throw ParseError(description: "this packet would not decode (it is malformed); the daemon would drop it before the rules")
        }
        return PacketDescription(packet: packet, context: options.context, flags: proto == .tcp ? options.flags : [],
                                 bytes: bytes)
    }

    /// The description's words; `a>b` and `a -> b` read as `a > b`.
    private static func words(_ text: String) -> [String] {
        var words: [String] = []
        for piece in text.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
            var current = ""
            for character in piece {
                if character == ">" {
                    if current == "-" { current = "" }
                    if current.hasSuffix("-") { current.removeLast() }
                    if !current.isEmpty { words.append(current) }
                    words.append(">")
                    current = ""
                } else {
                    current.append(character)
                }
            }
            if !current.isEmpty { words.append(current) }
        }
        return words
    }

    /// A protocol by name (`tcp`, `icmp6`, `gre`…) or number.
    private static func ipProtocol(_ word: String) throws(ParseError) -> IPProtocol {
        let name = word.lowercased()
        if let named = IPProtocol(name: name) { return named }
        if let number = UInt8(name) { return IPProtocol(rawValue: number) }
        throw ParseError(description: "unknown protocol '\(word)'"
            + (Suggestion.hint(for: name, among: WellKnownNames.protocolNames).map { "; \($0)" } ?? ""))
    }

    /// What follows the addresses: direction, interfaces, TCP flags, ICMP type.
    private struct Options {
        var direction = Direction.in
        var directionGiven = false
        var on: String?
        var inOn: String?
        var outOn: String?
        var flags: TCPFlags = .syn
        var icmpType: UInt8?

        static func read(_ words: ArraySlice<String>, proto: IPProtocol) throws(ParseError) -> Options {
            var options = Options()
            var index = words.startIndex
            func value(after keyword: String) throws(ParseError) -> String {
                guard index + 1 < words.endIndex else { throw ParseError(description: "expected a value after '\(keyword)'") }
                index += 1
                return words[index]
            }
            while index < words.endIndex {
                let word = words[index]
                switch word {
                case "in", "out":
                    if index + 1 < words.endIndex, words[index + 1] == "on", options.directionGiven,
                       options.direction == .forward {
                        index += 1
                        let name = try value(after: "on")
                        if word == "in" { options.inOn = name } else { options.outOn = name }
                    } else {
                        try options.setDirection(word == "in" ? .in : .out)
                    }
                case "forward":
                    try options.setDirection(.forward)
                case "on":
                    options.on = try value(after: "on")
                case "flags":
                    guard proto == .tcp else { throw ParseError(description: "'flags' applies only to tcp") }
                    options.flags = try tcpFlags(try value(after: "flags"))
                case "type":
                    guard proto == .icmp || proto == .icmpv6 else {
                        throw ParseError(description: "'type' applies only to icmp and icmp6")
                    }
                    let name = try value(after: "type")
                    let names = proto == .icmp ? WellKnownNames.icmpTypes : WellKnownNames.icmp6Types
                    guard let type = names[name] ?? UInt8(name) else {
                        throw ParseError(description: "unknown ICMP type '\(name)'")
                    }
                    options.icmpType = type
                default:
                    throw ParseError(description: "unexpected '\(word)'"
                        + (Suggestion.hint(for: word, among: ["in", "out", "forward", "on", "flags", "type"]).map { "; \($0)" } ?? "")
                        + " (after the addresses come: in|out|forward, on IF, flags LETTERS, type NAME)")
                }
                index += 1
            }
            return options
        }

        mutating func setDirection(_ given: Direction) throws(ParseError) {
            guard !directionGiven else { throw ParseError(description: "give one direction: in, out or forward") }
            direction = given
            directionGiven = true
        }

        /// The direction and the interfaces of that direction, as the rules see them.
        var context: RuleContext {
            var context = RuleContext(direction: direction)
            switch direction {
            case .in: context.inInterface = on
            case .out: context.outInterface = on
            case .forward:
                context.inInterface = inOn ?? on
                context.outInterface = outOn
            }
            return context
        }
    }

    /// The packet's bytes, with valid checksums; an ICMP error quotes a UDP datagram going the
    /// other way.
    private static func build(_ proto: IPProtocol, from source: (address: IPAddress, port: UInt16),
                              to destination: (address: IPAddress, port: UInt16),
                              _ options: Options) throws(ParseError) -> [UInt8] {
        let isIPv4 = source.address.isIPv4
        let builder = PacketBuilder(source: source.address, destination: destination.address)
        switch proto {
        case .tcp:
            return builder.tcp(sourcePort: source.port, destinationPort: destination.port, sequence: 1000,
                               acknowledgment: options.flags.contains(.ack) ? 1 : 0, flags: options.flags)
        case .udp:
            return builder.udp(sourcePort: source.port, destinationPort: destination.port)
        case .icmp where isIPv4, .icmpv6 where !isIPv4:
            let type = options.icmpType ?? (isIPv4 ? 8 : 128)
            let isError = isIPv4 ? [3, 4, 5, 11, 12].contains(type) : (1...4).contains(type)
            let quoted = isError
                ? Array(PacketBuilder(source: destination.address, destination: source.address)
                    .udp(sourcePort: 40000, destinationPort: 53).prefix(isIPv4 ? 28 : 48))
                : [UInt8](repeating: 0, count: 8)
            return builder.icmp(type: type, restOfHeader: isError ? 1280 : 0x0001_0001, body: quoted)
        case .icmp, .icmpv6:
            throw ParseError(description: proto == .icmp ? "icmp is for IPv4 addresses; use icmp6 for IPv6"
                                                              : "icmp6 is for IPv6 addresses; use icmp for IPv4")
        default:
            return builder.ip(protocolNumber: proto.rawValue, transport: [0, 0, 0, 0, 0, 0, 0, 0])
        }
    }

    /// `192.0.2.1:22`, `[2001:db8::1]:22`, `192.0.2.1`, `2001:db8::1`.
    private static func endpoint(_ text: String, wantsPort: Bool, defaultPort: UInt16?, role: String)
        throws(ParseError) -> (IPAddress, UInt16)
    {
        var addressText = text
        var portText: String?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw ParseError(description: "missing ']' in the \(role) '\(text)'")
            }
            addressText = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if rest.hasPrefix(":") { portText = String(rest.dropFirst()) } else if !rest.isEmpty {
                throw ParseError(description: "expected ':PORT' after ']' in the \(role) '\(text)'")
            }
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            addressText = String(text[..<colon])
            portText = String(text[text.index(after: colon)...])
        }
        guard let address = IPAddress(addressText) else {
            throw ParseError(description: "invalid \(role) address '\(addressText)'")
        }
        guard wantsPort else {
            if portText != nil { throw ParseError(description: "only tcp and udp have ports; remove ':\(portText ?? "")' from the \(role)") }
            return (address, 0)
        }
        guard let portText else {
            guard let defaultPort else {
                throw ParseError(description: "give the \(role) port: \(address.isIPv4 ? "\(address):22" : "[\(address)]:22")")
            }
            return (address, defaultPort)
        }
        guard let port = UInt16(portText) ?? WellKnownNames.services[portText], port != 0 else {
            throw ParseError(description: "invalid \(role) port '\(portText)' (1-65535 or a service name)")
        }
        return (address, port)
    }

    private static func tcpFlags(_ text: String) throws(ParseError) -> TCPFlags {
        var flags: TCPFlags = []
        for character in text.uppercased() {
            guard let letter = character.asciiValue, let flag = TCPFlags(letter: letter) else {
                throw ParseError(description: "unknown TCP flag '\(character)' (use F S R P A U E C N, e.g. flags S or flags SA)")
            }
            flags.insert(flag)
        }
        return flags
    }
}
