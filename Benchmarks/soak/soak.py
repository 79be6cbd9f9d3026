#!/usr/bin/python3
"""A soak of the real daemon: synwall on a router between namespaces for a long while under a
steady mix of honest traffic, attacks and operator actions, sampled once a second, ending with
a verdict. Not a CI test (it runs for 30 minutes by default); run as root after a build:

    sudo Benchmarks/soak/soak.py [--minutes 30] [--synwall .build/release/synwall] [--keep DIR]

The mix (all inside namespaces this script makes and removes on every exit path):
  - bulk downloads client <- server (`synwall peer download`, each byte checked), ~200 Mbit/s;
  - short connections client -> server echo, about 1,000 a second (threads, each checked);
  - 50 idle connections with keep-alives, each checked at the end;
  - UDP echo (50/s, each answer checked) and ping (5/s);
  - every 60 s from the attacker: a SYN flood of 1,000 spoofed sources, a NULL/FIN/XMAS scan,
    an SSH brute force, 100 blind RSTs against the client's address;
  - a rule reload every 10 s, every fifth with a broken file (it must be refused, the running
    rules stay); SIGUSR1 with the event log rotated every 30 s; `synwall stats --json` every s.
Sampled every second: the daemon's RSS, open descriptors, threads, and its counters. The
verdict: RSS and descriptors flat after warm-up (least-squares slope over the second half),
no failure of the honest traffic, no event lost, no verdict error, every reload answered.
"""
import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PREFIX = "swsoak%d-" % os.getpid()
NS = {name: PREFIX + name for name in ("client", "router", "server", "attacker")}
CLIENT, SERVER, ATTACKER = "10.93.1.2", "10.93.2.2", "10.93.4.2"


def run(*command, check=True, namespace=None, timeout=60, capture=True):
    if namespace:
        command = ("ip", "netns", "exec", NS[namespace]) + command
    result = subprocess.run(command, stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                            stderr=subprocess.PIPE if capture else subprocess.DEVNULL, timeout=timeout, text=True)
    if check and result.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(command), result.returncode, result.stderr))
    return result


def spawn(namespace, *command, output=None):
    return subprocess.Popen(("ip", "netns", "exec", NS[namespace]) + command, stdout=output or subprocess.DEVNULL,
                            stderr=subprocess.STDOUT if output else subprocess.DEVNULL, text=True)


