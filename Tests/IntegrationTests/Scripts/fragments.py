#!/usr/bin/python3
"""Send a legal TCP segment as IP fragments through a firewall, with scapy.

Mode (prints one JSON line describing what happened, and exits 0):

  segment   run in the client while a server listens on --dport: a handshake from --sport
            (the test drops the client kernel's RSTs for that port), then one segment of
            --size bytes sent as fragments: IPv4 in 3 pieces, last first, the middle one
            twice; IPv6 in 2 pieces, the second first and twice. Reports whether the server's
            ACK of every byte came back ("acked"), then ends the connection with a RST.
  rewrite   as segment, IPv4 in 3 pieces in order, then the middle piece again with other
            bytes (overlap by replacement, RFC 3128) and a piece at offset 8 that rewrites the
            TCP flags of the first (RFC 1858).
  tiny      a datagram whose first fragment holds 8 bytes of TCP header (ports and sequence
            number, no flags: RFC 1858's tiny fragment), then the rest of it.
  early     as rewrite, but the flags rewrite at offset 8 comes right after the first piece,
            before the others: a firewall that holds the pieces drops the whole datagram, so
            the server never sees the data ("acked" must be false).
  flood     --count first fragments (UDP, 32 bytes, more-fragments set, never completed) from
            --sources source addresses in 198.18.0.0/15, each its own datagram, through a raw
            socket, paced over --seconds.
"""

import argparse
import json
import socket
import struct
import sys
import time

from scapy.all import (IP, IPv6, IPv6ExtHdrFragment, TCP, Raw, AsyncSniffer, conf, fragment, fragment6,
                       send, sr1)

conf.verb = 0


def handshake(args, layer, isn):
    """A scapy handshake from --sport; returns the server's next sequence number."""
    for _ in range(3):
        synack = sr1(layer() / TCP(sport=args.sport, dport=args.dport, flags="S", seq=isn), timeout=2)
        if synack is not None and TCP in synack and synack[TCP].flags & 0x12 == 0x12:
            send(layer() / TCP(sport=args.sport, dport=args.dport, flags="A", seq=isn + 1, ack=synack[TCP].seq + 1))
            return synack[TCP].seq + 1
    raise SystemExit("no SYN-ACK")


def rewrite(args):
    isn = 200_000
    server_next = handshake(args, lambda: IP(src=args.src, dst=args.dst), isn)
    data = TCP(sport=args.sport, dport=args.dport, flags="PA", seq=isn + 1, ack=server_next) / Raw(b"a" * args.size)
    pieces = fragment(IP(src=args.src, dst=args.dst, id=0x5158) / data, fragsize=400)
    for piece in pieces:
        send(piece)
    changed = pieces[1].copy()
    changed[Raw].load = b"b" * len(changed[Raw].load)
    send(changed)
    flags = IP(src=args.src, dst=args.dst, id=0x5158, flags="MF", frag=1, proto=6) / Raw(b"\x00" * 5 + b"\x03" + b"\x00" * 2)
    send(flags)
    send(IP(src=args.src, dst=args.dst) / TCP(sport=args.sport, dport=args.dport, flags="R", seq=isn + 1 + args.size))
    return {"pieces": len(pieces), "sent": len(pieces) + 2, "sport": args.sport}


def tiny(args):
    whole = bytes(TCP(sport=args.sport, dport=args.dport, flags="S", seq=300_000) / Raw(b"t" * 40))
    first = IP(src=args.src, dst=args.dst, id=0x5159, flags="MF", frag=0, proto=6) / Raw(whole[:8])
    rest = IP(src=args.src, dst=args.dst, id=0x5159, frag=1, proto=6) / Raw(whole[8:])
    send(first)
    send(rest)
    return {"sent": 2, "sport": args.sport}


