#!/usr/bin/env bash
# NFQUEUE scaling benchmark: synwall with one queue against synwall with several queues (one
# worker thread each, the kernel's --queue-balance spreading flows), in the test bed of run.sh.
# See README.md next to this file.
#
#   sudo Benchmarks/nfqueue/scale.sh [--runs N] [--backlog N] [--sources K] [--seconds S]
#
# Needs root, cc, libnetfilter-queue-dev, libmnl-dev, iptables, iproute2, taskset, and a
# release build of synwall.
set -euo pipefail
export LC_ALL=C

CPU_COUNT=$(nproc --all)
usage() {
	cat <<EOF
usage: scale.sh [options]
  --runs N           repetitions of each measurement (default 3)
  --seconds S        live flood duration (default 5)
  --backlog N        packets queued for the drain measurement (default 50000)
  --sources K        generator source addresses, 1..200 (default 64); the kernel's
                     --queue-balance hashes the address pair, so flows from one address
                     never spread
  --max-queues Q     measure 1 queue against 2, 4, ... and Q queues (default 2)
  --generators G     parallel udp-flood processes in the live flood, sources split
                     among them (default $CPU_COUNT, one per CPU)
  --gen-cpus LIST    CPUs for the generators (default 0-$((CPU_COUNT - 1)), all)
  --consumer-cpus L  CPUs for synwall (default 0-$((CPU_COUNT - 1)), all)
  --copy-range B     synwall --copy-range (default 512)
  --maxlen N         synwall --queue-maxlen (default 65536)
  --rcvbuf B         synwall --receive-buffer, per queue (default 67108864)
  -h, --help         this text
The synwall binary is \$SYNWALL_BINARY, or .build/release/synwall in the repository;
\$SYNWALL_COMMIT names the commit an external binary was built from.
EOF
}

RUNS=3
RUN_SECONDS=5
BACKLOG=50000
SOURCES=64
MAX_QUEUES=2
GENERATORS=$CPU_COUNT
GEN_CPUS=0-$((CPU_COUNT - 1))
CONSUMER_CPUS=0-$((CPU_COUNT - 1))
COPY_RANGE=512
MAXLEN=65536
RCVBUF=$((64 << 20))

BENCH=scale.sh
script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$script_dir/lib.sh"

while (($# > 0)); do
	case $1 in
	--runs) need_number "$1" "${2-}"; RUNS=$2; shift 2 ;;
	--seconds) need_number "$1" "${2-}"; RUN_SECONDS=$2; shift 2 ;;
	--backlog) need_number "$1" "${2-}"; BACKLOG=$2; shift 2 ;;
	--sources) need_number "$1" "${2-}"; SOURCES=$2; shift 2 ;;
	--max-queues) need_number "$1" "${2-}"; MAX_QUEUES=$2; shift 2 ;;
	--generators) need_number "$1" "${2-}"; GENERATORS=$2; shift 2 ;;
	--gen-cpus) need_cpus "$1" "${2-}"; GEN_CPUS=$2; shift 2 ;;
	--consumer-cpus) need_cpus "$1" "${2-}"; CONSUMER_CPUS=$2; shift 2 ;;
	--copy-range) need_number "$1" "${2-}"; COPY_RANGE=$2; shift 2 ;;
	--maxlen) need_number "$1" "${2-}"; MAXLEN=$2; shift 2 ;;
	--rcvbuf) need_number "$1" "${2-}"; RCVBUF=$2; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown option '$1'" ;;
	esac
done
((RUNS >= 1 && RUNS <= 50)) || die "--runs must be 1..50"
((RUN_SECONDS >= 1 && RUN_SECONDS <= 600)) || die "--seconds must be 1..600"
((BACKLOG >= 1 && BACKLOG <= 65536)) || die "--backlog must be 1..65536 (the 1-queue case holds all of it in one queue)"
((BACKLOG <= MAXLEN)) || die "--backlog must not exceed --maxlen"
((SOURCES >= 1 && SOURCES <= 200)) || die "--sources must be 1..200"
((MAX_QUEUES >= 2 && MAX_QUEUES <= 64)) || die "--max-queues must be 2..64"
((GENERATORS >= 1 && GENERATORS <= SOURCES && GENERATORS <= 64)) || die "--generators must be 1..64 and at most --sources"
bench_check
bench_setup
bed_add_sources "$SOURCES"

# The queue counts measured: 1, then powers of two below Q, then Q.
counts=(1)
for ((n = 2; n < MAX_QUEUES; n *= 2)); do counts+=("$n"); done
counts+=("$MAX_QUEUES")

# ---------------------------------------------------------------- one case

