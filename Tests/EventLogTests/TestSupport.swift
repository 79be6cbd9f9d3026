import EventLog
import Foundation
import LogTestSupport

/// Thread-safe collector of the service's reports.
final class ReportLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [EventLogReport] = []
    var reports: [EventLogReport] { lock.lock(); defer { lock.unlock() }; return items }
    var handler: @Sendable (EventLogReport) -> Void {
        { [self] report in lock.lock(); items.append(report); lock.unlock() }
    }
}
