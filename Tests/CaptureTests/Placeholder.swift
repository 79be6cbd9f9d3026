import Testing

@Test func placeholderCaptureTests() { #expect(Bool(true)) }
