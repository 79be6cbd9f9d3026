import CZlib
import Glibc
import SystemCall
import Tracking
import Wire

/// The state file's header (docs/state-file.md): what wrote the file, when, for which queues
/// and rule file, and the sizes and checksum of what follows. Little-endian, fixed fields then
/// the writer's version string, then a CRC-32 of all of it.
public struct StateFileHeader: Sendable, Equatable {
    /// "SYNWSTAT".
    static let magic: [UInt8] = Array("SYNWSTAT".utf8)
    /// The layout this code writes (2: table entries carry a prefix length, a lifetime and
    /// their origin). Version 1 files are still read.
    public static let formatVersion: UInt32 = 2
    /// The oldest layout this code reads.
    public static let oldestReadableVersion: UInt32 = 1
    /// Bytes before the writer's version string.
    static let fixedLength = 88
    /// Longest writer version kept (longer ones are cut).
    static let maximumVersionLength = 64
    /// Longest header a reader accepts (fixed part, version, checksum).
    static let maximumLength = fixedLength + maximumVersionLength + 4

    /// Why the file was written.
    public enum Kind: UInt8, Sendable {
        /// At a clean stop, after the queues were drained: complete.
        case stop = 1
        /// A periodic checkpoint while running (crash recovery): flows may have moved on since.
        case checkpoint = 2

        public var name: String { self == .stop ? "clean stop" : "checkpoint" }
    }

    public var formatVersion = StateFileHeader.formatVersion
    /// When the file was written (CLOCK_REALTIME, nanoseconds): the reference of every
    /// relative time in it.
    public var writtenNanoseconds: UInt64
    /// The kernel's boot id at that time (16 bytes; all zero when unknown).
    public var bootID: [UInt8]
    /// The NFQUEUE queues the daemon served.
    public var queues: ClosedRange<UInt16>
    public var kind: Kind
    /// A digest of the rule files in force (0: none): a different one means the rules changed.
    public var rulesDigest: UInt64
    public var connectionCount: UInt64
    public var provenSourceCount: UInt32
    public var tableEntryCount: UInt32
    /// Bytes after the header.
    public var bodyLength: UInt64
    /// CRC-32 of the body.
    public var bodyChecksum: UInt32
    /// synwall's version that wrote it.
    public var writerVersion: String

    /// A header for a file about to be written (`StateFileStore.write` fills in the body's
    /// length and checksum).
    public init(formatVersion: UInt32 = StateFileHeader.formatVersion, writtenNanoseconds: UInt64,
                bootID: [UInt8] = [UInt8](repeating: 0, count: 16), queues: ClosedRange<UInt16>, kind: Kind,
                rulesDigest: UInt64, connectionCount: UInt64, provenSourceCount: UInt32 = 0, tableEntryCount: UInt32 = 0,
                bodyLength: UInt64 = 0, bodyChecksum: UInt32 = 0, writerVersion: String = "synwall") {
        self.formatVersion = formatVersion
        self.writtenNanoseconds = writtenNanoseconds
        self.bootID = bootID
        self.queues = queues
        self.kind = kind
        self.rulesDigest = rulesDigest
        self.connectionCount = connectionCount
        self.provenSourceCount = provenSourceCount
        self.tableEntryCount = tableEntryCount
        self.bodyLength = bodyLength
        self.bodyChecksum = bodyChecksum
        self.writerVersion = writerVersion
    }

    /// Bytes of the encoded header.
    public var encodedLength: Int { Self.fixedLength + Array(writerVersion.utf8.prefix(Self.maximumVersionLength)).count + 4 }

