// Capability and identity changes for every thread of the process.
//
// Linux keeps credentials per thread: capset(2), prctl(PR_CAPBSET_DROP, PR_CAP_AMBIENT,
// PR_SET_NO_NEW_PRIVS, PR_SET_KEEPCAPS) and the raw set*id system calls change only the calling
// thread. glibc's setuid() reaches every thread through an internal signal, but it has no such
// path for capabilities, and Swift cannot call the variadic prctl() or syscall() at all. So the
// whole sequence lives here, in C: each thread runs it from a signal handler (the same way glibc
// broadcasts setuid, and libcap's psx library broadcasts capset), then the calling thread runs it.
#ifndef SYNWALL_CPRIVILEGE_H
#define SYNWALL_CPRIVILEGE_H

#include <stdint.h>

/// What every thread ends up with.
struct synwall_privilege_plan {
    /// Capabilities kept (bit N = capability N) in the permitted, effective, inheritable,
    /// ambient and bounding sets; every other capability is removed from all of them.
    uint64_t keep;
    /// Highest capability number the kernel knows (/proc/sys/kernel/cap_last_cap).
    int32_t last_cap;
    /// Nonzero: switch to `uid` and `gid` (real, effective and saved), supplementary groups
    /// reduced to `gid` alone. Zero: the ids stay.
    int32_t change_ids;
    uint32_t uid;
    uint32_t gid;
};

/// Which step of the sequence failed (see synwall_privilege_apply_all).
enum synwall_privilege_step {
    SYNWALL_PRIVILEGE_OK = 0,
    SYNWALL_PRIVILEGE_BOUNDING = 1,
    SYNWALL_PRIVILEGE_KEEPCAPS = 2,
    SYNWALL_PRIVILEGE_GROUPS = 3,
    SYNWALL_PRIVILEGE_GID = 4,
    SYNWALL_PRIVILEGE_UID = 5,
    SYNWALL_PRIVILEGE_CAPSET = 6,
    SYNWALL_PRIVILEGE_AMBIENT = 7,
    SYNWALL_PRIVILEGE_NO_NEW_PRIVS = 8,
    /// Installing the broadcast signal handler, or signalling a thread, failed.
    SYNWALL_PRIVILEGE_SIGNAL = 9,
    /// A thread did not run the sequence in time (it blocks SIGSYS, or is stuck in the kernel).
    SYNWALL_PRIVILEGE_TIMEOUT = 10,
    /// More threads than the fixed bookkeeping holds.
    SYNWALL_PRIVILEGE_TOO_MANY_THREADS = 11,
};

/// The first failure, if any.
struct synwall_privilege_failure {
    /// A synwall_privilege_step; SYNWALL_PRIVILEGE_OK when everything worked.
    int32_t step;
    /// errno of the failed call (0 for a timeout).
    int32_t error;
    /// The thread it failed in.
    int32_t tid;
    /// Capability number, for SYNWALL_PRIVILEGE_BOUNDING and _AMBIENT; otherwise -1.
    int32_t capability;
    /// How many threads besides the caller ran the sequence.
    int32_t threads;
};

/// Applies `plan` to every thread of the process, the caller last, and reports the first
/// failure in `failure`. Returns 0 on success, -1 on failure. Each thread, in order: drops the
/// other capabilities from its bounding set (while it still has CAP_SETPCAP), sets keep-caps,
/// switches groups, gid and uid (if asked), sets permitted = effective = inheritable = keep,
/// raises keep as ambient (so programs it runs keep them), clears keep-caps, and sets
/// no-new-privs. Steps already in the wanted state are skipped, so running it twice is harmless.
///
/// Other threads are reached with SIGSYS (with SA_RESTART, like glibc's own set*id broadcast;
/// SIGSYS because libdispatch's worker threads leave it unblocked); the previous SIGSYS action
/// is restored afterwards. Threads started meanwhile are found by listing /proc/self/task
/// again until a pass finds none new. `timeout_ms` bounds the wait for each round.
/// Not async-signal-safe; call it from one thread at a time.
int synwall_privilege_apply_all(const struct synwall_privilege_plan *plan, int32_t timeout_ms,
                                struct synwall_privilege_failure *failure);

#endif
