#if canImport(Glibc)
import Glibc
#endif
import Firewall
import Foundation
import Tracking
import Wire

// `TrackerBenchmark state`: the state file (issue 11). For 100,000 and 1,000,000 connections:
// the time to save them (records copied out of the table, then written with fsync), the file's
// size per connection, the time to load them (read with checksums, then restored into a new
// table); then, with 1,000,000 connections, how long a worker's receive round takes while a
// checkpoint is copied out a slice per round and written by another thread, against rounds
// without one. Prints figures; asserts nothing.

/// A tracker with `count` established connections (flows `Flow.number(0..<count)`).
@MainActor func filledTracker(_ count: Int, now: inout UInt64) -> ConnectionTracker {
    var tracker = ConnectionTracker(configuration: TrackerConfiguration(maxStates: count))
    var admission = AdmitAll()
    for number in 0..<count {
        for packet in handshake(Flow.number(number)) {
            now += 1_000
            _ = tracker.track(packet, now: now, admission: &admission)
        }
    }
    return tracker
}

func milliseconds(_ nanoseconds: UInt64) -> String { format(Double(nanoseconds) / 1e6, 1) + " ms" }

func percentile(_ sorted: [UInt64], _ fraction: Double) -> UInt64 {
    sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
}

@MainActor func stateBenchmark() {
    let directory = NSTemporaryDirectory() + "synwall-state-benchmark-\(getpid())"
    try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let store = StateFileStore(path: directory + "/state")

    for count in [100_000, 1_000_000] {
        var now = 1_700_000_000 * second
        let tracker = filledTracker(count, now: &now)
        let reference = UInt32(now / second)

        // Save: copy out, then write (temporary file, fsync, rename).
        var began = monotonicNanoseconds()
        var records: [UInt8] = []
        records.reserveCapacity(count * SavedConnection.size)
        _ = tracker.saveConnections(now: now, referenceSeconds: reference, queue: 0, into: &records)
        let copied = monotonicNanoseconds() - began
        let header = StateFileHeader(writtenNanoseconds: UInt64(reference) * second, queues: 0...0, kind: .stop,
                                     rulesDigest: 0, connectionCount: UInt64(count))
        var bytes = 0
        do {
            bytes = try store.write(header: header, chunks: [records, StateSnapshot.encodeTail(proven: [], tables: [])])
        } catch {
            print("state: write failed: \(error)")
            return
        }
        let saved = monotonicNanoseconds() - began
        records = []

        // Load: read and check, then restore into a new table.
        began = monotonicNanoseconds()
        guard let loaded = try? store.read(limitBytes: .max, maxAgeSeconds: 0, now: now) else {
            print("state: read failed")
            return
        }
        let read = monotonicNanoseconds() - began
        var restored = ConnectionTracker(configuration: TrackerConfiguration(maxStates: count))
        let counts = loaded.snapshot.connections.withUnsafeBytes {
            restored.restoreConnections($0, now: now + second, elapsedSeconds: 1)
        }
        let loadedTotal = monotonicNanoseconds() - began
        print("state, \(count) connections: save \(milliseconds(saved)) (copy \(milliseconds(copied)), "
              + "write+fsync \(milliseconds(saved - copied))), file \(bytes) bytes = "
              + "\(format(Double(bytes) / Double(count))) bytes/connection; load \(milliseconds(loadedTotal)) "
              + "(read+checksums \(milliseconds(read)), restore \(milliseconds(loadedTotal - read))), "
              + "\(counts.restored) restored")
        if count == 1_000_000 { checkpointLatency(tracker, now: now, store: store) }
    }
}

