import Testing

@Test func placeholderNetfilterQueueTests() { #expect(Bool(true)) }
