/*
 * nfq-reader: a minimal accept-all NFQUEUE reader, the yardstick for synwall.
 *
 * It does the least work user space can do per queued packet on the libmnl API
 * (nfq_nlmsg_* + mnl_socket_*): bind the queue, set COPY_PACKET, the queue
 * length and the flags in one acknowledged config message; receive with
 * recvmmsg(MSG_WAITFORONE) into preallocated slots; read only the packet id of
 * each message; answer every receive round with one NFQNL_MSG_VERDICT_BATCH
 * accept up to the highest id seen. On SIGTERM or SIGINT it prints its counters
 * and exits 0.
 *
 * Build: cc -O2 -Wall -o nfq-reader nfq-reader.c -lnetfilter_queue -lmnl
 * Usage: nfq-reader [-q QUEUE] [-r COPY_RANGE] [-m MAXLEN] [-b RCVBUF] [-v VLEN] [-G]
 *
 * stdout (line-buffered):
 *   nfq-reader: ready: queue 0 copy-range 512 maxlen 65536 rcvbuf 134217728
 *   nfq-reader: stopped: packets=N rounds=N enobufs=N errors=N truncated=N
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

/* The kernel's uapi header first: it has the complete NFQA_* enum; the copy
 * bundled with libnetfilter_queue 1.0.5 uses the same include guard. */
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>

#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#define MAX_VLEN 1024

static volatile sig_atomic_t stop_requested;

static void on_signal(int signo)
{
	(void)signo;
	stop_requested = 1;
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [-q QUEUE] [-r COPY_RANGE] [-m MAXLEN] [-b RCVBUF] [-v VLEN] [-G]\n"
		"  -q QUEUE       queue number to bind (default 0)\n"
		"  -r COPY_RANGE  bytes of each packet to copy (default 512; 0 = whole packet)\n"
		"  -m MAXLEN      queue max length (default 65536)\n"
		"  -b RCVBUF      socket receive buffer in bytes, SO_RCVBUFFORCE (default 67108864)\n"
		"  -v VLEN        messages per recvmmsg (default 64, max %d)\n"
		"  -G             do not set NFQA_CFG_F_GSO (set by default, as synwall does)\n",
		argv0, MAX_VLEN);
}

static int parse_ulong(const char *text, unsigned long max, unsigned long *out)
{
	char *end = NULL;
	errno = 0;
	unsigned long value = strtoul(text, &end, 0);
	if (errno != 0 || end == text || *end != '\0' || value > max)
		return -1;
	*out = value;
	return 0;
}

/* Binds the queue and configures it in one message, then waits for the ack.
 * Packet messages that arrive before the ack are ignored here; the first batch
 * verdict of the main loop covers them (it accepts every id up to its own). */
static int configure(struct mnl_socket *nl, uint16_t queue, uint32_t range,
		     uint32_t maxlen, uint32_t flags)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue);
	/* nfq_nlmsg_put2 is not in libnetfilter_queue 1.0.5: ask for the ack by hand. */
	nlh->nlmsg_flags |= NLM_F_ACK;
	uint32_t seq = (uint32_t)time(NULL);
	nlh->nlmsg_seq = seq;
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, (int)range);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, maxlen);
	/* The kernel rejects NFQA_CFG_FLAGS without NFQA_CFG_MASK (EINVAL). The mask
	 * names every flag we decide about: fail-open stays off, GSO as asked. */
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO));

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		perror("nfq-reader: error: sending the queue config");
		return -1;
	}
	unsigned int portid = mnl_socket_get_portid(nl);
	/* Bounded: the ack comes right after the config is processed; a handful of
	 * early packet datagrams at most can precede it. */
	for (int attempt = 0; attempt < 100000; attempt++) {
		ssize_t len = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (len < 0) {
			if (errno == EINTR || errno == ENOBUFS || errno == ENOSPC)
				continue;
			perror("nfq-reader: error: waiting for the config ack");
			return -1;
		}
		int ret = mnl_cb_run(buf, (size_t)len, seq, portid, NULL, NULL);
		if (ret == MNL_CB_STOP)
			return 0; /* the ack */
		if (ret == MNL_CB_ERROR) {
			fprintf(stderr, "nfq-reader: error: binding queue %u: %s%s\n", queue,
				strerror(errno),
				errno == EPERM || errno == EBUSY
					? " (another socket owns this queue; see /proc/net/netfilter/nfnetlink_queue)"
					: "");
			return -1;
		}
	}
	fprintf(stderr, "nfq-reader: error: no ack for the queue config\n");
	return -1;
}