def early(args):
    isn = 400_000
    layer = lambda: IP(src=args.src, dst=args.dst)
    server_next = handshake(args, layer, isn)
    sniffer = AsyncSniffer(iface=args.iface, store=True,
                           filter=f"tcp and src host {args.dst} and src port {args.dport} and dst port {args.sport}")
    sniffer.start()
    time.sleep(0.3)
    data = TCP(sport=args.sport, dport=args.dport, flags="PA", seq=isn + 1, ack=server_next) / Raw(b"e" * args.size)
    pieces = fragment(IP(src=args.src, dst=args.dst, id=0x515A) / data, fragsize=400)
    send(pieces[0])
    send(IP(src=args.src, dst=args.dst, id=0x515A, flags="MF", frag=1, proto=6) / Raw(b"\x00" * 5 + b"\x03" + b"\x00" * 2))
    for piece in pieces[1:]:
        send(piece)
    wanted = isn + 1 + args.size
    time.sleep(1.5)
    sniffer.stop()
    acked = any(TCP in p and p[TCP].ack == wanted for p in sniffer.results)
    send(layer() / TCP(sport=args.sport, dport=args.dport, flags="R", seq=isn + 1))
    return {"acked": acked, "sent": len(pieces) + 1, "sport": args.sport}


def flood(args):
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    destination = socket.inet_aton(args.dst)
    udp = struct.pack("!HHHH", 40000, 9, 1000, 0) + b"f" * 24
    pause = args.seconds / max(1, args.count)
    sent = 0
    for index in range(args.count):
        number = index % args.sources
        source = bytes([198, 18 + (number >> 16), (number >> 8) & 255, number & 255])
        # IPv4 header: more fragments, offset 0; the kernel fills in the checksum.
        header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), index & 0xFFFF, 0x2000, 64, 17, 0, source,
                             destination)
        raw.sendto(header + udp, (args.dst, 0))
        sent += 1
        if pause > 0 and index % 100 == 99:
            time.sleep(pause * 100)
    return {"sent": sent, "sources": args.sources}


def segment(args):
    ipv6 = ":" in args.dst
    layer = (lambda: IPv6(src=args.src, dst=args.dst)) if ipv6 else (lambda: IP(src=args.src, dst=args.dst))
    isn = 100_000
    synack = None
    for _ in range(3):
        synack = sr1(layer() / TCP(sport=args.sport, dport=args.dport, flags="S", seq=isn), timeout=2)
        if synack is not None and TCP in synack and synack[TCP].flags & 0x12 == 0x12:
            break
        synack = None
    if synack is None:
        raise SystemExit("no SYN-ACK")
    server_next = synack[TCP].seq + 1
    sniffer = AsyncSniffer(iface=args.iface, store=True,
                           filter=f"tcp and src host {args.dst} and src port {args.dport} and dst port {args.sport}")
    sniffer.start()
    time.sleep(0.3)
    send(layer() / TCP(sport=args.sport, dport=args.dport, flags="A", seq=isn + 1, ack=server_next))
    payload = bytes((index * 7) % 251 for index in range(args.size))
    data = TCP(sport=args.sport, dport=args.dport, flags="PA", seq=isn + 1, ack=server_next) / Raw(payload)
    if ipv6:
        pieces = fragment6(IPv6(src=args.src, dst=args.dst) / IPv6ExtHdrFragment(id=0x5157) / data, 600)
        order = [pieces[1], pieces[1], pieces[0]]
    else:
        pieces = fragment(IP(src=args.src, dst=args.dst, id=0x5157) / data, fragsize=400)
        order = [pieces[2], pieces[1], pieces[1], pieces[0]]
    for piece in order:
        send(piece)
    wanted = isn + 1 + args.size
    acked = False
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and not acked:
        time.sleep(0.1)
        acked = any(TCP in p and p[TCP].ack == wanted for p in list(sniffer.results or []))
    sniffer.stop()
    acked = acked or any(TCP in p and p[TCP].ack == wanted for p in sniffer.results)
    send(layer() / TCP(sport=args.sport, dport=args.dport, flags="R", seq=wanted))
    return {"acked": acked, "pieces": len(pieces), "sent": len(order), "sport": args.sport}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["segment", "rewrite", "tiny", "early", "flood"])
    parser.add_argument("--iface", default="")
    parser.add_argument("--src", default="")
    parser.add_argument("--dst", required=True)
    parser.add_argument("--sport", type=int, default=0)
    parser.add_argument("--dport", type=int, default=8080)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--sources", type=int, default=1_000)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    print(json.dumps({"segment": segment, "rewrite": rewrite, "tiny": tiny, "early": early,
                      "flood": flood}[args.mode](args), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
