/// Builds one JSON object with its keys in the order they are added, escaped as the event log
/// escapes (``JSONLinesEncoder/appendString(_:into:)``: no `\/`, every control character
/// escaped). Every `--json` output of synwall is written with it, so all of them speak the
/// event log's dialect (docs/json.md). Absent (nil) values leave their key out.
public struct JSONObjectWriter: Sendable {
    private var bytes: [UInt8] = [UInt8(ascii: "{")]
    private var empty = true

    /// An empty object.
    public init() {}

    private mutating func key(_ name: String) {
        if !empty { bytes.append(UInt8(ascii: ",")) }
        empty = false
        JSONLinesEncoder.appendString(name, into: &bytes)
        bytes.append(UInt8(ascii: ":"))
    }

    /// Adds a string member (left out when nil).
    public mutating func add(_ name: String, _ value: String?) {
        guard let value else { return }
        key(name)
        JSONLinesEncoder.appendString(value, into: &bytes)
    }

    /// Adds an integer member (left out when nil).
    public mutating func add<I: BinaryInteger>(_ name: String, _ value: I?) {
        guard let value else { return }
        key(name)
        bytes.append(contentsOf: String(value).utf8)
    }

    /// Adds a number member (left out when nil; not finite numbers are written as null).
    public mutating func add(_ name: String, _ value: Double?) {
        guard let value else { return }
        key(name)
        bytes.append(contentsOf: (value.isFinite ? "\(value)" : "null").utf8)
    }

    /// Adds a boolean member (left out when nil).
    public mutating func add(_ name: String, _ value: Bool?) {
        guard let value else { return }
        key(name)
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    /// Adds a nested object (left out when nil).
    public mutating func add(_ name: String, _ value: JSONObjectWriter?) {
        guard let value else { return }
        key(name)
        bytes.append(contentsOf: value.finished)
    }

    /// Adds an array of objects.
    public mutating func add(_ name: String, _ values: [JSONObjectWriter]) {
        key(name)
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(contentsOf: value.finished)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// Adds an array of strings.
    public mutating func add(_ name: String, _ values: [String]) {
        key(name)
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            JSONLinesEncoder.appendString(value, into: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// Adds `{"name":count,…}` in the order given.
    public mutating func add(_ name: String, counts: [(String, Int)]) {
        var object = JSONObjectWriter()
        for (key, count) in counts { object.add(key, count) }
        add(name, object)
    }

    /// Whether no member was added.
    public var isEmpty: Bool { empty }

    private var finished: [UInt8] { bytes + [UInt8(ascii: "}")] }

    /// The object as one line of text (no newline).
    public var text: String { String(decoding: finished, as: UTF8.self) }
}
