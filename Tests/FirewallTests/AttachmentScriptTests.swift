import Control
@testable import Firewall
import Testing

@Suite struct AttachmentScriptTests {
    @Test func iptablesScriptForOneQueueFailClosed() {
        let plan = AttachmentPlan(hooks: [.forward, .input], queues: 3 ... 3, bypass: false, ownerPID: 42)
        let script = IptablesAttachment(plan: plan).installScript(family: .ipv4)
        #expect(script == """
        *mangle
        :SYNWALL-IN - [0:0]
        :SYNWALL-FWD - [0:0]
        -A SYNWALL-IN -i lo -j RETURN
        -A SYNWALL-IN -j NFQUEUE --queue-num 3
        -I INPUT 1 -m comment --comment "synwall pid=42" -j SYNWALL-IN
        -A SYNWALL-FWD -j NFQUEUE --queue-num 3
        -I FORWARD 1 -m comment --comment "synwall pid=42" -j SYNWALL-FWD
        COMMIT

        """)
    }

    /// With `set offload after N`: before the queue rule, the rules that mark and unmark a
    /// connection for the packet synwall sends back, let an offloaded connection's plain
    /// segments pass, and mark what the kernel finds INVALID (docs/offload.md).
    @Test func iptablesScriptWithOffload() {
        let plan = AttachmentPlan(hooks: [.forward], queues: 3 ... 3, bypass: false, ownerPID: 42,
                                  offload: OffloadMarks(bit: 0x10_0000))
        let script = IptablesAttachment(plan: plan).installScript(family: .ipv4)
        #expect(script == """
        *mangle
        :SYNWALL-FWD - [0:0]
        -A SYNWALL-FWD -p tcp -m connmark --mark 0x100000/0x100000 -m conntrack --ctstate ESTABLISHED -m tcp --tcp-flags SYN,FIN,RST,URG NONE -j RETURN
        -A SYNWALL-FWD -m mark --mark 0x100000/0x700000 -j CONNMARK --set-xmark 0x100000/0x100000
        -A SYNWALL-FWD -m mark --mark 0x100000/0x700000 -j RETURN
        -A SYNWALL-FWD -m mark --mark 0x200000/0x700000 -j CONNMARK --set-xmark 0x0/0x100000
        -A SYNWALL-FWD -m mark --mark 0x200000/0x700000 -j RETURN
        -A SYNWALL-FWD -m conntrack --ctstate INVALID -j MARK --set-xmark 0x400000/0x400000
        -A SYNWALL-FWD -j NFQUEUE --queue-num 3
        -I FORWARD 1 -m comment --comment "synwall pid=42" -j SYNWALL-FWD
        COMMIT

        """)
        let marks = OffloadMarks(bit: 0x10_0000)
        #expect(marks.verdict(.start, packetMark: 0x0040_0001) == .repeatWithMark(0x0010_0001))
        #expect(marks.verdict(.end, packetMark: 0x0010_0001) == .repeatWithMark(0x0020_0001))
    }

    /// What offloaded connections passed in the kernel: the counters of the offload pass rule
    /// in every synwall chain of `iptables-save -c`, nothing else (docs/offload.md, "Counting").
    @Test func offloadCountersFromIptablesSave() {
        let saved = """
            *mangle
            :FORWARD ACCEPT [9:900]
            :SYNWALL-FWD - [0:0]
            :SYNWALL-IN - [0:0]
            [120:9000000] -A SYNWALL-FWD -p tcp -m connmark --mark 0x100000/0x100000 -m conntrack --ctstate ESTABLISHED -m tcp --tcp-flags FIN,SYN,RST,URG NONE -j RETURN
            [3:180] -A SYNWALL-FWD -m mark --mark 0x100000/0x700000 -j RETURN
            [2:100] -A SYNWALL-FWD -j NFQUEUE --queue-num 3
            [5:500] -A SYNWALL-IN -p tcp -m connmark --mark 0x100000/0x100000 -m conntrack --ctstate ESTABLISHED -m tcp --tcp-flags FIN,SYN,RST,URG NONE -j RETURN
            [7:700] -A OTHER -p tcp -m connmark --mark 0x100000/0x100000 -j RETURN
            [9:900] -A SYNWALL-IN -p tcp -m connmark --mark 0x400/0x400 -j RETURN
            COMMIT
            """
        let counted = IptablesAttachment.offloadedTraffic(saved: saved, marks: OffloadMarks(bit: 0x10_0000))
        #expect(counted == KernelTraffic(packets: 125, bytes: 9_000_500))
        #expect(IptablesAttachment.offloadedTraffic(saved: "[x:y] -A SYNWALL-FWD junk\n[1:2", marks: OffloadMarks(bit: 0x10_0000))
                == KernelTraffic(packets: 0, bytes: 0))
    }

    /// The same offload rules for nft, before the queue statement. (Checked by hand with
    /// `nft -c` in a namespace, without the queue statement, which this kernel lacks.)
    @Test func nftScriptWithOffload() throws {
        let plan = AttachmentPlan(hooks: [.forward], queues: 3 ... 3, bypass: false, ownerPID: 42,
                                  offload: OffloadMarks(bit: 0x10_0000))
        let script = NftAttachment(plan: plan).script()
        let rules = """
                    tcp flags & (fin | syn | rst | urg) == 0 ct mark & 0x100000 == 0x100000 ct state established accept
                    meta mark & 0x700000 == 0x100000 ct mark set ct mark or 0x100000 accept
                    meta mark & 0x700000 == 0x200000 ct mark set ct mark and 0xffefffff accept
                    ct state invalid meta mark set meta mark or 0x400000
                    queue to 3
            """
        #expect(script.contains(rules), "\(script)")
    }

    @Test func iptablesScriptForAQueueRangeFailOpenSkipsNeighbourDiscovery() {
        let plan = AttachmentPlan(hooks: [.output], queues: 0 ... 3, bypass: true, ownerPID: 7)
        let script = IptablesAttachment(plan: plan).installScript(family: .ipv6)
        #expect(script.contains("-A SYNWALL-OUT -o lo -j RETURN\n"))
        #expect(script.contains("-A SYNWALL-OUT -p ipv6-icmp -m icmp6 --icmpv6-type neighbour-solicitation -j RETURN\n"))
        #expect(script.contains("-A SYNWALL-OUT -j NFQUEUE --queue-balance 0:3 --queue-bypass\n"))
        // block return's answers (ReplySender's mark) leave unjudged, before the queue rule.
        let mark = "-A SYNWALL-OUT -m mark --mark 0x53575250 -j RETURN\n"
        #expect(script.contains(mark))
        #expect(script.range(of: mark)!.lowerBound < script.range(of: "-j NFQUEUE")!.lowerBound)
    }

    @Test func nftOutputChainLetsTheDaemonsOwnAnswersPass() {
        let plan = AttachmentPlan(hooks: [.input, .output], queues: 0 ... 0, bypass: false, ownerPID: 9)
        let script = NftAttachment(plan: plan).script()
        let output = String(script[script.range(of: "chain output {")!.lowerBound...])
        #expect(output.contains("meta mark 0x53575250 accept\n"))
        #expect(output.range(of: "meta mark")!.lowerBound < output.range(of: "queue to 0")!.lowerBound)
        let input = String(script[..<script.range(of: "chain output {")!.lowerBound])
        #expect(!input.contains("meta mark"), "only locally sent packets carry it")
    }

    @Test func nftScriptReplacesTheTableAtomically() {
        let plan = AttachmentPlan(hooks: [.input], queues: 0 ... 1, bypass: false, ownerPID: 9)
        let script = NftAttachment(plan: plan).script()
        #expect(script.hasPrefix("table inet synwall {}\ndelete table inet synwall\ntable inet synwall {\n"))
        #expect(script.contains("comment \"synwall pid=9\""))
        #expect(script.contains("type filter hook input priority mangle; policy accept;"))
        #expect(script.contains("iif \"lo\" accept"))
        #expect(script.contains("queue to 0-1\n"))
        #expect(!script.contains("bypass"))
    }

    @Test("the reassembly rules sit in chains nothing jumps to, and the summary says whether they went in")
    func reassemblyRules() {
        let iptables = IptablesAttachment.reassemblyScript
        #expect(iptables.contains(":SYNWALL-DEFRAG - [0:0]\n"))
        #expect(iptables.contains("-A SYNWALL-DEFRAG -m socket --transparent "))
        #expect(!iptables.contains("-j SYNWALL-DEFRAG"))
        let nft = NftAttachment.reassemblyScript
        #expect(nft.contains("chain defrag {"))
        #expect(nft.contains("tproxy ip to :1") && nft.contains("tproxy ip6 to :1"))
        #expect(!nft.contains("hook") && !nft.contains("jump "))
        let plan = AttachmentPlan(hooks: [.forward], queues: 0 ... 0, bypass: false, ownerPID: 9)
        #expect(IptablesAttachment(plan: plan).summary.contains("fragments may reach the queue unreassembled"))
        #expect(NoAttachment().summary.contains("unreassembled"))
    }

    @Test func ownerMarkRoundTrips() {
        #expect(InstanceOwner.pid(in: "-A INPUT -m comment --comment \"synwall pid=1234\" -j SYNWALL-IN") == 1234)
        #expect(InstanceOwner.pid(in: "-A INPUT -j ACCEPT") == nil)
        #expect(InstanceOwner.isLiveOtherInstance(getpidForTests()) == false)
    }
}

#if canImport(Glibc)
import Glibc
#endif
private func getpidForTests() -> Int32 { getpid() }

extension AttachmentScriptTests {
    /// nft 1.0.6's own words, as it printed them on this project's test machine (a 6.18
    /// kernel built without CONFIG_NFT_QUEUE), for the old probe and the fixed one.
    @Test func theNftProbeTellsASyntaxErrorFromAMissingKernelFeature() {
        let syntax = """
            /dev/stdin:2:102-102: Error: syntax error, unexpected '}', expecting newline or semicolon
                chain probe { type filter hook input priority mangle; policy accept; meta l4proto tcp queue to 0 }
                                                                                                                 ^
            /dev/stdin:4:1-1: Error: syntax error, unexpected end of file
            """
        #expect(NftProbeOutcome(status: 1, output: syntax)
            == .probeRejected("syntax error, unexpected '}', expecting newline or semicolon"))
        let missing = """
            /dev/stdin:2:91-100: Error: Could not process rule: No such file or directory
                chain probe { type filter hook input priority mangle; policy accept; meta l4proto tcp queue to 0; }
                                                                                                      ^^^^^^^^^^
            """
        #expect(NftProbeOutcome(status: 1, output: missing) == .queueUnsupported("Could not process rule: No such file or directory"))
        #expect(NftProbeOutcome(status: 1, output: "Error: Could not process rule: Operation not supported\n")
            == .queueUnsupported("Could not process rule: Operation not supported"))
        #expect(NftProbeOutcome(status: 1, output: "Error: Could not process rule: Operation not permitted\n")
            == .failed("Could not process rule: Operation not permitted"))
        #expect(NftProbeOutcome(status: 127, output: "/usr/bin/env: 'nft': No such file or directory\n")
            == .toolMissing("/usr/bin/env: 'nft': No such file or directory"))
        #expect(NftProbeOutcome(status: 0, output: "") == .supported)
        // And the errors say which it was.
        #expect(AttachError.nftQueueUnsupported(message: "Could not process rule: No such file or directory").description
            == "this kernel cannot queue packets from nft: it refuses nft's 'queue' statement (CONFIG_NFT_QUEUE missing; "
            + "nft says: Could not process rule: No such file or directory); use --attach iptables")
        #expect(AttachError.nftProbeRejected(message: "syntax error").description.contains("this is a bug in synwall"))
    }

    @Test func theNftProbeEndsEveryStatementBeforeTheClosingBrace() {
        let chain = NftAttachment.probeScript.split(separator: "\n").first { $0.contains("chain probe") } ?? ""
        #expect(chain.hasSuffix("queue to 0; }"))
    }
}
