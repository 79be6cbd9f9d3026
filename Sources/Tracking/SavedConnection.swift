import Wire

/// The state file's connection record: one tracked flow in a fixed 147-byte little-endian
/// layout, independent of `ConnectionEntry`'s memory layout (docs/state-file.md lists every
/// field). Times are relative to a reference second (the file's "written" time): what is left
/// of the timeout, the flow's age and how long it was idle, so the record means the same on a
/// machine whose clock moved on.
public enum SavedConnection {
    /// Bytes per record.
    public static let size = 147

    /// Field offsets (docs/state-file.md, "Connection record"). A direction is 22 bytes: end,
    /// maxEnd, maxWindow, maxAck, isn (4 each), scale, flags.
    enum Offset {
        static let lowAddress = 0, highAddress = 16, lowPort = 32, highPort = 34, proto = 36, state = 37
        static let flags = 38, moreFlags = 39, timerClass = 40, hook = 41, repeats = 42, lastSegment = 43
        static let remaining = 45, initiator = 49, responder = 71, initiatorTimestamp = 93
        static let responderTimestamp = 97, age = 101, idle = 105, initiatorPackets = 109
        static let responderPackets = 113, initiatorBytes = 117, responderBytes = 125, inInterface = 133
        static let outInterface = 137, ruleIndex = 141, queue = 145
    }

    /// The NFQUEUE queue number a record was saved from (the worker that owned the flow).
    public static func queue(of record: UnsafeRawPointer) -> UInt16 {
        UInt16(littleEndian: record.loadUnaligned(fromByteOffset: Offset.queue, as: UInt16.self))
    }

    /// The state a record holds, nil when out of range.
    public static func state(of record: UnsafeRawPointer) -> ConnectionState? {
        ConnectionState(rawValue: record.load(fromByteOffset: Offset.state, as: UInt8.self))
    }

    /// Seconds of timeout the record had left when it was written.
    public static func remainingSeconds(of record: UnsafeRawPointer) -> UInt32 { u32(record, Offset.remaining) }

    /// The flow key a record holds (not validated).
    public static func key(of record: UnsafeRawPointer) -> FlowKey {
        FlowKey(lowAddress: address(record, at: Offset.lowAddress), highAddress: address(record, at: Offset.highAddress),
                lowPort: u16(record, Offset.lowPort), highPort: u16(record, Offset.highPort), proto: record.load(fromByteOffset: Offset.proto,
                                                                                                     as: UInt8.self))
    }

    // MARK: Encoding

    /// Writes `entry` at `out` as seen at `referenceSeconds` (tracker clock, whole seconds).
    static func encode(_ entry: ConnectionEntry, state: ConnectionState, referenceSeconds: UInt32, queue: UInt16,
                       to out: UnsafeMutableRawPointer) {
        put(entry.key.lowAddress, out, Offset.lowAddress)
        put(entry.key.highAddress, out, Offset.highAddress)
        put16(entry.key.lowPort, out, Offset.lowPort)
        put16(entry.key.highPort, out, Offset.highPort)
        out.storeBytes(of: entry.key.proto, toByteOffset: Offset.proto, as: UInt8.self)
        out.storeBytes(of: state.rawValue, toByteOffset: Offset.state, as: UInt8.self)
        out.storeBytes(of: entry.flags, toByteOffset: Offset.flags, as: UInt8.self)
        out.storeBytes(of: entry.moreFlags, toByteOffset: Offset.moreFlags, as: UInt8.self)
        out.storeBytes(of: entry.timerClass, toByteOffset: Offset.timerClass, as: UInt8.self)
        out.storeBytes(of: entry.hook, toByteOffset: Offset.hook, as: UInt8.self)
        out.storeBytes(of: entry.repeats, toByteOffset: Offset.repeats, as: UInt8.self)
        put16(entry.lastSegment, out, Offset.lastSegment)
        put32(entry.deadline &- min(entry.deadline, referenceSeconds), out, Offset.remaining)
        put(entry.initiator, out, Offset.initiator)
        put(entry.responder, out, Offset.responder)
        put32(entry.initiatorTimestamp, out, Offset.initiatorTimestamp)
        put32(entry.responderTimestamp, out, Offset.responderTimestamp)
        put32(referenceSeconds &- min(referenceSeconds, entry.createdSeconds), out, Offset.age)
        put32(referenceSeconds &- min(referenceSeconds, entry.lastSeenSeconds), out, Offset.idle)
        put32(entry.initiatorPackets, out, Offset.initiatorPackets)
        put32(entry.responderPackets, out, Offset.responderPackets)
        put64(entry.initiatorBytes, out, Offset.initiatorBytes)
        put64(entry.responderBytes, out, Offset.responderBytes)
        put32(entry.inInterface, out, Offset.inInterface)
        put32(entry.outInterface, out, Offset.outInterface)
        put32(entry.ruleIndex, out, Offset.ruleIndex)
        put16(queue, out, Offset.queue)
    }

    // MARK: Decoding

    /// Why a record was not restored.
    enum Refusal: Error {
        /// A field out of its range, or a key that is not direction-normalised.
        case invalid
        /// Its timeout ran out while the daemon was down.
        case expired
    }