def build_network():
    for name in NS.values():
        run("ip", "netns", "add", name)
        run("ip", "-n", name, "link", "set", "lo", "up")
    links = [("client", "eth0", "10.93.1.2/24", "router", "eth1", "10.93.1.1/24"),
             ("server", "eth0", "10.93.2.2/24", "router", "eth2", "10.93.2.1/24"),
             ("attacker", "eth0", "10.93.4.2/24", "router", "eth4", "10.93.4.1/24")]
    for a, ai, aa, b, bi, ba in links:
        run("ip", "-n", NS[a], "link", "add", ai, "type", "veth", "peer", "name", bi, "netns", NS[b])
        run("ip", "-n", NS[a], "addr", "add", aa, "dev", ai)
        run("ip", "-n", NS[b], "addr", "add", ba, "dev", bi)
        run("ip", "-n", NS[a], "link", "set", ai, "up")
        run("ip", "-n", NS[b], "link", "set", bi, "up")
        run("ip", "-n", NS[a], "route", "add", "default", "via", ba.split("/")[0])
    run("sysctl", "-q", "-w", "net.ipv4.ip_forward=1", namespace="router")
    # 1,000 connections a second from one client outrun 28,000 ephemeral ports held 60 s in
    # TIME_WAIT: all the ports, and reuse of TIME_WAIT ports (synwall sees a SYN reusing a
    # TIME_WAIT connection's 4-tuple, as it must allow).
    run("sysctl", "-q", "-w", "net.ipv4.ip_local_port_range=1024 65535", "net.ipv4.tcp_tw_reuse=1",
        namespace="client")
    run("sysctl", "-q", "-w", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.eth4.rp_filter=0", namespace="router")


def teardown(processes):
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + 10
    for process in processes:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
    for name in NS.values():
        subprocess.run(["ip", "netns", "pids", name], stdout=subprocess.PIPE)
        subprocess.run(["ip", "netns", "del", name], stderr=subprocess.DEVNULL)


RULES = """
set tcp rst exact
set limit half-open 4000
set state checkpoint 10s
table <bruteforce> persist expire 60s
policy forward drop
block forward quick from <bruteforce> label "brute force"
pass forward proto tcp to port { 8080, 7 } label "service"
pass forward proto tcp to port 22 max-src-conn-rate 5/30 overload <bruteforce> label "ssh"
pass forward proto udp to port 9 label "udp echo"
pass forward inet proto icmp icmp-type echoreq label "ping"
"""


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.values = {}

    def add(self, key, n=1):
        with self.lock:
            self.values[key] = self.values.get(key, 0) + n

    def get(self, key):
        with self.lock:
            return self.values.get(key, 0)


# ---- worker roles, run inside a namespace as `soak.py --role NAME …` ----

def role_short(rate, seconds):
    """Short connections to SERVER:7: connect, 16 bytes, their echo, close; one line a second."""
    tally, stop = Tally(), time.monotonic() + seconds
    per_thread = rate / 16.0

    def worker():
        next_at = time.monotonic()
        while time.monotonic() < stop:
            try:
                s = socket.create_connection((SERVER, 7), timeout=3)
                s.settimeout(3)
                s.sendall(b"0123456789abcdef")
                got = b""
                while len(got) < 16:
                    b = s.recv(16 - len(got))
                    if not b:
                        break
                    got += b
                s.close()
                tally.add("ok" if got == b"0123456789abcdef" else "fail")
            except OSError as error:
                tally.add("fail")
                tally.add("error %s" % (error.strerror or type(error).__name__))
            next_at += 1.0 / per_thread
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                next_at = time.monotonic()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(16)]
    for t in threads:
        t.start()
    while time.monotonic() < stop:
        time.sleep(1)
        print("short ok=%d fail=%d" % (tally.get("ok"), tally.get("fail")), flush=True)
    for t in threads:
        t.join(5)
    for key in sorted(tally.values):
        if key.startswith("error "):
            print("short %s: %d" % (key, tally.get(key)), flush=True)
    print("short ok=%d fail=%d" % (tally.get("ok"), tally.get("fail")), flush=True)


def role_udp(rate, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1)
    ok = fail = 0
    stop, i = time.monotonic() + seconds, 0
    while time.monotonic() < stop:
        i += 1
        message = b"udp %d" % i
        try:
            s.sendto(message, (SERVER, 9))
            data, _ = s.recvfrom(64)
            ok, fail = (ok + 1, fail) if data == message else (ok, fail + 1)
        except OSError:
            fail += 1
        time.sleep(1.0 / rate)
    print("udp ok=%d fail=%d" % (ok, fail), flush=True)


def role_udpecho():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 9))
    while True:
        data, peer = s.recvfrom(2048)
        s.sendto(data, peer)


def role_keepalive(count, seconds):
    sockets = []
    for i in range(count):
        c = socket.create_connection((SERVER, 7), timeout=5)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 5)
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 5)
        sockets.append(c)
    print("keepalive open %d" % count, flush=True)
    time.sleep(seconds)
    ok = 0
    for i, c in enumerate(sockets):
        try:
            c.settimeout(5)
            c.sendall(b"ping %d\n" % i)
            if c.recv(64).startswith(b"ping %d" % i):
                ok += 1
        except OSError:
            pass
    print("keepalive ok=%d/%d" % (ok, count), flush=True)


