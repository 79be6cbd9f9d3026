import Testing
import Wire

@Suite struct EndpointTextTests {
    @Test func bracketsIPv6AndLeavesAMissingPortOut() throws {
        #expect(EndpointText.format("203.0.113.7", port: 51544) == "203.0.113.7:51544")
        #expect(EndpointText.format("2001:db8::1", port: 443) == "[2001:db8::1]:443")
        #expect(EndpointText.format("2001:db8::1", port: nil) == "2001:db8::1")
        #expect(EndpointText.format(try #require(IPAddress("192.0.2.1")), port: 22) == "192.0.2.1:22")
        #expect(EndpointText.format(try #require(IPAddress("::ffff:192.0.2.1")), port: 22) == "192.0.2.1:22")
        #expect(EndpointText.format(try #require(IPAddress("2001:db8::1")), port: 22) == "[2001:db8::1]:22")
        #expect(EndpointText.format(try #require(IPAddress("2001:db8::1")), port: nil) == "2001:db8::1")
    }
}
