#!/usr/bin/env bash
# NFQUEUE benchmark: the kernel alone, a minimal C accept-all reader, and synwall,
# measured in the same two-namespace test bed. See README.md next to this file.
#
#   sudo Benchmarks/nfqueue/run.sh [--seconds S] [--runs N] [--backlog N] [--skip-synwall]
#
# Needs root, cc, libnetfilter-queue-dev, libmnl-dev, iptables, iproute2, taskset.
set -euo pipefail
export LC_ALL=C

usage() {
	cat <<'EOF'
usage: run.sh [options]
  --seconds S        flood duration per throughput run (default 5)
  --runs N           repetitions of each measurement (default 3)
  --backlog N        packets queued for the drain measurement (default 50000)
  --copy-range B     copy range for both consumers (default 512)
  --maxlen N         queue max length for both consumers (default 65536)
  --rcvbuf B         socket receive buffer for both consumers (default 67108864)
  --gen-cpu C        CPU for the generator (default 0)
  --consumer-cpu C   CPU for the consumer (default 1)
  --skip-synwall     measure only the kernel and the C reader
  -h, --help         this text
The synwall binary is $SYNWALL_BINARY, or .build/release/synwall in the repository;
$SYNWALL_COMMIT names the commit an external binary was built from.
EOF
}

RUN_SECONDS=5
RUNS=3
BACKLOG=50000
COPY_RANGE=512
MAXLEN=65536
RCVBUF=$((64 << 20))
GEN_CPU=0
CONSUMER_CPU=1
SKIP_SYNWALL=0
PORT=9000
QUEUE=0

die() { echo "run.sh: error: $*" >&2; exit 1; }
need_number() { [[ $2 =~ ^[0-9]+$ ]] || die "$1 needs a whole number, got '$2'"; }

while (($# > 0)); do
	case $1 in
	--seconds) need_number "$1" "${2-}"; RUN_SECONDS=$2; shift 2 ;;
	--runs) need_number "$1" "${2-}"; RUNS=$2; shift 2 ;;
	--backlog) need_number "$1" "${2-}"; BACKLOG=$2; shift 2 ;;
	--copy-range) need_number "$1" "${2-}"; COPY_RANGE=$2; shift 2 ;;
	--maxlen) need_number "$1" "${2-}"; MAXLEN=$2; shift 2 ;;
	--rcvbuf) need_number "$1" "${2-}"; RCVBUF=$2; shift 2 ;;
	--gen-cpu) need_number "$1" "${2-}"; GEN_CPU=$2; shift 2 ;;
	--consumer-cpu) need_number "$1" "${2-}"; CONSUMER_CPU=$2; shift 2 ;;
	--skip-synwall) SKIP_SYNWALL=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown option '$1'" ;;
	esac
done
((RUN_SECONDS >= 1 && RUN_SECONDS <= 600)) || die "--seconds must be 1..600"
((RUNS >= 1 && RUNS <= 50)) || die "--runs must be 1..50"
((BACKLOG >= 1 && BACKLOG <= 65536)) || die "--backlog must be 1..65536 (the kernel's in-flight cap per queue)"
((BACKLOG <= MAXLEN)) || die "--backlog must not exceed --maxlen"
((EUID == 0)) || die "needs root (network namespaces, iptables, NFQUEUE)"
for tool in cc ip iptables taskset; do
	command -v "$tool" >/dev/null || die "'$tool' not found"
done

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(git -C "$script_dir" rev-parse --show-toplevel 2>/dev/null || (cd "$script_dir/../.." && pwd))
SYNWALL=${SYNWALL_BINARY:-$repo_root/.build/release/synwall}
if ((SKIP_SYNWALL == 0)) && [[ ! -x $SYNWALL ]]; then
	die "no synwall binary at $SYNWALL; build it with 'swift build -c release' in $repo_root, set \$SYNWALL_BINARY, or pass --skip-synwall"
fi

# ---------------------------------------------------------------- state and cleanup

work=$(mktemp -d /tmp/nfq-bench.XXXXXX)
GEN_NS=nfqb-gen-$$
SINK_NS=nfqb-sink-$$
GEN_IF=nfqbg$$
SINK_IF=nfqbs$$
GEN_ADDR=10.213.0.1
SINK_ADDR=10.213.0.2
consumer_pid=""
sleep_fd=""

