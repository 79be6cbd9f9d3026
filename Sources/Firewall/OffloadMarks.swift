import NetfilterQueue
import Rules
import Tracking

/// The three mark bits offload uses (docs/offload.md): `set offload mark BIT` names the lowest.
///
/// - `offload` (BIT): on a packet synwall sends back through its hook, "mark this connection";
///   on a connection, "its plain segments pass in the kernel".
/// - `end` (BIT << 1): on a packet sent back, "clear the connection's offload bit".
/// - `invalid` (BIT << 2): set by the rules on a packet the kernel's own tracking found
///   `INVALID`, before it is queued: synwall drops and logs it when its connection is offloaded.
public struct OffloadMarks: Sendable, Equatable {
    public var offload: UInt32
    public var end: UInt32 { offload << 1 }
    public var invalid: UInt32 { offload << 2 }

    public init(bit: UInt32) { offload = bit }

    /// `0x…` as iptables and nft write marks.
    static func hex(_ value: UInt32) -> String { "0x" + String(value, radix: 16) }

    /// The verdict for an accepted packet that starts or ends its connection's offload:
    /// through the hook again with the packet's mark plus the matching bit.
    public func verdict(_ change: OffloadChange, packetMark: UInt32) -> PacketVerdict {
        let kept = packetMark & ~(offload | end | invalid)
        return .repeatWithMark(kept | (change == .start ? offload : end))
    }

    /// The marks a start attaches for `settings`: nil unless the rule file says `set offload after N`.
    public static func attached(for settings: RuleSettings?) -> OffloadMarks? {
        guard let settings, settings.offloadAfter != nil else { return nil }
        return OffloadMarks(bit: settings.offloadMark)
    }

    /// Fits a reloaded rule file's `set offload` to the kernel rules attached at start, which a
    /// reload does not change (docs/offload.md, "Reloads"). Offload can be turned off (no new
    /// connection is offloaded; offloaded ones pass in the kernel until they close), but not on
    /// when no offload rules are attached, and its mark bit stays the attached one. Returns what
    /// was not taken, for the operator, or nil when the file agrees with what is attached.
    public static func reconcile(_ settings: inout RuleSettings, attached: OffloadMarks?) -> String? {
        guard let attached else {
            guard settings.offloadAfter != nil else { return nil }
            settings.offloadAfter = nil
            return "set offload after: not in force until the next start (its kernel rules are attached "
                + "at start, and this start attached none)"
        }
        guard settings.offloadMark != attached.offload else { return nil }
        let asked = settings.offloadMark
        settings.offloadMark = attached.offload
        return "set offload mark \(hex(asked)): not in force until the next start (the attached rules use "
            + "\(hex(attached.offload)))"
    }

    /// Deletes every kernel connection carrying the offload bit (one ctnetlink request), so
    /// their next segments make fresh, unmarked connections that come to synwall. At detach
    /// (without the rules the mark means nothing) and at attach (a crashed start's marks must
    /// not let a connection pass that this start does not know as offloaded).
    func deleteMarkedConnections() {
        _ = (try? ConntrackSocket())?.deleteConnections(markedWith: offload)
    }
}