    /// The header's bytes.
    func encoded() -> [UInt8] {
        let version = Array(writerVersion.utf8.prefix(Self.maximumVersionLength))
        var bytes = [UInt8](repeating: 0, count: Self.fixedLength + version.count + 4)
        bytes.withUnsafeMutableBytes { raw in
            let out = raw.baseAddress!
            for (i, byte) in Self.magic.enumerated() { out.storeBytes(of: byte, toByteOffset: i, as: UInt8.self) }
            out.storeBytes(of: formatVersion.littleEndian, toByteOffset: 8, as: UInt32.self)
            out.storeBytes(of: UInt32(raw.count).littleEndian, toByteOffset: 12, as: UInt32.self)
            out.storeBytes(of: writtenNanoseconds.littleEndian, toByteOffset: 16, as: UInt64.self)
            for (i, byte) in bootID.prefix(16).enumerated() { out.storeBytes(of: byte, toByteOffset: 24 + i, as: UInt8.self) }
            out.storeBytes(of: queues.lowerBound.littleEndian, toByteOffset: 40, as: UInt16.self)
            out.storeBytes(of: queues.upperBound.littleEndian, toByteOffset: 42, as: UInt16.self)
            out.storeBytes(of: kind.rawValue, toByteOffset: 44, as: UInt8.self)
            out.storeBytes(of: rulesDigest.littleEndian, toByteOffset: 48, as: UInt64.self)
            out.storeBytes(of: connectionCount.littleEndian, toByteOffset: 56, as: UInt64.self)
            out.storeBytes(of: provenSourceCount.littleEndian, toByteOffset: 64, as: UInt32.self)
            out.storeBytes(of: tableEntryCount.littleEndian, toByteOffset: 68, as: UInt32.self)
            out.storeBytes(of: bodyLength.littleEndian, toByteOffset: 72, as: UInt64.self)
            out.storeBytes(of: bodyChecksum.littleEndian, toByteOffset: 80, as: UInt32.self)
            out.storeBytes(of: UInt32(version.count).littleEndian, toByteOffset: 84, as: UInt32.self)
            for (i, byte) in version.enumerated() {
                out.storeBytes(of: byte, toByteOffset: Self.fixedLength + i, as: UInt8.self)
            }
            let checksum = StateChecksum.crc32(UnsafeRawBufferPointer(rebasing: raw[0 ..< raw.count - 4]))
            out.storeBytes(of: checksum.littleEndian, toByteOffset: raw.count - 4, as: UInt32.self)
        }
        return bytes
    }

    /// Reads a header from the file's first bytes (at most `maximumLength` of them are looked
    /// at), checking the magic, version, lengths and checksum.
    static func decode(_ bytes: UnsafeRawBufferPointer) throws(StateFileError) -> StateFileHeader {
        guard bytes.count >= Self.fixedLength + 4 else { throw .truncated(what: "header") }
        guard Array(bytes[0..<8]) == Self.magic else { throw .notAStateFile }
        func u16(_ at: Int) -> UInt16 { UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt16.self)) }
        func u32(_ at: Int) -> UInt32 { UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
        func u64(_ at: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
        let version = u32(8)
        guard (Self.oldestReadableVersion...Self.formatVersion).contains(version) else { throw .unsupportedVersion(version) }
        let versionLength = Int(u32(84))
        let length = Int(u32(12))
        guard versionLength <= Self.maximumVersionLength, length == Self.fixedLength + versionLength + 4 else {
            throw .corrupt("header length \(length) does not fit its version string (\(versionLength) bytes)")
        }
        guard bytes.count >= length else { throw .truncated(what: "header") }
        let stored = u32(length - 4)
        guard StateChecksum.crc32(UnsafeRawBufferPointer(rebasing: bytes[0 ..< length - 4])) == stored else {
            throw .checksum(what: "header")
        }
        let first = u16(40), last = u16(42)
        guard first <= last, let kind = Kind(rawValue: bytes[44]) else { throw .corrupt("queue range or kind out of range") }
        return StateFileHeader(
            formatVersion: version, writtenNanoseconds: u64(16), bootID: Array(bytes[24..<40]), queues: first...last,
            kind: kind, rulesDigest: u64(48), connectionCount: u64(56), provenSourceCount: u32(64),
            tableEntryCount: u32(68), bodyLength: u64(72), bodyChecksum: u32(80),
            writerVersion: String(decoding: bytes[Self.fixedLength ..< Self.fixedLength + versionLength], as: UTF8.self))
    }
}

