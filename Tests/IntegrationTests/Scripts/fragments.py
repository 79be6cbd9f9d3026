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
"""

import argparse
import json
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
    parser.add_argument("mode", choices=["segment", "rewrite", "tiny"])
    parser.add_argument("--iface", required=True)
    parser.add_argument("--src", required=True)
    parser.add_argument("--dst", required=True)
    parser.add_argument("--sport", type=int, required=True)
    parser.add_argument("--dport", type=int, default=8080)
    parser.add_argument("--size", type=int, default=1000)
    args = parser.parse_args()
    print(json.dumps({"segment": segment, "rewrite": rewrite, "tiny": tiny}[args.mode](args), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
