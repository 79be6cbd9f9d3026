// See include/CPrivilege.h. Everything a thread runs from the signal handler is a raw system
// call or an atomic: no locks, no allocation, errno saved and restored.
#define _GNU_SOURCE
#include "CPrivilege.h"

#include <dirent.h>
#include <errno.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SYNWALL_MAX_THREADS 1024
#define SYNWALL_MAX_ROUNDS 64

static struct synwall_privilege_plan plan_in_force;
static atomic_flag failure_claimed = ATOMIC_FLAG_INIT;
static _Atomic int32_t failed_step;
static _Atomic int32_t failed_error;
static _Atomic int32_t failed_tid;
static _Atomic int32_t failed_capability;
static _Atomic int32_t acknowledged[SYNWALL_MAX_THREADS];
static _Atomic int32_t acknowledged_count;

static int32_t current_tid(void) { return (int32_t)syscall(SYS_gettid); }

/// Keeps the first failure only; the step is published last, so whoever sees it sees the rest.
static void record_failure_in(int32_t tid, int32_t step, int32_t error, int32_t capability) {
    if (atomic_flag_test_and_set(&failure_claimed)) return;
    atomic_store(&failed_error, error);
    atomic_store(&failed_tid, tid);
    atomic_store(&failed_capability, capability);
    atomic_store(&failed_step, step);
}

static void record_failure(int32_t step, int32_t error, int32_t capability) {
    record_failure_in(current_tid(), step, error, capability);
}

/// The whole sequence for the calling thread. Returns 0, or -1 after recording the failure.
static int apply_to_this_thread(void) {
    const struct synwall_privilege_plan *plan = &plan_in_force;

    // 1. Bounding set first: dropping needs CAP_SETPCAP, which goes with the capset below.
    for (int cap = 0; cap <= plan->last_cap && cap < 64; cap++) {
        if (plan->keep & (UINT64_C(1) << cap)) continue;
        int present = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
        if (present < 0) {
            if (errno == EINVAL) break;  // beyond what this kernel knows
            record_failure(SYNWALL_PRIVILEGE_BOUNDING, errno, cap);
            return -1;
        }
        if (present == 1 && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
            record_failure(SYNWALL_PRIVILEGE_BOUNDING, errno, cap);
            return -1;
        }
    }

    // 2. Identity: groups and gid while CAP_SETGID is still there, uid last. Keep-caps keeps
    //    the permitted set across the uid change (effective is refilled by capset).
    int keepcaps = 0;
    if (plan->change_ids) {
        gid_t groups[2];
        long count = syscall(SYS_getgroups, 2, groups);
        if (!(count == 1 && groups[0] == plan->gid)) {
            gid_t only = plan->gid;
            if (syscall(SYS_setgroups, 1, &only) != 0) {
                record_failure(SYNWALL_PRIVILEGE_GROUPS, errno, -1);
                return -1;
            }
        }
        gid_t rgid = 0, egid = 0, sgid = 0;
        syscall(SYS_getresgid, &rgid, &egid, &sgid);
        if (rgid != plan->gid || egid != plan->gid || sgid != plan->gid) {
            if (syscall(SYS_setresgid, plan->gid, plan->gid, plan->gid) != 0) {
                record_failure(SYNWALL_PRIVILEGE_GID, errno, -1);
                return -1;
            }
        }
        uid_t ruid = 0, euid = 0, suid = 0;
        syscall(SYS_getresuid, &ruid, &euid, &suid);
        if (ruid != plan->uid || euid != plan->uid || suid != plan->uid) {
            if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) {
                record_failure(SYNWALL_PRIVILEGE_KEEPCAPS, errno, -1);
                return -1;
            }
            keepcaps = 1;
            if (syscall(SYS_setresuid, plan->uid, plan->uid, plan->uid) != 0) {
                record_failure(SYNWALL_PRIVILEGE_UID, errno, -1);
                return -1;
            }
        }
    }

    // 3. permitted = effective = inheritable = keep.
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    for (int word = 0; word < 2; word++) {
        uint32_t bits = (uint32_t)(plan->keep >> (32 * word));
        data[word].effective = bits;
        data[word].permitted = bits;
        data[word].inheritable = bits;
    }
    if (syscall(SYS_capset, &header, data) != 0) {
        record_failure(SYNWALL_PRIVILEGE_CAPSET, errno, -1);
        return -1;
    }

    // 4. Ambient: the programs this thread runs (iptables, nft at detach) keep the same set
    //    even when the uid is not 0.
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) {
        record_failure(SYNWALL_PRIVILEGE_AMBIENT, errno, -1);
        return -1;
    }
    for (int cap = 0; cap < 64; cap++) {
        if (!(plan->keep & (UINT64_C(1) << cap))) continue;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) {
            record_failure(SYNWALL_PRIVILEGE_AMBIENT, errno, cap);
            return -1;
        }
    }

    if (keepcaps && prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) {
        record_failure(SYNWALL_PRIVILEGE_KEEPCAPS, errno, -1);
        return -1;
    }

    // 5. Nothing this thread executes can gain privileges (set-user-ID, file capabilities).
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        record_failure(SYNWALL_PRIVILEGE_NO_NEW_PRIVS, errno, -1);
        return -1;
    }
    return 0;
}

static void broadcast_handler(int signal) {
    (void)signal;
    int saved = errno;
    (void)apply_to_this_thread();
    int32_t slot = atomic_fetch_add(&acknowledged_count, 1);
    if (slot < SYNWALL_MAX_THREADS) {
        atomic_store(&acknowledged[slot], current_tid());
    } else {
        record_failure(SYNWALL_PRIVILEGE_TOO_MANY_THREADS, 0, -1);
    }
    errno = saved;
}

