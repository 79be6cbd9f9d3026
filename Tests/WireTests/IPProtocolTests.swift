import Testing
import Wire

@Suite struct IPProtocolTests {
    @Test func namesForRulesAndForRecords() {
        #expect([IPProtocol.tcp, .udp, .icmp, .icmpv6].map(\.name) == ["tcp", "udp", "icmp", "icmp6"])
        #expect([IPProtocol.tcp, .udp, .icmp, .icmpv6].map(\.eventName) == ["TCP", "UDP", "ICMP", "IPv6-ICMP"])
        #expect(IPProtocol(rawValue: 47).name == "gre")
        #expect(IPProtocol(rawValue: 47).eventName == "47")  // EVE writes the number
        #expect(IPProtocol(rawValue: 4).name == "ipencap")   // two names: always the same one
        #expect(IPProtocol(rawValue: 253).name == "253")
        #expect([6, 17, 1, 58, 132, 0].map { IPProtocol(rawValue: $0).eventName } == ["TCP", "UDP", "ICMP", "IPv6-ICMP", "132", "0"])
    }

    @Test func everyNameReadsBackToItsNumber() {
        for (name, number) in IPProtocol.names {
            #expect(IPProtocol(name: name)?.rawValue == number, "\(name)")
            #expect(IPProtocol(name: IPProtocol(rawValue: number).name)?.rawValue == number)
        }
        #expect(IPProtocol(name: "ipv6-icmp") == .icmpv6)
        #expect(IPProtocol(name: "TCP") == nil)  // rule files write names in lowercase
        #expect(IPProtocol(name: "6") == nil)
    }

    @Test func portsOnlyForTCPAndUDP() {
        #expect(IPProtocol.tcp.hasPorts && IPProtocol.udp.hasPorts)
        #expect(!IPProtocol.icmp.hasPorts && !IPProtocol.icmpv6.hasPorts && !IPProtocol(rawValue: 132).hasPorts)
    }
}
