/// A scanner over the bytes of one JSON text: strings (raw or unescaped), non-negative
/// integers, `null`, and skipping any value, with the column of every failure. It knows JSON
/// (RFC 8259), not event records: ``LogLineParser`` drives it key by key. Bytes in, no
/// Foundation, no allocation except when unescaping into a caller's buffer.
struct JSONCursor {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0
    /// Whether the last ``rawString()`` contained a backslash escape.
    var lastStringHadEscape = false
    /// The column (from 1) of the last string's first content byte.
    var lastStringStart = 0

    var atEnd: Bool { position >= bytes.count }

    @inline(__always)
    mutating func skipSpace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0D, 0x0A: position += 1
            default: return
            }
        }
    }

    @inline(__always)
    mutating func consume(_ byte: UInt8) -> Bool {
        guard position < bytes.count, bytes[position] == byte else { return false }
        position += 1
        return true
    }

    mutating func expect(_ byte: UInt8, _ message: String) throws(LogLineError) {
        guard consume(byte) else { throw LogLineError(message, column: position + 1) }
    }

    mutating func consumeNull() -> Bool {
        guard position + 4 <= bytes.count, bytes[position] == UInt8(ascii: "n"),
              bytes[position + 1] == UInt8(ascii: "u"), bytes[position + 2] == UInt8(ascii: "l"),
              bytes[position + 3] == UInt8(ascii: "l")
        else { return false }
        position += 4
        return true
    }

    /// The bytes between a string's quotes, still escaped; the cursor moves past it.
    mutating func rawString() throws(LogLineError) -> UnsafeBufferPointer<UInt8> {
        guard consume(UInt8(ascii: "\"")) else { throw LogLineError("expected a string", column: position + 1) }
        let start = position
        lastStringStart = start + 1
        lastStringHadEscape = false
        guard let base = bytes.baseAddress else { throw LogLineError("unterminated string", column: start) }
        let count = bytes.count
        var index = start
        while true {
            // Eight bytes at a time to the first '"', '\\' or control byte.
            if index + 8 <= count {
                let special = Self.specialBytes(UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
                if special == 0 {
                    index += 8
                    continue
                }
                index += special.trailingZeroBitCount >> 3
            } else {
                while index < count {
                    let byte = base[index]
                    if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 { break }
                    index += 1
                }
                guard index < count else { break }
            }
            let byte = base[index]
            if byte == UInt8(ascii: "\"") {
                position = index + 1
                return UnsafeBufferPointer(start: base + start, count: index - start)
            }
            if byte == UInt8(ascii: "\\") {
                lastStringHadEscape = true
                index += 2
                continue
            }
            throw LogLineError("raw control character in a string", column: index + 1)
        }
        position = count
        throw LogLineError("unterminated string", column: start)
    }

    /// The high bit of each byte of `word` that is '"', '\\' or below 0x20, exact for the
    /// lowest such byte (bit tricks: after the XOR a matching byte is zero; a borrow can
    /// only mark bytes above a true match).
    @inline(__always)
    static func specialBytes(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let zeroQuote = (quote &- ones) & ~quote
        let zeroBackslash = (backslash &- ones) & ~backslash
        let control = (word &- ones &* 0x20) & ~word
        return (zeroQuote | zeroBackslash | control) & highs
    }

    /// A non-negative integer no greater than `max`.
    mutating func unsigned(max: UInt64) throws(LogLineError) -> UInt64 {
        let start = position
        var value: UInt64 = 0
        while position < bytes.count {
            let digit = bytes[position] &- UInt8(ascii: "0")
            guard digit < 10 else { break }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit))
            guard !overflow1, !overflow2 else { throw LogLineError("number too large", column: start + 1) }
            value = sum
            position += 1
        }
        guard position > start else { throw LogLineError("expected a non-negative integer", column: start + 1) }
        if position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"):
                throw LogLineError("expected an integer", column: start + 1)
            default: break
            }
        }
        guard value <= max else { throw LogLineError("number out of range", column: start + 1) }
        return value
    }

    /// Skips any JSON value (for keys synwall does not know), nesting bounded.
    mutating func skipValue(depth: Int) throws(LogLineError) {
        guard depth < 32 else { throw LogLineError("nested too deeply", column: position + 1) }
        guard position < bytes.count else { throw LogLineError("expected a value", column: position + 1) }
        switch bytes[position] {
        case UInt8(ascii: "\""):
            _ = try rawString()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let close = bytes[position] == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
            let isObject = close == UInt8(ascii: "}")
            position += 1
            skipSpace()
            if consume(close) { return }
            while true {
                skipSpace()
                if isObject {
                    _ = try rawString()
                    skipSpace()
                    try expect(UInt8(ascii: ":"), "expected ':' after a key")
                    skipSpace()
                }
                try skipValue(depth: depth + 1)
                skipSpace()
                if consume(UInt8(ascii: ",")) { continue }
                try expect(close, "expected ',' or a closing bracket")
                return
            }
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            let start = position
            while position < bytes.count, bytes[position] >= UInt8(ascii: "a"), bytes[position] <= UInt8(ascii: "z") {
                position += 1
            }
            let word = UnsafeBufferPointer(rebasing: bytes[start..<position])
            guard word.elementsEqual("true".utf8) || word.elementsEqual("false".utf8) || word.elementsEqual("null".utf8)
            else { throw LogLineError("expected a value", column: start + 1) }
        default:
            let start = position
            while position < bytes.count {
                switch bytes[position] {
                case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"),
                     UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"):
                    position += 1
                default:
                    guard position > start else { throw LogLineError("expected a value", column: start + 1) }
                    return
                }
            }
            guard position > start else { throw LogLineError("expected a value", column: start + 1) }
        }
    }

    // MARK: - Unescaping

    /// Appends the unescaped bytes of the raw string `raw` to `output`: `\uXXXX` with surrogate
    /// pairs included; a lone surrogate becomes U+FFFD. `column` is where `raw` starts, for errors.
    static func unescape(_ raw: UnsafeBufferPointer<UInt8>, from column: Int,
                         into output: inout [UInt8]) throws(LogLineError) {
        var i = 0
        while i < raw.count {
            let byte = raw[i]
            i += 1
            guard byte == UInt8(ascii: "\\") else {
                output.append(byte)
                continue
            }
            guard i < raw.count else { throw LogLineError("unfinished escape", column: column + i) }
            let escaped = raw[i]
            i += 1
            switch escaped {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(escaped)
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "u"):
                guard let unit = hex4(raw, at: i) else { throw LogLineError("bad \\u escape", column: column + i) }
                i += 4
                var scalar = UInt32(unit)
                if (0xD800..<0xDC00).contains(unit) {
                    // A high surrogate: take the low one that must follow.
                    if i + 6 <= raw.count, raw[i] == UInt8(ascii: "\\"), raw[i + 1] == UInt8(ascii: "u"),
                       let low = hex4(raw, at: i + 2), (0xDC00..<0xE000).contains(low)
                    {
                        scalar = 0x10000 + (UInt32(unit) - 0xD800) << 10 + (UInt32(low) - 0xDC00)
                        i += 6
                    } else {
                        scalar = 0xFFFD
                    }
                } else if (0xDC00..<0xE000).contains(unit) {
                    scalar = 0xFFFD
                }
                appendUTF8(Unicode.Scalar(scalar) ?? "\u{FFFD}", into: &output)
            default:
                throw LogLineError("unknown escape '\\\(Unicode.Scalar(escaped))'", column: column + i - 1)
            }
        }
    }

    private static func hex4(_ raw: UnsafeBufferPointer<UInt8>, at index: Int) -> UInt16? {
        guard index + 4 <= raw.count else { return nil }
        var value: UInt16 = 0
        for k in index..<index + 4 {
            let byte = raw[k]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt16(digit)
        }
        return value
    }

    private static func appendUTF8(_ scalar: Unicode.Scalar, into output: inout [UInt8]) {
        if let units = UTF8.encode(scalar) {
            output.append(contentsOf: units)
        } else {
            output.append(contentsOf: [0xEF, 0xBF, 0xBD])  // U+FFFD
        }
    }
}
