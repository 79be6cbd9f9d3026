#!/usr/bin/env bash
# Builds the Debian package: synwall_VERSION_amd64.deb, with dpkg-deb (no debian/ tree: the
# layout is written here, in one place).
#
#   scripts/package.sh [--out DIR] [--binary FILE] [--no-lintian]
#
#   --out DIR      where the .deb goes (default .build/package); prints its path last
#   --binary FILE  package this binary instead of building one (it must be a release build
#                  with the Swift runtime linked in: `synwall --version` must run); the test
#                  bed is taken from beside it (FILE's directory/synwall-testbed)
#   --no-lintian   skip lintian (by default, when installed, its errors and warnings fail the build)
#
# The build: `swift build -c release --static-swift-stdlib --disable-local-rpath`, so the binary
# needs no Swift toolchain on the target (only the Debian libraries in Depends:) and has no
# RUNPATH; the commit goes in with -Xcc -DSYNWALL_GIT_COMMIT (Sources/CBuildInfo). The test bed
# (`synwall-testbed`: the demo and its attack helpers, kept out of the daemon's binary) is
# built the same way and goes to /usr/lib/synwall, where `synwall demo` looks for it. Man pages:
# synwall(8) generated from the CLI's own help by swift-argument-parser's generate-manual
# (built from the checkout SwiftPM already has: no network), synwall.rules(5) from
# docs/man/. Completions from `synwall --generate-completion-script`. Depends: from
# dpkg-shlibdeps on the binary, plus iptables (run by `synwall run` to attach) and
# systemd-sysusers (postinst makes the account with it).
set -euo pipefail
cd "$(dirname "$0")/.."
root_dir=$PWD

out="$root_dir/.build/package"
binary=""
lintian=1
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out=$(realpath -m "$2"); shift 2 ;;
        --binary) binary=$(realpath "$2"); shift 2 ;;
        --no-lintian) lintian=0; shift ;;
        -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "package.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
for tool in dpkg-deb dpkg-shlibdeps gzip python3 readelf strip; do
    command -v "$tool" >/dev/null || { echo "package.sh: $tool is missing (apt-get install dpkg-dev binutils python3)" >&2; exit 1; }
done

# 1. The binary. Built in a directory of its own: a `swift test` that runs this script (the
# package test) holds .build's lock, and a build there would wait for it forever.
scratch="$root_dir/.build-package"
if [ -z "$binary" ]; then
    commit=unknown
    if git -C "$root_dir" rev-parse --git-dir >/dev/null 2>&1; then
        commit=$(git -C "$root_dir" rev-parse --short=12 HEAD)
        # Tracked files changed since the commit make it a different program.
        git -C "$root_dir" diff --quiet HEAD -- || commit="$commit-dirty"
    fi
    echo "package.sh: release build (static Swift runtime), commit $commit" >&2
    # Full RELRO (-z relro -z now) and _FORTIFY_SOURCE for our C, as Debian's hardening asks.
    for product in synwall synwall-testbed; do
        swift build --scratch-path "$scratch" -c release --static-swift-stdlib --disable-local-rpath --product "$product" \
            -Xcc "-DSYNWALL_GIT_COMMIT=\"$commit\"" -Xcc -D_FORTIFY_SOURCE=2 \
            -Xlinker -z -Xlinker relro -Xlinker -z -Xlinker now >&2
    done
    binary="$scratch/release/synwall"
fi
testbed="$(dirname "$binary")/synwall-testbed"
[ -x "$testbed" ] || { echo "package.sh: no test bed beside $binary (build the synwall-testbed product)" >&2; exit 1; }
if grep -q 'synwall peer: ' "$binary"; then
    echo "package.sh: $binary carries the attack helpers; they belong in synwall-testbed only" >&2
    exit 1
fi
version_line=$("$binary" --version)
version=$(echo "$version_line" | awk '{print $2}')
case "$version" in [0-9]*.[0-9]*.[0-9]*) ;; *) echo "package.sh: cannot read the version from '$version_line'" >&2; exit 1 ;; esac
for file in "$binary" "$testbed"; do
    if readelf -d "$file" | grep -q 'R\(UN\)\{0,1\}PATH'; then
        echo "package.sh: $file has an RPATH/RUNPATH ($(readelf -d "$file" | grep PATH)); build with --disable-local-rpath" >&2
        exit 1
    fi
    if readelf -d "$file" | grep -q 'libswift'; then
        echo "package.sh: $file links the Swift runtime dynamically; build with --static-swift-stdlib" >&2
        exit 1
    fi
done

# 2. The tree.
work="$out/work"
stage="$work/synwall"
rm -rf "$work"
mkdir -p "$stage/DEBIAN" "$out"
install -D -m 0755 "$binary" "$stage/usr/sbin/synwall"
install -D -m 0755 "$testbed" "$stage/usr/lib/synwall/synwall-testbed"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$stage/usr/sbin/synwall" \
    "$stage/usr/lib/synwall/synwall-testbed"
