import Testing
@testable import Rules

/// Every error message the language has, with its exact text, position and hint.
@Suite struct ErrorMessageTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var source: String
        var headline: String
        var hint: String?
        var testDescription: String { headline }

        init(_ source: String, _ headline: String, hint: String? = nil) {
            self.source = source
            self.headline = headline
            self.hint = hint
        }
    }

    static let lexer: [Case] = [
        Case("pass in \\ proto tcp", "1:9: error: unexpected character '\\'",
             hint: "a backslash joins a line to the next only at the very end of a line"),
        Case("pass in; proto tcp", "1:8: error: unexpected character ';'"),
        Case("pass in on $", "1:12: error: '$' must be followed by a macro name",
             hint: "write $name for a macro defined earlier as name = value"),
        Case("pass in label \"ssh", "1:15: error: unterminated string", hint: "close it with '\"' on the same line"),
    ]

    static let statements: [Case] = [
        Case("{ pass }", "1:1: error: expected a statement (pass, block, policy, table, set, include or name = value), found '{'"),
        Case("include", "1:8: error: expected a quoted file name after 'include'",
             hint: "write include \"other.rules\" (relative to this file)"),
        Case("pas in", "1:1: error: unknown keyword 'pas'", hint: "did you mean 'pass'?"),
        Case("allow in", "1:1: error: unknown keyword 'allow'",
             hint: "did you mean 'pass'? (synwall says 'pass' and 'block', as pf does)"),
        Case("deny in", "1:1: error: unknown keyword 'deny'",
             hint: "did you mean 'block'? (synwall says 'pass' and 'block', as pf does)"),
        Case("frobnicate", "1:1: error: unknown keyword 'frobnicate'",
             hint: "a statement starts with pass, block, policy, table, set or include, or defines a macro (name = value)"),
        Case("include \"x.rules\" now", "1:19: error: unexpected 'now' at the end of the statement", hint: "remove it"),
    ]

    static let rules: [Case] = [
        Case("pass in proto tcp proto udp", "1:19: error: 'proto' given twice in one rule",
             hint: "list several in one clause: proto { tcp, udp }"),
        Case("pass in from any from 10.0.0.1", "1:18: error: 'from' given twice in one rule",
             hint: "list several addresses in one clause: from { 192.0.2.1, 198.51.100.0/24 }"),
        Case("pass on eth0 on eth1", "1:14: error: 'on' given twice in one rule",
             hint: "list several interfaces in one clause: on { eth0, eth1 }"),
        Case("pass log log", "1:10: error: 'log' given twice in one rule", hint: "remove one of them"),
        Case("pass in { tcp }", "1:9: error: expected a keyword, found '{'",
             hint: "a rule reads: pass|block [in|out|forward] [log] [quick] [on IF] [inet|inet6] [proto P] [from ADDR [port P]] [to ADDR [port P]] [options]"),
        Case("pass in out", "1:9: error: a rule has one direction, and 'in' was already given",
             hint: "write one rule per direction, or leave the direction out to match all three"),
        Case("pass forward forward", "1:14: error: a rule has one direction, and 'forward' was already given",
             hint: "in a forward rule write 'in on IF' and 'out on IF' for the interfaces"),
        Case("pass from any all", "1:15: error: 'all' means 'from any to any' and cannot follow 'from' or 'to'", hint: "remove 'all'"),
        Case("pass all to 10.0.0.1", "1:10: error: 'all' means 'from any to any'; 'to' cannot follow it",
             hint: "remove 'all' (at column 6) or this 'to'"),
        Case("pass label", "1:11: error: expected a quoted label after 'label'", hint: "write label \"ssh\""),
        Case("pass proto tcp max-src-conn 5 overload bruteforce", "1:40: error: expected a table such as <bruteforce> after 'overload'",
             hint: "declare one with: table <bruteforce> persist"),
        Case("pass flush", "1:6: error: 'flush' goes right after 'overload <table>'", hint: "write overload <bruteforce> flush"),
        Case("pass keep", "1:10: error: expected 'state' after 'keep'",
             hint: "'pass' always keeps state; 'keep state' may be left out"),
        Case("pass in prot tcp", "1:9: error: unknown keyword 'prot'", hint: "did you mean 'proto'?"),
        Case("pass in proto tcp flags S/SA", "1:19: error: unknown keyword 'flags'",
             hint: "rules see only packets that start a connection (a SYN for TCP), so 'flags' is not needed"),
        Case("pass in proto tcp port 22", "1:19: error: unknown keyword 'port'",
             hint: "a port belongs to 'from' or 'to': write 'to port 22' (destination) or 'from port 53' (source)"),
        Case("pass in xyzzy", "1:9: error: unknown keyword 'xyzzy'", hint: "see the rule reference in rules/README.md"),
        Case("pass in to port 22", "1:12: error: 'port' needs 'proto tcp' or 'proto udp' in the same rule",
             hint: "ports exist only in TCP and UDP: add proto tcp (or udp)"),
        Case("pass in proto { tcp, icmp } to port 22", "1:32: error: 'port' applies only to TCP and UDP, but this rule also matches 'icmp'",
             hint: "write a separate rule for the other protocols"),
        Case("pass in icmp-type echoreq", "1:9: error: 'icmp-type' needs 'proto icmp' in the same rule", hint: "add proto icmp"),
        Case("pass in proto icmp icmp6-type echoreq", "1:20: error: 'icmp6-type' needs 'proto icmp6' in the same rule",
             hint: "add proto icmp6"),
        Case("block in proto tcp max-src-conn 3", "1:20: error: 'max-src-conn' applies only to 'pass' rules",
             hint: "limits decide when a passing connection is refused; a 'block' rule refuses all"),
        Case("table <t> persist\npass in proto tcp overload <t>", "2:19: error: 'overload' needs 'max-src-conn' or 'max-src-conn-rate' in the same rule",
             hint: "for example: max-src-conn-rate 5/30 overload <bruteforce>"),
        Case("pass in inet6 from 192.0.2.1", "1:20: error: IPv4 address 192.0.2.1 can never match in an 'inet6' rule",
             hint: "remove 'inet6' or this address"),
        Case("pass in inet to { 192.0.2.1, 2001:db8::1 }", "1:30: error: IPv6 address 2001:db8::1 can never match in an 'inet' rule",
             hint: "remove 'inet' or this address"),
        Case("pass in inet6 proto icmp", "1:15: error: 'icmp' is ICMP for IPv4 and can never match in an 'inet6' rule",
             hint: "use proto icmp6"),
        Case("pass in inet proto icmp6", "1:14: error: 'icmp6' is ICMP for IPv6 and can never match in an 'inet' rule",
             hint: "use proto icmp"),
    ]

    static let clauses: [Case] = [
        Case("pass in on", "1:11: error: expected an interface name after 'on'",
             hint: "write on eth0, on { eth0, eth1 } or on eth+ (every name starting with eth)"),
        Case("pass in on { eth0, <t> }", "1:20: error: expected an interface name, found '<t>'"),
        Case("pass in on averyveryverylongname0", "1:12: error: invalid interface name 'averyveryverylongname0'",
             hint: "interface names have at most 15 characters, no '/' or spaces"),
        Case("pass proto", "1:11: error: expected a protocol after 'proto'",
             hint: "write proto tcp, proto udp, proto icmp, proto icmp6, a number or a list { tcp, udp }"),
        Case("pass proto { tcp, <t> }", "1:19: error: expected a protocol, found '<t>'"),
        Case("pass proto 300", "1:12: error: protocol number 300 is out of range (0-255)"),
        Case("pass proto tpc", "1:12: error: unknown protocol 'tpc'", hint: "did you mean 'tcp'?"),
        Case("pass proto quux", "1:12: error: unknown protocol 'quux'",
             hint: "use tcp, udp, icmp, icmp6, another IANA protocol name or a number 0-255"),
        Case("pass proto icmp icmp-type", "1:26: error: expected an ICMP type after 'icmp-type'",
             hint: "write a name such as echoreq, a number 0-255, or a list { echoreq, unreach }"),
        Case("pass proto icmp icmp-type echoreqq", "1:27: error: unknown ICMP type 'echoreqq'", hint: "did you mean 'echoreq'?"),
        Case("pass proto icmp6 icmp6-type neighborsol", "1:29: error: unknown ICMPv6 type 'neighborsol'", hint: "did you mean 'neighbrsol'?"),
        Case("pass from", "1:10: error: expected an address after 'from'",
             hint: "write an IPv4 or IPv6 address, a prefix such as 192.0.2.0/24, 'any', a list { … } or a table <name>"),
        Case("pass from \"x\"", "1:11: error: expected an address after 'from', found \"x\"",
             hint: "write an IPv4 or IPv6 address, a prefix such as 192.0.2.0/24, 'any', a list { … } or a table <name>"),
        Case("table <t> { 10.0.0.0/8 }\npass from { 192.0.2.1, !<t> }", "2:25: error: a table cannot be negated inside a list",
             hint: "negate the whole list (from ! { … }) or use the table alone (from ! <t>)"),
        Case("pass from { any, 10.0.0.1 }", "1:13: error: 'any' inside a list matches everything", hint: "write 'any' alone"),
        Case("pass from 10.0.0.0/33", "1:11: error: invalid prefix length '/33' for IPv4 (0-32)"),
        Case("pass from 2001:db8::/129", "1:11: error: invalid prefix length '/129' for IPv6 (0-128)"),
        Case("pass from 10.0.0.0/", "1:11: error: invalid prefix length '/' for IPv4 (0-32)"),
        Case("pass from 10.0.0.300", "1:11: error: invalid address '10.0.0.300'",
             hint: "write an IPv4 or IPv6 address, a prefix such as 192.0.2.0/24, 'any', a list { … } or a table <name>"),
        Case("pass from example.com", "1:11: error: invalid address 'example.com'",
             hint: "write an IPv4 or IPv6 address, a prefix such as 192.0.2.0/24, 'any', a list { … } or a table <name> (host names are not resolved)"),
        Case("pass from self", "1:11: error: invalid address 'self'",
             hint: "synwall does not know the host's own addresses: list them, or put them in a table"),
        Case("pass proto tcp to port { 80", "1:24: error: unterminated list; expected '}'", hint: "close the list with '}'"),
        Case("pass proto tcp to port { }", "1:24: error: empty list", hint: "put at least one port inside { }"),
        Case("pass proto tcp to port", "1:23: error: expected a port after 'port'",
             hint: "write a number, a service name (ssh), a range (1000:2000) or a list { 80, 443 }"),
        Case("pass proto tcp to port { !0:65535 }", "1:19: error: these ports match nothing", hint: "check the ranges and negations"),
        Case("pass proto tcp to port >", "1:25: error: expected a port after '>'"),
        Case("pass proto tcp to port \"x\"", "1:24: error: expected a port, found \"x\"",
             hint: "write a number, a service name (ssh), a range (1000:2000) or a list { 80, 443 }"),
        Case("pass proto tcp to port > 1000:2000", "1:26: error: a comparison cannot apply to a range",
             hint: "write the range alone: 1000:2000"),
        Case("pass proto tcp to port 2000:1000", "1:24: error: empty port range 2000:1000", hint: "write the lower port first: 1000:2000"),
        Case("pass proto tcp to port < 0", "1:26: error: '< 0' matches no port"),
        Case("pass proto tcp to port > 65535", "1:26: error: '> 65535' matches no port"),
        Case("pass proto tcp to port 70000", "1:24: error: port 70000 is out of range (0-65535)"),
        Case("pass proto tcp to port 1000:", "1:24: error: invalid port range '1000:'", hint: "write LOW:HIGH, such as 1000:2000"),
        Case("pass proto tcp to port htpp", "1:24: error: unknown service 'htpp'", hint: "did you mean 'http'?"),
        Case("pass proto tcp to port zzzzzzzz", "1:24: error: unknown service 'zzzzzzzz'",
             hint: "use a port number, or a service name from the built-in table (see rules/README.md)"),
        Case("pass from { 10.0.0.1, ! }", "1:23: error: expected an address after '!'"),
        Case("pass from { }", "1:11: error: empty list", hint: "put at least one address inside { }"),
        Case("pass from { 10.0.0.1, { 10.0.0.2 } }", "1:23: error: lists cannot be nested", hint: "write all items in one list"),
        Case("pass from { 10.0.0.1 = }", "1:22: error: expected an address or '}', found '='"),
        Case("pass from { 10.0.0.1", "1:11: error: unterminated list; expected '}'", hint: "close the list with '}'"),
        Case("pass proto tcp max-src-conn many", "1:29: error: expected a number after 'max-src-conn'", hint: "for example: max-src-conn 10"),
        Case("pass proto tcp max-src-conn 0", "1:29: error: 'max-src-conn' must be at least 1"),
        Case("pass proto tcp max-src-conn-rate 5", "1:34: error: expected COUNT/SECONDS after 'max-src-conn-rate', such as 5/30"),
        Case("pass proto tcp max-src-conn-rate", "1:33: error: expected COUNT/SECONDS after 'max-src-conn-rate', such as 5/30"),
        Case("pass proto tcp max-src-conn-rate 5/0", "1:34: error: both numbers of 'max-src-conn-rate' must be at least 1"),
    ]

    static let policiesTablesSettings: [Case] = [
        Case("policy inn drop", "1:8: error: expected a direction ('in', 'out' or 'forward') after 'policy', found 'inn'",
             hint: "did you mean 'in'?"),
        Case("policy", "1:7: error: expected a direction ('in', 'out' or 'forward') after 'policy'",
             hint: "write policy in drop, policy out pass or policy forward drop"),
        Case("policy in", "1:10: error: expected 'pass' or 'drop' after 'policy in'", hint: "write policy in drop (or pass)"),
        Case("policy in reject", "1:11: error: 'reject' is not available for a policy",
             hint: "a policy drops silently; to answer, end the file with a rule such as block return in all"),
        Case("policy out dorp", "1:12: error: expected 'pass' or 'drop' after 'policy out', found 'dorp'", hint: "did you mean 'drop'?"),
        Case("policy in drop lgo", "1:16: error: unknown keyword 'lgo'", hint: "did you mean 'log'?"),
        Case("policy in drop\npolicy in pass", "2:1: error: the policy for 'in' is already set at test.rules:1",
             hint: "keep one policy line per direction"),
        Case("table trusted { 10.0.0.1 }", "1:7: error: expected a table name such as <trusted> after 'table'",
             hint: "table names are written in angle brackets: table <trusted> { 192.0.2.0/24 }"),
        Case("table <t> { <u> }", "1:13: error: a table cannot contain another table",
             hint: "list the addresses, or use both tables in the rule: from { <a>, <b> }"),
        Case("table <t> persist expire", "1:25: error: expected a duration after 'expire'",
             hint: "write a number of seconds, or with a unit: 500ms, 30s, 5m, 2h, 1d, 1w (combined: 1h30m)"),
        Case("table <t> file", "1:15: error: expected a quoted file name after 'file'",
             hint: "write file \"blocked.txt\" (one address or prefix per line)"),
        Case("table <t> persits", "1:11: error: unknown keyword 'persits'", hint: "did you mean 'persist'?"),
        Case("table <t> = 1", "1:11: error: expected a list { … }, file \"…\", persist, const or expire, found '='"),
        Case("table <t> persist expire 1y", "1:26: error: invalid duration '1y'",
             hint: "write a number of seconds, or with a unit: 500ms, 30s, 5m, 2h, 1d, 1w (combined: 1h30m)"),
        Case("table <t> { 10.0.0.1 }\ntable <t> { 10.0.0.2 }", "2:7: error: table <t> is already declared at test.rules:1",
             hint: "give each table one declaration"),
        Case("pass from <nope>", "1:11: error: table <nope> is not declared",
             hint: "declare it first: table <nope> { … }, or table <nope> persist for one filled by overload"),
        Case("table <trusted> { 10.0.0.1 }\npass from <trustd>", "2:11: error: table <trustd> is not declared", hint: "did you mean <trusted>?"),
        Case("table <t> const { 10.0.0.1 }\npass proto tcp max-src-conn 1 overload <t>\nblock from <t>",
             "2:40: error: table <t> is 'const'; 'overload' cannot add to it", hint: "remove 'const' from its declaration"),
        Case("set", "1:4: error: expected a setting after 'set'", hint: "settings: limit, timeout, tcp, syn-rate, return, log, reload, state, offload"),
        Case("set state", "1:10: error: expected 'checkpoint' or 'max-age' after 'set state'",
             hint: "set state checkpoint 10s (how often connections are saved for a crash; off: never), "
                 + "set state max-age 10m (an older state file is not loaded)"),
        Case("set state checkpont 5s", "1:11: error: unknown state setting 'checkpont'", hint: "did you mean 'checkpoint'?"),
        Case("set state max-age", "1:18: error: expected a duration after 'set state max-age'",
             hint: "write a number of seconds, or with a unit: 500ms, 30s, 5m, 2h, 1d, 1w (combined: 1h30m)"),
        Case("set state checkpoint soon", "1:22: error: invalid duration 'soon'",
             hint: "write a number of seconds, or with a unit: 500ms, 30s, 5m, 2h, 1d, 1w (combined: 1h30m)"),
        Case("set limit", "1:10: error: expected what to limit after 'set limit'",
             hint: "one of: states, src-nodes, table-entries, half-open, half-open-per-source, file-size"),
        Case("set limit state 10", "1:11: error: unknown limit 'state'", hint: "did you mean 'states'?"),
        Case("set limit states lots", "1:18: error: expected a number after 'states'", hint: "for example: states 10"),
        Case("set timeout", "1:12: error: expected a timeout name after 'set timeout'",
             hint: "one of: " + RuleSettings.TimeoutName.allCases.map(\.rawValue).joined(separator: ", ")),
        Case("set timeout tcp.establised 1d", "1:13: error: unknown timeout 'tcp.establised'", hint: "did you mean 'tcp.established'?"),
        Case("set timeout tcp.established", "1:28: error: expected a duration after 'set timeout tcp.established'",
             hint: "write a number of seconds, or with a unit: 500ms, 30s, 5m, 2h, 1d, 1w (combined: 1h30m)"),
        Case("set timeout tcp.close 10x", "1:23: error: invalid duration '10x'",
             hint: "write a number of seconds, or with a unit: 500ms, 30s, 5m, 2h, 1d, 1w (combined: 1h30m)"),
        Case("set tcp", "1:8: error: expected 'pickup', 'rst', 'paws' or 'timestamps' after 'set tcp'"),
        Case("set tcp timestamps loose", "1:20: error: expected 'strict' after 'set tcp timestamps'",
             hint: "strict drops a segment without timestamps once both SYNs carried them"),
        Case("set tcp paw", "1:9: error: unknown TCP setting 'paw'", hint: "did you mean 'paws'?"),
        Case("set tcp rst maybe", "1:13: error: expected 'exact' or 'window' after 'set tcp rst'",
             hint: "exact drops a RST unless its sequence number is the one expected; window (the default) accepts any in the window"),
        Case("set tcp pikcup", "1:9: error: unknown TCP setting 'pikcup'", hint: "did you mean 'pickup'?"),
        Case("set log", "1:8: error: expected a quoted file name after 'set log'",
             hint: "write set log \"/var/log/synwall/events.jsonl\""),
        Case("set reload now", "1:12: error: expected 'keep' or 'recheck' after 'set reload'",
             hint: "keep leaves live connections alone on reload; recheck cuts those the new rules would block"),
        Case("set limt states 5", "1:5: error: unknown setting 'limt'", hint: "did you mean 'limit'?"),
        Case("set block-policy drop", "1:5: error: unknown setting 'block-policy'",
             hint: "synwall always drops silently; there is no block policy to set"),
        Case("set syn-rate 100/1 brust 5", "1:20: error: unknown keyword 'brust'", hint: "did you mean 'burst'?"),
        Case("set tcp pickup now", "1:16: error: unexpected 'now' at the end of the statement", hint: "remove it"),
    ]

    static let macros: [Case] = [
        Case("my-port = 22", "1:1: error: invalid macro name 'my-port'",
             hint: "macro names use letters, digits and '_', and start with a letter or '_'"),
        Case("port_ =", "1:7: error: expected a value after '='", hint: "write port_ = value, e.g. ssh_port = 22"),
        Case("empty = \"\"", "1:9: error: the value of macro 'empty' is empty", hint: "write empty = value, e.g. ssh_port = 22"),
        Case("ext_if = eth0\npass on $ext_iff", "2:9: error: undefined macro '$ext_iff'", hint: "did you mean '$ext_if'?"),
        Case("pass on $nothing", "1:9: error: undefined macro '$nothing'", hint: "define it before its first use: nothing = value"),
        Case("broken = \"{ 80, \\\"\"", "1:10: error: unterminated string", hint: "close it with '\"' on the same line"),
    ]

    static let returns: [Case] = [
        Case("pass return in proto tcp", "1:6: error: 'return' applies only to 'block' rules",
             hint: "a pass rule lets the connection start; write block return … to refuse it with an answer"),
        Case("block in return proto tcp", "1:10: error: 'return' goes right after 'block'",
             hint: "write block return in … (as pf does)"),
        Case("block return return-rst in", "1:14: error: 'return-rst' given twice in one rule", hint: "remove one of them"),
        Case("block return-rst in proto udp to port 53", "1:7: error: 'return-rst' answers only TCP, and this rule matches proto udp",
             hint: "write block return (a RST for TCP, an ICMP unreachable for the rest) or block return-icmp"),
        Case("set return 100/s", "1:12: error: expected 'rate' after 'set return'",
             hint: "write set return rate 100/s (answers of block return rules per second, all queues)"),
        Case("set return rate fast", "1:17: error: expected a rate such as 100/s after 'set return rate'",
             hint: "write COUNT/s, COUNT/m or COUNT/SECONDS, COUNT at least 1"),
        Case("set return rate 0/s", "1:17: error: expected a rate such as 100/s after 'set return rate'",
             hint: "write COUNT/s, COUNT/m or COUNT/SECONDS, COUNT at least 1"),
    ]

    @Test(arguments: returns)
    func blockReturnErrors(_ test: Case) { check(test) }

    @Test(arguments: lexer + statements + rules)
    func statementAndRuleErrors(_ test: Case) { check(test) }

    @Test(arguments: clauses)
    func clauseErrors(_ test: Case) { check(test) }

    @Test(arguments: policiesTablesSettings + macros)
    func policyTableSettingAndMacroErrors(_ test: Case) { check(test) }

    private func check(_ test: Case, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let found = diagnostics(test.source).filter { $0.severity == .error }
        #expect(found.count == 1, "\(found)", sourceLocation: sourceLocation)
        guard let diagnostic = found.first else { return }
        let headline = "\(diagnostic.location.line):\(diagnostic.location.column): error: \(diagnostic.message)"
        #expect(headline == test.headline, sourceLocation: sourceLocation)
        #expect(diagnostic.hint == test.hint, sourceLocation: sourceLocation)
        #expect(diagnostic.location.file == "test.rules", sourceLocation: sourceLocation)
    }
}
