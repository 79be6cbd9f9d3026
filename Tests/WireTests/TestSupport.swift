import Testing
@testable import Wire

/// Bytes from a hex string (whitespace ignored). Test input only.
func hex(_ text: String) -> [UInt8] {
    let digits = Array(text.utf8).filter { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\n") }
    var bytes: [UInt8] = []
    var index = 0
    while index + 1 < digits.count {
        let pair = String(decoding: digits[index..<index + 2], as: UTF8.self)
        bytes.append(UInt8(pair, radix: 16) ?? 0)
        index += 2
    }
    return bytes
}

func decode(_ bytes: [UInt8], originalLength: Int? = nil) -> DecodeResult {
    bytes.withUnsafeBytes { PacketDecoder.decode($0, originalLength: originalLength) }
}

func decodeQuoted(_ bytes: [UInt8]) -> DecodeResult {
    bytes.withUnsafeBytes { PacketDecoder.decodeQuoted($0) }
}

func verifyTransport(_ bytes: [UInt8]) -> Bool? {
    guard let packet = decode(bytes).packet else { return nil }
    return bytes.withUnsafeBytes { Checksum.verifyTransport(packet, in: $0) }
}

func verifyIPv4Header(_ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { Checksum.verifyIPv4Header($0) }
}

/// Sets a big-endian 16-bit field.
func put16(_ bytes: inout [UInt8], _ offset: Int, _ value: UInt16) {
    bytes[offset] = UInt8(value >> 8)
    bytes[offset + 1] = UInt8(value & 0xFF)
}

/// Packets captured from scapy (checksums computed by scapy), used as golden inputs.
enum Golden {
    /// 192.0.2.1:40000 > 198.51.100.2:443 S seq 1000 win 64240, MSS 1460, SACK-perm, TS 123456/0, NOP, WS 7.
    static let tcpSynV4 = hex("4500003c1234400040063c51c0000201c63364029c4001bb000003e800000000a002faf0dcb20000020405b40402080a0001e2400000000001030307")
    /// [2001:db8::2]:443 > [2001:db8::1]:40000 SA seq 5000 ack 1001, MSS 1440, SACK-perm, TS 999/123456, NOP, WS 8.
    static let tcpSynAckV6 = hex("600000000028064020010db800000000000000000000000120010db800000000000000000000000201bb9c4000001388000003e9a012ffff50f90000020405a00402080a000003e70001e24001030308")
    /// 192.0.2.1:40000 > 198.51.100.2:443 PA seq 1001 ack 5001 win 502, NOP NOP TS, payload "hello, world!".
    static let tcpDataV4 = hex("450000410002000040068e7ec0000201c63364029c4001bb000003e900001389801801f68b9700000101080a0001e241000003e768656c6c6f2c20776f726c6421")
    /// 10.0.0.1:5353 > 10.0.0.53:53, 12-byte DNS header.
    static let udpV4 = hex("4500002800070000401166890a0000010a00003514e900350014c33d123401000001000000000000")
    /// [fe80::1]:5353 > [ff02::fb]:5353, "abc".
    static let udpV6 = hex("60000000000b1140fe800000000000000000000000000001ff0200000000000000000000000000fb14e914e9000b1324616263")
    /// 192.0.2.1 > 192.0.2.2 echo request id 0x4242 seq 7 "pingdata".
    static let icmpEchoV4 = hex("45000024000900004001f6ccc0000201c00002020800fe224242000770696e6764617461")
    /// 2001:db8::1 > 2001:db8::2 echo request id 0x4242 seq 7 "pingdata".
    static let icmpv6EchoV6 = hex("6000000000103a4020010db800000000000000000000000120010db800000000000000000000000280002a634242000770696e6764617461")
    /// 198.51.100.254 > 192.0.2.1 host unreachable quoting 28 bytes of the SYN above (no options).
    static let icmpUnreachV4 = hex("450000380003000040018d8fc63364fec000020103015b1b00000000450000281234400040063c65c0000201c63364029c4001bb000003e8")
    /// 2001:db8::fe > 2001:db8::1 port unreachable quoting a whole IPv6 SYN.
    static let icmpv6UnreachV6 = hex("6000000000443a4020010db80000000000000000000000fe20010db800000000000000000000000101043bd200000000600000000014064020010db800000000000000000000000120010db80000000000000000000000029c4001bb000003e80000000050022000928a0000")
    /// IPv6 hop-by-hop + destination options + TCP SYN 1234 > 80.
    static let tcpExtV6 = hex("600000000024004020010db800000000000000000000000120010db80000000000000000000000023c00010400000000060001040000000004d200500000000100000000500220002f4b0000")
    /// IPv6 to 2001:db8::10 with a type-0 routing header (segments left 2, via ::11 to ::12), TCP SYN.
    static let tcpRouting0V6 = hex("60000000003c2b4020010db800000000000000000000000120010db8000000000000000000000010060400020000000020010db800000000000000000000001120010db800000000000000000000001204d200500000000100000000500220002f3b0000")
    /// IPv6 with a segment routing header (segments left 1, final ::99), UDP 1 > 2 "x".
    static let udpSRHV6 = hex("6000000000312b4020010db800000000000000000000000120010db8000000000000000000000010110404010100000020010db800000000000000000000009920010db80000000000000000000000100001000200092bcd78")
}

let v4a = IPAddress(ipv4: 0xC000_0201)  // 192.0.2.1
let v4b = IPAddress(ipv4: 0xC633_6402)  // 198.51.100.2
let v6a = IPAddress(high: 0x2001_0db8_0000_0000, low: 1)  // 2001:db8::1
let v6b = IPAddress(high: 0x2001_0db8_0000_0000, low: 2)  // 2001:db8::2
