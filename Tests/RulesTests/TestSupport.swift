import Testing
import Tracking
import Wire
@testable import Rules

/// Compiles `text` as the file `test.rules`; records an issue and returns nil on errors.
func compiled(_ text: String, path: String = "test.rules", sourceLocation: Testing.SourceLocation = #_sourceLocation)
    -> CompiledRuleset?
{
    switch RuleCompiler.compile(text: text, path: path) {
    case .success(let ruleset):
        return ruleset
    case .failure(let diagnostics):
        Issue.record("unexpected errors:\n\(diagnostics)", sourceLocation: sourceLocation)
        return nil
    }
}

/// The diagnostics of compiling `text` (empty when it compiles without warnings).
func diagnostics(_ text: String, path: String = "test.rules") -> [Diagnostic] {
    switch RuleCompiler.compile(text: text, path: path) {
    case .success(let ruleset): return ruleset.warnings
    case .failure(let diagnostics): return diagnostics.items
    }
}

/// First lines of the diagnostics (`test.rules:1:6: error: …`).
func headlines(_ text: String, path: String = "test.rules") -> [String] {
    diagnostics(text, path: path).map { $0.description.split(separator: "\n", omittingEmptySubsequences: false)[0] }.map(String.init)
}

/// A decoded packet from builder bytes.
func decoded(_ bytes: [UInt8]) -> Packet? {
    bytes.withUnsafeBytes { PacketDecoder.decode($0) }.packet
}

extension DecodeResult {
    var packet: Packet? {
        if case .packet(let packet) = self { return packet }
        return nil
    }
}

/// A TCP SYN from `source:sourcePort` to `destination:destinationPort`.
func syn(_ source: String, _ sourcePort: UInt16, _ destination: String, _ destinationPort: UInt16,
         flags: TCPFlags = .syn) -> Packet {
    guard let builder = PacketBuilder(from: source, to: destination),
          let packet = decoded(builder.tcp(sourcePort: sourcePort, destinationPort: destinationPort, flags: flags)) else {
        preconditionFailure("bad test packet \(source) > \(destination)")
    }
    return packet
}

/// A UDP datagram.
func udp(_ source: String, _ sourcePort: UInt16, _ destination: String, _ destinationPort: UInt16) -> Packet {
    guard let builder = PacketBuilder(from: source, to: destination),
          let packet = decoded(builder.udp(sourcePort: sourcePort, destinationPort: destinationPort)) else {
        preconditionFailure("bad test packet")
    }
    return packet
}

/// An echo request (ICMP or ICMPv6 by the addresses).
func ping(_ source: String, _ destination: String) -> Packet {
    guard let builder = PacketBuilder(from: source, to: destination),
          let packet = decoded(builder.icmpEcho(identifier: 1, sequence: 1)) else {
        preconditionFailure("bad test packet")
    }
    return packet
}

let inbound = RuleContext(direction: .in, inInterface: "eth0")
let outbound = RuleContext(direction: .out, outInterface: "eth0")

extension CompiledRuleset {
    /// The 1-based number of the deciding rule, or 0 for the policy.
    func decidingRule(_ packet: Packet, _ context: RuleContext = inbound) -> Int {
        evaluate(packet, context: context).ruleIndex.map { $0 + 1 } ?? 0
    }
}
