// Rule matching speed: ns per decision for a generated 1,000-rule file and for a rule with
// a 100,000-prefix table. Run with: swift run -c release RulesBenchmark
import Rules
import Wire
#if canImport(Glibc)
import Glibc
#endif

/// SplitMix64: a small seeded generator so every run measures the same inputs.
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

func decode(_ bytes: [UInt8]) -> Packet {
    let result = bytes.withUnsafeBytes { PacketDecoder.decode($0) }
    guard case .packet(let packet) = result else {
        print("benchmark packet did not decode")
        exit(1)
    }
    return packet
}

func v4(_ value: UInt32) -> IPAddress { IPAddress(ipv4: value) }

func dotted(_ value: UInt32) -> String { IPAddress(ipv4: value).description }

func compile(_ text: String, path: String) -> CompiledRuleset {
    switch RuleCompiler.compile(text: text, path: path) {
    case .success(let ruleset): return ruleset
    case .failure(let diagnostics):
        print(diagnostics)
        exit(1)
    }
}

/// Runs `body` over the packets `rounds` times, in 7 repetitions; returns the best
/// repetition's ns per call (the least disturbed by other work on the machine) and prints
/// it with the median.
func measure(_ label: String, packets: [Packet], rounds: Int, _ body: (Packet) -> Int) -> Double {
    var sink = 0
    for packet in packets.prefix(1000) { sink &+= body(packet) }  // warm up
    let clock = ContinuousClock()
    var results: [Double] = []
    for _ in 0..<7 {
        let start = clock.now
        for _ in 0..<max(1, rounds / 7) {
            for packet in packets { sink &+= body(packet) }
        }
        let (seconds, attoseconds) = (clock.now - start).components
        let nanoseconds = Double(seconds) * 1e9 + Double(attoseconds) / 1e9
        results.append(nanoseconds / Double(max(1, rounds / 7) * packets.count))
    }
    results.sort()
    let padded = label + String(repeating: " ", count: max(1, 58 - label.count))
    print(padded + format3(results[0]) + " ns/decision (median " + format3(results[3]) + ")   [checksum \(sink & 0xFFFF)]")
    return results[0]
}

func format3(_ value: Double) -> String {
    let scaled = (value * 10).rounded() / 10
    return String(scaled)
}

var random = SplitMix(state: 0x5EED_1234)

// MARK: - 1,000 rules

var lines = ["policy in drop", "policy out pass", "table <watch> persist", "block in from <watch>"]
let protocols = ["tcp", "udp"]
for index in 0..<999 {
    let proto = protocols[Int(random.next() % 2)]
    let port = 1024 + index
    let network = UInt32(truncatingIfNeeded: random.next()) & 0xFFFF_FF00
    switch index % 4 {
    case 0: lines.append("pass in proto \(proto) to port \(port)")
    case 1: lines.append("pass in proto \(proto) from \(dotted(network))/24 to port \(port)")
    case 2: lines.append("block in on eth\(index % 7) proto \(proto) from { \(dotted(network))/24, \(dotted(network &+ 0x100))/24 } to port \(port) log")
    default: lines.append("pass out proto \(proto) to \(dotted(network))/24 port { \(port), \(port + 10000) }")
    }
}
let thousand = compile(lines.joined(separator: "\n") + "\n", path: "generated-1000.rules")
print("rules compiled: \(thousand.rules.count)")

