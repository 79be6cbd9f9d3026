import Wire

/// Rule-matching speed, in nanoseconds per decision, on generated inputs that are the same on
/// every run: a 1,000-rule file (a SYN that no rule matches, and random ports the rules name)
/// and a rule with a 100,000-prefix table. Shared by `synwall bench rules` and
/// `swift run -c release RulesBenchmark`; meaningful only in a release build.
///
/// Each case runs `iterations` passes over its packets, split into 7 repetitions; the figure is
/// the best repetition (the least disturbed by other work on the machine), with the median.
public enum RuleBenchmark {
    /// Passes over the packet set for the 1,000-rule cases (the table cases, over 16 times as
    /// many probes, make a tenth as many).
    public static let defaultIterations = 200
    /// Repetitions per case.
    public static let repetitions = 7

    /// One measured case.
    public struct Figure: Sendable, Hashable, Encodable {
        /// A stable key: `harness`, `rules_1000_policy`, `rules_1000_mixed`, `rules_1000_static`,
        /// `table_100000`, `prefix_lookup_100000`.
        public var key: String
        /// What was measured, for people.
        public var label: String
        /// Nanoseconds per decision in the best repetition, and in the median one.
        public var bestNanoseconds: Double
        public var medianNanoseconds: Double
    }

    /// What a run measured.
    public struct Report: Sendable, Hashable, Encodable {
        /// Passes asked for (`--iterations`).
        public var iterations: Int
        /// Rules in the generated 1,000-rule file as compiled.
        public var rulesCompiled: Int
        /// Merged address ranges of the 100,000-prefix table, and its compile time (seconds).
        public var tableRanges: Int
        public var tableCompileSeconds: Double
        /// Probes the table holds, of all probes sent.
        public var probesInTable: Int
        public var probes: Int
        /// The cases, in the order run.
        public var figures: [Figure]

        /// The figure for `key`, if measured.
        public func figure(_ key: String) -> Figure? { figures.first { $0.key == key } }

        /// One closing line with every best figure.
        public var summary: String {
            func best(_ key: String) -> String { figure(key).map { RuleBenchmark.format($0.bestNanoseconds) } ?? "-" }
            return "summary (best of \(RuleBenchmark.repetitions), ns per decision, harness \(best("harness")) "
                + "included): 1,000 rules worst case \(best("rules_1000_policy")), mixed \(best("rules_1000_mixed")), "
                + "static \(best("rules_1000_static")); 100,000-prefix table \(best("table_100000")) "
                + "(lookup alone \(best("prefix_lookup_100000")))"
        }
    }

    /// Why a run could not start (the generated rules did not compile: a synwall bug).
    public struct Failure: Error, Sendable, CustomStringConvertible {
        /// The compiler's diagnostics.
        public var description: String
    }

