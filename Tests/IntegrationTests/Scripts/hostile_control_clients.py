# Hostile clients of the control socket: 40 that connect and say nothing, one that sends a
# megabyte without a newline, one that sends garbage (prints the answer), one that asks for
# the connections and never reads.
# usage: hostile_control_clients.py SOCKET SECONDS
import socket, sys, time
path = sys.argv[1]
idle = []
for _ in range(40):
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(path)
        idle.append(s)
    except OSError:
        pass
big = socket.socket(socket.AF_UNIX); big.connect(path)
big.setblocking(False)
try:
    big.send(b"x" * 1000000)
except OSError:
    pass
junk = socket.socket(socket.AF_UNIX); junk.connect(path)
junk.sendall(b"\x00\xff{not json\n")
print("junk answer:", junk.recv(1000).decode(errors="replace").strip(), flush=True)
deaf = socket.socket(socket.AF_UNIX); deaf.connect(path)
deaf.sendall(b'{"command":"conns"}\n')
print("hostile clients connected:", len(idle), flush=True)
time.sleep(float(sys.argv[2]))