# setup_case Q: the mangle rule and synwall for Q queues (0..Q-1).
setup_case() {
	local q=$1
	if ((q == 1)); then
		set_mangle_rule NFQUEUE --queue-num 0
	else
		set_mangle_rule NFQUEUE --queue-balance "0:$((q - 1))"
	fi
	start_consumer "synwall ($q queues)" '^synwall: ready' "$CONSUMER_CPUS" "$SYNWALL" run --rules none --attach none \
		--queues "0-$((q - 1))" --queue-maxlen "$MAXLEN" --copy-range "$COPY_RANGE" --receive-buffer "$RCVBUF" --state none
}

# shares ARRAY-NAME TOTAL: each queue's part of TOTAL, over the queues in q_nums. Sets
# share_text ("q0 50.1% q1 49.9%") and max_share (the largest part, 0..1).
shares() {
	local -n values=$1
	local total=$2 q v out="" max=0
	for q in "${q_nums[@]}"; do
		v=${values[q]-0}
		out+=$(awk -v v="$v" -v t="$total" -v q="$q" 'BEGIN { printf " q%d %.1f%%", q, (t > 0 ? 100 * v / t : 0) }')
		if ((v > max)); then max=$v; fi
	done
	max_share=$(awk -v m="$max" -v t="$total" 'BEGIN { printf "%.4f", (t > 0 ? m / t : 1) }')
	share_text=${out# }
}

# live_flood ARGS... : GENERATORS udp-flood processes at once, the sources dealt out among them;
# sets sent (sum) and elapsed (the longest).
live_flood() {
	local g i pids=() args
	for ((g = 0; g < GENERATORS; g++)); do
		args=()
		for ((i = g; i < SOURCES; i += GENERATORS)); do args+=("${SOURCE_ARGS[2 * i]}" "${SOURCE_ARGS[2 * i + 1]}"); done
		flood "$GEN_CPUS" "$@" "${args[@]}" >"$work/flood.$g" &
		pids+=($!)
	done
	sent=0 elapsed=0
	for ((g = 0; g < GENERATORS; g++)); do
		wait "${pids[g]}" || die "udp-flood $g failed: $(cat "$work/flood.$g")"
		local line
		line=$(<"$work/flood.$g")
		sent=$((sent + $(flood_field sent "$line")))
		elapsed=$(awk -v a="$elapsed" -v b="$(flood_field elapsed "$line")" 'BEGIN { print (b > a ? b : a) }')
	done
}

# live Q: throughput under a live flood; appends to live_Q, lcpu_Q, lmax_Q.
live() {
	local q=$1 passed rate cpu0 per_packet spread
	setup_case "$q"
	consumer_cpu_ns "$consumer_pid"
	cpu0=$cpu_ns
	live_flood -t "$RUN_SECONDS"
	passed=$(passed_count)
	wait_queues_empty "$consumer_pid"
	consumer_cpu_ns "$consumer_pid"
	read_queues "$consumer_pid"
	# The last packet id of each queue counts the packets the hash sent it (queue-full drops too).
	local total_seq=0 n
	for n in "${q_nums[@]}"; do total_seq=$((total_seq + q_seqs[n])); done
	shares q_seqs "$total_seq"
	spread=$share_text
	per_packet=$(awk -v c=$((cpu_ns - cpu0)) -v n="$(passed_count)" 'BEGIN { printf "%.0f", (n > 0 ? c / n : 0) }')
	local drops="queue_dropped=$q_dropped user_dropped=$q_user_dropped"
	stop_consumer
	rate=$(awk -v p="$passed" -v e="$elapsed" 'BEGIN { printf "%.0f", p / e }')
	printf '  %2d queue(s)  live   sent=%-9s passed=%-9s in %.2f s -> %8s pkt/s  %s ns/pkt  %s  [%s]\n' \
		"$q" "$sent" "$passed" "$elapsed" "$rate" "$per_packet" "$drops" "$spread"
	[[ -n $stopped_line ]] && printf '              %s\n' "$stopped_line"
	eval "live_$q+=(\"$rate\") lcpu_$q+=(\"$per_packet\") lmax_$q+=(\"$max_share\") lshare_$q=\"\$spread\""
}

# drain Q: drain rate of a pre-filled backlog; appends to drain_Q, dcpu_Q, dmax_Q.
drain() {
	local q=$1 rate spread
	setup_case "$q"
	fill_and_drain "$BACKLOG" "$GEN_CPUS" "${SOURCE_ARGS[@]}"
	shares queued_of "$queued"
	spread=$share_text
	stop_consumer
	rate=$(awk -v n="$queued" -v d="$drain_seconds" 'BEGIN { printf "%.0f", n / d }')
	printf '  %2d queue(s)  drain  queued=%-6s in %6.1f ms -> %8s pkt/s  %s ns/pkt  [%s]\n' \
		"$q" "$queued" "$(awk -v d="$drain_seconds" 'BEGIN { printf "%.1f", d * 1000 }')" \
		"$rate" "$drain_cpu_ns" "$spread"
	[[ -n $stopped_line ]] && printf '              %s\n' "$stopped_line"
	eval "drain_$q+=(\"$rate\") dcpu_$q+=(\"$drain_cpu_ns\") dmax_$q+=(\"$max_share\") dshare_$q=\"\$spread\""
}

# ---------------------------------------------------------------- run

for q in "${counts[@]}"; do eval "live_$q=() lcpu_$q=() lmax_$q=() drain_$q=() dcpu_$q=() dmax_$q=()"; done

bench_commit
echo "NFQUEUE scaling benchmark: synwall commit $commit, kernel $(uname -r), $CPU_COUNT CPUs"
echo "  queue counts ${counts[*]}; UDP flood of 64-byte payloads from $SOURCES source addresses, $RUNS runs"
echo "  live flood ${RUN_SECONDS} s, $GENERATORS generator(s) on CPUs $GEN_CPUS; synwall on CPUs $CONSUMER_CPUS; backlog $BACKLOG"
echo "  copy-range $COPY_RANGE, maxlen $MAXLEN, rcvbuf $RCVBUF per queue; synwall: $SYNWALL"
read -r load1 load5 load15 _ </proc/loadavg
busy=$(cpu_busy_percent)
echo "  load average $load1 $load5 $load15; CPUs busy with other work before the start: $busy %"
((busy < 10)) || warn "the machine is busy ($busy % of all CPUs); figures will be low and noisy"

# Warm-up (not counted): the first flood after creating the namespaces runs slower.
set_mangle_rule ACCEPT
flood "$GEN_CPUS" -t 1 "${SOURCE_ARGS[@]}" >/dev/null

for run in $(seq "$RUNS"); do
	# Alternate the order, so an order effect (or load that comes and goes) favours no case.
	order=("${counts[@]}")
	if ((run % 2 == 0)); then
		order=()
		for ((i = ${#counts[@]} - 1; i >= 0; i--)); do order+=("${counts[i]}"); done
	fi
	echo "run $run/$RUNS: drain of a $BACKLOG-packet backlog"
	for q in "${order[@]}"; do drain "$q"; done
	echo "run $run/$RUNS: live flood"
	for q in "${order[@]}"; do live "$q"; done
done

# ---------------------------------------------------------------- summary

echo
echo "synwall commit $commit; load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-24s %12s %21s %9s  %s\n' "case" "median pkt/s" "min - max" "ns/pkt" "queue shares (last run)"
row() { # row LABEL RATES CPUS SHARE
	local -n rates=$2 cpus=$3
	local med min max cpu
	med=$(median "${rates[@]}")
	read -r _ min max < <(summary "${rates[@]}")
	cpu=$(median "${cpus[@]}")
	printf '%-24s %12.0f %21s %9.0f  %s\n' "$1" "$med" "$min - $max" "$cpu" "$4"
}
for kind in drain live; do
	for q in "${counts[@]}"; do
		plural=""
		if ((q > 1)); then plural=s; fi
		if [[ $kind == drain ]]; then
			label="drain, $q queue$plural"
		else
			label="live flood, $q queue$plural"
		fi
		if [[ $kind == drain ]]; then
			eval "share=\$dshare_$q"
			row "$label" "drain_$q" "dcpu_$q" "$share"
		else
			eval "share=\$lshare_$q"
			row "$label" "live_$q" "lcpu_$q" "$share"
		fi
	done
done
# Ratios against 1 queue: of the medians, and per run (the cases of one run are back to back).
ratio_line() { # ratio_line LABEL NUM-ARRAY DEN-ARRAY MAX-SHARE-ARRAY Q
	local -n num=$2 den=$3 maxs=$4
	local i per="" q=$5 med_num med_den bound
	for i in "${!num[@]}"; do
		per+=$(awk -v a="${num[i]}" -v b="${den[i]}" 'BEGIN { printf " %.2f", (b > 0 ? a / b : 0) }')
	done
	med_num=$(median "${num[@]}")
	med_den=$(median "${den[@]}")
	bound=$(awk -v m="$(median "${maxs[@]}")" -v q="$q" 'BEGIN { printf "%.2f", (m > 0 ? 1 / m : q) }')
	# With the busiest queue holding a share m of the packets, Q workers that each run at the
	# 1-queue rate finish after m of the 1-queue time: at most 1/m times faster (Q when even).
	awk -v a="$med_num" -v b="$med_den" -v l="$1" -v p="${per# }" -v bound="$bound" 'BEGIN {
		printf "%-24s %12.2f   per run %s; hash-spread bound %s\n", l, (b > 0 ? a / b : 0), p, bound }'
}
for kind in drain live; do
	for q in "${counts[@]:1}"; do
		if [[ $kind == drain ]]; then
			ratio_line "ratio $q/1, drain" "drain_$q" drain_1 "dmax_$q" "$q"
		else
			ratio_line "ratio $q/1, live flood" "live_$q" live_1 "lmax_$q" "$q"
		fi
	done
done
