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
QUEUE=0

BENCH=run.sh
SYNWALL_HINT=", or pass --skip-synwall"
script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$script_dir/lib.sh"

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
if ((SKIP_SYNWALL == 1)); then bench_check no-synwall; else bench_check; fi
bench_setup

# Fields of queue $QUEUE: sets q_len, q_dropped, q_user_dropped.
read_queue() {
	read_queues "$1"
	q_len=${q_lens[QUEUE]-} q_dropped=${q_drops[QUEUE]-} q_user_dropped=${q_user_drops[QUEUE]-}
}

# ---------------------------------------------------------------- consumers

# consumer c|synwall: starts it in the sink on CONSUMER_CPU, waits (bounded) for ready.
consumer() {
	if [[ $1 == c ]]; then
		start_consumer c '^nfq-reader: ready' "$CONSUMER_CPU" "$work/nfq-reader" -q "$QUEUE" \
			-r "$COPY_RANGE" -m "$MAXLEN" -b "$RCVBUF"
	else
		start_consumer synwall '^synwall: ready' "$CONSUMER_CPU" "$SYNWALL" run --rules none --attach none \
			--queue "$QUEUE" --queue-maxlen "$MAXLEN" --copy-range "$COPY_RANGE" --receive-buffer "$RCVBUF" --state none
	fi
}

# ---------------------------------------------------------------- measurements

# throughput kernel|c|synwall -> appends packets/s to the array named results_<case>
throughput() {
	local kind=$1 line sent elapsed passed rate stopped="" cpu0=0 per_packet="-"
	if [[ $kind == kernel ]]; then
		set_mangle_rule ACCEPT
	else
		set_mangle_rule NFQUEUE --queue-num "$QUEUE"
		consumer "$kind"
		consumer_cpu_ns "$consumer_pid"
		cpu0=$cpu_ns
	fi
	line=$(flood "$GEN_CPU" -t "$RUN_SECONDS")
	passed=$(passed_count)
	sent=$(flood_field sent "$line")
	elapsed=$(flood_field elapsed "$line")
	local drops="-"
	if [[ $kind != kernel ]]; then
		wait_queues_empty "$consumer_pid"
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
	local kind=$1 rate stopped passed
	set_mangle_rule NFQUEUE --queue-num "$QUEUE"
	consumer "$kind"
	fill_and_drain "$BACKLOG" "$GEN_CPU"
	passed=$(passed_count)
	stop_consumer
	stopped=$stopped_line
	rate=$(awk -v n="$queued" -v d="$drain_seconds" 'BEGIN { printf "%.0f", n / d }')
	printf '  %-8s queued=%-6s drained in %.1f ms -> %8s pkt/s  consumer %s ns/pkt  (passed=%s; %s sent)\n' \
		"$kind" "$queued" "$(awk -v d="$drain_seconds" 'BEGIN { printf "%.1f", d * 1000 }')" \
		"$rate" "$drain_cpu_ns" "$passed" "$(flood_field sent "$fill_line")"
	[[ -n $stopped ]] && printf '           %s\n' "$stopped"
	eval "drain_$kind+=(\"$rate\")"
	eval "dcpu_$kind+=(\"$drain_cpu_ns\")"
}

# ---------------------------------------------------------------- run

results_kernel=() results_c=() results_synwall=() drain_c=() drain_synwall=()
cpu_c=() cpu_synwall=() dcpu_c=() dcpu_synwall=()
# The script itself (its polling loop, iptables calls) stays off the consumer's CPU.
taskset -pc "$GEN_CPU" $$ >/dev/null
consumers=(c)
((SKIP_SYNWALL == 1)) || consumers+=(synwall)

bench_commit
echo "NFQUEUE benchmark: synwall commit $commit, kernel $(uname -r), $(nproc --all) CPUs"
echo "  ${RUN_SECONDS} s UDP flood of 64-byte payloads, $RUNS runs; generator on CPU $GEN_CPU, consumer on CPU $CONSUMER_CPU"
echo "  copy-range $COPY_RANGE, maxlen $MAXLEN, rcvbuf $RCVBUF, backlog $BACKLOG"
((SKIP_SYNWALL == 0)) && echo "  synwall: $SYNWALL"
busy=$(cpu_busy_percent)
echo "  CPUs busy with other work before the start: $busy %"
((busy < 10)) ||
	warn "the machine is busy ($busy % of all CPUs); figures will be low and noisy"

# Warm-up (not counted): the first flood after creating the namespaces runs slower.
set_mangle_rule ACCEPT
flood "$GEN_CPU" -t 1 >/dev/null

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