    /// Runs every case with `iterations` passes (at least 7), calling `progress` with a line of
    /// text as each step finishes.
    public static func run(iterations: Int = defaultIterations,
                           progress: (String) -> Void = { _ in }) throws(Failure) -> Report {
        let rounds = max(repetitions, iterations)
        var random = SplitMix(state: 0x5EED_1234)
        var figures: [Figure] = []
        func record(_ figure: Figure) {
            figures.append(figure)
            let padded = figure.label + String(repeating: " ", count: max(1, 58 - figure.label.count))
            progress(padded + format(figure.bestNanoseconds) + " ns/decision (median "
                     + format(figure.medianNanoseconds) + ")")
        }

        // 1,000 rules.
        let thousand = try compile(thousandRules(&random), path: "generated-1000.rules")
        progress("rules compiled: \(thousand.rules.count)")
        let target = IPAddress(ipv4: 0xC000_020A)  // 192.0.2.10
        // Worst case: a TCP SYN to a port no rule names falls through every rule to the policy.
        let fallThrough = (0..<4096).compactMap { index in
            decode(PacketBuilder(source: IPAddress(ipv4: 0xCB00_7100 | UInt32(index & 0xFF)), destination: target)
                .tcp(sourcePort: UInt16(40000 + index % 20000), destinationPort: 80, flags: .syn))
        }
        // A mix: random ports among those the rules name (1024…2022), random sources.
        let mixed = (0..<4096).compactMap { _ -> Packet? in
            let source = IPAddress(ipv4: UInt32(truncatingIfNeeded: random.next()))
            let port = UInt16(1024 + random.next() % 999)
            let builder = PacketBuilder(source: source, destination: target)
            return decode(random.next() % 2 == 0
                ? builder.tcp(sourcePort: 40000, destinationPort: port, flags: .syn)
                : builder.udp(sourcePort: 40000, destinationPort: port))
        }
        let context = RuleContext(direction: .in, inInterface: "eth0", now: 0)
        var matcher = RuleMatcher(ruleset: thousand)
        record(measure("harness", "harness only (loop and packet copy, no matching)", fallThrough, rounds) {
            Int($0.destinationPort)
        })
        record(measure("rules_1000_policy", "1,000 rules, no rule matches (policy decides)", fallThrough, rounds) {
            matcher.admit($0, context: context).verdict == .accept ? 1 : 0
        })
        record(measure("rules_1000_mixed", "1,000 rules, random ports the rules name", mixed, rounds) {
            matcher.admit($0, context: context).ruleIndex ?? -1
        })
        record(measure("rules_1000_static", "1,000 rules, CompiledRuleset.evaluate (explain's path)", fallThrough,
                       rounds) {
            thousand.evaluate($0, context: context).verdict == .accept ? 1 : 0
        })

        // 100,000 prefixes, as a table file (given to the compiler in memory).
        let tableText = prefixTable(&random)
        let clock = ContinuousClock()
        let compileStart = clock.now
        let big = try compile("""
            table <big> file "/synwall-benchmark/prefixes.txt"
            block in from <big> log
            pass in proto tcp to port 80
            """, path: "/synwall-benchmark/generated-table.rules",
            overrides: ["/synwall-benchmark/prefixes.txt": tableText])
        let compileSeconds = seconds(clock.now - compileStart)
        let table = big.tables.first?.staticEntries ?? PrefixSet()
        progress("table: 100,000 prefixes -> \(table.rangeCount) merged ranges, compiled in "
                 + format(compileSeconds * 1000) + " ms")
        let probes = (0..<65536).compactMap { index -> Packet? in
            let source = index % 10 == 9
                ? IPAddress(high: 0x2001_0DB8_0000_0000 | (random.next() & 0xFFFF_FFFF), low: random.next())
                : IPAddress(ipv4: UInt32(truncatingIfNeeded: random.next()))
            let destination = source.isIPv4 ? target : IPAddress(high: 0x2001_0DB8_0000_0000, low: 10)
            return decode(PacketBuilder(source: source, destination: destination)
                .tcp(sourcePort: 40000, destinationPort: 80, flags: .syn))
        }
        let inTable = probes.filter { table.contains($0.source) }.count
        progress("probes in the table: \(inTable) of \(probes.count)")
        var bigMatcher = RuleMatcher(ruleset: big)
        let tableRounds = max(repetitions, rounds / 10)
        record(measure("table_100000", "rule with a 100,000-prefix table (RuleMatcher.admit)", probes, tableRounds) {
            bigMatcher.admit($0, context: context).verdict == .accept ? 1 : 0
        })
        record(measure("prefix_lookup_100000", "PrefixSet.contains alone, 100,000 prefixes", probes, tableRounds) {
            table.contains($0.source) ? 1 : 0
        })
        return Report(iterations: iterations, rulesCompiled: thousand.rules.count, tableRanges: table.rangeCount,
                      tableCompileSeconds: compileSeconds, probesInTable: inTable, probes: probes.count,
                      figures: figures)
    }

    // MARK: - Inputs

