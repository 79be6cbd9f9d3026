#!/usr/bin/python3
"""Plays systemd's part for synwall's file-descriptor handover (sd_notify(3), sd_listen_fds(3)).

fake_service_manager.py WORKDIR SYNWALL [RUN ARGUMENTS...]

Runs in the firewall's network namespace. Starts `SYNWALL run ARGUMENTS` with NOTIFY_SOCKET set
to a datagram socket of its own, keeps every descriptor the daemon stores (FDSTORE=1, FDNAME=…)
and prints what it receives. Then, driven by files the test creates in WORKDIR:
  crash   -> kill -9 the daemon (the stored sockets stay open here, as systemd keeps them);
  restart -> start it again with the stored descriptors handed over as LISTEN_FDS from fd 3,
             LISTEN_PID and LISTEN_FDNAMES set as systemd sets them;
  stop    -> SIGTERM the daemon, wait for it, exit.
Each daemon's output goes to WORKDIR/daemon-N.out. Every wait is bounded.
"""
import os
import signal
import socket
import subprocess
import sys
import time

workdir, binary, arguments = sys.argv[1], sys.argv[2], sys.argv[3:]
notify_path = os.path.join(workdir, "notify.sock")
notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
notify.bind(notify_path)
notify.settimeout(0.2)
store = {}  # name -> fd


def say(line):
    print(line, flush=True)


def pump(seconds, until=None):
    """Receives notifications for up to `seconds`, or until a message contains `until`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            message, fds, _, _ = socket.recv_fds(notify, 4096, 16)
        except socket.timeout:
            continue
        text = message.decode(errors="replace")
        fields = dict(line.split("=", 1) for line in text.split("\n") if "=" in line)
        if fields.get("FDSTORE") == "1":
            name = fields.get("FDNAME", "stored")
            if name in store:
                os.close(store[name])
            store[name] = fds[0]
            for extra in fds[1:]:
                os.close(extra)
            say("stored %s" % name)
        else:
            for fd in fds:
                os.close(fd)
        for line in text.split("\n"):
            if line.startswith("READY=") or line.startswith("STOPPING=") or line.startswith("STATUS="):
                say("notify %s" % line)
        if until and until in text:
            return True
    return False


def start(number, handover):
    output = open(os.path.join(workdir, "daemon-%d.out" % number), "w")
    env = dict(os.environ, NOTIFY_SOCKET=notify_path)
    if not handover:
        return subprocess.Popen([binary, "run"] + arguments, stdout=output, stderr=subprocess.STDOUT, env=env)
    names = sorted(store)
    # Each stored socket to 3, 4, … in the child, as systemd does; LISTEN_PID is the shell's
    # own pid, which `exec` hands to synwall.
    moves, passed = [], []
    for index, name in enumerate(names):
        high = 9 - index  # dash redirects single-digit descriptors only
        os.dup2(store[name], high)
        passed.append(high)
        moves.append("exec %d<&%d %d<&-" % (3 + index, high, high))
    script = "; ".join(moves + ['LISTEN_PID=$$ LISTEN_FDS=%d LISTEN_FDNAMES=%s exec "$0" run "$@"'
                                % (len(names), ":".join(names))])
    process = subprocess.Popen(["/bin/sh", "-c", script, binary] + arguments, stdout=output,
                               stderr=subprocess.STDOUT, env=env, pass_fds=passed)
    for high in passed:
        os.close(high)
    return process


def wait_for(name, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if os.path.exists(os.path.join(workdir, name)):
            return True
        pump(0.2)
    return False


def start_ready(number, handover):
    """Starts daemon `number` and waits for its READY=1 (exits when it never comes)."""
    daemon = start(number, handover)
    if not pump(15, until="READY=1"):
        say("daemon %d never said READY=1" % number)
        daemon.kill()
        sys.exit(1)
    say("ready %d pid %d" % (number, daemon.pid))
    return daemon


daemon = start_ready(1, handover=False)
if not wait_for("crash", 120):
    daemon.kill()
    sys.exit(1)
os.kill(daemon.pid, signal.SIGKILL)
daemon.wait(10)
say("killed 1")
if not wait_for("restart", 60):
    sys.exit(1)
daemon = start_ready(2, handover=True)
if not wait_for("stop", 120):
    daemon.kill()
    sys.exit(1)
daemon.send_signal(signal.SIGTERM)
try:
    status = daemon.wait(15)
except subprocess.TimeoutExpired:
    daemon.kill()
    status = -9
pump(0.5)
say("stopped 2 status %d" % status)
