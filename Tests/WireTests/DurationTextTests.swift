import Testing
import Wire

@Suite struct DurationTextTests {
    private let second: UInt64 = 1_000_000_000

    @Test(arguments: [
        ("90", 90), ("30s", 30), ("5m", 300), ("2h", 7200), ("1d", 86400), ("1w", 604_800),
        ("1h30m", 5400), ("1h30", 3630), ("2w1d", 15 * 86400), ("0", 0), ("0s", 0),
    ] as [(String, UInt64)])
    func readsUnitsAndTrailingSeconds(text: String, seconds: UInt64) {
        #expect(DurationText.nanoseconds(text) == seconds * second)
    }

    @Test func milliseconds() {
        #expect(DurationText.nanoseconds("500ms") == 500_000_000)
        #expect(DurationText.nanoseconds("1s500ms") == 1_500_000_000)
        #expect(DurationText.duration("1500ms") == .milliseconds(1500))
    }

    @Test(arguments: ["", "s", "h1", "1x", "1y", "-5", "+5", "1.5h", "1 h", " 1h", "1h ", "ms", "99999999999999999999",
                      "30000000000w"])
    func rejects(text: String) {
        #expect(DurationText.nanoseconds(text) == nil)
    }

    @Test func formatsLargestUnitsFirstAndReadsBack() {
        #expect(DurationText.format(nanoseconds: 0) == "0s")
        #expect(DurationText.format(nanoseconds: 90 * second) == "1m30s")
        #expect(DurationText.format(nanoseconds: 86400 * second) == "1d")
        #expect(DurationText.format(nanoseconds: 500_000_000) == "500ms")
        #expect(DurationText.format(nanoseconds: 999) == "999ns")
        for value in [1, 59, 61, 3601, 90061, 694_861] as [UInt64] {
            #expect(DurationText.nanoseconds(DurationText.format(nanoseconds: value * second)) == value * second)
        }
    }
}
