import Testing
import Wire
@testable import Rules
import TestSupport

@Suite struct PrefixSetTests {
    func prefix(_ text: String) -> IPPrefix {
        guard let prefix = IPPrefix(text) else { preconditionFailure("bad prefix \(text)") }
        return prefix
    }

    func address(_ text: String) -> IPAddress {
        guard let address = IPAddress(text) else { preconditionFailure("bad address \(text)") }
        return address
    }

    @Test func prefixesParseMaskAndPrint() {
        #expect(prefix("192.0.2.77/24").description == "192.0.2.0/24")
        #expect(prefix("192.0.2.77").description == "192.0.2.77")
        #expect(prefix("2001:db8::1/32").description == "2001:db8::/32")
        #expect(prefix("0.0.0.0/0").lastAddress == address("255.255.255.255"))
        #expect(prefix("::/0").lastAddress == address("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"))
        #expect(prefix("2001:db8::/64").lastAddress == address("2001:db8::ffff:ffff:ffff:ffff"))
        #expect(prefix("2001:db8::/96").lastAddress == address("2001:db8::ffff:ffff"))
        #expect(prefix("10.0.0.0/8").contains(address("10.255.0.1")))
        #expect(!prefix("10.0.0.0/8").contains(address("11.0.0.0")))
        for bad in ["", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/+8", "::/129", "foo", "10.0.0.0/8/8"] {
            #expect(IPPrefix(bad) == nil, "\(bad)")
        }
        #expect(IPPrefix.hasHostBits("10.0.0.1/8"))
        #expect(!IPPrefix.hasHostBits("10.0.0.0/8"))
    }

    @Test func longestPrefixDecidesAndRangesMerge() {
        let set = PrefixSet(entries: [
            (prefix("10.0.0.0/8"), true), (prefix("10.1.0.0/16"), false), (prefix("10.1.2.0/24"), true),
            (prefix("10.1.2.3"), false), (prefix("192.0.2.0/25"), true), (prefix("192.0.2.128/25"), true),
        ])
        #expect(set.contains(address("10.0.0.0")))
        #expect(set.contains(address("10.255.255.255")))
        #expect(!set.contains(address("10.1.0.0")))
        #expect(!set.contains(address("10.1.255.255")))
        #expect(set.contains(address("10.1.2.0")))
        #expect(!set.contains(address("10.1.2.3")))
        #expect(set.contains(address("10.1.2.4")))
        #expect(set.contains(address("192.0.2.200")))
        #expect(!set.contains(address("192.0.3.0")))
        #expect(!set.contains(address("2001:db8::1")))
        // 10/8 minus 10.1/16 plus 10.1.2/24 minus one host = 4 ranges; the two /25s merge into one.
        #expect(set.rangeCount == 5)
    }

    @Test func theSamePrefixBothWaysIsExcluded() {
        let set = PrefixSet(entries: [(prefix("10.0.0.0/8"), true), (prefix("10.0.0.0/8"), false)])
        #expect(!set.contains(address("10.0.0.1")))
        #expect(set.isEmpty)
    }

    @Test func ipv6AndTheEdgesOfTheAddressSpace() {
        let set = PrefixSet([prefix("::/0"), prefix("0.0.0.0/0")])
        #expect(set.contains(address("::")))
        #expect(set.contains(address("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")))
        #expect(set.contains(address("0.0.0.0")))
        #expect(set.contains(address("255.255.255.255")))
        let v6only = PrefixSet([prefix("::/0")])
        #expect(!v6only.contains(address("192.0.2.1")), "IPv6 prefixes match IPv6 addresses only")
        let edge = PrefixSet(entries: [(prefix("::/0"), true), (prefix("ffff::/16"), false), (prefix("ffff:ffff::/32"), true)])
        #expect(edge.contains(address("ffff:ffff::1")))
        #expect(!edge.contains(address("ffff:fffe::1")))
        #expect(edge.contains(address("fffe::1")))
    }