install -D -m 0644 contrib/synwall.service "$stage/lib/systemd/system/synwall.service"
install -D -m 0644 contrib/synwall.sysusers "$stage/usr/lib/sysusers.d/synwall.conf"
install -D -m 0644 contrib/synwall.tmpfiles "$stage/usr/lib/tmpfiles.d/synwall.conf"
install -D -m 0644 contrib/synwall.logrotate "$stage/etc/logrotate.d/synwall"
install -D -m 0644 contrib/synwall.default "$stage/etc/default/synwall"
install -D -m 0644 rules/default.rules "$stage/etc/synwall/synwall.rules"
doc="$stage/usr/share/doc/synwall"
install -d -m 0755 "$doc/examples"
for file in rules/*.rules rules/blocklist.txt; do install -m 0644 "$file" "$doc/examples/"; done
install -m 0644 rules/README.md "$doc/examples/README.md"
install -m 0644 contrib/grafana-dashboard.json "$doc/examples/grafana-dashboard.json" 2>/dev/null || true
cat > "$doc/copyright" <<'EOF'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: synwall
Comment: The binary links the Swift runtime, Foundation and ICU statically, and
 swift-argument-parser, swift-atomics and swift-log; their licenses follow.

Files: *
Copyright: 2026 the synwall authors
License: unstated
 The synwall sources do not state a license yet.

Files: Swift runtime, Foundation, swift-argument-parser, swift-atomics, swift-log
Copyright: Apple Inc. and the Swift project authors
License: Apache-2.0 with Runtime Library Exception
 On Debian systems the Apache License 2.0 is in /usr/share/common-licenses/Apache-2.0.
 The Runtime Library Exception: https://swift.org/LICENSE.txt

Files: ICU data and code (statically linked through Foundation)
Copyright: Unicode, Inc. and others
License: Unicode-3.0
 https://www.unicode.org/license.txt
EOF
printf 'synwall (%s) unstable; urgency=medium\n\n  * Built from commit %s.\n\n -- synwall maintainers <maintainers@synwall.invalid>  %s\n' \
    "$version" "$(echo "$version_line" | sed -n 's/.*(commit \(.*\)).*/\1/p')" \
    "$(date -R -d "@${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")" \
    | gzip -9n > "$doc/changelog.gz"  # a native package (no Debian revision): changelog.gz
chmod 0644 "$doc/copyright" "$doc/changelog.gz"

# Man pages: synwall(8) from the CLI's help, synwall.rules(5) as written.
swift build --scratch-path "$scratch" --product generate-manual >&2
generated="$work/man"
mkdir -p "$generated"
"$scratch/debug/generate-manual" "$binary" --section 8 --output-directory "$generated" >&2
"$binary" --experimental-dump-help > "$generated/help.json"
install -d -m 0755 "$stage/usr/share/man/man8" "$stage/usr/share/man/man5"
python3 scripts/man-page.py "$generated/synwall.8" "$generated/help.json" docs/man/synwall.8.tail \
    | gzip -9n > "$stage/usr/share/man/man8/synwall.8.gz"
