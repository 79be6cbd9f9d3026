#!/usr/bin/python3
"""Send a flood of malformed IPv4/IPv6/TCP frames out of one interface (AF_PACKET, scapy).

Run inside a sandbox namespace, e.g. the client, with the next hop's MAC as destination:

    /usr/bin/python3 malformed_flood.py --iface c0 --src-mac .. --dst-mac .. \
        --src4 10.91.1.2 --dst4 10.91.2.2 --src6 fd00:91:1::2 --dst6 fd00:91:2::2 --repeat 100

Every case is one frame, sent once per round (--repeat rounds, source port varied). Groups:

  l3        IPv4/IPv6 header errors: truncated header, IHL < 5, IHL past the end, total or
            payload length past the end, bad IPv4 header checksum. The receiving kernel checks
            these in ip_rcv / ipv6_rcv, before any netfilter hook, and drops them: they never
            reach an NFQUEUE. They are sent anyway, to show that nothing breaks.
  header    TCP-level header errors the kernel passes on untouched: truncated TCP header, data
            offset < 5, data offset past the end, an IPv6 extension header that runs past the
            end. These reach the queue, and every decoder must call them malformed.
  options   TCP option errors: length 0 or 1, an option overrunning the header, fixed-length
            options (MSS, window scale, SACK-permitted, timestamps, SACK) with a wrong length.
            These reach the queue too.

Prints one JSON line with the frames sent per group, and exits 0 once everything was sent.
"""

import argparse
import json
import struct
import sys

from scapy.all import Ether, IP, IPv6, Raw, conf

conf.verb = 0


def ipv4_frame(args, transport, **ip_fields):
    """Ether/IPv4 around raw transport bytes; scapy fills what ip_fields leaves unset."""
    return bytes(Ether(src=args.src_mac, dst=args.dst_mac)
                 / IP(src=args.src4, dst=args.dst4, ttl=64, proto=6, **ip_fields) / Raw(transport))


def ipv6_frame(args, transport, nh=6, **ip_fields):
    """Ether/IPv6 around raw bytes (next header TCP unless given)."""
    return bytes(Ether(src=args.src_mac, dst=args.dst_mac)
                 / IPv6(src=args.src6, dst=args.dst6, hlim=64, nh=nh, **ip_fields) / Raw(transport))


def tcp_header(sport, dport, data_offset=5, options=b"", flags=0x02):
    """Raw TCP header bytes with any data offset and raw option bytes (checksum left 0)."""
    return struct.pack("!HHIIBBHHH", sport, dport, 1000, 0, (data_offset & 0x0F) << 4, flags,
                       64240, 0, 0) + options


OPTION_CASES = {
    "len-0": b"\x08\x00\x01\x01",                        # timestamp kind, length 0
    "len-1": b"\x08\x01\x01\x01",                        # length 1: shorter than kind + length
    "overrun": b"\x08\x28\x00\x00",                      # length 40 in a 4-byte option area
    "unknown-overrun": b"\xfd\x10\x00\x00",              # unknown kind, length 16 in 4 bytes
    "mss-len-3": b"\x02\x03\x05\x00",                    # MSS must be 4
    "wscale-len-4": b"\x03\x04\x07\x00",                 # window scale must be 3
    "sackok-len-3": b"\x04\x03\x00\x00",                 # SACK-permitted must be 2
    "timestamp-len-8": b"\x08\x08" + b"\x00" * 6,        # timestamps must be 10
    "sack-len-5": b"\x05\x05\x00\x00\x00\x00\x00\x00",   # SACK must be 2 + 8n
}


def cases(args, sport):
    """Yield (group, name, frame) for one round."""
    dport = args.dport
    good_tcp = tcp_header(sport, dport)

    # l3: dropped by the receiving kernel before netfilter.
    yield "l3", "ipv4-truncated-header", ipv4_frame(args, good_tcp)[:14 + 12]
    yield "l3", "ipv4-ihl-4", ipv4_frame(args, good_tcp, ihl=4)
    yield "l3", "ipv4-ihl-0", ipv4_frame(args, good_tcp, ihl=0)
    yield "l3", "ipv4-ihl-past-end", ipv4_frame(args, b"\x00" * 4, ihl=15)
    yield "l3", "ipv4-total-length-past-end", ipv4_frame(args, good_tcp, len=20 + 20 + 200)
    yield "l3", "ipv4-bad-header-checksum", ipv4_frame(args, good_tcp, chksum=0x1234)
    yield "l3", "ipv6-truncated-header", ipv6_frame(args, good_tcp)[:14 + 30]
    yield "l3", "ipv6-payload-length-past-end", ipv6_frame(args, good_tcp, plen=200)

    # header: reaches the queue; malformed for any decoder.
    for frame, family in ((ipv4_frame, "ipv4"), (ipv6_frame, "ipv6")):
        yield "header", f"{family}-tcp-truncated-8", frame(args, good_tcp[:8])
        yield "header", f"{family}-tcp-truncated-19", frame(args, good_tcp[:19])
        yield "header", f"{family}-tcp-empty", frame(args, b"")
        for offset in (0, 1, 4):
            yield "header", f"{family}-tcp-data-offset-{offset}", frame(args, tcp_header(sport, dport, offset))
        yield "header", f"{family}-tcp-data-offset-past-end", frame(args, tcp_header(sport, dport, 15))
        yield "header", f"{family}-tcp-data-offset-6-no-room", frame(args, tcp_header(sport, dport, 6))
    # Destination-options header claiming 88 bytes with 8 present (a router forwards it
    # without looking inside).
    dest_opts = struct.pack("!BB", 6, 10) + b"\x01\x04\x00\x00\x00\x00"
    yield "header", "ipv6-ext-header-past-end", ipv6_frame(args, dest_opts + good_tcp[:12], nh=60)

    # options: reaches the queue.
    for frame, family in ((ipv4_frame, "ipv4"), (ipv6_frame, "ipv6")):
        for name, options in OPTION_CASES.items():
            header = tcp_header(sport, dport, 5 + len(options) // 4, options)
            yield "options", f"{family}-tcp-option-{name}", frame(args, header)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iface", required=True)
    parser.add_argument("--src-mac", required=True)
    parser.add_argument("--dst-mac", required=True)
    parser.add_argument("--src4", required=True)
    parser.add_argument("--dst4", required=True)
    parser.add_argument("--src6", required=True)
    parser.add_argument("--dst6", required=True)
    parser.add_argument("--dport", type=int, default=8080)
    parser.add_argument("--repeat", type=int, default=100, help="rounds of all cases (1-1000)")
    args = parser.parse_args()
    if not 1 <= args.repeat <= 1000:
        parser.error("--repeat must be between 1 and 1000")

    counts = {"l3": 0, "header": 0, "options": 0}
    names = set()
    sock = conf.L2socket(iface=args.iface)  # one AF_PACKET socket for the whole flood
    try:
        for round_number in range(args.repeat):
            for group, name, frame in cases(args, 20000 + round_number):
                sock.send(frame)
                counts[group] += 1
                names.add(name)
    finally:
        sock.close()
    counts["sent"] = counts["l3"] + counts["header"] + counts["options"]
    counts["cases"] = len(names)
    print(json.dumps(counts, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
