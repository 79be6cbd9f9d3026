# A client that keeps one connection open for SECONDS, sending a line every 100 ms and
# expecting each echo; prints "ok N" or "failed after N …".
# usage: long_connection.py HOST PORT SECONDS
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
end = time.time() + float(sys.argv[3])
n = 0
try:
    while time.time() < end:
        s.sendall(b"ping %d\n" % n)
        got = b""
        while not got.endswith(b"\n"):
            chunk = s.recv(100)
            if not chunk:
                raise OSError("closed by peer")
            got += chunk
        n += 1
        time.sleep(0.1)
    print("ok", n, flush=True)
except OSError as e:
    print("failed after", n, e, flush=True)
