#!/usr/bin/python3
"""Crafted segments on a connection synwall has offloaded to the kernel (docs/offload.md).

Run in the client while a server listens on --dport; the test drops the client kernel's RSTs
for --sport. A scapy handshake, then --warmup data segments each way (the server's echo
answers each), so the connection passes `set offload after N` for N < warmup; then, each one
after a pause so synwall and the kernel see them apart:

  window     data far beyond the window (the kernel's tracking finds it INVALID)
  syn        a SYN on the established connection
  xmas       FIN+URG+PSH without ACK
  rst        a RST inside the window but not at the expected sequence number
  echo       one more legal data segment: the server's echo must come back (still alive)
  fin        a FIN (ends the offload), then data after the FIN

Prints one JSON line: what was sent and whether the echo came back.
"""

import argparse
import json
import sys
import time

from scapy.all import IP, IPv6, TCP, Raw, AsyncSniffer, conf, send, sr1

conf.verb = 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iface", required=True)
    parser.add_argument("--src", required=True)
    parser.add_argument("--dst", required=True)
    parser.add_argument("--sport", type=int, required=True)
    parser.add_argument("--dport", type=int, default=8080)
    parser.add_argument("--warmup", type=int, default=6)
    parser.add_argument("--pause", type=float, default=0,
                        help="after the warm-up, print 'offloaded', wait this long (the test cuts the "
                             "connection meanwhile), send one more echo and stop")
    args = parser.parse_args()
    ipv6 = ":" in args.dst
    layer = (lambda: IPv6(src=args.src, dst=args.dst)) if ipv6 else (lambda: IP(src=args.src, dst=args.dst))
    seen = []  # filled as packets come (AsyncSniffer's results exist only once it stops)
    sniffer = AsyncSniffer(iface=args.iface, store=False, prn=seen.append,
                           filter=f"tcp and src port {args.dport} and dst port {args.sport}")
    sniffer.start()
    time.sleep(0.3)
    isn = 700_000
    synack = None
    for _ in range(3):
        synack = sr1(layer() / TCP(sport=args.sport, dport=args.dport, flags="S", seq=isn, window=65535), timeout=2)
        if synack is not None and TCP in synack and synack[TCP].flags & 0x12 == 0x12:
            break
        synack = None
    if synack is None:
        raise SystemExit("no SYN-ACK")
    server = synack[TCP].seq + 1
    seq = isn + 1
    send(layer() / TCP(sport=args.sport, dport=args.dport, flags="A", seq=seq, ack=server, window=65535))

    def received():
        return [p for p in list(seen) if TCP in p]

    def echo(payload):
        """Sends a data segment and waits (bounded) for the server's echo of it; acks it."""
        nonlocal seq, server
        send(layer() / TCP(sport=args.sport, dport=args.dport, flags="PA", seq=seq, ack=server, window=65535)
             / Raw(payload))
        seq += len(payload)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            time.sleep(0.05)
            for p in received():
                if Raw in p and p[TCP].seq == server and bytes(p[Raw].load) == payload:
                    server += len(payload)
                    send(layer() / TCP(sport=args.sport, dport=args.dport, flags="A", seq=seq, ack=server,
                                       window=65535))
                    return True
        return False

    warm = [echo(b"warm-%02d\n" % n) for n in range(args.warmup)]
    time.sleep(0.3)
    if args.pause > 0:
        print("offloaded", flush=True)
        time.sleep(args.pause)
        alive = echo(b"after-pause\n")
        sniffer.stop()
        send(layer() / TCP(sport=args.sport, dport=args.dport, flags="R", seq=seq))
        print(json.dumps({"warm": sum(warm), "alive": alive}, sort_keys=True))
        return 0
    sent = {}
    send(layer() / TCP(sport=args.sport, dport=args.dport, flags="PA", seq=seq + 50_000_000, ack=server,
                       window=65535) / Raw(b"x" * 100))
    sent["window"] = 1
    time.sleep(0.3)
    send(layer() / TCP(sport=args.sport, dport=args.dport, flags="S", seq=seq + 1000, window=65535))
    sent["syn"] = 1
    time.sleep(0.3)
    send(layer() / TCP(sport=args.sport, dport=args.dport, flags="FPU", seq=seq, urgptr=1, window=65535))
    sent["xmas"] = 1
    time.sleep(0.3)
    send(layer() / TCP(sport=args.sport, dport=args.dport, flags="R", seq=seq + 100, window=65535))
    sent["rst_inexact"] = 1
    time.sleep(0.3)
    alive = echo(b"still-alive\n")
    time.sleep(0.3)
    send(layer() / TCP(sport=args.sport, dport=args.dport, flags="FA", seq=seq, ack=server, window=65535))
    time.sleep(0.3)
    send(layer() / TCP(sport=args.sport, dport=args.dport, flags="PA", seq=seq + 1, ack=server, window=65535)
         / Raw(b"after-fin\n"))
    sent["after_fin"] = 1
    time.sleep(0.5)
    sniffer.stop()
    send(layer() / TCP(sport=args.sport, dport=args.dport, flags="R", seq=seq + 1))
    print(json.dumps({"warm": sum(warm), "alive": alive, "sent": sent}, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