    /// The entry a record describes at `nowSeconds`, `elapsed` seconds after it was written,
    /// or why not. The timer links are left unset (the table links the entry).
    static func decode(_ record: UnsafeRawPointer, nowSeconds: UInt32,
                       elapsed: UInt32) throws(Refusal) -> ConnectionEntry {
        let key = key(of: record)
        let stateValue: UInt8 = record.load(fromByteOffset: Offset.state, as: UInt8.self)
        let timerValue: UInt8 = record.load(fromByteOffset: Offset.timerClass, as: UInt8.self)
        let hookValue: UInt8 = record.load(fromByteOffset: Offset.hook, as: UInt8.self)
        guard let connectionState = ConnectionState(rawValue: stateValue),
              timerValue < TimerClass.count, hookValue <= 2,
              connectionState.isTCP == (key.proto == 6),
              FlowKey.make(source: key.lowAddress, sourcePort: key.lowPort, destination: key.highAddress,
                           destinationPort: key.highPort, proto: key.proto).isReversed == false
        else { throw .invalid }
        let initiatorState = direction(record, Offset.initiator)
        let responderState = direction(record, Offset.responder)
        guard initiatorState.scale <= 14, responderState.scale <= 14 else {
            throw .invalid
        }
        let remainingSeconds = u32(record, Offset.remaining)
        guard remainingSeconds > elapsed else { throw .expired }
        func ago(_ seconds: UInt32) -> UInt32 {
            let (total, overflow) = seconds.addingReportingOverflow(elapsed)
            return overflow ? 0 : nowSeconds &- min(nowSeconds, total)
        }
        var entry = ConnectionEntry.empty(key)
        entry.state = connectionState
        entry.flags = record.load(fromByteOffset: Offset.flags, as: UInt8.self)
        entry.moreFlags = record.load(fromByteOffset: Offset.moreFlags, as: UInt8.self)
        entry.timerClass = timerValue
        entry.hook = hookValue
        entry.repeats = record.load(fromByteOffset: Offset.repeats, as: UInt8.self)
        entry.lastSegment = u16(record, Offset.lastSegment)
        let (deadline, overflow) = nowSeconds.addingReportingOverflow(remainingSeconds - elapsed)
        entry.deadline = overflow ? .max - 1 : min(deadline, .max - 1)
        entry.initiator = initiatorState
        entry.responder = responderState
        entry.initiatorTimestamp = u32(record, Offset.initiatorTimestamp)
        entry.responderTimestamp = u32(record, Offset.responderTimestamp)
        entry.createdSeconds = ago(u32(record, Offset.age))
        entry.lastSeenSeconds = ago(u32(record, Offset.idle))
        entry.initiatorPackets = u32(record, Offset.initiatorPackets)
        entry.responderPackets = u32(record, Offset.responderPackets)
        entry.initiatorBytes = u64(record, Offset.initiatorBytes)
        entry.responderBytes = u64(record, Offset.responderBytes)
        entry.inInterface = u32(record, Offset.inInterface)
        entry.outInterface = u32(record, Offset.outInterface)
        entry.ruleIndex = u32(record, Offset.ruleIndex)
        return entry
    }

    // MARK: Fields

    @inline(__always)
    static func put16(_ value: UInt16, _ out: UnsafeMutableRawPointer, _ offset: Int) {
        out.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt16.self)
    }

    @inline(__always)
    static func put32(_ value: UInt32, _ out: UnsafeMutableRawPointer, _ offset: Int) {
        out.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt32.self)
    }

    @inline(__always)
    static func put64(_ value: UInt64, _ out: UnsafeMutableRawPointer, _ offset: Int) {
        out.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt64.self)
    }

    @inline(__always)
    static func put(_ address: IPAddress, _ out: UnsafeMutableRawPointer, _ offset: Int) {
        put64(address.high, out, offset)
        put64(address.low, out, offset + 8)
    }

    @inline(__always)
    static func put(_ direction: DirectionState, _ out: UnsafeMutableRawPointer, _ offset: Int) {
        put32(direction.end, out, offset)
        put32(direction.maxEnd, out, offset + 4)
        put32(direction.maxWindow, out, offset + 8)
        put32(direction.maxAck, out, offset + 12)
        put32(direction.isn, out, offset + 16)
        out.storeBytes(of: direction.scale, toByteOffset: offset + 20, as: UInt8.self)
        out.storeBytes(of: direction.flags, toByteOffset: offset + 21, as: UInt8.self)
    }

    @inline(__always)
    static func u16(_ record: UnsafeRawPointer, _ offset: Int) -> UInt16 {
        UInt16(littleEndian: record.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    @inline(__always)
    static func u32(_ record: UnsafeRawPointer, _ offset: Int) -> UInt32 {
        UInt32(littleEndian: record.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    @inline(__always)
    static func u64(_ record: UnsafeRawPointer, _ offset: Int) -> UInt64 {
        UInt64(littleEndian: record.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    static func address(_ record: UnsafeRawPointer, at offset: Int) -> IPAddress {
        IPAddress(high: u64(record, offset), low: u64(record, offset + 8))
    }

    static func direction(_ record: UnsafeRawPointer, _ offset: Int) -> DirectionState {
        var direction = DirectionState()
        direction.end = u32(record, offset)
        direction.maxEnd = u32(record, offset + 4)
        direction.maxWindow = u32(record, offset + 8)
        direction.maxAck = u32(record, offset + 12)
        direction.isn = u32(record, offset + 16)
        direction.scale = record.load(fromByteOffset: offset + 20, as: UInt8.self)
        direction.flags = record.load(fromByteOffset: offset + 21, as: UInt8.self)
        return direction
    }
}
