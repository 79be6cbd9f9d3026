import Wire

/// What restoring saved connections did to one tracker.
public struct RestoreCounts: Sendable, Equatable {
    /// Flows put back in the table.
    public var restored = 0
    /// Flows whose timeout ran out while the daemon was down.
    public var expired = 0
    /// Records with a field out of its range (a damaged or foreign file that passed its checksum).
    public var invalid = 0
    /// Records whose flow was already in the table.
    public var duplicate = 0
    /// Handshakes in progress, not restored: their next packets start or finish them afresh.
    public var halfOpen = 0
    /// Records left out because the table was full.
    public var tableFull = 0
    /// Restored flows that were offloaded when saved: they come back followed packet by
    /// packet (docs/offload.md, "Restarts").
    public var wereOffloaded = 0

    public init() {}

    /// Adds another tracker's counts.
    public mutating func add(_ other: RestoreCounts) {
        restored += other.restored
        expired += other.expired
        invalid += other.invalid
        duplicate += other.duplicate
        halfOpen += other.halfOpen
        tableFull += other.tableFull
        wereOffloaded += other.wereOffloaded
    }
}

/// A source address that completed a handshake, as saved: how long ago (nanoseconds).
public struct SavedProvenSource: Sendable, Equatable {
    public var address: IPAddress
    public var provenAgoNanoseconds: UInt64

    public init(address: IPAddress, provenAgoNanoseconds: UInt64) {
        self.address = address
        self.provenAgoNanoseconds = provenAgoNanoseconds
    }
}

// Saving the table to the state file and restoring it (docs/state-file.md). Not for the
// packet path: the daemon saves between receive rounds, a bounded number of entries at a time,
// and restores before the queue is read.
extension ConnectionTracker {
    /// Appends a `SavedConnection` record for every live flow among the entries from `start`
    /// on, looking at no more than `limit` entries, to `buffer`. Times are written relative to
    /// `referenceSeconds` (the file's "written" time); flows already expired at `now` are left
    /// out. Returns the entry to go on from, nil when every entry was seen.
    public func saveConnections(from start: Int = 0, limit: Int = .max, now: UInt64, referenceSeconds: UInt32,
                                queue: UInt16, into buffer: inout [UInt8]) -> Int? {
        let nowSeconds = UInt32(clamping: now / 1_000_000_000)
        let end = limit >= table.highWater - start ? table.highWater : start + limit
        guard start < end else { return nil }
        var live = 0
        for index in start..<end {
            if table[index].state != nil && nowSeconds < table[index].deadline { live += 1 }
        }
        var offset = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: live * SavedConnection.size))
        buffer.withUnsafeMutableBytes { bytes in
            guard let base = bytes.baseAddress else { return }
            for index in start..<end {
                guard let state = table[index].state, nowSeconds < table[index].deadline else { continue }
                SavedConnection.encode(table[index], state: state, referenceSeconds: referenceSeconds,
                                       queue: queue, to: base + offset)
                offset += SavedConnection.size
            }
        }
        return end < table.highWater ? end : nil
    }

    /// Puts back the records of `records` (whole `SavedConnection.size` records) that
    /// `include` picks, as of `now`, `elapsedSeconds` after they were written: timers run on
    /// by that much (a flow whose timeout ran out stays out), counts and origin are kept.
    /// TCP connections past the handshake come back *resuming*: each direction's window is
    /// learned again from its next segment (`state_resumed`), since its sequence numbers moved
    /// on while nobody watched. Handshakes in progress are not restored, and no restored
    /// connection is offloaded (again).
    public mutating func restoreConnections(_ records: UnsafeRawBufferPointer, now: UInt64, elapsedSeconds: UInt32,
                                            include: (UnsafeRawPointer) -> Bool = { _ in true }) -> RestoreCounts {
        setClock(now)
        var counts = RestoreCounts()
        guard let base = records.baseAddress else { return counts }
        // Inserted first, linked to the timer lists afterwards in deadline order, so each list
        // stays sorted and the sweep finds due entries at the heads.
        var inserted: [UInt64] = []
        for offset in stride(from: 0, to: records.count - SavedConnection.size + 1, by: SavedConnection.size) {
            let record = base + offset
            guard include(record) else { continue }
            var entry: ConnectionEntry
            do {
                entry = try SavedConnection.decode(record, nowSeconds: nowFloor, elapsed: elapsedSeconds)
            } catch .expired {
                counts.expired += 1
                continue
            } catch {
                counts.invalid += 1
                continue
            }
            guard let state = entry.state else { continue }
            if state.isHalfOpen {
                counts.halfOpen += 1
                continue
            }
            let hash = table.hash(entry.key)
            if table.find(entry.key, hash: hash) != nil {
                counts.duplicate += 1
                continue
            }
            guard let index = table.insert(entry.key, hash: hash) else {
                counts.tableFull += 1
                continue
            }
            entry.set(ConnectionEntry.Flags.sourceCounted, false)
            // Never offloaded again (docs/offload.md, "Restarts"): the start deletes its marked
            // kernel connection, and the kernel's new one is a mid-stream pickup with loose
            // windows, or one left unwatched while no rules used it.
            if entry.moreFlags & ConnectionEntry.MoreFlags.offloaded != 0 { counts.wereOffloaded += 1 }
            entry.moreFlags = entry.moreFlags & ~ConnectionEntry.MoreFlags.offloaded
                | ConnectionEntry.MoreFlags.offloadRefused
            entry.resumeFlags = state.isTCP && state != .close ? ConnectionEntry.ResumeFlags.resuming : 0
            entry.previous = ConnectionTable.none
            entry.next = ConnectionTable.none
            table[index] = entry
            inserted.append(UInt64(entry.deadline) << 32 | UInt64(index))
            counts.restored += 1
        }
        inserted.sort()
        for item in inserted {
            let index = Int(truncatingIfNeeded: item & 0xFFFF_FFFF)
            table.link(index, table[index].timerClass)
        }
        statistics.restored += UInt64(counts.restored)
        return counts
    }

    /// Sources proven at `now` (a handshake they began completed within the proven memory),
    /// with how long ago.
    public func provenSources(now: UInt64) -> [SavedProvenSource] {
        var result: [SavedProvenSource] = []
        guard sources.provenMemory > 0 else { return result }
        for index in 0...sources.mask {
            let slot = sources.slots[index]
            // A handshake completed after `now` (the file's time is rounded down to a whole
            // second) counts as just now.
            let ago = now >= slot.proven ? now - slot.proven : 0
            guard slot.used != 0, slot.proven != 0, ago < sources.provenMemory else { continue }
            result.append(SavedProvenSource(address: slot.address, provenAgoNanoseconds: ago))
        }
        return result
    }

    /// Marks a saved proven source proven again as of when it was saved, `elapsedNanoseconds`
    /// before `now` (nothing when that is already beyond the proven memory, or the source
    /// table has no room).
    public mutating func restoreProvenSource(_ saved: SavedProvenSource, now: UInt64, elapsedNanoseconds: UInt64) {
        let (ago, overflow) = saved.provenAgoNanoseconds.addingReportingOverflow(elapsedNanoseconds)
        guard !overflow, ago < sources.provenMemory, now > ago else { return }
        sources.markProven(saved.address, now: now - ago)
    }
}