# ---- the orchestrator ----

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--synwall", default=None)
    parser.add_argument("--keep", default=None)
    parser.add_argument("--role", default=None)
    parser.add_argument("args", nargs="*")
    options = parser.parse_args()
    if options.role:
        roles = {"short": lambda: role_short(float(options.args[0]), float(options.args[1])),
                 "udp": lambda: role_udp(float(options.args[0]), float(options.args[1])),
                 "udpecho": role_udpecho,
                 "keepalive": lambda: role_keepalive(int(options.args[0]), float(options.args[1]))}
        roles[options.role]()
        return 0
    if shutil.which("ping") is None:
        print("soak.py: ping is missing (apt-get install iputils-ping)", file=sys.stderr)
        return 1
    if os.geteuid() != 0:
        print("soak.py: run as root (it makes network namespaces)", file=sys.stderr)
        return 1
    binary = options.synwall or next((p for p in (os.path.join(ROOT, ".build/release/synwall"),
                                                  os.path.join(ROOT, ".build/debug/synwall")) if os.path.exists(p)), None)
    if not binary:
        print("soak.py: build synwall first (swift build -c release)", file=sys.stderr)
        return 1
    seconds = options.minutes * 60
    work = options.keep or tempfile.mkdtemp(prefix="synwall-soak-")
    os.makedirs(work, exist_ok=True)
    me = os.path.abspath(__file__)
    processes = []
    try:
        return soak(binary, seconds, work, me, processes)
    finally:
        teardown(processes)
        if not options.keep:
            shutil.rmtree(work, ignore_errors=True)