gzip -9n < docs/man/synwall.rules.5 > "$stage/usr/share/man/man5/synwall.rules.5.gz"
chmod 0644 "$stage"/usr/share/man/man*/*.gz

# Completions.
install -d -m 0755 "$stage/usr/share/bash-completion/completions" "$stage/usr/share/zsh/vendor-completions" \
    "$stage/usr/share/fish/vendor_completions.d"
# bash-completion sources the file: no #! line.
"$binary" --generate-completion-script bash | sed '1{/^#!/d}' > "$stage/usr/share/bash-completion/completions/synwall"
"$binary" --generate-completion-script zsh > "$stage/usr/share/zsh/vendor-completions/_synwall"
"$binary" --generate-completion-script fish > "$stage/usr/share/fish/vendor_completions.d/synwall.fish"
chmod 0644 "$stage/usr/share/bash-completion/completions/synwall" "$stage/usr/share/zsh/vendor-completions/_synwall" \
    "$stage/usr/share/fish/vendor_completions.d/synwall.fish"

# 3. Control files.
mkdir -p "$work/debian"
printf 'Source: synwall\n\nPackage: synwall\nArchitecture: amd64\n' > "$work/debian/control"
shlibs=$(cd "$work" && dpkg-shlibdeps -O -e"$stage/usr/sbin/synwall" -e"$stage/usr/lib/synwall/synwall-testbed" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || { echo "package.sh: dpkg-shlibdeps found no libraries" >&2; exit 1; }
installed_size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat > "$stage/DEBIAN/control" <<EOF
Package: synwall
Version: $version
Architecture: amd64
Maintainer: synwall maintainers <maintainers@synwall.invalid>
Installed-Size: $installed_size
Depends: $shlibs, iptables, systemd | systemd-standalone-sysusers
Suggests: nftables, logrotate
Section: net
Priority: optional
Homepage: https://github.com/synwall/synwall
Description: stateful TCP firewall daemon on NFQUEUE
 synwall receives packets from the kernel through NFQUEUE, follows every TCP
 connection through handshake, data and close, drops what does not fit, and
 logs every suspicious event as JSON Lines. New connections are admitted by a
 pf-like rule file (/etc/synwall/synwall.rules, see synwall.rules(5)).
 .
 The service is not enabled on installation: check the rules first, then
 run "systemctl enable --now synwall".
EOF
printf '/etc/default/synwall\n/etc/logrotate.d/synwall\n/etc/synwall/synwall.rules\n' > "$stage/DEBIAN/conffiles"
cat > "$stage/DEBIAN/postinst" <<'EOF'
#!/bin/sh
# The account and the log directory; the unit is made known to systemd but not enabled (a
# firewall starts when its rules have been read: systemctl enable --now synwall).
set -e
if [ "$1" = "configure" ]; then
    systemd-sysusers /usr/lib/sysusers.d/synwall.conf
    systemd-tmpfiles --create /usr/lib/tmpfiles.d/synwall.conf || true
fi
if [ -d /run/systemd/system ]; then
    systemctl --system daemon-reload >/dev/null || true
    # An upgrade restarts a running daemon (its queues wait in the service manager meanwhile).
    if [ "$1" = "configure" ] && [ -n "$2" ]; then
        deb-systemd-invoke try-restart synwall.service >/dev/null || true
    fi
fi
exit 0
EOF
cat > "$stage/DEBIAN/prerm" <<'EOF'
#!/bin/sh
# Removal stops the daemon, which removes its rules from iptables.
set -e
if [ "$1" = "remove" ] && [ -d /run/systemd/system ]; then
    deb-systemd-invoke stop synwall.service >/dev/null || true
fi
exit 0
EOF
cat > "$stage/DEBIAN/postrm" <<'EOF'
#!/bin/sh
# Purge removes what synwall made: its log, state and runtime directories, the .bak files
# `synwall rules` leaves beside the rule file, the enablement links, and the account (its
# files are gone with it, so no file is left owned by a stale uid). Files the administrator
# added under /etc/synwall stay.
set -e
if [ "$1" = "purge" ]; then
    rm -rf /var/log/synwall /var/lib/synwall /run/synwall
    rm -f /etc/synwall/synwall.rules.bak /etc/synwall/synwall.rules.dpkg-old /etc/synwall/synwall.rules.dpkg-dist
    rmdir --ignore-fail-on-non-empty /etc/synwall 2>/dev/null || true
    if command -v deb-systemd-helper >/dev/null 2>&1; then
        deb-systemd-helper purge synwall.service >/dev/null || true
    fi
    if getent passwd synwall >/dev/null; then userdel synwall >/dev/null 2>&1 || true; fi
    if getent group synwall >/dev/null; then groupdel synwall >/dev/null 2>&1 || true; fi
fi
if [ -d /run/systemd/system ]; then
    systemctl --system daemon-reload >/dev/null || true
fi
exit 0
EOF
chmod 0755 "$stage/DEBIAN/postinst" "$stage/DEBIAN/prerm" "$stage/DEBIAN/postrm"
# Lintian overrides, each with its reason (README.md, "Install as a service", lists them too).
install -d -m 0755 "$stage/usr/share/lintian/overrides"
cat > "$stage/usr/share/lintian/overrides/synwall" <<'EOF'
# Words lintian reads as misspelt are pieces of the statically linked Swift runtime's and ICU's
# data tables (UNKNOW, WARNIN, matchign...), and nft's own keyword iif; none is synwall's text.
synwall: spelling-error-in-binary *
# systemd only, on purpose: the daemon's readiness (READY=1), status and the socket handover
# across restarts are the service manager's protocol; there is no sysvinit equivalent.
synwall: package-supports-alternative-init-but-no-init.d-script *
EOF
chmod 0644 "$stage/usr/share/lintian/overrides/synwall"
(cd "$stage" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) > "$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/md5sums"

# 4. The package.
deb="$out/synwall_${version}_amd64.deb"
find "$stage" -type d -exec chmod 0755 {} +
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >&2
if [ "$lintian" = 1 ] && command -v lintian >/dev/null; then
    echo "package.sh: lintian:" >&2
    # Errors and warnings fail the build; what remains is overridden above, with reasons.
    lintian --info --display-info --show-overrides --no-tag-display-limit --fail-on error,warning "$deb" >&2 \
        || { echo "package.sh: lintian reports errors or warnings (above)" >&2; exit 1; }
fi
echo "$deb"
