@testable import Firewall
import Testing
import Wire

@Suite struct WorkerControlTests {
    private func addition(_ last: UInt32, table: String = "bruteforce") -> TableAddition {
        TableAddition(table: table, address: IPAddress(ipv4: 0xC000_0200 | last), time: UInt64(last))
    }

    @Test("a worker's table additions reach every other worker once, never itself")
    func additionsGoToTheOthers() {
        let control = WorkerControl()
        for queue: UInt16 in 0...2 { control.register(queue: queue) }
        let before = control.tableGeneration.load(ordering: .relaxed)
        control.share([addition(1), addition(2)], from: 0)
        #expect(control.tableGeneration.load(ordering: .relaxed) != before, "the others are told to look")
        #expect(control.takeAdditions(for: 0).isEmpty, "the sender does not get its own")
        #expect(control.takeAdditions(for: 1) == [addition(1), addition(2)])
        #expect(control.takeAdditions(for: 1).isEmpty, "taken once")
        control.share([addition(3)], from: 1)
        #expect(control.takeAdditions(for: 2) == [addition(1), addition(2), addition(3)])
        #expect(control.takeAdditions(for: 0) == [addition(3)])
        // Nothing shared: nothing bumped.
        let quiet = control.tableGeneration.load(ordering: .relaxed)
        control.share([], from: 2)
        #expect(control.tableGeneration.load(ordering: .relaxed) == quiet)
    }

    @Test("an inbox nobody empties keeps only the newest additions")
    func inboxIsBounded() {
        let control = WorkerControl()
        control.register(queue: 0)
        control.register(queue: 1)
        let many = (0..<UInt32(WorkerControl.inboxLimit + 10)).map { addition($0) }
        control.share(many, from: 0)
        let taken = control.takeAdditions(for: 1)
        #expect(taken.count == WorkerControl.inboxLimit)
        #expect(taken.first == addition(10) && taken.last == many.last)
    }
}
