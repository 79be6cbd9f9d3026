import Testing
import Tracking
import Wire
@testable import Control

@Suite struct ConnectionFilterTests {
    static func connection(_ src: String, _ sport: UInt16, _ dst: String, _ dport: UInt16,
                           state: ConnectionState = .established, proto: UInt8 = 6) -> ConnectionSnapshot {
        let a = IPAddress(src) ?? IPAddress(ipv4: 0)
        let b = IPAddress(dst) ?? IPAddress(ipv4: 0)
        let aLow = a < b || (a == b && sport <= dport)
        let key = FlowKey(lowAddress: aLow ? a : b, highAddress: aLow ? b : a, lowPort: aLow ? sport : dport,
                          highPort: aLow ? dport : sport, proto: proto)
        return ConnectionSnapshot(key: key, state: state, initiatorAddress: a, initiatorPort: sport,
                                  responderAddress: b, responderPort: dport, proto: proto, expiresAtSeconds: 0,
                                  initiatorWindow: nil, responderWindow: nil)
    }

    let web = connection("198.51.100.7", 51000, "192.0.2.10", 443)
    let ssh = connection("203.0.113.9", 40000, "192.0.2.10", 22, state: .synSent)
    let dns = connection("192.0.2.10", 53000, "192.0.2.53", 53, state: .udpReplied, proto: 17)

    func matches(_ filter: ConnectionFilter) throws -> [Bool] {
        let compiled = try filter.compiled()
        return [web, ssh, dns].map { compiled.matches($0) }
    }

    @Test("an empty filter matches everything")
    func empty() throws {
        #expect(try matches(ConnectionFilter()) == [true, true, true])
    }

    @Test("addresses and prefixes match the end named, host either end")
    func addresses() throws {
        #expect(try matches(ConnectionFilter(src: "198.51.100.0/24")) == [true, false, false])
        #expect(try matches(ConnectionFilter(dst: "192.0.2.10")) == [true, true, false])
        #expect(try matches(ConnectionFilter(host: "192.0.2.10")) == [true, true, true])
        #expect(try matches(ConnectionFilter(host: "2001:db8::/32")) == [false, false, false])
    }

    @Test("ports, states and protocols")
    func portsStatesProtocols() throws {
        #expect(try matches(ConnectionFilter(port: 22)) == [false, true, false])
        #expect(try matches(ConnectionFilter(port: 53000)) == [false, false, true])
        #expect(try matches(ConnectionFilter(sport: 51000)) == [true, false, false])
        #expect(try matches(ConnectionFilter(dport: 53)) == [false, false, true])
        #expect(try matches(ConnectionFilter(state: "ESTABLISHED")) == [true, false, false])
        #expect(try matches(ConnectionFilter(state: "syn-sent")) == [false, true, false])
        #expect(try matches(ConnectionFilter(state: "replied")) == [false, false, true])
        #expect(try matches(ConnectionFilter(proto: "udp")) == [false, false, true])
        #expect(try matches(ConnectionFilter(dst: "192.0.2.10", state: "established", proto: "tcp")) == [true, false, false])
    }

    @Test("a bad filter says what is wrong")
    func errors() {
        func message(_ filter: ConnectionFilter) -> String {
            do {
                _ = try filter.compiled()
                return "no error"
            } catch {
                return error.description
            }
        }
        #expect(message(ConnectionFilter(src: "10.0.0.300")) == "--src '10.0.0.300' is not an address or prefix (e.g. 192.0.2.7 or 10.0.0.0/8)")
        #expect(message(ConnectionFilter(port: 70000)) == "--port 70000 is not a port (0-65535)")
        #expect(message(ConnectionFilter(proto: "sctp")) == "--proto 'sctp' is not one of tcp, udp, icmp, icmp6")
        #expect(message(ConnectionFilter(state: "open")) == "--state 'open' is not a state; use one of syn_sent, syn_sent2, "
            + "syn_recv, established, fin_wait, close_wait, last_ack, time_wait, close, unreplied, replied, stream")
    }
}
