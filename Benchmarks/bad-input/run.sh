#!/usr/bin/env bash
# Bad and large input for the rule compiler: runs `synwall check` (and one daemon reload) on
# generated files under /usr/bin/time and prints, per case, the exit status, wall time, peak
# resident memory, bytes of output and its first line. A program that prints figures; it
# asserts nothing. Usage (after `swift build -c release`):
#   Benchmarks/bad-input/run.sh [SYNWALL_BINARY]        (default .build/release/synwall)
# The daemon case needs root (it binds NFQUEUE 7 with --attach none: no packet is queued).
set -u
binary=${1:-${SYNWALL_BINARY:-.build/release/synwall}}
binary=$(readlink -f "$binary")
[ -x "$binary" ] || { echo "no synwall binary at $binary (swift build -c release)"; exit 2; }
work=$(mktemp -d /tmp/synwall-bad-input-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

# Inputs.
largest=$(ls -S /usr/bin | head -1)
head -c 15000000 "/usr/bin/$largest" > elf-15MB.bin
head -c 65536 /bin/ls > ls-64KB.bin
head -c 1048576 "/usr/bin/$largest" > binary-1MB.bin
python3 - <<'PY'
import random
random.seed(1)
open("garbage-15MB.rules", "w").write("(((( é ))))\n" * 1_200_000)
open("one-line-10MB.rules", "w").write("pass in proto tcp to port 22 " + "x" * 10_000_000 + "\n")
with open("macro-bomb.rules", "w") as f:
    f.write("m0 = 22\n")
    for i in range(1, 41):
        f.write(f"m{i} = $m{i-1}, $m{i-1}\n")
    f.write("pass in proto tcp to port { $m40 }\n")
open("dev-zero.rules", "w").write('include "/dev/zero"\n')
for level in range(13):
    body = "pass all\n" if level == 12 else f'include "fan{level+1}.rules"\ninclude "fan{level+1}.rules"\n'
    open(f"fan{level}.rules", "w").write(body)
with open("rules-100000.rules", "w") as f:
    for i in range(100_000):
        f.write(f"pass in proto tcp from 10.{(i >> 8) & 255}.{i & 255}.0/24 to port {1024 + (i * 7) % 49_000}\n")
with open("rules-100000-one-port.rules", "w") as f:
    for i in range(100_000):
        f.write(f"pass in proto tcp from 10.{(i >> 8) & 255}.{i & 255}.0/24 to port 22\n")
with open("prefixes-1000000.txt", "w") as f:
    for i in range(1_000_000):
        if i % 10 == 9:
            f.write("2001:db8:%x:%x::/64\n" % (random.getrandbits(16), random.getrandbits(16)))
        else:
            length = random.randint(16, 32)
            address = random.getrandbits(32) & (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF
            f.write("%d.%d.%d.%d/%d\n" % (address >> 24, (address >> 16) & 255, (address >> 8) & 255, address & 255, length))
open("table-1000000.rules", "w").write('table <big> file "prefixes-1000000.txt"\nblock in from <big>\npass in proto tcp to port 22\n')
PY

printf '%-28s %5s %8s %10s %9s  %s\n' case exit seconds peak_MiB output first_line
measure() {
    local name=$1; shift
    /usr/bin/time -f '%e %M' -o time.txt "$binary" "$@" > out.txt 2>&1
    local status=$?
    read -r seconds kilobytes < <(grep -v 'Command exited' time.txt)
    printf '%-28s %5s %8s %10s %9s  %s\n' "$name" "$status" "$seconds" "$((kilobytes / 1024))" \
        "$(wc -c < out.txt)B" "$(head -1 out.txt | cut -c1-110)"
}
measure "ELF binary, 15 MB" check elf-15MB.bin
measure "/bin/ls, first 64 KB" check ls-64KB.bin
measure "binary, 1 MB" check binary-1MB.bin
measure "UTF-8 garbage, 15 MB" check garbage-15MB.rules
measure "one 10 MB line" check one-line-10MB.rules
measure "macro bomb (2^40)" check macro-bomb.rules
measure "include /dev/zero" check dev-zero.rules
measure "include fan-out (2^12)" check fan0.rules
measure "100,000 rules" check rules-100000.rules
measure "100,000 rules, one port" check rules-100000-one-port.rules
measure "1,000,000-prefix table" check table-1000000.rules

# The daemon: start with 100,000 rules (then the 1,000,000-prefix table), reload them, then
# reload a file that includes a binary.
daemon_case() {
    local what=$1 file=$2
    cp "$file" daemon.rules
    rm -f events.jsonl
    local start ready
    start=$(date +%s.%N)
    "$binary" run --attach none --queue 7 --rules daemon.rules --control "$work/control.sock" \
        --pid-file "$work/synwall.pid" --log "$work/events.jsonl" > daemon.out 2>&1 &
    local daemon=$!
    for _ in $(seq 1000); do grep -q "ready" daemon.out && break; sleep 0.01; done
    ready=$(date +%s.%N)
    echo "daemon start with $what: $(echo "$ready - $start" | bc) s to ready, peak $(( $(awk '/VmHWM/ {print $2}' /proc/$daemon/status) / 1024 )) MiB"
    /usr/bin/time -f '%e' -o time.txt "$binary" reload --control "$work/control.sock" > out.txt 2>&1
    echo "reload of $what: exit $? in $(tail -1 time.txt) s, daemon peak $(( $(awk '/VmHWM/ {print $2}' /proc/$daemon/status) / 1024 )) MiB"
    printf 'include "ls-64KB.bin"\n' >> daemon.rules
    /usr/bin/time -f '%e' -o time.txt "$binary" reload --control "$work/control.sock" > out.txt 2>&1
    echo "reload of $what with an include of a 64 KB binary: exit $? in $(grep -v 'Command exited' time.txt | tail -1) s, $(wc -c < out.txt) bytes of answer: $(head -1 out.txt | cut -c1-100)"
    kill -TERM "$daemon"; wait "$daemon"
    echo "longest event record: $(awk '{ if (length($0) > max) max = length($0) } END { print max }' events.jsonl) bytes"
}
if [ "$(id -u)" = 0 ]; then
    daemon_case "100,000 rules" rules-100000.rules
    daemon_case "a 1,000,000-prefix table" table-1000000.rules
fi
