@testable import Firewall
import Rules
import Testing

/// A reload cannot change the offload rules attached at start (docs/offload.md, "Reloads").
@Suite struct OffloadReloadTests {
    private func settings(after: Int?, mark: UInt32 = RuleSettings.defaultOffloadMark) -> RuleSettings {
        var settings = RuleSettings()
        settings.offloadAfter = after
        settings.offloadMark = mark
        return settings
    }

    @Test("a file that agrees with what is attached, or turns offload off, is taken as it is")
    func agreeing() {
        let attached = OffloadMarks(bit: 0x10_0000)
        var same = settings(after: 20)
        #expect(OffloadMarks.reconcile(&same, attached: attached) == nil)
        #expect(same.offloadAfter == 20 && same.offloadMark == 0x10_0000)
        var off = settings(after: nil)
        #expect(OffloadMarks.reconcile(&off, attached: attached) == nil)
        #expect(off.offloadAfter == nil, "no new offloads; offloaded connections pass until they close")
        var never = settings(after: nil)
        #expect(OffloadMarks.reconcile(&never, attached: nil) == nil)
    }

    @Test("turning offload on without its kernel rules, or moving its mark, waits for the next start")
    func waitsForRestart() throws {
        var on = settings(after: 5)
        let notice = try #require(OffloadMarks.reconcile(&on, attached: nil))
        #expect(on.offloadAfter == nil)
        #expect(notice.contains("next start"))
        var moved = settings(after: 5, mark: 0x400)
        let moveNotice = try #require(OffloadMarks.reconcile(&moved, attached: OffloadMarks(bit: 0x10_0000)))
        #expect(moved.offloadMark == 0x10_0000 && moved.offloadAfter == 5)
        #expect(moveNotice.contains("0x400") && moveNotice.contains("0x100000"))
    }

    @Test("a start attaches offload rules only when the file says set offload after N")
    func attachedAtStart() {
        #expect(OffloadMarks.attached(for: nil) == nil)
        #expect(OffloadMarks.attached(for: settings(after: nil)) == nil)
        #expect(OffloadMarks.attached(for: settings(after: 3, mark: 0x200)) == OffloadMarks(bit: 0x200))
    }
}
