import Engine
@testable import Firewall
import NetfilterQueue
import Rules
import Testing
import Wire

/// A queued packet as the pipeline sees it: `PacketContext(queued:at:offload:)`.
@Suite struct PacketContextMappingTests {
    private func context(hook: UInt8 = 1, skbInfo: SKBInfo = [], mark: UInt32 = 0, originalLength: Int? = nil,
                         offload: OffloadMarks? = nil) -> PacketContext {
        let bytes: [UInt8] = [0x45, 0, 0, 20]
        return bytes.withUnsafeBytes { payload in
            let packet = QueuedPacket(id: 77, hardwareProtocol: 0x0800, hook: hook, payload: payload,
                                      originalLength: originalLength, skbInfo: skbInfo, mark: mark,
                                      inInterface: 3, outInterface: 5)
            return PacketContext(queued: packet, at: 1_700_000_000_123_456_789, offload: offload)
        }
    }

    @Test("the hook numbers: 0 prerouting and 1 input in, 2 forward, 3 output and 4 postrouting out, others in",
          arguments: [(UInt8(0), Direction.in), (1, .in), (2, .forward), (3, .out), (4, .out), (5, .in), (255, .in)])
    func hooks(_ hook: UInt8, _ direction: Direction) {
        #expect(context(hook: hook).direction == direction)
        #expect(Direction(hook: hook) == direction)
    }

    @Test("checksum hints: partial wins over not verified; no hint means verified")
    func checksums() {
        #expect(context().checksum == .verified)
        #expect(context(skbInfo: .gso).checksum == .verified)
        #expect(context(skbInfo: .checksumNotVerified).checksum == .unverified)
        #expect(context(skbInfo: .checksumNotReady).checksum == .partial)
        #expect(context(skbInfo: [.checksumNotReady, .checksumNotVerified]).checksum == .partial)
    }

    @Test("the time, id, interfaces and a truncated copy's real length are carried over")
    func carried() {
        let plain = context()
        #expect(plain.timestampNanoseconds == 1_700_000_000_123_456_789)
        #expect(plain.packetID == 77)
        #expect(plain.inInterface == 3 && plain.outInterface == 5)
        #expect(plain.originalLength == nil)
        #expect(context(originalLength: 9000).originalLength == 9000)
    }

    @Test("the kernel's INVALID mark counts only with offload marks, and only its own bit")
    func kernelInvalid() {
        let marks = OffloadMarks(bit: 0x100)
        #expect(!context(mark: 0x400).kernelInvalid, "no offload: the mark means nothing")
        #expect(context(mark: 0x400, offload: marks).kernelInvalid)
        #expect(context(mark: 0x1400, offload: marks).kernelInvalid, "other bits kept aside")
        #expect(!context(mark: 0x300, offload: marks).kernelInvalid, "offload and end bits are not INVALID")
    }
}
