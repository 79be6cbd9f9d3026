#!/usr/bin/env python3
"""Writes the fuzzers' seed corpus (Fuzz/Corpus/<target>/) from the repository's fixtures:
packets from the pcap fixtures, tracker scripts for the common TCP/UDP/ICMP life cycles,
the rule files, and event records from the EventLog tests. Run from anywhere; it replaces
the corpus directories. Plain python3, no packages needed."""
import glob
import hashlib
import os
import re
import shutil
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "Fuzz", "Corpus")


def write(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    directory = os.path.join(CORPUS, target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def pcap_packets(path):
    """IP packets of a classic pcap file (Ethernet, Linux cooked or raw IP links)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return []
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        return []
    link = struct.unpack(endian + "I", data[20:24])[0]
    skip = {1: 14, 101: 0, 12: 0, 228: 0, 229: 0, 113: 16}.get(link)
    if skip is None:
        return []
    packets, offset = [], 24
    while offset + 16 <= len(data):
        captured = struct.unpack(endian + "I", data[offset + 8:offset + 12])[0]
        frame = data[offset + 16:offset + 16 + captured]
        offset += 16 + captured
        if len(frame) > skip:
            packets.append(frame[skip:])
    return packets


def decode_seeds():
    seen = set()
    fixtures = sorted(glob.glob(os.path.join(ROOT, "Tests", "FirewallTests", "Fixtures", "*.pcap"))
                      + glob.glob(os.path.join(ROOT, "Tests", "CaptureTests", "Fixtures", "*.pcap")))
    for path in fixtures:
        for packet in pcap_packets(path):
            digest = hashlib.sha1(packet).hexdigest()[:12]
            if digest in seen or len(seen) >= 40:
                continue
            seen.add(digest)
            write("decode", os.path.basename(path).replace(".pcap", "") + "-" + digest, packet)


# Tracker scripts: see Fuzz/Sources/TrackerFuzzer/TrackerFuzzer.swift for the encoding.
FLAGS = {"S": 0, "SA": 1, "A": 2, "PA": 3, "FA": 4, "R": 5, "RA": 6, "F": 7, "SF": 8, "": 9, "FPA": 10}
SAME = 0x20  # a sequence or acknowledgment number exactly where the other side expects it


def tcp(who=0, reply=False, flags="A", seq=SAME, ack=SAME, window=0xFF, options=0, payload=0, v6=False,
        gap=1, repeat=False):
    kind = 14 if repeat else 0
    out = [gap << 4 | kind, who | (0x80 if reply else 0), 1 if v6 else 0, FLAGS[flags], seq]
    if seq & 0xC0 == 0xC0:
        out += [0x12, 0x34, 0x56, 0x78]
    out.append(ack)
    if ack & 0xC0 == 0xC0:
        out += [0x9A, 0xBC, 0xDE, 0xF0]
    out += [window, options]
    if options & 2:
        out.append(7)
    if options & 8:
        out += [0, 0, 0x10, 0]
    if options & 16:
        out += [0, 0, 0, 0]
    out.append(payload)
    return out


def handshake(who=0, v6=False, options=0x07):
    return (tcp(who, flags="S", options=options, v6=v6) + tcp(who, reply=True, flags="SA", options=options, v6=v6)
            + tcp(who, flags="A", v6=v6))


def close(who=0, v6=False):
    return (tcp(who, flags="FA", v6=v6) + tcp(who, reply=True, flags="A", v6=v6)
            + tcp(who, reply=True, flags="FA", v6=v6) + tcp(who, flags="A", v6=v6))


def pause(exponent, budget=255):
    """A pause of 2^exponent ns (20...50)."""
    return [0x0C, exponent - 20, budget]


def tracker_seeds():
    data = tcp(0, flags="PA", payload=20) + tcp(0, reply=True, flags="A") + tcp(0, reply=True, flags="PA", payload=40)
    scripts = {
        "handshake-data-close-v4": [0] + handshake() + data + close(),
        "handshake-data-close-v6": [0] + handshake(v6=True) + tcp(0, flags="PA", payload=9, v6=True) + close(v6=True),
        "reset-after-handshake": [2] + handshake() + tcp(0, reply=True, flags="R"),
        "reset-ack-in-handshake": [0] + tcp(1, flags="S") + tcp(1, reply=True, flags="RA"),
        "simultaneous-open": [0] + tcp(2, flags="S") + tcp(2, reply=True, flags="S") + tcp(2, flags="SA")
                             + tcp(2, reply=True, flags="SA") + tcp(2, flags="A"),
        "retransmissions": [0] + tcp(0, flags="S", repeat=True) + tcp(0, reply=True, flags="SA", repeat=True)
                           + tcp(0, flags="A") + tcp(0, flags="PA", payload=30, repeat=True),
        "out-of-window": [0] + handshake() + tcp(0, flags="PA", seq=0x7F, payload=5) + tcp(0, flags="A", ack=0x7F)
                         + tcp(0, flags="PA", seq=0x40, payload=5),
        "syn-flood-eviction": [0x1C] + sum((tcp(who, flags="S") for who in range(0, 64, 1)), []),
        "timeouts": [0] + handshake() + pause(40) + tcp(0, flags="PA", payload=3) + handshake(1) + close(1)
                    + pause(36) + pause(40),
        "established-expires": [0] + handshake() + pause(49) + tcp(0, flags="PA", payload=3) + handshake(0),
        "pickup-midstream": [1] + tcp(3, flags="PA", seq=0xC0, ack=0xC0, payload=10) + tcp(3, reply=True, flags="A"),
        "rst-exact": [2] + handshake(4) + tcp(4, reply=True, flags="R", seq=0x25),
        "timestamps-sack": [0] + handshake(5, options=0x0F) + tcp(5, flags="PA", options=0x18, payload=12)
                           + tcp(5, reply=True, flags="A", options=0x18),
        "udp-and-echo": [0, 0x09, 0x00, 4, 1, 2, 3, 4, 0x09, 0x80, 0, 0x09, 0x20, 7, 0x09, 0xA0, 7, 0x09, 0x60, 1,
                         0x09, 0x18, 2, 9, 9] + pause(38),
        "icmp-error": [0] + tcp(0, flags="S") + [0x0A, 0x00, SAME, 0x10, 0x0A, 0x80, SAME, 0x30],
        "raw-packets": [0, 0x0B, 20, 0x45, 0, 0, 20, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 1, 1,
                        0x0B, 8, 0x60, 0, 0, 0, 0, 0, 6, 64],
        "rules-ssh-rate": [0] + sum((handshake(who | 0x20) + close(who | 0x20) for who in (0, 8, 16, 24)), []),
        "half-open-caps": [0x0C] + sum((tcp(who, flags="S") for who in (0, 1, 8, 9, 16, 17)), []),
        "no-rules": [0x80] + handshake() + data + close(),
        "admission-refuses": [0x60] + handshake(0) + handshake(1) + handshake(2) + handshake(3),
    }
    for name, script in scripts.items():
        write("tracker", name, bytes(script))


def rules_seeds():
    for path in sorted(glob.glob(os.path.join(ROOT, "rules", "*.rules"))):
        text = open(path).read()
        name = os.path.basename(path)
        if "include" in text or "file " in text:
            for extra in ("common.rules", "blocklist.txt"):
                text += "\n#--- %s\n" % extra + open(os.path.join(ROOT, "rules", extra)).read()
        text += "\n#--- explain\ntcp 203.0.113.7:51000 > 192.0.2.10:ssh\nudp 198.51.100.2:5353 > 192.0.2.10:53\n" \
                "icmp 203.0.113.9 > 192.0.2.10 type echoreq\ntcp 2001:db8::1:40000 > 2001:db8::2:443 out on eth0\n"
        write("rules", name, text)
    snippets = {
        "macros-tables": 'ports = "{ 22, 80 }"\ntable <t> { 10.0.0.0/8, !10.1.0.0/16 }\n'
                         'pass in proto tcp from <t> to port $ports\nblock out quick to 192.0.2.0/24 log\n',
        "include-cycle": 'include "a.rules"\n#--- a.rules\ninclude "main.rules"\n',
        "table-file": 'table <bl> file "bl.txt"\nblock in quick from <bl>\n#--- bl.txt\n192.0.2.1, 198.51.100.0/24 # c\n!198.51.100.7\n',
        "limits": 'table <over> persist expire 1h\npass in proto tcp to port ssh max-src-conn 3 '
                  'max-src-conn-rate 5/30 overload <over> flush label "ssh"\nset limit states 10\n'
                  'set timeout tcp.established 1d\nset log rotate 10M keep 3\n',
        "errors": 'pass in proto tcp to port 99999\nblock in from 300.1.2.3\npolicy sideways drop\n$undefined\n'
                  'pass in proto icmp icmp6-type echoreq\ntable <x> { nonsense }\n',
        "icmp-and-interfaces": 'ext = "eth0"\npass in on $ext inet proto icmp icmp-type { echoreq, unreach }\n'
                               'pass in on !lo inet6 proto icmp6 icmp6-type 128\nblock return in on eth1 all\n',
        "empty": '',
    }
    for name, text in snippets.items():
        write("rules", name, text)


def log_seeds():
    lines = []
    for path in sorted(glob.glob(os.path.join(ROOT, "Tests", "EventLogTests", "*.swift"))):
        for match in re.finditer(r'(\{"timestamp":[^\n]*\})', open(path).read()):
            line = match.group(1)
            if "\\(" not in line and line not in lines:
                lines.append(line)
    for index in range(0, len(lines), 4):
        chunk = lines[index:index + 4]
        # The last byte picks the query, format and mode.
        write("logreader", "records-%02d" % (index // 4), "\n".join(chunk) + "\n" + chr(0x20 + index % 64))
    write("logreader", "one-line", lines[0] + "\n")
    write("logreader", "partial-last-line", lines[0] + "\n" + lines[1][: len(lines[1]) // 2])
    write("logreader", "blank-and-crlf", "\n  \n" + lines[0] + "\r\n\t\n")


def main():
    for target in ("decode", "tracker", "rules", "logreader"):
        shutil.rmtree(os.path.join(CORPUS, target), ignore_errors=True)
    decode_seeds()
    tracker_seeds()
    rules_seeds()
    log_seeds()
    for target in ("decode", "tracker", "rules", "logreader"):
        files = os.listdir(os.path.join(CORPUS, target))
        size = sum(os.path.getsize(os.path.join(CORPUS, target, f)) for f in files)
        print("%-10s %3d files, %6d bytes" % (target, len(files), size))


if __name__ == "__main__":
    main()