/// An entry put in a table while running (`overload`, `synwall table add`), as saved.
public struct SavedTableEntry: Sendable, Equatable {
    public var table: String
    /// The address (the prefix's first address).
    public var address: IPAddress
    /// How long before the file's time it was added.
    public var addedAgoNanoseconds: UInt64
    /// The prefix length; nil: the whole address (/32 or /128). Version 1 files hold only whole addresses.
    public var prefixLength: UInt8? = nil
    /// How long it stays (ns); nil: as long as the table's `expire` says.
    public var lifetimeNanoseconds: UInt64? = nil
    /// True when an operator added it (`synwall table add`); false for `overload`.
    public var manual = false

    /// Bytes after the name in a version 2 file: address, age, prefix length, flags, lifetime.
    static let fixedSize = 34
}

/// A state file's contents.
public struct StateSnapshot: Sendable {
    public var header: StateFileHeader
    /// `header.connectionCount` records of `SavedConnection.size` bytes.
    public var connections: [UInt8]
    public var provenSources: [SavedProvenSource]
    public var tableEntries: [SavedTableEntry]

    /// Bytes of one saved proven source (address, age).
    static let provenSize = 24
    /// Longest table name saved (the rule language's names are far shorter).
    static let maximumTableName = 255

    /// The body after the connections: proven sources, then table entries.
    public static func encodeTail(proven: [SavedProvenSource], tables: [SavedTableEntry]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(proven.count * provenSize + tables.count * 48)
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
        for source in proven {
            append(source.address.high)
            append(source.address.low)
            append(source.provenAgoNanoseconds)
        }
        for entry in tables {
            let name = Array(entry.table.utf8.prefix(maximumTableName))
            bytes.append(UInt8(name.count))
            bytes += name
            append(entry.address.high)
            append(entry.address.low)
            append(entry.addedAgoNanoseconds)
            let full: UInt8 = entry.address.isIPv4 ? 32 : 128
            bytes.append(min(entry.prefixLength ?? full, full))
            bytes.append((entry.manual ? 1 : 0) | (entry.lifetimeNanoseconds != nil ? 2 : 0))
            append(entry.lifetimeNanoseconds ?? 0)
        }
        return bytes
    }