/// Receive rounds of 64 established packets over random flows of a 1,000,000-connection table,
/// first without a checkpoint, then while checkpoints are copied out `budget` entries per round
/// (as `QueueWorker.checkpointBudget`, 1,024 after a busy round; 4,096 for comparison) into buffers a second thread pre-faulted, and written
/// by that thread (as the daemon's checkpoint thread does), one after another.
@MainActor func checkpointLatency(_ tracker: consuming ConnectionTracker, now start: UInt64, store: StateFileStore) {
    var tracker = tracker
    var generator = SplitMix(seed: 11)
    var flows = (0..<65_536).map { _ in Flow.number(Int(generator.next() % 1_000_000)) }
    var admission = AdmitAll()
    var now = start
    let roundSize = 64
    let rounds = 20_000

    func round(_ index: Int) {
        for k in 0..<(roundSize / 2) {
            let slot = (index * roundSize / 2 + k) % flows.count
            let (data, ack) = exchange(&flows[slot])
            now += 1_000
            _ = tracker.track(data, now: now, admission: &admission)
            _ = tracker.track(ack, now: now, admission: &admission)
        }
    }

    var plain: [UInt64] = []
    for index in 0..<rounds {
        let began = monotonicNanoseconds()
        round(index)
        plain.append(monotonicNanoseconds() - began)
    }
    plain.sort()
    let bytes = (tracker.count + tracker.count / 8 + 64) * SavedConnection.size
    print("rounds of \(roundSize) packets over 1,000,000 connections, no checkpoint: p50 / p99 / max "
          + "\(format(Double(percentile(plain, 0.5)) / 1e3)) / \(format(Double(percentile(plain, 0.99)) / 1e3)) / "
          + "\(format(Double(plain.last ?? 0) / 1e3)) µs")

    for budget in [1_024, 4_096] {
        // The writer: takes a filled buffer, writes it, prepares the next one.
        let filled = DispatchSemaphore(value: 0)
        let fresh = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var handed: [UInt8] = []
        nonisolated(unsafe) var next: [UInt8] = []
        nonisolated(unsafe) var stop = false
        nonisolated(unsafe) var written = 0
        let reference = UInt32(now / second)
        @Sendable func prefaulted() -> [UInt8] {
            var buffer = [UInt8](repeating: 0, count: bytes)
            buffer.removeAll(keepingCapacity: true)
            return buffer
        }
        next = prefaulted()
        fresh.signal()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            while true {
                filled.wait()
                if stop { break }
                let header = StateFileHeader(writtenNanoseconds: UInt64(reference) * second, queues: 0...0,
                                             kind: .checkpoint, rulesDigest: 0, connectionCount: 0)
                _ = try? store.write(header: header, chunks: [handed])
                handed = []
                written += 1
                next = prefaulted()
                fresh.signal()
            }
            done.signal()
        }

        var withCheckpoint: [UInt64] = []
        var slices: [UInt64] = []
        var cursor: Int?
        var buffer: [UInt8] = []
        var inFlight = 1  // buffers the writer owes (the first one is being prepared)
        for index in 0..<rounds {
            let began = monotonicNanoseconds()
            round(index)
            if cursor == nil, fresh.wait(timeout: .now()) == .success {
                inFlight -= 1
                buffer = next
                next = []
                cursor = 0
            }
            if let from = cursor {
                let sliceBegan = monotonicNanoseconds()
                cursor = tracker.saveConnections(from: from, limit: budget, now: now, referenceSeconds: reference,
                                                 queue: 0, into: &buffer)
                slices.append(monotonicNanoseconds() - sliceBegan)
                if cursor == nil {
                    handed = buffer
                    buffer = []
                    inFlight += 1
                    filled.signal()
                }
            }
            withCheckpoint.append(monotonicNanoseconds() - began)
        }
        while inFlight > 0 {
            fresh.wait()
            inFlight -= 1
        }
        stop = true
        filled.signal()
        done.wait()
        withCheckpoint.sort()
        slices.sort()
        print("  with checkpoints copied \(budget) entries a round and written by another thread "
              + "(\(written) written in \(rounds) rounds): round p50 / p99 / max "
              + "\(format(Double(percentile(withCheckpoint, 0.5)) / 1e3)) / "
              + "\(format(Double(percentile(withCheckpoint, 0.99)) / 1e3)) / "
              + "\(format(Double(withCheckpoint.last ?? 0) / 1e3)) µs; the copy step alone p50 / p99 / max "
              + "\(format(Double(percentile(slices, 0.5)) / 1e3)) / \(format(Double(percentile(slices, 0.99)) / 1e3)) / "
              + "\(format(Double(slices.last ?? 0) / 1e3)) µs")
    }
}
