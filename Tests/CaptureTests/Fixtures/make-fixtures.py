#!/usr/bin/python3
"""Make the small capture files the CaptureTests read.

Run once from this directory with Debian's python3 (it has scapy):
    /usr/bin/python3 make-fixtures.py
The outputs are committed; the tests never run scapy. Every file carries the same payload, a
TCP handshake over IPv4 (192.0.2.1:40000 -> 192.0.2.10:22) and one over IPv6
(2001:db8::1:40001 -> 2001:db8::10:443), so one set of expectations checks every link type.
Frame i (0-based, counting only the IP frames) is stamped BASE + i seconds + FRACTION.
"""
from scapy.all import (ARP, Ether, IP, IPv6, TCP, Dot1Q, Dot1AD, Raw, Loopback,
                       PcapWriter, PcapNgWriter)
from scapy.layers.l2 import CookedLinux, CookedLinuxV2
from scapy.utils import EDecimal

BASE = 1_700_000_000
MICRO = "123456"       # fraction for the microsecond files
NANO = "123456789"     # fraction for the nanosecond file (raw.pcap)


def handshake():
    """Six IP packets: SYN, SYN-ACK, ACK over IPv4, then over IPv6."""
    a4, b4 = "192.0.2.1", "192.0.2.10"
    a6, b6 = "2001:db8::1", "2001:db8::10"
    opts = [("MSS", 1460), ("SAckOK", b""), ("WScale", 7)]
    return [
        IP(src=a4, dst=b4, ttl=64, id=1) / TCP(sport=40000, dport=22, flags="S", seq=1000, window=64240, options=opts),
        IP(src=b4, dst=a4, ttl=64, id=2) / TCP(sport=22, dport=40000, flags="SA", seq=5000, ack=1001, window=65160, options=opts),
        IP(src=a4, dst=b4, ttl=64, id=3) / TCP(sport=40000, dport=22, flags="A", seq=1001, ack=5001, window=502),
        IPv6(src=a6, dst=b6, hlim=64) / TCP(sport=40001, dport=443, flags="S", seq=2000, window=64800, options=opts),
        IPv6(src=b6, dst=a6, hlim=64) / TCP(sport=443, dport=40001, flags="SA", seq=7000, ack=2001, window=64260, options=opts),
        IPv6(src=a6, dst=b6, hlim=64) / TCP(sport=40001, dport=443, flags="A", seq=2001, ack=7001, window=507),
    ]


def stamp(pkt, i, fraction=MICRO):
    pkt.time = EDecimal(f"{BASE + i}.{fraction}")
    return pkt


MAC_A, MAC_B = "02:00:00:00:00:01", "02:00:00:00:00:02"
ARP_FRAME = Ether(src=MAC_A, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=MAC_A, psrc="192.0.2.1", pdst="192.0.2.10")
# LLDP: EtherType 0x88cc, chassis-id, port-id, TTL and end TLVs.
LLDP_FRAME = Ether(src=MAC_A, dst="01:80:c2:00:00:0e", type=0x88CC) / Raw(
    bytes.fromhex("0207040200000000010403030065740206000200780000"))


def ethernet_frames():
    """ARP, the handshake (the IPv4 SYN-ACK 802.1Q-tagged, the IPv4 ACK 802.1ad+802.1Q),
    LLDP, then a 1054-byte IPv4 frame captured with a 100-byte snap length."""
    ip = handshake()
    frames = [stamp(ARP_FRAME.copy(), 0, "000001")]
    for i, p in enumerate(ip):
        if i == 1:
            f = Ether(src=MAC_B, dst=MAC_A) / Dot1Q(vlan=42) / p
        elif i == 2:
            f = Ether(src=MAC_A, dst=MAC_B) / Dot1AD(vlan=100) / Dot1Q(vlan=42) / p
        else:
            f = Ether(src=MAC_A if i % 2 == 0 else MAC_B, dst=MAC_B if i % 2 == 0 else MAC_A, type=0x86DD if i >= 3 else 0x0800) / p
        frames.append(stamp(f, i))
    frames.append(stamp(LLDP_FRAME.copy(), 6, "000002"))
    big = Ether(src=MAC_A, dst=MAC_B) / IP(src="192.0.2.1", dst="192.0.2.10", id=4) / TCP(
        sport=40000, dport=22, flags="PA", seq=1001, ack=5001, window=502) / Raw(b"x" * 1000)
    snapped = Raw(bytes(big)[:100])
    snapped.wirelen = len(bytes(big))          # 1054
    frames.append(stamp(snapped, 6))
    return frames