cleanup() {
	set +e
	if [[ -n $consumer_pid ]]; then
		kill -CONT "$consumer_pid" 2>/dev/null
		kill -TERM "$consumer_pid" 2>/dev/null
		for _ in $(seq 50); do alive "$consumer_pid" || break; sleep 0.1; done
		kill -KILL "$consumer_pid" 2>/dev/null
		wait "$consumer_pid" 2>/dev/null
	fi
	ip netns del "$GEN_NS" 2>/dev/null
	ip netns del "$SINK_NS" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A fork-free sleep for the 1 ms polling loop: read with a timeout on a pipe nobody writes.
exec {sleep_fd}<> <(:)
nap() { read -r -t "$1" -u "$sleep_fd" _ || true; }

# Whether a process is still running (a zombie counts as gone).
alive() {
	local stat
	[[ -r /proc/$1/stat ]] || return 1
	read -r stat <"/proc/$1/stat" 2>/dev/null || return 1
	stat=${stat##*) }
	[[ ${stat:0:1} != Z ]]
}

# CPU time (ns) the consumer's threads have used so far, from /proc/PID/task/*/schedstat,
# without forking: sets cpu_ns.
consumer_cpu_ns() {
	local f t sum=0
	for f in /proc/"$1"/task/*/schedstat; do
		read -r t _ <"$f" 2>/dev/null || continue
		sum=$((sum + t))
	done
	cpu_ns=$sum
}

in_sink() { ip netns exec "$SINK_NS" "$@"; }
in_gen() { ip netns exec "$GEN_NS" "$@"; }

# ---------------------------------------------------------------- build and test bed

cc -O2 -Wall -o "$work/nfq-reader" "$script_dir/nfq-reader.c" -lnetfilter_queue -lmnl
cc -O2 -Wall -o "$work/udp-flood" "$script_dir/udp-flood.c"

ip netns add "$GEN_NS"
ip netns add "$SINK_NS"
ip link add "$GEN_IF" netns "$GEN_NS" type veth peer name "$SINK_IF" netns "$SINK_NS"
ip -n "$GEN_NS" link set lo up
ip -n "$SINK_NS" link set lo up
ip -n "$GEN_NS" addr add "$GEN_ADDR/24" dev "$GEN_IF"
ip -n "$SINK_NS" addr add "$SINK_ADDR/24" dev "$SINK_IF"
ip -n "$GEN_NS" link set "$GEN_IF" up
ip -n "$SINK_NS" link set "$SINK_IF" up
# Static neighbour entries: no ARP during a run, nothing held in an unresolved queue.
sink_mac=$(ip -n "$SINK_NS" -br link show dev "$SINK_IF" | awk '{print $3}')
gen_mac=$(ip -n "$GEN_NS" -br link show dev "$GEN_IF" | awk '{print $3}')
ip -n "$GEN_NS" neigh replace "$SINK_ADDR" lladdr "$sink_mac" dev "$GEN_IF" nud permanent
ip -n "$SINK_NS" neigh replace "$GEN_ADDR" lladdr "$gen_mac" dev "$SINK_IF" nud permanent

# The sink: mangle INPUT holds the case's rule (ACCEPT, or NFQUEUE); filter INPUT drops
# every flood packet that got through, so no socket or ICMP work follows and its
# counter is the exact number of packets that passed.
in_sink iptables -t filter -A INPUT -p udp --dport "$PORT" -j DROP
set_mangle_rule() { # ACCEPT | NFQUEUE
	in_sink iptables -t mangle -F INPUT
	if [[ $1 == NFQUEUE ]]; then
		in_sink iptables -t mangle -A INPUT -p udp --dport "$PORT" -j NFQUEUE --queue-num "$QUEUE"
	else
		in_sink iptables -t mangle -A INPUT -p udp --dport "$PORT" -j ACCEPT
	fi
	in_sink iptables -t filter -Z INPUT
}
passed_count() {
	in_sink iptables -t filter -nvxL INPUT | awk '$3 == "DROP" { print $1; exit }'
}

# Fields of queue $QUEUE in the consumer's namespace, read through /proc/PID/net without
# forking: sets q_len, q_dropped, q_user_dropped (empty when the queue does not exist).
read_queue() {
	local num portid len mode range dropped user_dropped rest
	q_len="" q_dropped="" q_user_dropped=""
	alive "$1" || die "the consumer (pid $1) has exited; its output: $(tail -n 3 "$work/consumer.log" 2>/dev/null)"
	while read -r num portid len mode range dropped user_dropped rest; do
		if [[ $num == "$QUEUE" ]]; then
			q_len=$len q_dropped=$dropped q_user_dropped=$user_dropped
			return 0
		fi
	done <"/proc/$1/net/netfilter/nfnetlink_queue"
	return 0
}

# ---------------------------------------------------------------- consumers

# start_consumer c|synwall: starts it in the sink on CONSUMER_CPU, waits (bounded) for ready.
start_consumer() {
	local log=$work/consumer.log pattern
	: >"$log"
	if [[ $1 == c ]]; then
		pattern='^nfq-reader: ready'
		# Not through in_sink: $! must be the consumer itself (ip netns exec and taskset exec).
		ip netns exec "$SINK_NS" taskset -c "$CONSUMER_CPU" "$work/nfq-reader" -q "$QUEUE" -r "$COPY_RANGE" \
			-m "$MAXLEN" -b "$RCVBUF" >"$log" 2>&1 &
	else
		pattern='^synwall: ready'
		ip netns exec "$SINK_NS" taskset -c "$CONSUMER_CPU" "$SYNWALL" run --attach none --queue "$QUEUE" \
			--queue-maxlen "$MAXLEN" --copy-range "$COPY_RANGE" --receive-buffer "$RCVBUF" \
			>"$log" 2>&1 &
	fi
	consumer_pid=$!
	for _ in $(seq 200); do
		grep -q "$pattern" "$log" && return 0
		alive "$consumer_pid" || break
		sleep 0.05
	done
	echo "--- consumer output:" >&2
	cat "$log" >&2
	die "the $1 consumer did not report ready within 10 s"
}

# stop_consumer: SIGTERM, bounded wait; sets stopped_line to the consumer's final line.
stop_consumer() {
	local pid=$consumer_pid
	kill -CONT "$pid" 2>/dev/null || true
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 100); do alive "$pid" || break; sleep 0.05; done
	if alive "$pid"; then
		kill -KILL "$pid" 2>/dev/null || true
		echo "run.sh: warning: consumer $pid ignored SIGTERM for 5 s; killed" >&2
	fi
	wait "$pid" 2>/dev/null || true
	consumer_pid=""
	stopped_line=$(grep -E '^(nfq-reader|synwall): stopped' "$work/consumer.log" | tail -n 1 || true)
}

# Waits (bounded, 5 s) until the consumer's queue is empty.
wait_queue_empty() {
	for _ in $(seq 5000); do
		read_queue "$1"
		[[ $q_len == 0 ]] && return 0
		nap 0.001
	done
	echo "run.sh: warning: queue still holds $q_len packets after 5 s" >&2
}

flood_field() { # flood_field NAME "udp-flood: sent=.. elapsed=.."
	local word
	for word in $2; do
		[[ $word == "$1="* ]] && { echo "${word#*=}"; return 0; }
	done
	die "udp-flood printed no $1: '$2'"
}

flood() { # flood ARGS... -> prints udp-flood's line
	in_gen taskset -c "$GEN_CPU" "$work/udp-flood" -d "$SINK_ADDR" -p "$PORT" "$@"
}

# ---------------------------------------------------------------- measurements

# throughput kernel|c|synwall -> appends packets/s to the array named results_<case>
throughput() {
	local kind=$1 line sent elapsed passed rate stopped="" cpu0=0 per_packet="-"
	if [[ $kind == kernel ]]; then
		set_mangle_rule ACCEPT
	else
		set_mangle_rule NFQUEUE
		start_consumer "$kind"
		consumer_cpu_ns "$consumer_pid"
		cpu0=$cpu_ns
	fi
	line=$(flood -t "$RUN_SECONDS")
	passed=$(passed_count)
	sent=$(flood_field sent "$line")
	elapsed=$(flood_field elapsed "$line")
	local drops="-"
	if [[ $kind != kernel ]]; then
		wait_queue_empty "$consumer_pid"
		consumer_cpu_ns "$consumer_pid"
		read_queue "$consumer_pid"
		drops="queue_dropped=$q_dropped user_dropped=$q_user_dropped"
		# Consumer CPU per packet verdicted, over the flood and its tail.
		per_packet=$(awk -v c=$((cpu_ns - cpu0)) -v n="$(passed_count)" 'BEGIN { printf "%.0f", (n > 0 ? c / n : 0) }')
		stop_consumer
		stopped=$stopped_line
		eval "cpu_$kind+=(\"$per_packet\")"
	fi
	rate=$(awk -v p="$passed" -v e="$elapsed" 'BEGIN { printf "%.0f", p / e }')
	printf '  %-8s sent=%-9s passed=%-9s in %.2f s -> %8s pkt/s  consumer %s ns/pkt  %s\n' \
		"$kind" "$sent" "$passed" "$elapsed" "$rate" "$per_packet" "$drops"
	[[ -n $stopped ]] && printf '           %s\n' "$stopped"
	eval "results_$kind+=(\"$rate\")"
}

# drain c|synwall -> appends packets/s to the array named drain_<case>
drain() {
	local kind=$1 line queued t0 t1 rate stopped
	set_mangle_rule NFQUEUE
	start_consumer "$kind"
	kill -STOP "$consumer_pid"
	line=$(flood -n "$BACKLOG" -t 30)
	# Wait (bounded, 2 s) until the queue length stops growing.
	local previous=-1
	for _ in $(seq 200); do
		read_queue "$consumer_pid"
		[[ $q_len == "$previous" ]] && break
		previous=$q_len
		nap 0.01
	done
	queued=$q_len
	if [[ $queued != "$BACKLOG" ]]; then
		echo "run.sh: warning: $queued of $BACKLOG packets queued (queue_dropped=$q_dropped user_dropped=$q_user_dropped); timing those" >&2
	fi
	consumer_cpu_ns "$consumer_pid"
	local cpu0=$cpu_ns
	t0=$EPOCHREALTIME
	kill -CONT "$consumer_pid"
	local done=0
	for _ in $(seq 10000); do # ~1 ms per poll, at most ~10 s
		read_queue "$consumer_pid"
		if [[ $q_len == 0 ]]; then
			done=1
			break
		fi
		nap 0.001
	done
	t1=$EPOCHREALTIME
	((done == 1)) || die "the $kind consumer left $q_len packets queued after 10 s"
	consumer_cpu_ns "$consumer_pid"
	local per_packet
	per_packet=$(awk -v c=$((cpu_ns - cpu0)) -v n="$queued" 'BEGIN { printf "%.0f", (n > 0 ? c / n : 0) }')
	local passed
	passed=$(passed_count)
	stop_consumer
	stopped=$stopped_line
	rate=$(awk -v n="$queued" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
	printf '  %-8s queued=%-6s drained in %.1f ms -> %8s pkt/s  consumer %s ns/pkt  (passed=%s; %s sent)\n' \
		"$kind" "$queued" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) * 1000 }')" \
		"$rate" "$per_packet" "$passed" "$(flood_field sent "$line")"
	[[ -n $stopped ]] && printf '           %s\n' "$stopped"
	eval "drain_$kind+=(\"$rate\")"
	eval "dcpu_$kind+=(\"$per_packet\")"
}

# summary VALUES... -> "mean min max"
summary() {
	printf '%s\n' "$@" | awk 'NR == 1 { min = $1; max = $1 }
		{ sum += $1; if ($1 < min) min = $1; if ($1 > max) max = $1 }
		END { printf "%.0f %.0f %.0f\n", sum / NR, min, max }'
}

# ---------------------------------------------------------------- run

results_kernel=() results_c=() results_synwall=() drain_c=() drain_synwall=()
cpu_c=() cpu_synwall=() dcpu_c=() dcpu_synwall=()
# The script itself (its polling loop, iptables calls) stays off the consumer's CPU.
taskset -pc "$GEN_CPU" $$ >/dev/null
consumers=(c)
((SKIP_SYNWALL == 1)) || consumers+=(synwall)

# The commit measured: this checkout's, unless $SYNWALL_COMMIT names the one an external
# $SYNWALL_BINARY was built from.
commit=${SYNWALL_COMMIT:-$(git -C "$repo_root" rev-parse --short HEAD 2>/dev/null || echo unknown)}
if [[ -n ${SYNWALL_BINARY-} && -z ${SYNWALL_COMMIT-} ]]; then
	commit="$commit (checkout; the binary comes from \$SYNWALL_BINARY, set \$SYNWALL_COMMIT to name its commit)"
fi
echo "NFQUEUE benchmark: synwall commit $commit, kernel $(uname -r), $(nproc --all) CPUs"
echo "  ${RUN_SECONDS} s UDP flood of 64-byte payloads, $RUNS runs; generator on CPU $GEN_CPU, consumer on CPU $CONSUMER_CPU"
echo "  copy-range $COPY_RANGE, maxlen $MAXLEN, rcvbuf $RCVBUF, backlog $BACKLOG"
((SKIP_SYNWALL == 0)) && echo "  synwall: $SYNWALL"
# Other work on this machine skews every figure: sample how busy the CPUs are for one
# second before starting (the load average would also count this script's own earlier runs).
cpu_busy_percent() {
	local label user nice system idle iowait irq softirq steal rest total0 idle0
	read -r label user nice system idle iowait irq softirq steal rest </proc/stat
	total0=$((user + nice + system + idle + iowait + irq + softirq + steal))
	idle0=$((idle + iowait))
	sleep 1
	read -r label user nice system idle iowait irq softirq steal rest </proc/stat
	local total=$((user + nice + system + idle + iowait + irq + softirq + steal - total0))
	local idle_delta=$((idle + iowait - idle0))
	echo $(((total - idle_delta) * 100 / (total > 0 ? total : 1)))
}
busy=$(cpu_busy_percent)
echo "  CPUs busy with other work before the start: $busy %"
((busy < 10)) ||
	echo "run.sh: warning: the machine is busy ($busy % of all CPUs); figures will be low and noisy" >&2

# Warm-up (not counted): the first flood after creating the namespaces runs slower.
set_mangle_rule ACCEPT
flood -t 1 >/dev/null

for run in $(seq "$RUNS"); do
	# Alternate which consumer goes first, so an order effect does not favour either.
	order=("${consumers[@]}")
	if ((run % 2 == 0 && ${#consumers[@]} == 2)); then order=("${consumers[1]}" "${consumers[0]}"); fi
	echo "run $run/$RUNS: throughput"
	throughput kernel
	for kind in "${order[@]}"; do throughput "$kind"; done
	echo "run $run/$RUNS: drain of a $BACKLOG-packet backlog"
	for kind in "${order[@]}"; do drain "$kind"; done
done

echo
echo "synwall commit $commit"
printf '%-28s %12s %25s %18s\n' "case" "mean pkt/s" "min - max" "consumer ns/pkt"
row() { # row LABEL CPU-ARRAY-NAME VALUES...
	local label=$1 cpu_array=$2
	shift 2
	local mean min max cpu="-"
	read -r mean min max < <(summary "$@")
	if [[ -n $cpu_array ]]; then
		eval "local -a cpus=(\"\${${cpu_array}[@]}\")"
		read -r cpu _ < <(summary "${cpus[@]}")
	fi
	printf '%-28s %12s %25s %18s\n' "$label" "$mean" "$min - $max" "$cpu"
}
row "kernel only (no queue)" "" "${results_kernel[@]}"
row "C reader" cpu_c "${results_c[@]}"
if ((SKIP_SYNWALL == 0)); then
	row "synwall run" cpu_synwall "${results_synwall[@]}"
fi
row "drain, C reader" dcpu_c "${drain_c[@]}"
if ((SKIP_SYNWALL == 0)); then
	row "drain, synwall" dcpu_synwall "${drain_synwall[@]}"
	read -r c_mean _ < <(summary "${results_c[@]}")
	read -r s_mean _ < <(summary "${results_synwall[@]}")
	read -r dc_mean _ < <(summary "${drain_c[@]}")
	read -r ds_mean _ < <(summary "${drain_synwall[@]}")
	awk -v s="$s_mean" -v c="$c_mean" -v ds="$ds_mean" -v dc="$dc_mean" 'BEGIN {
		printf "%-28s %12.3f   (target >= 0.9)\n", "ratio synwall / C reader", s / c
		printf "%-28s %12.3f\n", "drain ratio synwall / C", ds / dc
	}'
	# The C and synwall runs of one round are back to back, so their ratio is less exposed to
	# load that comes and goes than the ratio of means; the CPU ratio (C ns / synwall ns per
	# packet) is the least exposed.
	paired() { # paired SYNWALL-ARRAY C-ARRAY -> "r1 r2 ..."
		eval "local -a num=(\"\${$1[@]}\") den=(\"\${$2[@]}\")"
		local i out=""
		for i in "${!num[@]}"; do
			out+=$(awk -v a="${num[$i]}" -v b="${den[$i]}" 'BEGIN { printf " %.3f", (b > 0 ? a / b : 0) }')
		done
		echo "${out# }"
	}
	printf '%-28s %s\n' "  per run, throughput" "$(paired results_synwall results_c)"
	printf '%-28s %s\n' "  per run, drain" "$(paired drain_synwall drain_c)"
	printf '%-28s %s\n' "  CPU ratio, throughput" "$(paired cpu_c cpu_synwall)"
	printf '%-28s %s\n' "  CPU ratio, drain" "$(paired dcpu_c dcpu_synwall)"
else
	echo "(synwall skipped: --skip-synwall)"
fi
