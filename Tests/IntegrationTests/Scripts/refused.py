#!/usr/bin/python3
"""What a refused peer sees, for synwall's `block return` tests (run in the client).

Modes (each prints one JSON line and exits 0):

  tcp    connect() to --dst:--dport with a --timeout: {"result": "refused"|"timeout"|"connected"|
         "error: …", "ms": elapsed}
  udp    a connected UDP socket sends one datagram to --dst:--dport and waits --timeout for an
         answer: "refused" when an ICMP unreachable came back (ECONNREFUSED), "timeout" when
         nothing did
  flood  sends --count SYNs to --dst:--dport from distinct source ports (a raw socket, as fast
         as it goes, or spread over --duration seconds) while sniffing --iface, and reports the SYNs sent, the RSTs received from
         --dst:--dport in that time plus --linger seconds, and the send duration
"""

import argparse
import errno
import json
import socket
import time


def family(address):
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def tcp(args):
    sock = socket.socket(family(args.dst), socket.SOCK_STREAM)
    sock.settimeout(args.timeout)
    start = time.monotonic()
    try:
        sock.connect((args.dst, args.dport))
        result = "connected"
    except ConnectionRefusedError:
        result = "refused"
    except socket.timeout:
        result = "timeout"
    except OSError as error:
        result = f"error: {error}"
    print(json.dumps({"result": result, "ms": round((time.monotonic() - start) * 1000)}))


def udp(args):
    sock = socket.socket(family(args.dst), socket.SOCK_DGRAM)
    sock.settimeout(args.timeout)
    sock.connect((args.dst, args.dport))
    start = time.monotonic()
    try:
        sock.send(b"are you there?")
        sock.recv(100)
        result = "answered"
    except ConnectionRefusedError:
        result = "refused"
    except socket.timeout:
        result = "timeout"
    except OSError as error:
        result = "refused" if error.errno == errno.ECONNREFUSED else f"error: {error}"
    print(json.dumps({"result": result, "ms": round((time.monotonic() - start) * 1000)}))


def flood(args):
    from scapy.all import IP, IPv6, TCP, AsyncSniffer, conf, L3RawSocket, L3RawSocket6
    conf.verb = 0
    six = ":" in args.dst
    sniffer = AsyncSniffer(iface=args.iface, store=True,
                           filter=f"tcp and src host {args.dst} and src port {args.dport}")
    sniffer.start()
    time.sleep(0.5)
    layer = IPv6(dst=args.dst) if six else IP(dst=args.dst)
    packets = [layer / TCP(sport=20000 + i, dport=args.dport, flags="S", seq=1000 + i) for i in range(args.count)]
    raw = [bytes(p) for p in packets]
    sock = socket.socket(socket.AF_INET6 if six else socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    start = time.monotonic()
    for index, data in enumerate(raw):
        if args.duration > 0:
            # Paced: packet i leaves at i/count of the duration.
            delay = start + args.duration * index / len(raw) - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        sock.sendto(data, (args.dst, 0))
    sent_for = time.monotonic() - start
    time.sleep(args.linger)
    sniffer.stop()
    resets = [p for p in sniffer.results if p.haslayer(TCP) and p[TCP].flags & 0x04]
    print(json.dumps({"sent": len(raw), "send_seconds": round(sent_for, 3), "resets": len(resets),
                      "window_seconds": round(sent_for + args.linger, 3)}))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["tcp", "udp", "flood"])
    parser.add_argument("--dst", required=True)
    parser.add_argument("--dport", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=3)
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--linger", type=float, default=1)
    parser.add_argument("--duration", type=float, default=0)
    parser.add_argument("--iface", default="")
    args = parser.parse_args()
    {"tcp": tcp, "udp": udp, "flood": flood}[args.mode](args)


if __name__ == "__main__":
    main()