def write_pcap(name, frames, linktype, nano=False):
    w = PcapWriter(name, linktype=linktype, nano=nano, sync=True)
    for f in frames:
        w.write(f)
    w.close()


def main():
    eth = ethernet_frames()
    write_pcap("ethernet.pcap", eth, linktype=1)

    ip = handshake()
    write_pcap("raw.pcap", [stamp(p, i, NANO) for i, p in enumerate(ip)], linktype=101, nano=True)
    write_pcap("ipv4.pcap", [stamp(p, i) for i, p in enumerate(ip[:3])], linktype=228)
    write_pcap("ipv6.pcap", [stamp(p, i + 3) for i, p in enumerate(ip[3:])], linktype=229)

    sll = [stamp(CookedLinux(pkttype=0, lladdrtype=1, lladdrlen=6, src=b"\x02\x00\x00\x00\x00\x01\x00\x00", proto=0x0806)
                 / ARP_FRAME[ARP].copy(), 0, "000001")]
    sll += [stamp(CookedLinux(pkttype=4 if i % 2 == 0 else 0, lladdrtype=1, lladdrlen=6,
                              src=b"\x02\x00\x00\x00\x00\x01\x00\x00", proto=0x86DD if i >= 3 else 0x0800) / p, i)
            for i, p in enumerate(handshake())]
    write_pcap("sll.pcap", sll, linktype=113)

    sll2 = [stamp(CookedLinuxV2(proto=0x0806, ifindex=2, lladdrtype=1, lladdrlen=6, src=b"\x02\x00\x00\x00\x00\x01\x00\x00")
                  / ARP_FRAME[ARP].copy(), 0, "000001")]
    sll2 += [stamp(CookedLinuxV2(proto=0x86DD if i >= 3 else 0x0800, ifindex=2, pkttype=4 if i % 2 == 0 else 0,
                                 lladdrtype=1, lladdrlen=6, src=b"\x02\x00\x00\x00\x00\x01\x00\x00") / p, i)
             for i, p in enumerate(handshake())]
    write_pcap("sll2.pcap", sll2, linktype=276)

    # BSD loopback: a 4-byte address family in the writer's byte order (little-endian here),
    # 2 = AF_INET, 24 = AF_INET6 as NetBSD/OpenBSD number it.
    null = [stamp(Loopback(type=24 if i >= 3 else 2) / p, i) for i, p in enumerate(handshake())]
    write_pcap("null.pcap", null, linktype=0)

    ng = PcapNgWriter("sample.pcapng")
    for f in [stamp(ARP_FRAME.copy(), 0, "000001")] + [
            stamp(Ether(src=MAC_A, dst=MAC_B, type=0x86DD if i >= 3 else 0x0800) / p, i)
            for i, p in enumerate(handshake())]:
        ng.write(f)
    ng.close()

    # The Ethernet capture cut in the middle of its third record (the second IP frame): the first
    # two frames (ARP, IPv4 SYN) read fine, then libpcap reports a truncated file.
    data = open("ethernet.pcap", "rb").read()
    off = 24
    for _ in range(2):
        caplen = int.from_bytes(data[off + 8:off + 12], "little")
        off += 16 + caplen
    open("truncated.pcap", "wb").write(data[:off + 16 + 20])

    with open("not-a-capture.txt", "w") as f:
        f.write("This is a text file, not a packet capture.\n")


if __name__ == "__main__":
    main()
