/*
 * udp-flood: a bounded UDP packet generator for the NFQUEUE benchmark.
 *
 * Sends identical UDP datagrams with sendmmsg until COUNT packets are sent or
 * SECONDS have passed, whichever comes first, then prints one line:
 *   udp-flood: sent=N elapsed=S pps=R errors=E
 *
 * Build: cc -O2 -Wall -o udp-flood udp-flood.c
 * Usage: udp-flood -d ADDR [-p PORT] [-t SECONDS] [-n COUNT] [-s SIZE] [-B BATCH]
 *                  [-S SRC]...
 *   With -n and no -t the time bound is 30 s; with neither it is -t 5.
 *   Each -S SRC adds one connected socket bound to that local address; the
 *   batches go to the sockets in turn, so every source sends the same share
 *   (the kernel's NFQUEUE --queue-balance hashes addresses, not ports). Without
 *   -S there is one socket with the address the route picks.
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

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define MAX_BATCH 1024
#define MAX_SIZE 65000
#define MAX_SOURCES 256

static volatile sig_atomic_t stop_requested;

static void on_signal(int signo)
{
	(void)signo;
	stop_requested = 1;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s -d ADDR [-p PORT] [-t SECONDS] [-n COUNT] [-s SIZE] [-B BATCH] [-S SRC]...\n"
		"  -d ADDR     IPv4 destination address\n"
		"  -p PORT     UDP destination port (default 9000)\n"
		"  -t SECONDS  stop after this many seconds (default 5, or 30 when -n is given)\n"
		"  -n COUNT    stop after this many packets (default: no count bound)\n"
		"  -s SIZE     UDP payload bytes (default 64)\n"
		"  -B BATCH    datagrams per sendmmsg (default 64, max %d)\n"
		"  -S SRC      send from this local IPv4 address (repeatable, max %d;\n"
		"              batches take the sources in turn)\n",
		argv0, MAX_BATCH, MAX_SOURCES);
}

int main(int argc, char **argv)
{
	const char *dest = NULL;
	unsigned long port = 9000, size = 64, batch = 64;
	unsigned long long count = 0; /* 0 = no count bound */
	double seconds = -1;
	const char *sources[MAX_SOURCES];
	int source_count = 0;
	int opt;
	while ((opt = getopt(argc, argv, "d:p:t:n:s:B:S:h")) != -1) {
		char *end = NULL;
		errno = 0;
		switch (opt) {
		case 'd': dest = optarg; break;
		case 'p': port = strtoul(optarg, &end, 10); break;
		case 't': seconds = strtod(optarg, &end); break;
		case 'n': count = strtoull(optarg, &end, 10); break;
		case 's': size = strtoul(optarg, &end, 10); break;
		case 'B': batch = strtoul(optarg, &end, 10); break;
		case 'S':
			if (source_count == MAX_SOURCES) {
				fprintf(stderr, "udp-flood: error: at most %d -S sources\n", MAX_SOURCES);
				return 2;
			}
			sources[source_count++] = optarg;
			break;
		case 'h': usage(argv[0]); return 0;
		default: usage(argv[0]); return 2;
		}
		if (end != NULL && (errno != 0 || end == optarg || *end != '\0')) {
			fprintf(stderr, "udp-flood: error: bad value '%s' for -%c\n", optarg, opt);
			return 2;
		}
	}
	if (dest == NULL || optind != argc || port == 0 || port > 65535 || size > MAX_SIZE ||
	    batch == 0 || batch > MAX_BATCH || (seconds != -1 && !(seconds > 0 && seconds <= 3600))) {
		usage(argv[0]);
		return 2;
	}
	if (seconds == -1)
		seconds = count > 0 ? 30 : 5;

	struct sockaddr_in addr;
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, dest, &addr.sin_addr) != 1) {
		fprintf(stderr, "udp-flood: error: '%s' is not an IPv4 address\n", dest);
		return 2;
	}
	/* One connected socket per source address (or one with the routed source). */
	static int fds[MAX_SOURCES];
	int fd_count = source_count > 0 ? source_count : 1;
	for (int i = 0; i < fd_count; i++) {
		int fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (fd < 0) {
			perror("udp-flood: error: socket");
			return 1;
		}
		if (source_count > 0) {
			struct sockaddr_in local;
			memset(&local, 0, sizeof(local));
			local.sin_family = AF_INET;
			if (inet_pton(AF_INET, sources[i], &local.sin_addr) != 1) {
				fprintf(stderr, "udp-flood: error: source '%s' is not an IPv4 address\n", sources[i]);
				return 2;
			}
			if (bind(fd, (struct sockaddr *)&local, sizeof(local)) < 0) {
				fprintf(stderr, "udp-flood: error: binding source %s: %s (is it an address of this namespace?)\n",
					sources[i], strerror(errno));
				return 1;
			}
		}
		if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
			perror("udp-flood: error: connect");
			return 1;
		}
		int sndbuf = 4 << 20;
		setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf));
		fds[i] = fd;
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	static char payload[MAX_SIZE];
	memset(payload, 'x', size);
	static struct iovec iov;
	iov.iov_base = payload;
	iov.iov_len = size;
	static struct mmsghdr msgs[MAX_BATCH];
	for (unsigned long i = 0; i < batch; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}

	unsigned long long sent = 0, errors = 0;
	int next = 0;
	double start = now(), deadline = start + seconds, elapsed;
	for (;;) {
		double t = now();
		if (stop_requested || t >= deadline || (count > 0 && sent >= count)) {
			elapsed = t - start;
			break;
		}
		unsigned int k = (unsigned int)batch;
		if (count > 0 && count - sent < k)
			k = (unsigned int)(count - sent);
		int fd = fds[next];
		next = next + 1 == fd_count ? 0 : next + 1;
		int r = sendmmsg(fd, msgs, k, 0);
		if (r < 0) {
			/* ENOBUFS/EAGAIN: local queue full; ECONNREFUSED: an ICMP error came
			 * back on the connected socket. Count and keep going (time-bounded). */
			errors++;
			continue;
		}
		sent += (unsigned long long)r;
	}
	printf("udp-flood: sent=%llu elapsed=%.6f pps=%.0f errors=%llu\n", sent, elapsed,
	       elapsed > 0 ? (double)sent / elapsed : 0.0, errors);
	for (int i = 0; i < fd_count; i++)
		close(fds[i]);
	return 0;
}
