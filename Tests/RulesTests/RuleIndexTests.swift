import Testing
import Wire
@testable import Rules

/// The bit-vector index must pick exactly the rule a plain in-order scan picks.
@Suite struct RuleIndexTests {
    struct Generator {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(bound))
        }
    }

    func randomRule(_ random: inout Generator) -> String {
        var parts = [random.next(2) == 0 ? "pass" : "block"]
        let directions = ["", "in", "out", "forward"]
        parts.append(directions[random.next(4)])
        if random.next(4) == 0 { parts.append(["on eth0", "on ! eth1", "on { eth0, eth2 }", "on eth+"][random.next(4)]) }
        let hasPorts = random.next(3) != 0
        if hasPorts {
            parts.append(["proto tcp", "proto udp", "proto { tcp, udp }"][random.next(3)])
        } else if random.next(2) == 0 {
            parts.append(["proto icmp", "proto icmp6", "proto gre", "proto { icmp, tcp }"][random.next(4)])
        }
        if random.next(2) == 0 {
            parts.append("from " + ["10.0.0.0/8", "! 10.1.0.0/16", "{ 192.0.2.0/24, 2001:db8::/32 }", "any", "10.\(random.next(4)).0.0/16"][random.next(5)])
            if hasPorts, random.next(3) == 0 { parts.append("port " + ["> 1023", "{ 53, 123 }", "1000:2000"][random.next(3)]) }
        }
        if hasPorts, random.next(4) != 0 {
            let port = random.next(40)
            parts.append("to port " + ["\(port)", "\(port):\(port + random.next(10))", "{ \(port), \(port + 20) }", "!= \(port)",
                                       "> \(port)", "< \(port + 1)"][random.next(6)])
        }
        return parts.filter { !$0.isEmpty }.joined(separator: " ")
    }

    @Test func indexAgreesWithAPlainScan() throws {
        var random = Generator(state: 42)
        for round in 0..<12 {
            let rules = (0..<(20 + random.next(200))).map { _ in randomRule(&random) }
            let ruleset: CompiledRuleset
            switch RuleCompiler.compile(text: rules.joined(separator: "\n") + "\n", path: "random.rules") {
            case .success(let compiled): ruleset = compiled
            case .failure(let diagnostics):
                Issue.record("\(diagnostics)")
                return
            }
            #expect(ruleset.index != nil)
            for _ in 0..<400 {
                let v6 = random.next(5) == 0
                let source = v6 ? "2001:db8::\(random.next(9) + 1)" : "10.\(random.next(4)).\(random.next(3)).\(random.next(250) + 1)"
                let destination = v6 ? "2001:db8:1::1" : "192.0.2.\(random.next(250) + 1)"
                let packet: Packet
                switch random.next(4) {
                case 0: packet = udp(source, UInt16(random.next(3000) + 1), destination, UInt16(random.next(70) + 1))
                case 1: packet = ping(source, destination)
                default: packet = syn(source, UInt16(random.next(3000) + 1), destination, UInt16(random.next(70) + 1))
                }
                let direction = Direction.allCases[random.next(3)]
                let names = [nil, "eth0", "eth1", "eth2", "eth9"]
                let context = RuleContext(direction: direction, inInterface: names[random.next(5)], outInterface: names[random.next(5)])
                let indexed = ruleset.firstMatch(packet, context, StaticMembership())
                let scanned = ruleset.matchers.firstIndex { $0.matches(packet, context, StaticMembership()) }
                #expect(indexed == scanned, "round \(round): \(packet.source) > \(packet.destination):\(packet.destinationPort) \(direction)")
            }
        }
    }

    @Test func smallRulesetsAreScanned() throws {
        let ruleset = try #require(compiled("pass in all\n"))
        #expect(ruleset.index == nil)
    }

    @Test func intervalLookup() {
        let starts: [UInt16] = [0, 22, 23, 1000, 65535]
        #expect(RuleIndex.interval(of: 0, in: starts) == 0)
        #expect(RuleIndex.interval(of: 21, in: starts) == 0)
        #expect(RuleIndex.interval(of: 22, in: starts) == 1)
        #expect(RuleIndex.interval(of: 999, in: starts) == 2)
        #expect(RuleIndex.interval(of: 65535, in: starts) == 4)
    }
}
