#!/usr/bin/env bash
# Runs TrackerBenchmark with a tiny malloc-counting shim preloaded, so that each figure line
# also says how many heap allocations the timed packet loop made (the target is 0).
#
#   Benchmarks/TrackerBenchmark/count-allocations.sh [established|new|million]…
#
# Needs a C compiler (cc). Builds the benchmark in release mode first.
set -euo pipefail
cd "$(dirname "$0")/../.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat > "$work/count.c" <<'C'
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
static _Atomic unsigned long long calls;
static void count(void) { atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed); }
void *malloc(size_t size) { count(); return __libc_malloc(size); }
void *calloc(size_t count_, size_t size) { count(); return __libc_calloc(count_, size); }
void *realloc(void *pointer, size_t size) { count(); return __libc_realloc(pointer, size); }
void *memalign(size_t alignment, size_t size) { count(); return __libc_memalign(alignment, size); }
void *aligned_alloc(size_t alignment, size_t size) { count(); return __libc_memalign(alignment, size); }
int posix_memalign(void **out, size_t alignment, size_t size) {
    count();
    void *pointer = __libc_memalign(alignment, size);
    if (!pointer) return ENOMEM;
    *out = pointer;
    return 0;
}
unsigned long long synwall_allocation_count(void) { return atomic_load(&calls); }
C
cc -O2 -shared -fPIC -o "$work/libcount.so" "$work/count.c"
swift build -c release --product TrackerBenchmark >/dev/null
LD_PRELOAD="$work/libcount.so" .build/release/TrackerBenchmark "$@"