let target = v4(0xC000_020A)  // 192.0.2.10
// Worst case: a TCP SYN to a port no rule names falls through every rule to the policy.
let fallThrough = (0..<4096).map { index in
    decode(PacketBuilder(source: v4(0xCB00_7100 | UInt32(index & 0xFF)), destination: target)
        .tcp(sourcePort: UInt16(40000 + index % 20000), destinationPort: 80, flags: .syn))
}
// A mix: random ports among those the rules name (1024…2022), random sources.
let mixed = (0..<4096).map { _ in
    let source = v4(UInt32(truncatingIfNeeded: random.next()))
    let port = UInt16(1024 + random.next() % 999)
    let builder = PacketBuilder(source: source, destination: target)
    return decode(random.next() % 2 == 0
        ? builder.tcp(sourcePort: 40000, destinationPort: port, flags: .syn)
        : builder.udp(sourcePort: 40000, destinationPort: port))
}
let context = RuleContext(direction: .in, inInterface: "eth0", now: 0)
var matcher = RuleMatcher(ruleset: thousand)
let harness = measure("harness only (loop and packet copy, no matching)", packets: fallThrough, rounds: 200) {
    Int($0.destinationPort)
}
let worst = measure("1,000 rules, no rule matches (policy decides)", packets: fallThrough, rounds: 200) {
    matcher.admit($0, context: context).verdict == .accept ? 1 : 0
}
let mixedCost = measure("1,000 rules, random ports the rules name", packets: mixed, rounds: 200) {
    matcher.admit($0, context: context).ruleIndex ?? -1
}
let staticCost = measure("1,000 rules, CompiledRuleset.evaluate (explain's path)", packets: fallThrough, rounds: 200) {
    thousand.evaluate($0, context: context).verdict == .accept ? 1 : 0
}

// MARK: - 100,000 prefixes

var tableLines: [String] = []
tableLines.reserveCapacity(100_000)
for index in 0..<100_000 {
    if index % 10 == 9 {
        let high = 0x2001_0DB8_0000_0000 | (random.next() & 0xFFFF_FFFF)
        let prefix = IPPrefix(address: IPAddress(high: high, low: 0), length: 48 + Int(random.next() % 17))
        tableLines.append(prefix?.description ?? "2001:db8::/32")
    } else {
        let length = 16 + Int(random.next() % 17)
        let address = UInt32(truncatingIfNeeded: random.next())
        tableLines.append(IPPrefix(address: v4(address), length: length)?.description ?? "10.0.0.0/8")
    }
}
let tablePath = "/tmp/synwall-rules-benchmark-\(getpid()).txt"
if let file = fopen(tablePath, "w") {
    fputs(tableLines.joined(separator: "\n") + "\n", file)
    fclose(file)
}
let clock = ContinuousClock()
let compileStart = clock.now
let big = compile("""
    table <big> file "\(tablePath)"
    block in from <big> log
    pass in proto tcp to port 80
    """, path: "/tmp/generated-table.rules")
let compileTime = clock.now - compileStart
unlink(tablePath)
let table = big.tables[0].staticEntries
print("table: 100,000 prefixes -> \(table.rangeCount) merged ranges, compiled in \(compileTime)")

let probes = (0..<65536).map { index -> Packet in
    let source = index % 10 == 9
        ? IPAddress(high: 0x2001_0DB8_0000_0000 | (random.next() & 0xFFFF_FFFF), low: random.next())
        : v4(UInt32(truncatingIfNeeded: random.next()))
    let destination = source.isIPv4 ? target : IPAddress(high: 0x2001_0DB8_0000_0000, low: 10)
    return decode(PacketBuilder(source: source, destination: destination).tcp(sourcePort: 40000, destinationPort: 80, flags: .syn))
}
let blocked = probes.filter { table.contains($0.source) }.count
print("probes in the table: \(blocked) of \(probes.count)")
var bigMatcher = RuleMatcher(ruleset: big)
let tableCost = measure("rule with a 100,000-prefix table (RuleMatcher.admit)", packets: probes, rounds: 20) {
    bigMatcher.admit($0, context: context).verdict == .accept ? 1 : 0
}
let lookupCost = measure("PrefixSet.contains alone, 100,000 prefixes", packets: probes, rounds: 20) {
    table.contains($0.source) ? 1 : 0
}

print("")
print("summary (best of 7, ns per decision, harness \(format3(harness)) included): 1,000 rules worst case \(format3(worst)), "
    + "mixed \(format3(mixedCost)), static \(format3(staticCost)); 100,000-prefix table \(format3(tableCost)) "
    + "(lookup alone \(format3(lookupCost)))")
