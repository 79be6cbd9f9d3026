# Shared pieces of the NFQUEUE benchmarks (run.sh, scale.sh): sourced, not run.
#
# The caller sets BENCH (its name, for messages) and script_dir, sources this file, checks its
# options, then calls bench_setup. bench_setup builds the C programs into a temporary directory,
# creates the two-namespace test bed and installs a trap that removes the consumer, the
# namespaces and the directory on every exit. Functions below report through die/warn.

PORT=9000
GEN_ADDR=10.213.0.1
SINK_ADDR=10.213.0.2
consumer_pid=""
work=""
SOURCE_ARGS=()

die() { echo "$BENCH: error: $*" >&2; exit 1; }
warn() { echo "$BENCH: warning: $*" >&2; }
need_number() { [[ $2 =~ ^[0-9]+$ ]] || die "$1 needs a whole number, got '$2'"; }
need_cpus() { [[ $2 =~ ^[0-9]+([-,][0-9]+)*$ ]] || die "$1 needs a CPU list like 0 or 0-1 or 0,2, got '$2'"; }

repo_root=$(git -C "$script_dir" rev-parse --show-toplevel 2>/dev/null || (cd "$script_dir/../.." && pwd))
SYNWALL=${SYNWALL_BINARY:-$repo_root/.build/release/synwall}

# bench_check: root, the tools, and (unless $1 is "no-synwall") the synwall binary.
bench_check() {
	((EUID == 0)) || die "needs root (network namespaces, iptables, NFQUEUE)"
	local tool
	for tool in cc ip iptables taskset; do
		command -v "$tool" >/dev/null || die "'$tool' not found"
	done
	if [[ ${1-} != no-synwall && ! -x $SYNWALL ]]; then
		die "no synwall binary at $SYNWALL; build it with 'swift build -c release' in $repo_root or set \$SYNWALL_BINARY${SYNWALL_HINT-}"
	fi
}

# The commit measured: this checkout's, unless $SYNWALL_COMMIT names the one an external
# $SYNWALL_BINARY was built from. Sets commit.
bench_commit() {
	commit=${SYNWALL_COMMIT:-$(git -C "$repo_root" rev-parse --short HEAD 2>/dev/null || echo unknown)}
	if [[ -n ${SYNWALL_BINARY-} && -z ${SYNWALL_COMMIT-} ]]; then
		commit="$commit (checkout; the binary comes from \$SYNWALL_BINARY, set \$SYNWALL_COMMIT to name its commit)"
	fi
}

# ---------------------------------------------------------------- state and cleanup

cleanup() {
	set +e
	if [[ -n $consumer_pid ]]; then
		kill -CONT "$consumer_pid" 2>/dev/null
		kill -TERM "$consumer_pid" 2>/dev/null
		for _ in $(seq 50); do alive "$consumer_pid" || break; sleep 0.1; done
		kill -KILL "$consumer_pid" 2>/dev/null
		wait "$consumer_pid" 2>/dev/null
	fi
	# Generators started in the background (bounded by their -t anyway).
	local pid
	for pid in $(jobs -p); do kill -TERM "$pid" 2>/dev/null; done
	wait 2>/dev/null
	[[ -n ${GEN_NS-} ]] && ip netns del "$GEN_NS" 2>/dev/null
	[[ -n ${SINK_NS-} ]] && ip netns del "$SINK_NS" 2>/dev/null
	[[ -n $work ]] && rm -rf "$work"
}

# A fork-free sleep for the 1 ms polling loops: read with a timeout on a pipe nobody writes.
nap() { read -r -t "$1" -u "$sleep_fd" _ || true; }

