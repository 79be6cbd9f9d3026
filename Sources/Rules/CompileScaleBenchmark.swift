import Wire
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How long compiling a large honest ruleset takes, and the memory it needs: 100,000 rules
/// (each port named by a few rules, and the worst case where all share one port) and a
/// 1,000,000-prefix table file. The inputs are generated the same on every run and compiled
/// from disk, as `synwall check` and a reload do. Run by `swift run -c release RulesBenchmark
/// scale`; meaningful only in a release build.
public enum CompileScaleBenchmark {
    /// One measured compile.
    public struct Figure: Sendable, Hashable {
        /// A stable key: `rules_100000`, `rules_100000_one_port`, `table_1000000`.
        public var key: String
        /// What was compiled, for people.
        public var label: String
        /// Wall-clock seconds of the compile.
        public var seconds: Double
        /// The process's peak resident memory after the compile, in bytes (it includes every
        /// earlier case; each case runs in a fresh process with `--case KEY`).
        public var peakBytes: Int
        /// Rules compiled, table ranges, and whether the shadow analysis checked every rule.
        public var detail: String
    }

    /// The case keys, in the order run.
    public static let keys = ["rules_100000", "rules_100000_one_port", "table_1000000"]

    /// Writes the inputs under `directory` (which must exist) and compiles each case of `only`
    /// (every case when nil), calling `progress` with a line per case.
    public static func run(directory: String, only: String? = nil,
                           progress: (String) -> Void = { _ in }) -> [Figure] {
        var figures: [Figure] = []
        for key in keys where only == nil || only == key {
            let main = directory + "/" + key + ".rules"
            switch key {
            case "rules_100000":
                write(hundredThousandRules(onePort: false), to: main)
            case "rules_100000_one_port":
                write(hundredThousandRules(onePort: true), to: main)
            default:
                write(prefixTable(count: 1_000_000), to: directory + "/prefixes-1000000.txt")
                write("table <big> file \"prefixes-1000000.txt\"\nblock in from <big>\npass in proto tcp to port 22\n", to: main)
            }
            let clock = ContinuousClock()
            let start = clock.now
            let result = RuleCompiler.compile(file: main)
            let elapsed = RuleBenchmark.seconds(clock.now - start)
            let detail: String
            switch result {
            case .success(let ruleset):
                let ranges = ruleset.tables.first.map { ", table of \($0.staticEntries.rangeCount) ranges" } ?? ""
                detail = "\(ruleset.rules.count) rules\(ranges), \(ruleset.warnings.count) warnings, shadow analysis "
                    + (ruleset.shadowAnalysis.isComplete ? "complete"
                        : "stopped after rule \(ruleset.shadowAnalysis.checkedRules) (bounded)")
            case .failure(let diagnostics):
                detail = "failed: " + diagnostics.summary
            }
            let figure = Figure(key: key, label: label(key), seconds: elapsed, peakBytes: peakResidentBytes(), detail: detail)
            figures.append(figure)
            progress(figure.label + String(repeating: " ", count: max(1, 46 - figure.label.count))
                     + RuleBenchmark.format(elapsed) + " s, peak " + String(figure.peakBytes >> 20) + " MiB (" + detail + ")")
        }
        return figures
    }

    static func label(_ key: String) -> String {
        switch key {
        case "rules_100000": return "compile 100,000 rules (ports spread)"
        case "rules_100000_one_port": return "compile 100,000 rules (all one port)"
        default: return "compile a 1,000,000-prefix table file"
        }
    }

    /// `pass in proto tcp from 10.x.y.0/24 to port N`, 100,000 lines: with `onePort` every
    /// rule names port 22 (the shadow analysis's worst case), else ports 1024…50,023.
    public static func hundredThousandRules(onePort: Bool) -> String {
        var text = ""
        text.reserveCapacity(7_000_000)
        for index in 0..<100_000 {
            let port = onePort ? 22 : 1024 + (index * 7) % 49_000
            text += "pass in proto tcp from 10.\((index >> 8) & 0xFF).\(index & 0xFF).0/24 to port \(port)\n"
        }
        return text
    }

    /// `count` random prefixes, one a line: nine in ten IPv4 (/16…/32), one in ten IPv6.
    public static func prefixTable(count: Int) -> String {
        var random = RuleBenchmark.SplitMix(state: 0x7AB1_E000)
        var text = ""
        text.reserveCapacity(count * 18)
        for index in 0..<count {
            if index % 10 == 9 {
                let high = 0x2001_0DB8_0000_0000 | (random.next() & 0xFFFF_FFFF)
                text += (IPPrefix(address: IPAddress(high: high, low: 0), length: 48 + Int(random.next() % 17))?.description
                    ?? "2001:db8::/32") + "\n"
            } else {
                let address = IPAddress(ipv4: UInt32(truncatingIfNeeded: random.next()))
                text += (IPPrefix(address: address, length: 16 + Int(random.next() % 17))?.description ?? "10.0.0.0/8") + "\n"
            }
        }
        return text
    }

    static func write(_ text: String, to path: String) {
        _ = FileSystem.writeAtomically(text, to: path)
    }

    /// The process's peak resident set size so far (`getrusage`), in bytes.
    static func peakResidentBytes() -> Int {
        var usage = rusage()
        #if canImport(Glibc)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        return Int(usage.ru_maxrss) * 1024
    }
}
