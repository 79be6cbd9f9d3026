#!/usr/bin/env bash
# Installs what synwall needs to build, run and test on Debian (run as root).
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
    echo "setup.sh: run as root (it installs Debian packages)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
    libnetfilter-queue-dev libnfnetlink-dev libmnl-dev libpcap-dev zlib1g-dev libsystemd-dev \
    nftables iptables iproute2 ethtool python3-scapy procps iputils-ping \
    systemd util-linux time dpkg-dev man-db lintian >/dev/null
# systemd: `systemd-analyze verify` checks contrib/synwall.service; util-linux: setpriv starts the
# daemon the way that unit does; time: the peak memory of a command run by a test (all three in
# the integration tests, which fail without them). dpkg-dev, man-db, lintian:
# scripts/package.sh builds and checks the .deb, scripts/test-package.sh installs it and reads
# its man pages (the package test).
if ! command -v swift >/dev/null 2>&1; then
    echo "setup.sh: the Swift toolchain (6.1 or newer) is not on PATH; install it from swift.org" >&2
    exit 1
fi
