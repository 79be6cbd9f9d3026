import Testing
@testable import Wire

@Suite struct IPAddressTests {
    @Test func ipv4IsStoredMapped() {
        let address = IPAddress(ipv4: 0xC000_0201)
        #expect(address.isIPv4)
        #expect(address.high == 0)
        #expect(address.low == 0x0000_FFFF_C000_0201)
        #expect(address.ipv4 == 0xC000_0201)
        #expect(address.description == "192.0.2.1")
        #expect(IPAddress("::ffff:192.0.2.1") == address)
        #expect(IPAddress("::ffff:c000:201") == address)
    }

    @Test(arguments: [
        ("0.0.0.0", UInt32(0)), ("255.255.255.255", 0xFFFF_FFFF), ("10.1.2.3", 0x0A01_0203), ("192.0.2.1", 0xC000_0201),
    ])
    func parsesDottedQuads(text: String, value: UInt32) {
        #expect(IPAddress(text) == IPAddress(ipv4: value))
        #expect(IPAddress(text)?.description == text)
    }

    @Test(arguments: [
        "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.04", "01.2.3.4", "1..2.3", ".1.2.3", "1.2.3.", "1.2.3.-4",
        " 1.2.3.4", "1.2.3.4 ", "1.2.3.4/24", "a.b.c.d", "1.2.3.4444",
    ])
    func rejectsBadIPv4(text: String) {
        #expect(IPAddress(text) == nil)
    }

    /// RFC 5952 canonical forms: input → expected output.
    @Test(arguments: [
        ("2001:db8::1", "2001:db8::1"),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("2001:DB8::ABCD", "2001:db8::abcd"),                      // §4.3 lowercase
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),             // §4.2.3 first of equal runs
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),                   // §4.2.3 longest run wins
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),          // §4.2.2 one zero group stays
        ("2001:db8::0:1", "2001:db8::1"),
        ("::", "::"),
        ("::1", "::1"),
        ("1::", "1::"),
        ("0:0:0:0:0:0:0:0", "::"),
        ("fe80::1:2", "fe80::1:2"),
        ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
        ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"),
        ("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"),
        ("1:0:0:4:5:6:7:8", "1::4:5:6:7:8"),
        ("ff02::fb", "ff02::fb"),
        ("::ffff:10.0.0.1", "10.0.0.1"),                           // mapped shows as dotted quad
        ("::1.2.3.4", "::102:304"),                                // deprecated compatible form: hex
        ("64:ff9b::192.0.2.33", "64:ff9b::c000:221"),
        ("2001:db8:0:0:0:0:2:1", "2001:db8::2:1"),
        ("0:0:1::", "0:0:1::"),                                    // first run of two wins the tie
    ])
    func formatsCanonicalIPv6(input: String, canonical: String) throws {
        let address = try #require(IPAddress(input))
        #expect(address.description == canonical)
        #expect(IPAddress(canonical) == address)  // round trip
    }

    @Test(arguments: [
        ":", ":::", "1:::2", "1::2::3", ":1::", "1::2:", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8::",
        "::1:2:3:4:5:6:7:8", "12345::", "g::", "fe80::1%eth0", "1.2.3.4::", "::1.2.3", "::1.2.3.4:5",
        "1:2:3:4:5:6:7:1.2.3.4", "::ffff:256.0.0.1", "2001:db8::/32", "[::1]",
    ])
    func rejectsBadIPv6(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func fullWidthIPv4TailCounts() throws {
        let address = try #require(IPAddress("1:2:3:4:5:6:1.2.3.4"))
        #expect(address.high == 0x0001_0002_0003_0004)
        #expect(address.low == 0x0005_0006_0102_0304)
    }

    @Test func halvesAreHostOrder() throws {
        let address = try #require(IPAddress("2001:db8:1:2:3:4:5:6"))
        #expect(address.high == 0x2001_0DB8_0001_0002)
        #expect(address.low == 0x0003_0004_0005_0006)
        #expect(!address.isIPv4)
        #expect(address.ipv4 == nil)
    }

    @Test func orderingIsNumeric() throws {
        let sorted = try ["2001:db8::2", "10.0.0.2", "::1", "10.0.0.10", "2001:db8::1"].map { try #require(IPAddress($0)) }.sorted()
        #expect(sorted.map(\.description) == ["::1", "10.0.0.2", "10.0.0.10", "2001:db8::1", "2001:db8::2"])
    }

    @Test func classifications() throws {
        #expect(try #require(IPAddress("224.0.0.1")).isMulticast)
        #expect(try #require(IPAddress("239.255.255.255")).isMulticast)
        #expect(!(try #require(IPAddress("223.255.255.255")).isMulticast))
        #expect(try #require(IPAddress("ff02::1")).isMulticast)
        #expect(!(try #require(IPAddress("fe80::1")).isMulticast))
        #expect(try #require(IPAddress("255.255.255.255")).isLimitedBroadcast)
        #expect(!(try #require(IPAddress("ffff:ffff::")).isLimitedBroadcast))
        #expect(try #require(IPAddress("127.1.2.3")).isLoopback)
        #expect(try #require(IPAddress("::1")).isLoopback)
        #expect(try #require(IPAddress("0.0.0.0")).isUnspecified)
        #expect(try #require(IPAddress("::")).isUnspecified)
        #expect(IPAddress("0.0.0.0") != IPAddress("::"))
    }

    @Test func hashableDistinguishesFamilies() throws {
        let set: Set<IPAddress> = [try #require(IPAddress("10.0.0.1")), try #require(IPAddress("::a00:1")),
                                   try #require(IPAddress("::ffff:10.0.0.1"))]
        #expect(set.count == 2)
    }
}
