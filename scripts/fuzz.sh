#!/usr/bin/env bash
# Builds the libFuzzer targets (Fuzz/, a package of its own) and runs each for a bounded time
# on a scratch copy of its seed corpus (Fuzz/Corpus/<target>: never modified here).
#
#   scripts/fuzz.sh [--seconds N] [--keep DIR] [--large] [TARGET...]
#
# TARGET: decode, tracker, rules, logreader (default: all four, one after another). Each runs
# N seconds (default 60) with -timeout=10 -rss_limit_mb=2048 -max_len=8192; a one-line summary
# per target follows. --large lets inputs grow to 4 MiB (-max_len=4194304) with the limits
# tightened to -timeout=5 -rss_limit_mb=1024, so that an input that blows up memory or time
# (a binary, a macro bomb, an endless line) is a finding, not a slow run. Exits 1 if any
# target crashed (the crashing input's path is printed; it stays in the work directory, which
# is then kept), 2 if the build failed. --keep DIR keeps the grown
# corpora and logs in DIR. Build: release with debug info, scratch path .build-fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=60
keep=""
large=0
targets=()
while (($#)); do
    case "$1" in
        --seconds) seconds="${2:?--seconds needs a number}"; shift 2 ;;
        --seconds=*) seconds="${1#*=}"; shift ;;
        --keep) keep="${2:?--keep needs a directory}"; shift 2 ;;
        --large) large=1; shift ;;
        -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        decode|tracker|rules|logreader) targets+=("$1"); shift ;;
        *) echo "fuzz.sh: unknown argument '$1' (targets: decode tracker rules logreader)" >&2; exit 64 ;;
    esac
done
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: --seconds takes whole seconds, not '$seconds'" >&2; exit 64; }
((${#targets[@]})) || targets=(decode tracker rules logreader)

product() {
    case "$1" in
        decode) echo DecodeFuzzer ;;
        tracker) echo TrackerFuzzer ;;
        rules) echo RulesFuzzer ;;
        logreader) echo LogReaderFuzzer ;;
    esac
}

scratch=.build-fuzz
echo "== building fuzz targets (${targets[*]}) in $scratch"
mkdir -p "$scratch"
for target in "${targets[@]}"; do
    if ! swift build --package-path Fuzz -c release -Xswiftc -g --sanitize=fuzzer --scratch-path "$scratch" \
        --product "$(product "$target")" >"$scratch/fuzz-build.log" 2>&1; then
        cat "$scratch/fuzz-build.log" >&2
        echo "fuzz.sh: FAILED to build the fuzz target '$target' (log above)" >&2
        exit 2
    fi
done
bin="$(swift build --package-path Fuzz -c release --sanitize=fuzzer --scratch-path "$scratch" --show-bin-path)"

if [[ -n "$keep" ]]; then
    mkdir -p "$keep"
    work="$(cd "$keep" && pwd)"
else
    work="$(mktemp -d "${TMPDIR:-/tmp}/synwall-fuzz.XXXXXX")"
fi
crashed=()
for target in "${targets[@]}"; do
    corpus="$work/$target-corpus"
    artifacts="$work/$target-artifacts"
    log="$work/$target.log"
    rm -rf "$corpus" "$artifacts"
    mkdir -p "$corpus" "$artifacts"
    cp Fuzz/Corpus/"$target"/* "$corpus"/
    if ((large)); then
        limits=(-timeout=5 -rss_limit_mb=1024 -max_len=4194304)
    else
        limits=(-timeout=10 -rss_limit_mb=2048 -max_len=8192)
    fi
    options=(-max_total_time="$seconds" "${limits[@]}" -print_final_stats=1 -artifact_prefix="$artifacts/")
    [[ "$target" == rules ]] && options+=(-dict=Fuzz/rules.dict)
    echo "== fuzzing $target for ${seconds}s"
    status=0
    # The Swift runtime's backtracer would take the crash from libFuzzer: libFuzzer reports it.
    # `timeout`: libFuzzer's own timeout handler has been seen to hang (a starved process on a
    # loaded machine); the run must end anyway.
    SWIFT_BACKTRACE=enable=no TMPDIR="$work" timeout -k 30 $((seconds + 300)) \
        "$bin/$(product "$target")" "${options[@]}" "$corpus" >"$log" 2>&1 || status=$?
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
    speed="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
    coverage="$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || true)"
    units="$(ls "$corpus" | wc -l)"
    crash="$(ls "$artifacts" 2>/dev/null | head -1)"
    if ((status != 0)) || [[ -n "$crash" ]]; then
        crashed+=("$target")
        printf '%-10s CRASH  runs %s, %s exec/s, %s, corpus %s; exit %s\n' "$target" "${runs:-?}" "${speed:-?}" \
            "${coverage:-cov ?}" "$units" "$status"
        grep -E 'fuzz invariant failed|Fatal error|SUMMARY|ERROR: libFuzzer' "$log" | head -5 | sed 's/^/    /' || true
        if [[ -n "$crash" ]]; then
            echo "    crashing input: $artifacts/$crash"
            echo "    reproduce: $bin/$(product "$target") $artifacts/$crash"
        fi
        echo "    log: $log"
    else
        printf '%-10s ok     runs %s, %s exec/s, %s, corpus %s, crashes 0\n' "$target" "${runs:-?}" "${speed:-?}" \
            "${coverage:-cov ?}" "$units"
    fi
done

if ((${#crashed[@]})); then
    echo "fuzz.sh: crash in ${crashed[*]} (inputs and logs kept in $work)" >&2
    exit 1
fi
[[ -n "$keep" ]] || rm -rf "$work"
echo "fuzz.sh: no crash (${targets[*]}, ${seconds}s each)"
