import Testing
@testable import Control

@Suite struct FormattingTests {
    @Test("durations read as s, m+s, h+m, d+h", arguments: [
        (0, "0s"), (59, "59s"), (60, "1m00s"), (187, "3m07s"), (3600, "1h00m"), (7500, "2h05m"), (273_600, "3d04h"),
        (-5, "0s"),
    ])
    func durations(seconds: Int, text: String) {
        #expect(Formatting.duration(seconds) == text)
    }

    @Test("counts use K, M, G with one decimal below 100", arguments: [
        (0, "0"), (999, "999"), (1000, "1.0K"), (12_345, "12.3K"), (123_456, "123K"), (4_500_000, "4.5M"),
        (1_200_000_000, "1.2G"),
    ])
    func counts(value: Int, text: String) {
        #expect(Formatting.count(value) == text)
    }

    @Test("endpoints bracket IPv6 and leave ports off ICMP")
    func endpoints() {
        #expect(Formatting.endpoint("192.0.2.7", 443, proto: "tcp") == "192.0.2.7:443")
        #expect(Formatting.endpoint("2001:db8::1", 22, proto: "tcp") == "[2001:db8::1]:22")
        #expect(Formatting.endpoint("192.0.2.7", 1234, proto: "icmp") == "192.0.2.7")
    }

    @Test("tables align columns, right-aligned where asked")
    func table() {
        let text = Formatting.table([["a", "1", "x"], ["bbb", "100", "yy"]], rightAligned: [1])
        #expect(text == "a      1  x\nbbb  100  yy")
    }
}
