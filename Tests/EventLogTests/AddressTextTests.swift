import EventLog
import Testing

@Suite struct AddressTextTests {
    private func ipv6(_ groups: [UInt16]) -> [UInt8] {
        groups.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }

    @Test func ipv4() {
        #expect(AddressText.format([203, 0, 113, 7]) == "203.0.113.7")
        #expect(AddressText.format([0, 0, 0, 0]) == "0.0.0.0")
        #expect(AddressText.format(ipv4: 0xC000_0201) == "192.0.2.1")
        #expect(AddressText.format(ipv4: .max) == "255.255.255.255")
    }

    @Test(arguments: [
        ([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], "2001:db8::1"),
        ([0, 0, 0, 0, 0, 0, 0, 0], "::"),
        ([0, 0, 0, 0, 0, 0, 0, 1], "::1"),
        ([0xfe80, 0, 0, 0, 0, 0, 0, 0], "fe80::"),
        ([0x2001, 0xdb8, 0, 1, 1, 1, 1, 1], "2001:db8:0:1:1:1:1:1"),  // a single zero group stays
        ([0x2001, 0, 0, 1, 0, 0, 0, 1], "2001:0:0:1::1"),  // the longest run is compressed
        ([0x2001, 0xdb8, 0, 0, 1, 0, 0, 1], "2001:db8::1:0:0:1"),  // the first of equal runs
        ([0x2001, 0xDB8, 0xABCD, 0x12, 0xF, 0xFFFF, 0x100, 0x1000], "2001:db8:abcd:12:f:ffff:100:1000"),
        ([0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201], "::ffff:192.0.2.1"),
    ] as [([UInt16], String)])
    func ipv6Text(groups: [UInt16], expected: String) {
        #expect(AddressText.format(ipv6(groups)) == expected)
    }

    @Test func otherLengthsAreRejected() {
        #expect(AddressText.format([1, 2, 3]) == nil)
        #expect(AddressText.format([]) == nil)
    }
}
