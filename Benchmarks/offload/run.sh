#!/usr/bin/env bash
# Offload benchmark (issue 17, docs/offload.md): TCP throughput (1 and 4 streams, iperf3) and
# the round trip of an established TCP connection (a ping-pong of 1-byte messages after 200
# warm-up exchanges, median) through a router namespace, for: no rule; Linux conntrack dropping
# INVALID; synwall on the forward hook; synwall with `set offload after 20`. Runs the modes
# alternately, --runs times each, and prints the medians and the ratios to conntrack. A program
# that prints figures; it asserts nothing.
#
#   sudo Benchmarks/offload/run.sh [--seconds S] [--runs N]
#
# Needs root, iperf3, iproute2, iptables, python3; the synwall binary is $SYNWALL_BINARY or
# .build/release/synwall (build it with `swift build -c release`).
set -euo pipefail
export LC_ALL=C
seconds=5
runs=3
while (($#)); do
	case $1 in
	--seconds) seconds=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	-h | --help) sed -n '2,13p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown option $1 (see --help)" >&2; exit 64 ;;
	esac
done
[[ $seconds =~ ^[0-9]+$ && $runs =~ ^[0-9]+$ ]] || { echo "run.sh: --seconds and --runs take whole numbers" >&2; exit 64; }
((EUID == 0)) || { echo "run.sh: needs root (network namespaces, iptables)" >&2; exit 1; }
for tool in iperf3 ip iptables python3; do
	command -v "$tool" >/dev/null || { echo "run.sh: '$tool' not found (apt-get install $tool)" >&2; exit 1; }
done
root=$(cd "$(dirname "$0")/../.." && pwd)
synwall=${SYNWALL_BINARY:-$root/.build/release/synwall}
[[ -x $synwall ]] || { echo "run.sh: no synwall binary at $synwall (swift build -c release)" >&2; exit 1; }

tag=ob$$
c=$tag-c r=$tag-r s=$tag-s
work=$(mktemp -d /tmp/synwall-offload-XXXXXX)
daemon=""
cleanup() {
	set +e
	[[ -n $daemon ]] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
	for ns in "$c" "$r" "$s"; do ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null; ip netns del "$ns" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT

# client 10.231.1.2 — router — server 10.231.2.2
for ns in "$c" "$r" "$s"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip link add "$tag-a" netns "$c" type veth peer name ra netns "$r"
ip link add "$tag-b" netns "$s" type veth peer name rb netns "$r"
ip -n "$c" link set "$tag-a" name eth0; ip -n "$s" link set "$tag-b" name eth0
ip -n "$c" addr add 10.231.1.2/24 dev eth0; ip -n "$r" addr add 10.231.1.1/24 dev ra
ip -n "$s" addr add 10.231.2.2/24 dev eth0; ip -n "$r" addr add 10.231.2.1/24 dev rb
for pair in "$c eth0" "$s eth0" "$r ra" "$r rb"; do set -- $pair; ip -n "$1" link set "$2" up; done
ip -n "$c" route add default via 10.231.1.1; ip -n "$s" route add default via 10.231.2.1
ip netns exec "$r" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$s" iperf3 -s -D -p 5201 >/dev/null 2>&1
cat > "$work/pong.py" <<'PY'
import socket, statistics, sys, time
if sys.argv[1] == "server":
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", 7000)); s.listen(8)
    while True:
        c, _ = s.accept(); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            b = c.recv(64)
            if not b: break
            c.sendall(b)
        c.close()
c = socket.create_connection((sys.argv[2], 7000), timeout=10)
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
times = []
for i in range(200 + int(sys.argv[3])):
    t = time.perf_counter_ns(); c.sendall(b"x"); c.recv(64); d = time.perf_counter_ns() - t
    if i >= 200: times.append(d)
c.close()
print(statistics.median(times) / 1000.0)
PY
ip netns exec "$s" python3 "$work/pong.py" server >/dev/null 2>&1 &
printf 'set offload after 20\npass all\n' > "$work/offload.rules"
sleep 0.5

start_mode() {
	case $1 in
	none) ;;
	conntrack) ip netns exec "$r" iptables -A FORWARD -m conntrack --ctstate INVALID -j DROP ;;
	synwall | offload)
		local args=(run --attach iptables --hook forward --control none --state none --pid-file none)
		if [[ $1 == offload ]]; then args+=(--rules "$work/offload.rules"); else args+=(--rules none); fi
		ip netns exec "$r" "$synwall" "${args[@]}" > "$work/daemon.out" 2>&1 &
		daemon=$!
		for _ in $(seq 100); do grep -q 'synwall: ready' "$work/daemon.out" && break; sleep 0.1; done
		grep -q 'synwall: ready' "$work/daemon.out" || { cat "$work/daemon.out" >&2; exit 1; } ;;
	esac
}
stop_mode() {
	case $1 in
	conntrack) ip netns exec "$r" iptables -D FORWARD -m conntrack --ctstate INVALID -j DROP ;;
	synwall | offload) kill "$daemon"; wait "$daemon" || true; daemon="" ;;
	esac
	ip netns exec "$r" sh -c 'command -v conntrack >/dev/null && conntrack -F' >/dev/null 2>&1 || true
}
gbits() { python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))'; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

modes=(none conntrack synwall offload)
declare -A one four rtt
for ((run = 1; run <= runs; run++)); do
	for mode in "${modes[@]}"; do
		start_mode "$mode"
		one[$mode]+="$(ip netns exec "$c" iperf3 -c 10.231.2.2 -t "$seconds" -J | gbits) "
		four[$mode]+="$(ip netns exec "$c" iperf3 -c 10.231.2.2 -t "$seconds" -P 4 -J | gbits) "
		rtt[$mode]+="$(ip netns exec "$c" python3 "$work/pong.py" client 10.231.2.2 2000) "
		stop_mode "$mode"
	done
done

echo "synwall offload benchmark: $runs alternating runs of ${seconds}s, $(uname -r), $(nproc) CPUs, commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
printf '%-34s %12s %12s %14s   %s\n' "path through the router" "1 stream" "4 streams" "round trip" "(medians; Gbit/s, µs)"
base1=$(echo ${one[conntrack]} | tr ' ' '\n' | median)
base4=$(echo ${four[conntrack]} | tr ' ' '\n' | median)
baser=$(echo ${rtt[conntrack]} | tr ' ' '\n' | median)
declare -A names=([none]="no rule" [conntrack]="Linux conntrack, INVALID dropped" [synwall]="synwall, no offload" [offload]="synwall, set offload after 20")
for mode in "${modes[@]}"; do
	m1=$(echo ${one[$mode]} | tr ' ' '\n' | median)
	m4=$(echo ${four[$mode]} | tr ' ' '\n' | median)
	mr=$(echo ${rtt[$mode]} | tr ' ' '\n' | median)
	printf '%-34s %12s %12s %14s   ratio to conntrack: %s, %s; round trip %+.1f µs\n' "${names[$mode]}" "$m1" "$m4" "$mr" \
		"$(awk -v a="$m1" -v b="$base1" 'BEGIN {printf "%.2f", a / b}')" \
		"$(awk -v a="$m4" -v b="$base4" 'BEGIN {printf "%.2f", a / b}')" \
		"$(awk -v a="$mr" -v b="$baser" 'BEGIN {print a - b}')"
	echo "    runs: 1 stream ${one[$mode]}| 4 streams ${four[$mode]}| rtt ${rtt[$mode]}"
done