    @Test func unionAndSubset() {
        let a = PrefixSet([prefix("10.0.0.0/8"), prefix("2001:db8::/32")])
        let b = PrefixSet([prefix("11.0.0.0/8"), prefix("192.0.2.0/24")])
        let union = a.union(b)
        #expect(union.rangeCount == 3, "10/8 and 11/8 merge")
        #expect(union.contains(address("11.1.1.1")))
        #expect(union.contains(address("2001:db8::5")))
        #expect(a.isSubset(of: union))
        #expect(b.isSubset(of: union))
        #expect(!union.isSubset(of: a))
        #expect(PrefixSet([prefix("10.1.0.0/16")]).isSubset(of: a))
        #expect(PrefixSet().isSubset(of: a))
    }

    /// Against a naive check over random prefixes (nested, overlapping, excluded).
    @Test func agreesWithANaiveLongestMatch() {
        var generator = SplitMix64(seed: 0x5EED)
        func random() -> UInt64 { generator.next() }
        for round in 0..<20 {
            var entries: [(prefix: IPPrefix, included: Bool)] = []
            for _ in 0..<60 {
                // Addresses in a small space so prefixes nest often.
                let base = UInt32(0x0A00_0000) | UInt32(truncatingIfNeeded: random() & 0xFFFF)
                let length = 16 + Int(random() % 17)
                if let entry = IPPrefix(address: IPAddress(ipv4: base), length: length) {
                    entries.append((entry, random() % 3 != 0))
                }
            }
            let set = PrefixSet(entries: entries)
            for _ in 0..<500 {
                let probe = IPAddress(ipv4: 0x0A00_0000 | UInt32(truncatingIfNeeded: random() & 0xFFFF))
                // Longest covering prefix decides; for equal prefixes exclusion wins.
                let covering = entries.filter { $0.prefix.contains(probe) }
                let longest = covering.map(\.prefix.length).max()
                let expected = longest.map { length in
                    covering.filter { $0.prefix.length == length }.allSatisfy(\.included)
                } ?? false
                #expect(set.contains(probe) == expected, "round \(round), \(probe)")
            }
        }
    }

    /// Large IPv4 sets use a /16 bucket index; it must agree with a plain binary search,
    /// including ranges that span bucket edges and the last bucket.
    @Test func bucketIndexAgreesWithTheFullSearch() {
        var state: UInt64 = 99
        func random() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        var prefixes = (0..<6000).compactMap { _ in
            IPPrefix(address: IPAddress(ipv4: UInt32(truncatingIfNeeded: random())), length: 12 + Int(random() % 21))
        }
        prefixes.append(prefix("255.255.255.0/24"))
        prefixes.append(prefix("0.0.0.0/24"))
        let set = PrefixSet(prefixes)
        #expect(!set.v4Buckets.isEmpty)
        #expect(set.contains(address("255.255.255.255")))
        #expect(set.contains(address("0.0.0.0")))
        var hits = 0
        for round in 0..<200_000 {
            let value = round % 4 == 0
                ? UInt32(truncatingIfNeeded: random()) & 0xFFFF_0000 | (round % 8 == 0 ? 0 : 0xFFFF)
                : UInt32(truncatingIfNeeded: random())
            let full = set.v4Starts.withUnsafeBufferPointer { starts in
                set.v4Ends.withUnsafeBufferPointer { ends in PrefixSet.search(starts, ends, value) }
            }
            let fast = set.contains(IPAddress(ipv4: value))
            if full { hits += 1 }
            if fast != full {
                Issue.record("disagree at \(IPAddress(ipv4: value))")
                break
            }
        }
        #expect(hits > 10_000, "the probes must hit often enough to mean something")
        let union = set.union(PrefixSet([prefix("198.51.100.0/24")]))
        #expect(!union.v4Buckets.isEmpty)
        #expect(union.contains(address("198.51.100.7")))
    }

    @Test func portSets() {
        let set = PortSet(included: [80...80, 8000...8080, 81...81], excluded: [8008...8008])
        #expect(set.ranges == [80...81, 8000...8007, 8009...8080])
        #expect(set.contains(81) && !set.contains(8008) && set.contains(8080) && !set.contains(79))
        #expect(set.description == "80:81, 8000:8007, 8009:8080")
        let allBut = PortSet(included: [], excluded: [22...22])
        #expect(allBut.ranges == [0...21, 23...65535])
        #expect(PortSet(included: [22...22]).isSubset(of: allBut) == false)
        #expect(PortSet(included: [23...100]).isSubset(of: allBut))
    }
}