static int send_batch_accept(struct mnl_socket *nl, char *buf, uint16_t queue, uint32_t id)
{
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT_BATCH, queue);
	nfq_nlmsg_verdict_put(nlh, (int)id, NF_ACCEPT);
	return mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	unsigned long queue = 0, range = 512, maxlen = 65536, rcvbuf = 64UL << 20, vlen = 64;
	uint32_t flags = NFQA_CFG_F_GSO;
	int opt;
	while ((opt = getopt(argc, argv, "q:r:m:b:v:Gh")) != -1) {
		int bad = 0;
		switch (opt) {
		case 'q': bad = parse_ulong(optarg, 65535, &queue); break;
		case 'r': bad = parse_ulong(optarg, 65531, &range); break;
		case 'm': bad = parse_ulong(optarg, UINT32_MAX, &maxlen); break;
		case 'b': bad = parse_ulong(optarg, INT32_MAX / 2, &rcvbuf); break;
		case 'v': bad = parse_ulong(optarg, MAX_VLEN, &vlen) || vlen == 0; break;
		case 'G': flags &= ~(uint32_t)NFQA_CFG_F_GSO; break;
		case 'h': usage(argv[0]); return 0;
		default: usage(argv[0]); return 2;
		}
		if (bad) {
			fprintf(stderr, "nfq-reader: error: bad value '%s' for -%c\n", optarg, opt);
			usage(argv[0]);
			return 2;
		}
	}
	if (optind != argc) {
		usage(argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	/* No SA_RESTART: a signal must interrupt the blocking recvmmsg. */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	if (nl == NULL) {
		perror("nfq-reader: error: opening the netlink socket");
		return 1;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("nfq-reader: error: binding the netlink socket");
		return 1;
	}
	int fd = mnl_socket_get_fd(nl);
	int size = (int)rcvbuf;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0) {
		fprintf(stderr, "nfq-reader: warning: SO_RCVBUFFORCE failed (%s), trying SO_RCVBUF "
			"(capped by net.core.rmem_max)\n", strerror(errno));
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	}
	int effective = 0;
	socklen_t optlen = sizeof(effective);
	getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &effective, &optlen);

	if (configure(nl, (uint16_t)queue, (uint32_t)range, (uint32_t)maxlen, flags) < 0)
		return 1;

	/* One slot per message: the copied bytes plus room for the netlink and
	 * attribute headers. A truncated datagram (MSG_TRUNC) is counted. */
	size_t copy = range == 0 ? 65531 : range;
	size_t slot = (copy + 4096 + 63) & ~(size_t)63;
	char *slots = malloc(slot * vlen);
	struct mmsghdr *msgs = calloc(vlen, sizeof(*msgs));
	struct iovec *iov = calloc(vlen, sizeof(*iov));
	char verdict_buf[MNL_SOCKET_BUFFER_SIZE];
	if (slots == NULL || msgs == NULL || iov == NULL) {
		fprintf(stderr, "nfq-reader: error: out of memory\n");
		return 1;
	}
	for (size_t i = 0; i < vlen; i++) {
		iov[i].iov_base = slots + i * slot;
		iov[i].iov_len = slot;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}

	printf("nfq-reader: ready: queue %lu copy-range %lu maxlen %lu rcvbuf %d\n",
	       queue, range, maxlen, effective);

	const uint16_t packet_type = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET;
	unsigned long long packets = 0, rounds = 0, enobufs = 0, errors = 0, truncated = 0;
	while (!stop_requested) {
		int n = recvmmsg(fd, msgs, (unsigned int)vlen, MSG_WAITFORONE, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) { /* messages were lost (packets dropped): count, go on */
				enobufs++;
				continue;
			}
			perror("nfq-reader: error: recvmmsg");
			break;
		}
		uint32_t highest = 0;
		int have_id = 0;
		for (int i = 0; i < n; i++) {
			if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC)
				truncated++;
			int len = (int)msgs[i].msg_len;
			const struct nlmsghdr *nlh = (const struct nlmsghdr *)iov[i].iov_base;
			for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
				if (nlh->nlmsg_type == NLMSG_ERROR) {
					errors++; /* e.g. a verdict the kernel refused */
					continue;
				}
				if (nlh->nlmsg_type != packet_type)
					continue;
				const struct nlattr *attr;
				mnl_attr_for_each(attr, nlh, sizeof(struct nfgenmsg)) {
					if (mnl_attr_get_type(attr) != NFQA_PACKET_HDR)
						continue;
					if (mnl_attr_get_payload_len(attr) < sizeof(struct nfqnl_msg_packet_hdr))
						break;
					const struct nfqnl_msg_packet_hdr *ph = mnl_attr_get_payload(attr);
					uint32_t id = ntohl(ph->packet_id);
					/* Wrap-safe "newer than": ids grow modulo 2^32. */
					if (!have_id || (int32_t)(id - highest) > 0)
						highest = id;
					have_id = 1;
					packets++;
					break;
				}
			}
		}
		if (have_id) {
			rounds++;
			if (send_batch_accept(nl, verdict_buf, (uint16_t)queue, highest) < 0) {
				if (errno == EINTR)
					/* retry once; the ids stay queued otherwise until the next round */
					send_batch_accept(nl, verdict_buf, (uint16_t)queue, highest);
				else
					errors++;
			}
		}
	}

	printf("nfq-reader: stopped: packets=%llu rounds=%llu enobufs=%llu errors=%llu truncated=%llu\n",
	       packets, rounds, enobufs, errors, truncated);
	mnl_socket_close(nl);
	free(slots);
	free(msgs);
	free(iov);
	return 0;
}