    /// Splits a body that passed its checksum into its sections, checking every length
    /// against the header's counts before trusting it.
    /// The body's buffer becomes the snapshot's `connections` (its tail cut off), not a copy.
    static func decodeBody(_ body: consuming [UInt8], header: StateFileHeader) throws(StateFileError) -> StateSnapshot {
        let (connectionBytes, overflow) = header.connectionCount.multipliedReportingOverflow(by: UInt64(SavedConnection.size))
        let provenBytes = UInt64(header.provenSourceCount) * UInt64(provenSize)
        guard !overflow, connectionBytes + provenBytes <= UInt64(body.count) else {
            throw .corrupt("the counts in the header need more bytes than the body has")
        }
        let connectionEnd = Int(connectionBytes)
        var offset = connectionEnd
        var proven: [SavedProvenSource] = []
        var tables: [SavedTableEntry] = []
        let result: Result<Void, StateFileError> = body.withUnsafeBytes { raw in
            func u64(_ at: Int) -> UInt64 { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
            proven.reserveCapacity(Int(header.provenSourceCount))
            for _ in 0..<header.provenSourceCount {
                proven.append(SavedProvenSource(address: IPAddress(high: u64(offset), low: u64(offset + 8)),
                                                provenAgoNanoseconds: u64(offset + 16)))
                offset += provenSize
            }
            let entrySize = header.formatVersion >= 2 ? SavedTableEntry.fixedSize : 24
            for _ in 0..<header.tableEntryCount {
                guard offset < raw.count else { return .failure(.corrupt("table entries run past the body")) }
                let nameLength = Int(raw[offset])
                guard offset + 1 + nameLength + entrySize <= raw.count else {
                    return .failure(.corrupt("table entries run past the body"))
                }
                let name = String(decoding: raw[(offset + 1) ..< (offset + 1 + nameLength)], as: UTF8.self)
                let at = offset + 1 + nameLength
                var entry = SavedTableEntry(table: name, address: IPAddress(high: u64(at), low: u64(at + 8)),
                                            addedAgoNanoseconds: u64(at + 16))
                if entrySize == SavedTableEntry.fixedSize {
                    let full: UInt8 = entry.address.isIPv4 ? 32 : 128
                    guard raw[at + 24] <= full, raw[at + 25] & ~3 == 0 else {
                        return .failure(.corrupt("a table entry's prefix length or flags are out of range"))
                    }
                    entry.prefixLength = raw[at + 24] == full ? nil : raw[at + 24]
                    entry.manual = raw[at + 25] & 1 != 0
                    entry.lifetimeNanoseconds = raw[at + 25] & 2 != 0 ? u64(at + 26) : nil
                }
                tables.append(entry)
                offset = at + entrySize
            }
            return .success(())
        }
        if case .failure(let error) = result { throw error }
        guard offset == body.count else { throw .corrupt("\(body.count - offset) bytes after the last section") }
        body.removeSubrange(connectionEnd...)
        return StateSnapshot(header: header, connections: body, provenSources: proven, tableEntries: tables)
    }
}

/// CRC-32 (zlib's, the one gzip and PNG use) over state file bytes.
enum StateChecksum {
    static func crc32(_ bytes: UnsafeRawBufferPointer, continuing previous: UInt32 = 0) -> UInt32 {
        guard var base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return previous }
        var left = bytes.count
        var crc = UInt(previous)
        while left > 0 {
            let chunk = min(left, 1 << 30)
            crc = CZlib.crc32(crc, base, uInt(chunk))
            base += chunk
            left -= chunk
        }
        return UInt32(truncatingIfNeeded: crc)
    }
}

/// Why a state file was not loaded; each is reported once and the file moved aside.
public enum StateFileError: Error, Sendable, Equatable, CustomStringConvertible {
    case notAStateFile
    case unsupportedVersion(UInt32)
    case truncated(what: String)
    case checksum(what: String)
    case corrupt(String)
    case tooLarge(declared: UInt64, limit: UInt64)
    case tooOld(ageSeconds: UInt64, limitSeconds: UInt64)
    case fromTheFuture(aheadSeconds: UInt64)
    case notARegularFile(String)
    case symbolicLink
    case system(operation: String, errno: Int32)

    public var description: String {
        switch self {
        case .notAStateFile: "not a synwall state file (no SYNWSTAT magic)"
        case .unsupportedVersion(let version):
            "state file format version \(version); this synwall reads versions \(StateFileHeader.oldestReadableVersion) "
                + "to \(StateFileHeader.formatVersion)"
        case .truncated(let what): "truncated: its \(what) is incomplete"
        case .checksum(let what): "its \(what) fails its checksum (damaged)"
        case .corrupt(let detail): "damaged: \(detail)"
        case .tooLarge(let declared, let limit):
            "it declares \(declared) bytes, more than this daemon's tables can hold (\(limit) bytes)"
        case .tooOld(let age, let limit):
            "written \(age) s ago, older than set state max-age (\(limit) s): its connections have moved on too far"
        case .fromTheFuture(let ahead): "written \(ahead) s in the future (clock set back?)"
        case .notARegularFile(let kind): "not a regular file (\(kind))"
        case .symbolicLink: "a symbolic link (synwall never follows a link it did not create)"
        case .system(let operation, let code): "\(operation): \(SystemCall.describe(code))"
        }
    }
}
