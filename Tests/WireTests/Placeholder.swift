import Testing

@Test func placeholderWireTests() { #expect(Bool(true)) }
