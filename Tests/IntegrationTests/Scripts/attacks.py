#!/usr/bin/python3
"""Send TCP attacks through a firewall from one end of a sandbox, with scapy.

Modes (each prints one JSON line describing what it sent, and exits 0):

  live      run in the client while a server echoes on --dport: opens a real connection,
            exchanges a message, learns its sequence numbers by sniffing the client's
            interface, then sends a spoofed RST that is in the window but not exact, an RST
            far outside the window and a data segment far outside the window, all on that
            4-tuple; then exchanges another message on the connection and reports whether
            it still works ("alive").
  scans     run in the client: NULL, FIN, XMAS and ACK scans to --dst:--dport, one packet
            each, from source ports 31001-31004.
  early     run in the client: a SYN from port 31010 (the server drops it by an iptables rule
            the test installs) followed by data in the same flow, before any SYN-ACK.
  syn       run in the server: a bare SYN from the server's port --sport to the client's port
            --dport (the client's kernel RSTs are dropped by the test), seq 7000.
  synack    run in the client: the SYN-ACK answering `syn` with a wrong ack (7000 + 7).
  synflood  run in the client: --count SYNs to --dst:--dport, each from a different spoofed
            source in 198.18.0.0/15 (benchmark space) and a random port, on one socket.
"""

import argparse
import json
import socket
import sys
import time

from scapy.all import IP, TCP, Raw, AsyncSniffer, conf, send

conf.verb = 0


def live(args):
    sniffer = AsyncSniffer(iface=args.iface, filter=f"tcp and host {args.dst} and port {args.dport}", store=True)
    sniffer.start()
    time.sleep(0.3)
    sock = socket.create_connection((args.dst, args.dport), timeout=3)
    sock.sendall(b"before the attack\n")
    got = b""
    while not got.endswith(b"\n"):
        chunk = sock.recv(100)
        if not chunk:
            raise SystemExit("closed before the attack")
        got += chunk
    time.sleep(0.3)
    sniffer.stop()
    sport = sock.getsockname()[1]
    ours = [p for p in sniffer.results if TCP in p and p[IP].src == args.src and p[TCP].sport == sport]
    if not ours:
        raise SystemExit("sniffed none of the connection's packets")
    last = ours[-1]
    nxt = last[TCP].seq + len(bytes(last[TCP].payload))
    ack = last[TCP].ack
    rst_inexact = nxt + 1000
    rst_far = (nxt + 100_000_000) % 2**32
    data_far = (nxt + 50_000_000) % 2**32
    send(IP(src=args.src, dst=args.dst) / TCP(sport=sport, dport=args.dport, flags="R", seq=rst_inexact))
    send(IP(src=args.src, dst=args.dst) / TCP(sport=sport, dport=args.dport, flags="R", seq=rst_far))
    send(IP(src=args.src, dst=args.dst) / TCP(sport=sport, dport=args.dport, flags="PA", seq=data_far, ack=ack)
         / Raw(b"injected"))
    time.sleep(0.3)
    alive = True
    try:
        sock.sendall(b"after the attack\n")
        got = b""
        while not got.endswith(b"\n"):
            chunk = sock.recv(100)
            if not chunk:
                raise OSError("closed by peer")
            got += chunk
        alive = got == b"after the attack\n"
    except OSError:
        alive = False
    sock.close()
    return {"sport": sport, "next": nxt, "ack": ack, "rst_inexact": rst_inexact, "rst_far": rst_far,
            "data_far": data_far, "alive": alive}


def scans(args):
    sent = {}
    for sport, flags, name in ((31001, "", "null"), (31002, "F", "fin"), (31003, "FPU", "xmas"),
                               (31004, "A", "ack")):
        send(IP(src=args.src, dst=args.dst) / TCP(sport=sport, dport=args.dport, flags=flags, seq=1, ack=1 if flags == "A" else 0))
        sent[name] = sport
    return sent


def early(args):
    base = IP(src=args.src, dst=args.dst)
    send(base / TCP(sport=31010, dport=args.dport, flags="S", seq=1000))
    send(base / TCP(sport=31010, dport=args.dport, flags="PA", seq=1001, ack=1) / Raw(b"too early"))
    return {"sport": 31010}


def syn(args):
    send(IP(src=args.src, dst=args.dst) / TCP(sport=args.sport, dport=args.dport, flags="S", seq=7000))
    return {"sport": args.sport}


def synack(args):
    send(IP(src=args.src, dst=args.dst) / TCP(sport=args.sport, dport=args.dport, flags="SA", seq=9000, ack=7007))
    return {"sport": args.sport}


def synflood(args):
    import random
    rng = random.Random(5)
    sock = conf.L3socket()
    start = time.monotonic()
    try:
        for index in range(1, args.count + 1):
            source = f"198.{18 + (index >> 16 & 1)}.{index >> 8 & 0xFF}.{index & 0xFF}"
            sock.send(IP(src=source, dst=args.dst) / TCP(sport=rng.randint(1024, 65535), dport=args.dport,
                                                        flags="S", seq=rng.randint(0, 2**32 - 1)))
    finally:
        sock.close()
    return {"sent": args.count, "seconds": round(time.monotonic() - start, 3)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["live", "scans", "early", "syn", "synack", "synflood"])
    parser.add_argument("--iface", default="")
    parser.add_argument("--src", required=True)
    parser.add_argument("--dst", required=True)
    parser.add_argument("--sport", type=int, default=0)
    parser.add_argument("--dport", type=int, default=8080)
    parser.add_argument("--count", type=int, default=3000)
    args = parser.parse_args()
    result = {"live": live, "scans": scans, "early": early, "syn": syn, "synack": synack, "synflood": synflood}[args.mode](args)
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