def soak(binary, seconds, work, me, processes):
    # The traffic and attack helpers are the test bed's (`synwall-testbed peer`), beside synwall.
    testbed = os.path.join(os.path.dirname(binary), "synwall-testbed")
    build_network()
    rules, log, control = os.path.join(work, "soak.rules"), os.path.join(work, "events.jsonl"), os.path.join(work, "ctl.sock")
    with open(rules, "w") as f:
        f.write(RULES)
    daemon_out = open(os.path.join(work, "daemon.out"), "w")
    daemon = spawn("router", binary, "run", "--hook", "forward", "--rules", rules, "--log", log, "--control", control,
                   "--state", os.path.join(work, "state"), "--pid-file", "none", output=daemon_out)
    processes.append(daemon)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and "synwall: ready" not in open(os.path.join(work, "daemon.out")).read():
        time.sleep(0.2)
    # The daemon's own pid: `ip netns exec` execs the command in place.
    pid = daemon.pid
    print("soak: synwall %s, pid %d, %.0f minutes, work %s" % (binary, pid, seconds / 60, work), flush=True)

    for command in (("peer", "download-server", "--port", "8080", "--rate", str(25 << 20)),
                    ("peer", "listen", "--port", "7"), ("peer", "listen", "--port", "22")):
        processes.append(spawn("server", testbed, *command))
    processes.append(spawn("server", sys.executable, me, "--role", "udpecho"))
    time.sleep(1)

    outputs = {}

    def start_role(name, *args):
        path = os.path.join(work, name + ".out")
        outputs[name] = path
        process = spawn("client", sys.executable, me, "--role", name, *map(str, args), output=open(path, "w"))
        processes.append(process)
        return process

    keepalive = start_role("keepalive", 50, seconds - 20)
    short = start_role("short", 1000, seconds - 15)
    udp = start_role("udp", 50, seconds - 15)
    ping = spawn("client", "ping", "-q", "-i", "0.2", "-w", str(int(seconds - 15)), SERVER,
                 output=open(os.path.join(work, "ping.out"), "w"))
    processes.append(ping)

    tally = Tally()
    stop = threading.Event()
    started = time.monotonic()

    def downloads():
        while not stop.is_set() and time.monotonic() - started < seconds - 30:
            result = subprocess.run(("ip", "netns", "exec", NS["client"], testbed, "peer", "download", SERVER, "8080",
                                     "--bytes", str(200 << 20), "--progress", "5", "--idle-timeout", "10"),
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
            tally.add("download ok" if result.returncode == 0 else "download fail")
            if result.returncode != 0:
                tally.add("download errors: " + result.stderr.strip()[:200])

    def attacks():
        while not stop.wait(60):
            run(testbed, "peer", "syn-flood", SERVER, "8080", "--count", "1000", namespace="attacker", check=False)
            run(testbed, "peer", "scan", SERVER, "--source", ATTACKER, "--interface", "eth0", "--wait", "1",
                namespace="attacker", check=False)
            run(testbed, "peer", "brute-force", SERVER, "22", "--attempts", "12", namespace="attacker", check=False)
            for _ in range(100):
                run(testbed, "peer", "inject", "--source", SERVER, "--source-port", "8080", "--destination", CLIENT,
                    "--destination-port", str(random.randint(32768, 60999)), "--flags", "R",
                    "--seq", str(random.randint(0, 2**32 - 1)), namespace="attacker", check=False)
            tally.add("attack rounds")

    def reloads():
        n = 0
        while not stop.wait(10):
            n += 1
            broken = n % 5 == 0
            if broken:
                with open(rules, "w") as f:
                    f.write(RULES + "pass forward proto tcp to port nonsense\n")
            result = run(binary, "reload", "--control", control, check=False, timeout=30)
            answered = "reloaded" in result.stdout + result.stderr or "reload failed" in result.stdout + result.stderr \
                or "running rules stay" in result.stdout + result.stderr
            tally.add("reloads")
            if not answered:
                tally.add("reloads unanswered")
                tally.add("reload said: " + (result.stdout + result.stderr).strip()[:200])
            if broken:
                tally.add("broken reloads refused" if result.returncode != 0 else "broken reloads ACCEPTED")
                with open(rules, "w") as f:
                    f.write(RULES)

    def rotations():
        n = 0
        while not stop.wait(30):
            n += 1
            if os.path.exists(log):
                os.rename(log, "%s.%d" % (log, n))
                for old in range(1, n - 2):
                    try:
                        os.remove("%s.%d" % (log, old))
                    except FileNotFoundError:
                        pass
            os.kill(pid, signal.SIGUSR1)
            tally.add("rotations")

    samples = []

    def sampler():
        while not stop.wait(1):
            try:
                status = open("/proc/%d/status" % pid).read()
                rss = int(next(l for l in status.splitlines() if l.startswith("VmRSS:")).split()[1])
                threads = int(next(l for l in status.splitlines() if l.startswith("Threads:")).split()[1])
                fds = len(os.listdir("/proc/%d/fd" % pid))
            except (OSError, StopIteration):
                tally.add("sample failures")
                continue
            result = run(binary, "stats", "--control", control, "--json", check=False, timeout=10)
            tally.add("queries")
            counters = {}
            if result.returncode == 0:
                try:
                    counters = json.loads(result.stdout)
                except ValueError:
                    tally.add("queries unreadable")
            else:
                tally.add("queries failed")
            samples.append((time.monotonic() - started, rss, fds, threads, counters))

    threads = [threading.Thread(target=f, daemon=True) for f in (downloads, attacks, reloads, rotations, sampler)]
    for t in threads:
        t.start()
    last_report = 0
    while time.monotonic() - started < seconds:
        time.sleep(5)
        if daemon.poll() is not None:
            print("soak: the daemon DIED (%s)" % daemon.returncode, flush=True)
            break
        elapsed = time.monotonic() - started
        if elapsed - last_report >= 60 and samples:
            last_report = elapsed
            t, rss, fds, thr, _ = samples[-1]
            print("soak: %4.0f s  rss %.1f MB  fds %d  threads %d  downloads %d ok %d failed  %s" % (
                t, rss / 1024, fds, thr, tally.get("download ok"), tally.get("download fail"),
                open(outputs["short"]).read().strip().split("\n")[-1] if os.path.exists(outputs["short"]) else ""),
                flush=True)
    stop.set()
    for t in threads:
        t.join(130)
    for process in (keepalive, short, udp, ping):
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
    daemon.send_signal(signal.SIGTERM)
    try:
        daemon.wait(30)
    except subprocess.TimeoutExpired:
        daemon.kill()
    daemon_out.close()
    return verdict(work, outputs, samples, tally, seconds)


def slope(points):
    """Least-squares slope of (x, y) points, per unit of x."""
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else 0.0


def last_line(path, prefix):
    try:
        lines = [l for l in open(path).read().splitlines() if l.startswith(prefix)]
        return lines[-1] if lines else ""
    except OSError:
        return ""


def verdict(work, outputs, samples, tally, seconds):
    ok = True
    print("\nsoak verdict after %.0f minutes (%d samples)" % (seconds / 60, len(samples)))
    half = [s for s in samples if s[0] >= seconds / 2]
    warm = [s for s in samples if s[0] >= min(300, seconds / 4)]
    if samples:
        rss_slope = slope([(s[0] / 60, s[1]) for s in half])
        rss_warm = slope([(s[0] / 60, s[1]) for s in warm])
        fd_slope = slope([(s[0] / 60, s[2]) for s in half])
        rss = [s[1] / 1024 for s in samples]
        fds = [s[2] for s in samples]
        thr = [s[3] for s in samples]
        print("  RSS: %.1f MB at start, %.1f MB at the end, %.1f MB at most; slope %.1f kB/min over the second half, "
              "%.1f kB/min after warm-up" % (rss[0], rss[-1], max(rss), rss_slope, rss_warm))
        print("  descriptors %d..%d (slope %.3f a minute), threads %d..%d" % (min(fds), max(fds), fd_slope, min(thr),
                                                                             max(thr)))
        if abs(rss_slope) > 50:
            print("  FAIL: RSS grows more than 50 kB a minute over the second half")
            ok = False
        if max(fds[len(fds) // 4:]) - min(fds[len(fds) // 4:]) > 8:
            print("  FAIL: descriptors not flat after warm-up")
            ok = False
    short = last_line(outputs["short"], "short")
    udp = last_line(outputs["udp"], "udp")
    keep = last_line(outputs["keepalive"], "keepalive ok")
    ping = open(os.path.join(work, "ping.out")).read()
    loss = next((l for l in ping.splitlines() if "packet loss" in l), "no ping summary")
    print("  short connections: %s; UDP: %s; keep-alive: %s; ping: %s" % (short, udp, keep, loss.strip()))
    print("  downloads of 200 MB: %d complete, %d failed" % (tally.get("download ok"), tally.get("download fail")))
    for key in sorted(tally.values):
        if key.startswith("download errors") or key.startswith("reload said"):
            print("   ", key)
    if " fail=0" not in short or " fail=0" not in udp or not keep.endswith("=50/50") or " 0% packet loss" not in loss \
            or tally.get("download fail") or not tally.get("download ok"):
        print("  FAIL: the honest traffic had failures")
        ok = False
    print("  reloads %d (%d broken, refused: %d), unanswered %d; rotations %d; queries %d (failed %d); attack rounds %d"
          % (tally.get("reloads"), tally.get("broken reloads refused") + tally.get("broken reloads ACCEPTED"),
             tally.get("broken reloads refused"), tally.get("reloads unanswered"), tally.get("rotations"),
             tally.get("queries"), tally.get("queries failed"), tally.get("attack rounds")))
    if tally.get("reloads unanswered") or tally.get("broken reloads ACCEPTED") or tally.get("queries failed"):
        ok = False
    stop_line = last_line(os.path.join(work, "daemon.out"), "synwall: stopped:")
    print("  " + stop_line)
    fields = dict(w.split("=", 1) for w in stop_line.split() if "=" in w)
    if fields.get("events_lost") != "0" or fields.get("verdict_errors") != "0":
        print("  FAIL: events lost or verdict errors")
        ok = False
    print("soak: %s" % ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
