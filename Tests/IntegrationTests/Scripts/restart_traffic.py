#!/usr/bin/python3
"""Traffic that must survive a restart of the firewall between its ends.

server ADDR PORT
    Serves connections whose first line says what they are:
    "DOWNLOAD N RATE\n" -> N bytes of a fixed pattern, paced at RATE bytes/s (0: as fast as it goes);
    "IDLE\n"            -> echoes every line back until the peer closes.

client ADDR PORT MEGABYTES IDLE_COUNT RATE
    Opens IDLE_COUNT idle connections with TCP keep-alives every second, then downloads
    MEGABYTES MiB and checks every byte against the pattern, printing "progress BYTES" lines.
    Then every idle connection must still echo a line. Ends with
    "RESULT download=BYTES/EXPECTED pattern_ok=0|1 idle_ok=K/IDLE_COUNT" and exits 0 only when
    all is well. Every wait is bounded.
"""
import socket
import sys
import threading
import time

PATTERN = bytes((i * 7 + 3) % 251 for i in range(251 * 256))
DOUBLE = PATTERN * 2


def family(address):
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def serve_one(conn):
    conn.settimeout(120)
    try:
        line = b""
        while not line.endswith(b"\n"):
            b = conn.recv(1)
            if not b:
                return
            line += b
        words = line.split()
        if words[0] == b"DOWNLOAD":
            total, rate = int(words[1]), int(words[2])
            sent, started = 0, time.monotonic()
            while sent < total:
                offset = sent % len(PATTERN)
                chunk = PATTERN[offset:offset + min(65536, total - sent, len(PATTERN) - offset)]
                conn.sendall(chunk)
                sent += len(chunk)
                if rate > 0:
                    ahead = sent / rate - (time.monotonic() - started)
                    if ahead > 0:
                        time.sleep(ahead)
            conn.shutdown(socket.SHUT_WR)
            conn.recv(1)
        else:
            buffer = b""
            while True:
                b = conn.recv(4096)
                if not b:
                    return
                buffer += b
                while b"\n" in buffer:
                    one, buffer = buffer.split(b"\n", 1)
                    conn.sendall(one + b"\n")
    except OSError:
        pass
    finally:
        conn.close()


def server(address, port):
    s = socket.socket(family(address), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((address, port))
    s.listen(128)
    s.settimeout(300)
    print("listening", flush=True)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve_one, args=(conn,), daemon=True).start()


def keepalive(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 30)


def client(address, port, megabytes, idle_count, rate):
    idle = []
    for i in range(idle_count):
        c = socket.create_connection((address, port), timeout=10)
        keepalive(c)
        c.sendall(b"IDLE\n")
        idle.append(c)
    print("idle %d" % len(idle), flush=True)
    total = megabytes << 20
    d = socket.create_connection((address, port), timeout=10)
    d.settimeout(60)
    d.sendall(b"DOWNLOAD %d %d\n" % (total, rate))
    received, pattern_ok, last = 0, True, 0.0
    try:
        while received < total:
            b = d.recv(1 << 20)
            if not b:
                break
            offset = received % len(PATTERN)
            want = DOUBLE[offset:offset + len(b)] if len(b) <= len(PATTERN) else None
            if want is None:
                for j in range(0, len(b), len(PATTERN)):
                    part = b[j:j + len(PATTERN)]
                    o = (received + j) % len(PATTERN)
                    if part != DOUBLE[o:o + len(part)]:
                        pattern_ok = False
            elif b != want:
                pattern_ok = False
            received += len(b)
            now = time.monotonic()
            if now - last > 0.25:
                print("progress %d" % received, flush=True)
                last = now
    except OSError as error:
        print("download error %s" % error, flush=True)
    d.close()
    ok = 0
    for i, c in enumerate(idle):
        try:
            c.settimeout(10)
            c.sendall(b"ping %d\n" % i)
            answer = b""
            while not answer.endswith(b"\n"):
                b = c.recv(64)
                if not b:
                    break
                answer += b
            if answer == b"ping %d\n" % i:
                ok += 1
        except OSError as error:
            print("idle %d error %s" % (i, error), flush=True)
        c.close()
    print("RESULT download=%d/%d pattern_ok=%d idle_ok=%d/%d" % (received, total, int(pattern_ok), ok, idle_count),
          flush=True)
    return 0 if received == total and pattern_ok and ok == idle_count else 1


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(client(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])))