# Whether a process is still running (a zombie counts as gone).
alive() {
	local stat
	[[ -r /proc/$1/stat ]] || return 1
	read -r stat <"/proc/$1/stat" 2>/dev/null || return 1
	stat=${stat##*) }
	[[ ${stat:0:1} != Z ]]
}

# CPU time (ns) the process's threads have used so far, from /proc/PID/task/*/schedstat,
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

# ---------------------------------------------------------------- test bed

# bench_setup: temporary directory, trap, the two C programs, the namespaces and the sink's
# DROP rule. The namespaces are nfqb-gen-PID and nfqb-sink-PID, joined by a veth pair.
bench_setup() {
	work=$(mktemp -d /tmp/nfq-bench.XXXXXX)
	GEN_NS=nfqb-gen-$$
	SINK_NS=nfqb-sink-$$
	GEN_IF=nfqbg$$
	SINK_IF=nfqbs$$
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	exec {sleep_fd}<> <(:)

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
	local sink_mac gen_mac
	sink_mac=$(ip -n "$SINK_NS" -br link show dev "$SINK_IF" | awk '{print $3}')
	gen_mac=$(ip -n "$GEN_NS" -br link show dev "$GEN_IF" | awk '{print $3}')
	ip -n "$GEN_NS" neigh replace "$SINK_ADDR" lladdr "$sink_mac" dev "$GEN_IF" nud permanent
	ip -n "$SINK_NS" neigh replace "$GEN_ADDR" lladdr "$gen_mac" dev "$SINK_IF" nud permanent

	# The sink: mangle INPUT holds the case's rule (ACCEPT, or NFQUEUE); filter INPUT drops
	# every flood packet that got through, so no socket or ICMP work follows and its
	# counter is the exact number of packets that passed.
	in_sink iptables -t filter -A INPUT -p udp --dport "$PORT" -j DROP
}

# bed_add_sources K: K more addresses on the generator's side, 10.213.0.11 and up (the sink
# never answers, so it needs no neighbour entries for them). Sets SOURCE_ARGS to udp-flood's
# "-S ADDR" arguments.
bed_add_sources() {
	local i batch=""
	SOURCE_ARGS=()
	for ((i = 0; i < $1; i++)); do
		batch+="addr add 10.213.0.$((11 + i))/24 dev $GEN_IF"$'\n'
		SOURCE_ARGS+=(-S "10.213.0.$((11 + i))")
	done
	ip -n "$GEN_NS" -batch - <<<"$batch"
}

# set_mangle_rule ACCEPT | NFQUEUE TARGET-OPTIONS... (e.g. --queue-num 0, --queue-balance 0:1);
# also zeroes the DROP counter.
set_mangle_rule() {
	in_sink iptables -t mangle -F INPUT
	if [[ $1 == NFQUEUE ]]; then
		shift
		in_sink iptables -t mangle -A INPUT -p udp --dport "$PORT" -j NFQUEUE "$@"
	else
		in_sink iptables -t mangle -A INPUT -p udp --dport "$PORT" -j ACCEPT
	fi
	in_sink iptables -t filter -Z INPUT
}
passed_count() {
	in_sink iptables -t filter -nvxL INPUT | awk '$3 == "DROP" { print $1; exit }'
}

# read_queues PID: every queue of the consumer's namespace, read through /proc/PID/net without
# forking. Sets the arrays q_lens, q_drops, q_user_drops, q_seqs (indexed by queue number; the
# last is the queue's last packet id: the packets sent to it since it was bound, drops included), the
# list q_nums, and the sums q_total, q_dropped, q_user_dropped.
read_queues() {
	local num portid len mode range dropped user_dropped seq rest
	q_lens=() q_drops=() q_user_drops=() q_seqs=() q_nums=()
	q_total=0 q_dropped=0 q_user_dropped=0
	alive "$1" || die "the consumer (pid $1) has exited; its output: $(tail -n 3 "$work/consumer.log" 2>/dev/null)"
	while read -r num portid len mode range dropped user_dropped seq rest; do
		q_nums+=("$num")
		q_lens[num]=$len q_drops[num]=$dropped q_user_drops[num]=$user_dropped q_seqs[num]=$seq
		q_total=$((q_total + len)) q_dropped=$((q_dropped + dropped))
		q_user_dropped=$((q_user_dropped + user_dropped))
	done <"/proc/$1/net/netfilter/nfnetlink_queue"
}

# ---------------------------------------------------------------- consumers

# start_consumer LABEL READY-PATTERN CPUS COMMAND...: starts COMMAND in the sink, pinned to
# CPUS, and waits (bounded, 10 s) until its output matches READY-PATTERN. Sets consumer_pid.
start_consumer() {
	local label=$1 pattern=$2 cpus=$3 log=$work/consumer.log
	shift 3
	: >"$log"
	# Not through in_sink: $! must be the consumer itself (ip netns exec and taskset exec).
	ip netns exec "$SINK_NS" taskset -c "$cpus" "$@" >"$log" 2>&1 &
	consumer_pid=$!
	for _ in $(seq 200); do
		grep -q "$pattern" "$log" && return 0
		alive "$consumer_pid" || break
		sleep 0.05
	done
	echo "--- consumer output:" >&2
	cat "$log" >&2
	die "the $label consumer did not report ready within 10 s"
}

# stop_consumer: SIGTERM, bounded wait; sets stopped_line to the consumer's final line.
stop_consumer() {
	local pid=$consumer_pid
	kill -CONT "$pid" 2>/dev/null || true
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 100); do alive "$pid" || break; sleep 0.05; done
	if alive "$pid"; then
		kill -KILL "$pid" 2>/dev/null || true
		warn "consumer $pid ignored SIGTERM for 5 s; killed"
	fi
	wait "$pid" 2>/dev/null || true
	consumer_pid=""
	stopped_line=$(grep -E '^(nfq-reader|synwall): stopped' "$work/consumer.log" | tail -n 1 || true)
}

