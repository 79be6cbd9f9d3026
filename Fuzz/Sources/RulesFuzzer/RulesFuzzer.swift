import FuzzSupport
import Rules
import Wire

/// Fuzzes the rule language: the input is a rule file, optionally followed by more files in
/// memory (a line `#--- NAME` starts the file `NAME`, next to the main file, for `include`
/// and `table … file`), and `#--- explain` lines describing packets to judge. It is
/// compiled, its diagnostics rendered, and when it compiles, listed by the editor and asked
/// about packets.
@_cdecl("LLVMFuzzerTestOneInput")
public func rulesFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    let text = String(decoding: bytes, as: UTF8.self)
    // Real device and kernel files could block or never end: the fuzzer must not read them.
    for forbidden in ["/dev", "/proc", "/sys"] where text.contains(forbidden) { return -1 }

    let directory = "/nonexistent-synwall-fuzz"
    let mainPath = directory + "/main.rules"
    var mainText = ""
    var files: [String: String] = [:]
    var explain: [String] = []
    var current: String? = nil  // nil: the main file
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        if line.hasPrefix("#--- ") {
            current = String(line.dropFirst(5))
            if current != "explain" { files[directory + "/" + (current ?? "")] = "" }
            continue
        }
        switch current {
        case nil: mainText += line + "\n"
        case "explain": explain.append(String(line))
        case let name?: files[directory + "/" + name, default: ""] += line + "\n"
        }
    }

    switch RuleCompiler.compile(text: mainText, path: mainPath, overrides: files) {
    case .failure(let diagnostics):
        fuzzCheck(diagnostics.hasErrors, "a failed compile without an error")
        fuzzCheck(!diagnostics.summary.isEmpty, "an empty summary")
        fuzzCheck(!diagnostics.description.isEmpty, "empty diagnostics text")
        for item in diagnostics.items {
            fuzzCheck(item.location.line >= 1, "diagnostic at line \(item.location.line)")
            _ = item.description
        }
    case .success(let ruleset):
        for warning in ruleset.warnings {
            fuzzCheck(warning.severity != .error, "an error among a compiled ruleset's warnings")
            _ = warning.description
        }
        for (index, rule) in ruleset.rules.enumerated() {
            fuzzCheck(rule.index == index, "rule \(index) numbered \(rule.index)")
        }
        if files.isEmpty {
            do {
                let editor = try RuleFileEditor(text: mainText, path: mainPath)
                let listing = editor.listing()
                let hits = editor.listing(hits: [UInt64](repeating: 7, count: ruleset.rules.count))
                fuzzCheck(!listing.isEmpty && !hits.isEmpty, "an empty listing")
                fuzzCheck(editor.ruleset.rules.count == ruleset.rules.count,
                          "the editor compiled \(editor.ruleset.rules.count) rules, the compiler \(ruleset.rules.count)")
            } catch {
                fuzzCheck(false, "the editor refused a file that compiles: \(error)")
            }
        }
        judge(explain, ruleset)
    }
    return 0
}

/// Judges each packet description (and a few fixed packets) against the ruleset.
func judge(_ descriptions: [String], _ ruleset: CompiledRuleset) {
    var matcher = RuleMatcher(ruleset: ruleset)
    var now: UInt64 = 1_000_000_000
    for line in descriptions.prefix(16) {
        guard case .success(let description) = PacketDescription.parse(line) else { continue }
        _ = description.summary
        let explanation = Explanation(packet: description, ruleset: ruleset)
        _ = explanation.text
        let decision = matcher.admit(description.packet, context: description.context)
        _ = ruleset.label(of: decision)
        _ = ruleset.text(of: decision)
        _ = ruleset.location(of: decision)
        now += 1_000_000_000
    }
    let builder = PacketBuilder(source: IPAddress(ipv4: 0xC000_0207), destination: IPAddress(ipv4: 0xC000_020A))
    for packet in [builder.tcp(sourcePort: 51000, destinationPort: 22, flags: .syn),
                   builder.udp(sourcePort: 5353, destinationPort: 53),
                   builder.icmpEcho(identifier: 1, sequence: 1)] {
        packet.withUnsafeBytes { raw in
            guard let decoded = PacketDecoder.decode(raw).packet else { return }
            for direction in Direction.allCases {
                let context = RuleContext(direction: direction, inInterface: "eth0", now: now)
                let decision = matcher.admit(decoded, context: context)
                _ = ruleset.text(of: decision)
                _ = ruleset.evaluate(decoded, context: context)
            }
        }
    }
}
