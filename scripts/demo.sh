#!/usr/bin/env bash
# Sets up, builds and runs `synwall demo`: the daemon in a sandbox of network namespaces with
# real traffic through it; everything it creates is removed when it ends. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
swift build
exec .build/debug/synwall demo "$@"
