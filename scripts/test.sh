#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite: unit tests and the real-kernel integration
# tests (network namespaces, iptables/nft, the real daemon). Needs root. Integration tests fail,
# never skip, when they cannot run.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
swift build
export SYNWALL_BINARY="$PWD/.build/debug/synwall"
# The Debian package (a release build, lintian), installed and purged by the package test.
SYNWALL_DEB=$(./scripts/package.sh)
export SYNWALL_DEB
swift test
