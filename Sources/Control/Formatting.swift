import Wire

/// Small text helpers shared by the views.
public enum Formatting {
    /// `45s`, `3m07s`, `2h05m`, `3d04h` (ages in `conns`, expiries in `table`).
    public static func duration(_ seconds: Int) -> String {
        let s = max(0, seconds)
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m" + pad2(s % 60) + "s" }
        if s < 86400 { return "\(s / 3600)h" + pad2(s / 60 % 60) + "m" }
        return "\(s / 86400)d" + pad2(s / 3600 % 24) + "h"
    }

    /// `950`, `12.3K`, `4.5M`, `1.2G` (powers of 1000, for packet and byte counts).
    static func count(_ value: Int) -> String {
        let units: [(Double, String)] = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")]
        let v = Double(value)
        for (scale, suffix) in units where v >= scale {
            let scaled = v / scale
            return (scaled >= 100 ? String(Int(scaled.rounded())) : String(format1(scaled))) + suffix
        }
        return String(value)
    }

    /// `12.5` (one decimal).
    static func format1(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(abs(tenths % 10))"
    }

    static func pad2(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    /// Left-aligned text in a column of `width`.
    static func left(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    /// Right-aligned text in a column of `width`.
    static func right(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }

    /// `host:port`, with brackets for IPv6 (`[2001:db8::1]:443`).
    static func endpoint(_ address: String, _ port: Int, proto: String) -> String {
        EndpointText.format(address, port: proto == "icmp" || proto == "icmp6" ? nil : port)
    }

    /// Rows of cells as aligned columns (right-aligned where `rightAligned` says), two spaces apart.
    static func table(_ rows: [[String]], rightAligned: Set<Int> = []) -> String {
        guard let columns = rows.map(\.count).max() else { return "" }
        var widths = [Int](repeating: 0, count: columns)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return rows.map { row in
            row.enumerated().map { i, cell in
                if i == row.count - 1, !rightAligned.contains(i) { return cell }
                return rightAligned.contains(i) ? right(cell, widths[i]) : left(cell, widths[i])
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