# Waits (bounded, 5 s) until every queue of the consumer is empty.
wait_queues_empty() {
	for _ in $(seq 5000); do
		read_queues "$1"
		((q_total == 0)) && return 0
		nap 0.001
	done
	warn "the queues still hold $q_total packets after 5 s"
}

# ---------------------------------------------------------------- generator

flood_field() { # flood_field NAME "udp-flood: sent=.. elapsed=.."
	local word
	for word in $2; do
		[[ $word == "$1="* ]] && { echo "${word#*=}"; return 0; }
	done
	die "udp-flood printed no $1: '$2'"
}

flood() { # flood CPUS ARGS... -> prints udp-flood's line
	local cpus=$1
	shift
	in_gen taskset -c "$cpus" "$work/udp-flood" -d "$SINK_ADDR" -p "$PORT" "$@"
}

# ---------------------------------------------------------------- drain

# fill_and_drain COUNT GEN-CPUS FLOOD-ARGS...: with the consumer ($consumer_pid, just started)
# stopped by SIGSTOP, floods COUNT packets, waits (bounded, 2 s) until the queues stop growing,
# then sends SIGCONT and times until every queue is empty (polled about every millisecond,
# bounded at ~10 s). Sets fill_line (udp-flood's line), queued (total), queued_of (per queue,
# indexed by queue number), drain_seconds and drain_cpu_ns (consumer CPU per drained packet).
fill_and_drain() {
	local count=$1 cpus=$2 previous=-1 t0 t1 cpu0 q done=0
	shift 2
	kill -STOP "$consumer_pid"
	fill_line=$(flood "$cpus" -n "$count" -t 30 "$@")
	for _ in $(seq 200); do
		read_queues "$consumer_pid"
		((q_total == previous)) && break
		previous=$q_total
		nap 0.01
	done
	queued=$q_total
	queued_of=()
	for q in "${q_nums[@]}"; do queued_of[q]=${q_lens[q]}; done
	if ((queued != count)); then
		warn "$queued of $count packets queued (queue_dropped=$q_dropped user_dropped=$q_user_dropped); timing those"
	fi
	consumer_cpu_ns "$consumer_pid"
	cpu0=$cpu_ns
	t0=$EPOCHREALTIME
	kill -CONT "$consumer_pid"
	for _ in $(seq 10000); do
		read_queues "$consumer_pid"
		if ((q_total == 0)); then
			done=1
			break
		fi
		nap 0.001
	done
	t1=$EPOCHREALTIME
	((done == 1)) || die "the consumer left $q_total packets queued after 10 s"
	consumer_cpu_ns "$consumer_pid"
	drain_seconds=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')
	drain_cpu_ns=$(awk -v c=$((cpu_ns - cpu0)) -v n="$queued" 'BEGIN { printf "%.0f", (n > 0 ? c / n : 0) }')
}

# ---------------------------------------------------------------- statistics

# summary VALUES... -> "mean min max"
summary() {
	printf '%s\n' "$@" | awk 'NR == 1 { min = $1; max = $1 }
		{ sum += $1; if ($1 < min) min = $1; if ($1 > max) max = $1 }
		END { printf "%.0f %.0f %.0f\n", sum / NR, min, max }'
}

# median VALUES... -> the median (the mean of the middle two for an even count)
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
		END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Other work on this machine skews every figure: how busy the CPUs are over one second, in %
# (the load average would also count this script's own earlier runs).
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
