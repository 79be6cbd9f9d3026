#!/usr/bin/python3
"""Write the replay scenario captures beside this script (raw-IP pcaps, scapy).

    /usr/bin/python3 make-scenarios.py

Each scenario is one small capture of TCP packets between a client and a server, with the
numbers of the reference's scenario catalogue (client ISN 1000, server ISN 5000, window 65535).
The expected verdict and reason of every packet are in ReplayScenarioTests.swift; this script
only builds the packets. Timestamps start at a fixed time and step by 1 ms, so the output is
the same on every run.
"""

import os
import sys

from scapy.all import IP, IPv6, TCP, Raw, conf
from scapy.utils import PcapWriter

conf.verb = 0

C4, S4 = "192.0.2.1", "192.0.2.10"
C6, S6 = "2001:db8::1", "2001:db8::10"
CPORT, SPORT = 40000, 80
LINKTYPE_RAW = 101
START = 1_700_000_000


def c2s(flags, seq, ack=0, data=b"", v6=False, win=65535, options=(), cport=CPORT):
    """A client-to-server segment."""
    ip = IPv6(src=C6, dst=S6) if v6 else IP(src=C4, dst=S4)
    packet = ip / TCP(sport=cport, dport=SPORT, flags=flags, seq=seq, ack=ack, window=win, options=list(options))
    return packet / Raw(data) if data else packet


def s2c(flags, seq, ack=0, data=b"", v6=False, win=65535, options=(), cport=CPORT):
    """A server-to-client segment."""
    ip = IPv6(src=S6, dst=C6) if v6 else IP(src=S4, dst=C4)
    packet = ip / TCP(sport=SPORT, dport=cport, flags=flags, seq=seq, ack=ack, window=win, options=list(options))
    return packet / Raw(data) if data else packet


def handshake(v6=False):
    """H: SYN, SYN-ACK, ACK -> ESTABLISHED."""
    return [c2s("S", 1000, v6=v6), s2c("SA", 5000, 1001, v6=v6), c2s("A", 1001, 5001, v6=v6)]


SCENARIOS = {
    # Handshake, data both ways, client close to TIME_WAIT.
    "clean-ipv4": handshake() + [
        c2s("PA", 1001, 5001, b"x" * 100),
        s2c("A", 5001, 1101),
        s2c("PA", 5001, 1101, b"y" * 200),
        c2s("A", 1101, 5201),
        c2s("FA", 1101, 5201),
        s2c("A", 5201, 1102),
        s2c("FA", 5201, 1102),
        c2s("A", 1102, 5202),
    ],
    "handshake-ipv6": handshake(v6=True) + [
        c2s("PA", 1001, 5001, b"x" * 10, v6=True),
        s2c("A", 5001, 1011, v6=True),
    ],
    # Each scan packet alone, then the same flags on an established connection.
    "scans": [
        c2s("", 1),        # NULL
        c2s("F", 1),       # FIN
        c2s("FPU", 1),     # XMAS
    ] + handshake() + [
        c2s("", 1001, 5001),
        c2s("F", 1001),
        c2s("FPU", 1001),
        c2s("PA", 1001, 5001, b"still here"),
    ],
    "stray-ack": [c2s("A", 1, 1), s2c("SA", 5000, 1001)],
    # SYN-ACK acking the ISN, then ISN+2, then the right one.
    "synack-wrong-ack": [
        c2s("S", 1000),
        s2c("SA", 5000, 1000),
        s2c("SA", 5000, 1002),
        s2c("SA", 5000, 1001),
        c2s("A", 1001, 5001),
    ],
    # Client data in SYN_SENT, server data before the final ACK.
    "data-before-handshake": [
        c2s("S", 1000),
        c2s("PA", 1001, 5001, b"early"),
        s2c("SA", 5000, 1001),
        s2c("PA", 5001, 1001, b"z" * 50),
        c2s("A", 1001, 5001),
    ],
    # RSTs from the server: far ahead, behind, in window but inexact (passes, stays
    # ESTABLISHED), then exact (CLOSE).
    "rst": handshake() + [
        s2c("R", 5001 + 1_000_000),
        s2c("R", 4000),
        s2c("R", 5001 + 1000),
        c2s("PA", 1001, 5001, b"after"),
        s2c("R", 5001),
    ],
    # Data far beyond and far behind the window, then good data.
    "out-of-window": handshake() + [
        c2s("PA", 1001 + 1_000_000, 5001, b"inject"),
        c2s("PA", 1001 + 2_000_000_000, 5001, b"inject"),
        s2c("PA", 5001, 1001 + 500_000, b"ack-ahead"),
        c2s("PA", 1001, 5001, b"good"),
    ],
    # SYN from either side on an established connection, with the original and a new ISN.
    "syn-in-established": handshake() + [
        c2s("S", 1000),
        c2s("S", 777777),
        s2c("S", 9999),
        c2s("PA", 1001, 5001, b"still here"),
    ],
    # Where synwall is stricter than Linux (issue 12): another SYN-ACK ISN, data into a zero
    # window (the one-byte probe passes), data starting at the right edge, an empty SACK
    # option (ignored, an anomaly); a RST in SYN_RECV ends the handshake (IPv6); a RST+ACK
    # whose timestamp echo no SYN sent (client port 40001).
    "strict-corners": [
        c2s("S", 1000),
        s2c("SA", 5000, 1001, win=1000),
        s2c("SA", 9000, 1001),
        c2s("A", 1001, 5001),
        c2s("PA", 1001, 5001, b"d" * 1000),
        s2c("A", 5001, 2001, win=0),
        c2s("PA", 2001, 5001, b"z" * 100),
        c2s("PA", 2001, 5001, b"p"),
        s2c("A", 5001, 2001, win=1000),
        c2s("PA", 3001, 5001, b"e" * 10),
        s2c("A", 5001, 2002, win=1000, options=[(5, b"")]),
        c2s("R", 2002),
        c2s("S", 1000, v6=True),
        s2c("SA", 5000, 1001, v6=True),
        c2s("R", 1001, v6=True),
        c2s("A", 1001, 5001, v6=True),
        c2s("S", 1000, options=[("Timestamp", (100, 0))], cport=40001),
        s2c("RA", 0, 1001, options=[("Timestamp", (7, 55))], cport=40001),
        s2c("RA", 0, 1001, options=[("Timestamp", (7, 100))], cport=40001),
    ],
}


def main():
    directory = os.path.dirname(os.path.abspath(__file__))
    for name, packets in SCENARIOS.items():
        path = os.path.join(directory, f"{name}.pcap")
        writer = PcapWriter(path, linktype=LINKTYPE_RAW, sync=True)
        for index, packet in enumerate(packets):
            packet = packet.__class__(bytes(packet))  # fill lengths and checksums
            packet.time = START + index / 1000
            writer.write(packet)
        writer.close()
        print(f"{path}: {len(packets)} packets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
