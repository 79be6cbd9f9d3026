// Thin shim over libnetfilter_queue (libmnl API) for Swift.
//
// Order matters: <sys/socket.h> and <netinet/in.h> must come before any <linux/...> header,
// otherwise Swift's module import sees `struct in6_addr` twice (glibc and the uapi headers).
// The kernel's own nfnetlink_queue.h comes before the library's bundled copy (same include
// guard), so the full, current NFQA_* enum is visible.
#ifndef SYNWALL_CNETFILTERQUEUE_SHIM_H
#define SYNWALL_CNETFILTERQUEUE_SHIM_H

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

/// NLMSG_ALIGN is a macro; Swift cannot call it.
static inline uint32_t synwall_nlmsg_align(uint32_t len) { return NLMSG_ALIGN(len); }

/// Size of the nlmsghdr + nfgenmsg prefix of every nfqueue message.
static inline uint32_t synwall_nfq_header_len(void) {
    return NLMSG_ALIGN(sizeof(struct nlmsghdr)) + NLMSG_ALIGN(sizeof(struct nfgenmsg));
}

/// glibc declares `struct mmsghdr` and `recvmmsg` only under _GNU_SOURCE, which Swift's Glibc
/// module is not built with. Mirror the struct (same layout as glibc's) and bind the symbol by
/// its assembler name, so Swift can receive many netlink datagrams in one system call.
struct synwall_mmsghdr {
    struct msghdr msg_hdr;
    unsigned int msg_len;
};
_Static_assert(sizeof(struct synwall_mmsghdr) == sizeof(struct msghdr) + 8, "mmsghdr layout");
extern int synwall_recvmmsg(int fd, struct synwall_mmsghdr *vmessages, unsigned int vlen,
                            int flags, struct timespec *timeout) __asm__("recvmmsg");

/// MSG_WAITFORONE (0x10000) is likewise hidden behind _GNU_SOURCE.
static inline int synwall_msg_waitforone(void) { return 0x10000; }

#endif