static int is_acknowledged(int32_t tid) {
    int32_t count = atomic_load(&acknowledged_count);
    if (count > SYNWALL_MAX_THREADS) count = SYNWALL_MAX_THREADS;
    for (int32_t i = 0; i < count; i++) {
        if (atomic_load(&acknowledged[i]) == tid) return 1;
    }
    return 0;
}

static int is_alive(pid_t pid, int32_t tid) {
    return syscall(SYS_tgkill, pid, tid, 0) == 0 || errno != ESRCH;
}

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int synwall_privilege_apply_all(const struct synwall_privilege_plan *plan, int32_t timeout_ms,
                                struct synwall_privilege_failure *failure) {
    memset(failure, 0, sizeof *failure);
    failure->capability = -1;
    plan_in_force = *plan;
    atomic_flag_clear(&failure_claimed);
    atomic_store(&failed_step, SYNWALL_PRIVILEGE_OK);
    atomic_store(&failed_error, 0);
    atomic_store(&failed_tid, 0);
    atomic_store(&failed_capability, -1);
    atomic_store(&acknowledged_count, 0);
    for (int i = 0; i < SYNWALL_MAX_THREADS; i++) atomic_store(&acknowledged[i], 0);

    struct sigaction action, previous;
    memset(&action, 0, sizeof action);
    action.sa_handler = broadcast_handler;
    sigfillset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    if (sigaction(SIGSYS, &action, &previous) != 0) {
        failure->step = SYNWALL_PRIVILEGE_SIGNAL;
        failure->error = errno;
        failure->tid = current_tid();
        return -1;
    }

    pid_t pid = getpid();
    int32_t self = current_tid();
    static int32_t signalled[SYNWALL_MAX_THREADS];
    int32_t signalled_count = 0;
    int settled = 0;
    for (int round = 0; round < SYNWALL_MAX_ROUNDS && atomic_load(&failed_step) == SYNWALL_PRIVILEGE_OK; round++) {
        // List the threads; signal each one not signalled yet.
        int fresh = 0;
        DIR *directory = opendir("/proc/self/task");
        if (directory == NULL) {
            record_failure(SYNWALL_PRIVILEGE_SIGNAL, errno, -1);
            break;
        }
        struct dirent *entry;
        while ((entry = readdir(directory)) != NULL) {
            char *end = NULL;
            long tid = strtol(entry->d_name, &end, 10);
            if (end == entry->d_name || *end != '\0' || tid <= 0 || tid == self) continue;
            int known = 0;
            for (int32_t i = 0; i < signalled_count; i++) {
                if (signalled[i] == tid) { known = 1; break; }
            }
            if (known) continue;
            if (signalled_count == SYNWALL_MAX_THREADS) {
                record_failure(SYNWALL_PRIVILEGE_TOO_MANY_THREADS, 0, -1);
                break;
            }
            if (syscall(SYS_tgkill, pid, (int32_t)tid, SIGSYS) != 0) {
                if (errno == ESRCH) continue;  // it ended meanwhile
                record_failure(SYNWALL_PRIVILEGE_SIGNAL, errno, -1);
                break;
            }
            signalled[signalled_count++] = (int32_t)tid;
            fresh++;
        }
        closedir(directory);
        if (atomic_load(&failed_step) != SYNWALL_PRIVILEGE_OK) break;
        if (fresh == 0) {
            settled = 1;
            break;
        }
        // Wait (bounded) until every signalled thread ran the sequence or ended.
        int64_t deadline = now_ms() + timeout_ms;
        while (atomic_load(&failed_step) == SYNWALL_PRIVILEGE_OK) {
            int32_t waiting = 0;
            for (int32_t i = 0; i < signalled_count && waiting == 0; i++) {
                if (!is_acknowledged(signalled[i]) && is_alive(pid, signalled[i])) waiting = signalled[i];
            }
            if (waiting == 0) break;
            if (now_ms() > deadline) {
                record_failure_in(waiting, SYNWALL_PRIVILEGE_TIMEOUT, 0, -1);
                break;
            }
            struct timespec pause = {.tv_sec = 0, .tv_nsec = 1000000};
            nanosleep(&pause, NULL);
        }
    }
    if (!settled && atomic_load(&failed_step) == SYNWALL_PRIVILEGE_OK) {
        // Threads kept appearing for every round.
        record_failure(SYNWALL_PRIVILEGE_TIMEOUT, 0, -1);
    }
    if (atomic_load(&failed_step) == SYNWALL_PRIVILEGE_OK) (void)apply_to_this_thread();
    if (atomic_load(&failed_step) == SYNWALL_PRIVILEGE_OK) {
        sigaction(SIGSYS, &previous, NULL);
    } else {
        // After a failure some signalled threads may not have run the handler yet: with the
        // default action back, their pending SIGSYS would kill the process. Ignoring SIGSYS
        // discards them; the daemon stops anyway.
        struct sigaction ignore;
        memset(&ignore, 0, sizeof ignore);
        ignore.sa_handler = SIG_IGN;
        sigemptyset(&ignore.sa_mask);
        sigaction(SIGSYS, &ignore, NULL);
    }

    failure->step = atomic_load(&failed_step);
    failure->error = atomic_load(&failed_error);
    failure->tid = atomic_load(&failed_tid);
    failure->capability = atomic_load(&failed_capability);
    int32_t count = atomic_load(&acknowledged_count);
    failure->threads = count;
    return failure->step == SYNWALL_PRIVILEGE_OK ? 0 : -1;
}
