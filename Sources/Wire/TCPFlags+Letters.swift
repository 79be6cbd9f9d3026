// The one-letter codec of TCP flags, shared by every text that shows or reads them: the
// event log's `"flags":"SA"`, `trace` lines, `explain` packet descriptions.

extension TCPFlags {
    /// One letter per flag in bit order: F S R P A U E C, then N for AE (bit 8). SYN+ACK is
    /// `SA`, FIN+PSH+URG `FPU`.
    public static let letters: [UInt8] = Array("FSRPAUECN".utf8)

    /// The flag one uppercase letter of ``letters`` names; nil for any other byte.
    @inlinable
    public init?(letter: UInt8) {
        switch letter {
        case UInt8(ascii: "F"): self.init(rawValue: 0x001)
        case UInt8(ascii: "S"): self.init(rawValue: 0x002)
        case UInt8(ascii: "R"): self.init(rawValue: 0x004)
        case UInt8(ascii: "P"): self.init(rawValue: 0x008)
        case UInt8(ascii: "A"): self.init(rawValue: 0x010)
        case UInt8(ascii: "U"): self.init(rawValue: 0x020)
        case UInt8(ascii: "E"): self.init(rawValue: 0x040)
        case UInt8(ascii: "C"): self.init(rawValue: 0x080)
        case UInt8(ascii: "N"): self.init(rawValue: 0x100)
        default: return nil
        }
    }

    /// The flags named by uppercase letters in any order (`SA`, `AS`, empty for none); nil
    /// when a byte is not one of ``letters``.
    @inlinable
    public init?(letters text: some Sequence<UInt8>) {
        var flags: TCPFlags = []
        for letter in text {
            guard let flag = TCPFlags(letter: letter) else { return nil }
            flags.insert(flag)
        }
        self = flags
    }

    /// Appends the letters of the set flags, in bit order, to `buffer`.
    @inlinable
    public func appendLetters(to buffer: inout [UInt8]) {
        for bit in 0..<TCPFlags.letters.count where rawValue & (1 << UInt16(bit)) != 0 {
            buffer.append(TCPFlags.letters[bit])
        }
    }
}