    /// A generated file of 1,000 rules: a table rule, then passes and blocks over random /24s
    /// and ports 1024…2022, some on interfaces, some with address lists.
    static func thousandRules(_ random: inout SplitMix) -> String {
        var lines = ["policy in drop", "policy out pass", "table <watch> persist", "block in from <watch>"]
        let protocols = ["tcp", "udp"]
        func dotted(_ value: UInt32) -> String { IPAddress(ipv4: value).description }
        for index in 0..<999 {
            let proto = protocols[Int(random.next() % 2)]
            let port = 1024 + index
            let network = UInt32(truncatingIfNeeded: random.next()) & 0xFFFF_FF00
            switch index % 4 {
            case 0: lines.append("pass in proto \(proto) to port \(port)")
            case 1: lines.append("pass in proto \(proto) from \(dotted(network))/24 to port \(port)")
            case 2: lines.append("block in on eth\(index % 7) proto \(proto) from { \(dotted(network))/24, "
                                 + "\(dotted(network &+ 0x100))/24 } to port \(port) log")
            default: lines.append("pass out proto \(proto) to \(dotted(network))/24 port { \(port), \(port + 10000) }")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// 100,000 random prefixes, one a line: nine in ten IPv4 (/16…/32), one in ten IPv6
    /// (/48…/64 inside 2001:db8::/32).
    static func prefixTable(_ random: inout SplitMix) -> String {
        var lines: [String] = []
        lines.reserveCapacity(100_000)
        for index in 0..<100_000 {
            if index % 10 == 9 {
                let high = 0x2001_0DB8_0000_0000 | (random.next() & 0xFFFF_FFFF)
                let prefix = IPPrefix(address: IPAddress(high: high, low: 0), length: 48 + Int(random.next() % 17))
                lines.append(prefix?.description ?? "2001:db8::/32")
            } else {
                let length = 16 + Int(random.next() % 17)
                let address = IPAddress(ipv4: UInt32(truncatingIfNeeded: random.next()))
                lines.append(IPPrefix(address: address, length: length)?.description ?? "10.0.0.0/8")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: - Measuring

    /// Runs `body` over `packets` `rounds` times in 7 repetitions (after a warm-up).
    static func measure(_ key: String, _ label: String, _ packets: [Packet], _ rounds: Int,
                        _ body: (Packet) -> Int) -> Figure {
        var sink = 0
        for packet in packets.prefix(1000) { sink &+= body(packet) }
        let clock = ContinuousClock()
        let passes = max(1, rounds / repetitions)
        var results: [Double] = []
        for _ in 0..<repetitions {
            let start = clock.now
            for _ in 0..<passes {
                for packet in packets { sink &+= body(packet) }
            }
            results.append(seconds(clock.now - start) * 1e9 / Double(max(1, passes * packets.count)))
        }
        results.sort()
        consume(sink)
        return Figure(key: key, label: label, bestNanoseconds: results[0],
                      medianNanoseconds: results[results.count / 2])
    }

    /// Keeps a result observable, so the optimiser cannot drop the work that made it.
    @_optimize(none)
    static func consume(_ value: Int) {}

    static func compile(_ text: String, path: String, overrides: [String: String] = [:]) throws(Failure)
        -> CompiledRuleset {
        switch RuleCompiler.compile(text: text, path: path, overrides: overrides) {
        case .success(let ruleset): return ruleset
        case .failure(let diagnostics): throw Failure(description: diagnostics.description)
        }
    }

    static func decode(_ bytes: [UInt8]) -> Packet? {
        bytes.withUnsafeBytes { PacketDecoder.decode($0) }.packet
    }

    static func seconds(_ duration: Duration) -> Double {
        let (whole, fraction) = duration.components
        return Double(whole) + Double(fraction) / 1e18
    }

    /// One decimal place.
    static func format(_ value: Double) -> String { String((value * 10).rounded() / 10) }

    /// SplitMix64: a small seeded generator, so every run measures the same inputs.
    struct SplitMix {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}
