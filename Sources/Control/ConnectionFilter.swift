import Tracking
import Wire

/// Which connections `synwall conns` lists: every field given must match. Addresses are
/// prefixes (`10.0.0.0/8`) or bare addresses; ports and addresses match the endpoint named, or
/// either end for `host` and `port`.
public struct ConnectionFilter: Codable, Sendable, Equatable {
    /// The initiator's address.
    public var src: String?
    /// The responder's address.
    public var dst: String?
    /// Either end's address.
    public var host: String?
    /// Either end's port.
    public var port: Int?
    /// The initiator's port.
    public var sport: Int?
    /// The responder's port.
    public var dport: Int?
    /// A state name (`established`, `syn_sent`, `time_wait`, `unreplied`, …), any case.
    public var state: String?
    /// `tcp`, `udp`, `icmp` or `icmp6`.
    public var proto: String?

    /// A filter; nil fields match everything.
    public init(src: String? = nil, dst: String? = nil, host: String? = nil, port: Int? = nil, sport: Int? = nil,
                dport: Int? = nil, state: String? = nil, proto: String? = nil) {
        self.src = src
        self.dst = dst
        self.host = host
        self.port = port
        self.sport = sport
        self.dport = dport
        self.state = state
        self.proto = proto
    }

    /// The state names a filter accepts.
    public static var stateNames: [String] {
        var names: [String] = []
        for state in ConnectionState.allCases where !names.contains(state.name.lowercased()) {
            names.append(state.name.lowercased())
        }
        return names
    }

    /// The filter checked and ready to match, or what is wrong with it.
    public func compiled() throws(ControlError) -> Compiled {
        func checkedPrefix(_ text: String?, _ option: String) throws(ControlError) -> IPPrefix? {
            guard let text else { return nil }
            guard let prefix = IPPrefix(text) else {
                throw .invalidFilter("--\(option) '\(text)' is not an address or prefix (e.g. 192.0.2.7 or 10.0.0.0/8)")
            }
            return prefix
        }
        func checkedPort(_ value: Int?, _ option: String) throws(ControlError) -> UInt16? {
            guard let value else { return nil }
            guard (0...65535).contains(value) else { throw .invalidFilter("--\(option) \(value) is not a port (0-65535)") }
            return UInt16(value)
        }
        var states: Set<ConnectionState>?
        if let state {
            let wanted = state.lowercased().replacingOccurrences(of: "-", with: "_")
            let matching = ConnectionState.allCases.filter { $0.name.lowercased() == wanted }
            guard !matching.isEmpty else {
                throw .invalidFilter("--state '\(state)' is not a state; use one of "
                    + Self.stateNames.joined(separator: ", "))
            }
            states = Set(matching)
        }
        var protocolNumber: UInt8?
        if let proto {
            let name = proto.lowercased()
            guard let known = IPProtocol(name: name == "icmpv6" ? "icmp6" : name),
                  [IPProtocol.tcp, .udp, .icmp, .icmpv6].contains(known) else {
                throw .invalidFilter("--proto '\(proto)' is not one of tcp, udp, icmp, icmp6")
            }
            protocolNumber = known.rawValue
        }
        return Compiled(src: try checkedPrefix(src, "src"), dst: try checkedPrefix(dst, "dst"), host: try checkedPrefix(host, "host"),
                        port: try checkedPort(port, "port"), sport: try checkedPort(sport, "sport"), dport: try checkedPort(dport, "dport"),
                        states: states, proto: protocolNumber)
    }

    /// A checked filter.
    public struct Compiled: Sendable {
        let src: IPPrefix?
        let dst: IPPrefix?
        let host: IPPrefix?
        let port: UInt16?
        let sport: UInt16?
        let dport: UInt16?
        let states: Set<ConnectionState>?
        let proto: UInt8?

        /// True when a packet from `source` to `destination` belongs to a connection this filter
        /// picks, in either direction (the initiator's packets and the replies): the
        /// addresses and ports are tried both ways; `state` is the flow's state after the
        /// packet (nil: none). Ports are nil for protocols without them. No allocation.
        @inline(__always)
        public func matches(source: IPAddress, sourcePort: UInt16?, destination: IPAddress, destinationPort: UInt16?,
                            proto packetProto: UInt8, state: ConnectionState?) -> Bool {
            if let proto, packetProto != proto { return false }
            if let states {
                guard let state, states.contains(state) else { return false }
            }
            return oriented(source, sourcePort, destination, destinationPort)
                || oriented(destination, destinationPort, source, sourcePort)
        }

        /// True when the filter names no address, port or protocol (a packet that could not be
        /// read matches only then).
        public var isAddressFree: Bool {
            src == nil && dst == nil && host == nil && port == nil && sport == nil && dport == nil && proto == nil
                && states == nil
        }

        @inline(__always)
        private func oriented(_ initiator: IPAddress, _ initiatorPort: UInt16?, _ responder: IPAddress,
                              _ responderPort: UInt16?) -> Bool {
            if let src, !src.contains(initiator) { return false }
            if let dst, !dst.contains(responder) { return false }
            if let host, !host.contains(initiator), !host.contains(responder) { return false }
            if let sport, initiatorPort != sport { return false }
            if let dport, responderPort != dport { return false }
            if let port, initiatorPort != port, responderPort != port { return false }
            return true
        }

        /// True when `connection` passes every condition.
        public func matches(_ connection: ConnectionSnapshot) -> Bool {
            if let proto, connection.proto != proto { return false }
            if let states, !states.contains(connection.state) { return false }
            if let src, !src.contains(connection.initiatorAddress) { return false }
            if let dst, !dst.contains(connection.responderAddress) { return false }
            if let host, !host.contains(connection.initiatorAddress), !host.contains(connection.responderAddress) {
                return false
            }
            if let sport, connection.initiatorPort != sport { return false }
            if let dport, connection.responderPort != dport { return false }
            if let port, connection.initiatorPort != port, connection.responderPort != port { return false }
            return true
        }
    }
}
