#!/usr/bin/env bash
# Installs a synwall .deb into a fresh root, offline, uses it, purges it, and checks that
# nothing of it is left. Needs root. Exit status 0 when every check passed; otherwise the
# failed check is named on stderr and the status is 1.
#
#   scripts/test-package.sh synwall_VERSION_amd64.deb
#
# The fresh root is this machine's own root filesystem under an overlay (lower: /, read-only;
# upper: a tmpfs), entered with chroot in a private mount namespace: the Debian packages the
# .deb depends on are those installed here, nothing is downloaded, and every write lands in
# the tmpfs, which disappears with the namespace whatever happens (debootstrap would need the
# network). /opt/swift (the toolchain) is hidden in it, so the binary must run without it.
# After the purge, every file the overlay's upper layer still holds must be dpkg's or the
# tools' bookkeeping, and no path and no account may name synwall.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then echo "test-package.sh: run as root (it mounts and chroots)" >&2; exit 1; fi
[ $# -eq 1 ] && [ -f "$1" ] || { echo "usage: test-package.sh PACKAGE.deb" >&2; exit 2; }
deb=$(realpath "$1")

if [ -z "${SYNWALL_PACKAGE_TEST_INNER:-}" ]; then
    # A private mount namespace: the overlay and its mounts go away with this process.
    exec env SYNWALL_PACKAGE_TEST_INNER=1 unshare --mount --propagation private -- "$0" "$deb"
fi

base=$(mktemp -d /tmp/synwall-package-test.XXXXXX)
cleanup() {
    umount -R "$base/merged" 2>/dev/null || true
    umount "$base" 2>/dev/null || true
    rmdir "$base" 2>/dev/null || true
}
trap cleanup EXIT
fail() { echo "test-package.sh: FAIL: $*" >&2; exit 1; }
step() { echo "test-package.sh: $*"; }

mount -t tmpfs -o size=1g tmpfs "$base"
mkdir "$base/upper" "$base/work" "$base/merged"
mount -t overlay overlay -o "lowerdir=/,upperdir=$base/upper,workdir=$base/work" "$base/merged"
r="$base/merged"
mount -t proc proc "$r/proc"
mount --rbind /dev "$r/dev"
mount -t tmpfs tmpfs "$r/run"
mount -t tmpfs tmpfs "$r/tmp"
[ -d "$r/opt/swift" ] && mount -t tmpfs -o ro tmpfs "$r/opt/swift"
in_root() { chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TERM=dumb "$@"; }

# The root is fresh: no synwall in it.
if in_root dpkg-query -W -f='${Status}' synwall 2>/dev/null | grep -q installed; then
    fail "synwall is installed on this machine; the fresh root would not be fresh (dpkg --purge synwall here first)"
fi
for path in /etc/synwall /usr/sbin/synwall /usr/lib/synwall /var/log/synwall /var/lib/synwall; do
    [ ! -e "$r$path" ] || fail "$path exists on this machine; the fresh root would not be fresh"
done
! in_root getent passwd synwall >/dev/null || fail "the account synwall exists on this machine"
cp "$deb" "$r/tmp/synwall.deb"

step "install"
in_root dpkg -i /tmp/synwall.deb || fail "dpkg -i failed"
in_root dpkg-query -W -f='${Status}\n' synwall | grep -qx "install ok installed" || fail "not installed"

step "synwall --version (no Swift toolchain in the root)"
[ ! -e "$r/opt/swift/usr/lib/swift/linux/libswiftCore.so" ] || fail "the toolchain is visible in the root"
version=$(in_root synwall --version) || fail "synwall --version failed"
echo "$version"
echo "$version" | grep -Eq '^synwall [0-9]+\.[0-9]+\.[0-9]+ \(commit [0-9a-f]+(-dirty)?\)$' \
    || fail "synwall --version does not name a version and a commit: $version"

step "the test bed: in /usr/lib/synwall, where synwall demo finds it; none of it in synwall"
in_root /usr/lib/synwall/synwall-testbed --help | grep -q 'demo' || fail "/usr/lib/synwall/synwall-testbed --help does not run"
in_root /usr/lib/synwall/synwall-testbed peer --help | grep -q 'syn-flood' || fail "the test bed has no peer helpers"
! grep -q 'synwall peer: ' "$r/usr/sbin/synwall" || fail "/usr/sbin/synwall carries the attack helpers"
peer=$(in_root synwall peer listen 2>&1) && fail "synwall still has a peer command"
echo "$peer" | grep -q "unknown command 'peer'" || fail "synwall peer listen: $peer"
demo=$(in_root setpriv --reuid=65534 --regid=65534 --clear-groups synwall demo 2>&1) && fail "synwall demo ran unprivileged"
echo "$demo" | grep -q 'root' || fail "synwall demo did not reach the test bed (its root check): $demo"

step "synwall check /etc/synwall/synwall.rules, and check with no argument"
in_root synwall check /etc/synwall/synwall.rules || fail "the installed rule file does not check"
in_root synwall check | grep -q '^/etc/synwall/synwall.rules: ok' || fail "check without FILE does not use /etc/synwall/synwall.rules"
in_root synwall check /usr/share/doc/synwall/examples/web-server.rules >/dev/null \
    || fail "the examples (with their include and table file) do not check"

step "man pages"
for page in /usr/share/man/man8/synwall.8.gz /usr/share/man/man5/synwall.rules.5.gz; do
    text=$(in_root man -l "$page" 2>/dev/null) || fail "man -l $page failed"
    [ "$(echo "$text" | wc -l)" -gt 40 ] || fail "man -l $page shows almost nothing"
    warnings=$(in_root man --warnings -l "$page" 2>&1 >/dev/null) || true
    [ -z "$warnings" ] || fail "man --warnings -l $page: $warnings"
done
in_root man -l /usr/share/man/man8/synwall.8.gz 2>/dev/null | grep -q '/etc/synwall/synwall.rules' \
    || fail "synwall(8) does not name the rule file"
in_root man -l /usr/share/man/man8/synwall.8.gz 2>/dev/null | grep -Eq '^ +run +Run the firewall' \
    || fail "synwall(8) does not describe run"
! in_root man -l /usr/share/man/man8/synwall.8.gz 2>/dev/null | grep -Eq '^ +peer ' \
    || fail "synwall(8) lists the hidden peer command"

step "unit, account, directories, completions"
in_root systemd-analyze verify /lib/systemd/system/synwall.service || fail "systemd-analyze verify (with the man pages installed)"
out=$(in_root systemd-analyze verify /lib/systemd/system/synwall.service 2>&1)
[ -z "$out" ] || fail "systemd-analyze verify reports: $out"
in_root getent passwd synwall | grep -q ':/usr/sbin/nologin$' || fail "no account synwall with nologin"
[ "$(in_root stat -c %U:%a /var/log/synwall)" = "synwall:750" ] || fail "/var/log/synwall is not synwall's, mode 750"
in_root bash -n /usr/share/bash-completion/completions/synwall || fail "the bash completion does not parse"
grep -q "^complete -c 'synwall'" "$r/usr/share/fish/vendor_completions.d/synwall.fish" || fail "no fish completion"
head -1 "$r/usr/share/zsh/vendor-completions/_synwall" | grep -q '^#compdef synwall' || fail "no zsh completion"
for file in /etc/synwall/synwall.rules /etc/default/synwall /etc/logrotate.d/synwall; do
    grep -qx "$file" "$r/var/lib/dpkg/info/synwall.conffiles" || fail "$file is not a conffile"
done

step "remove, then purge"
in_root synwall rules add --no-reload 'pass in proto tcp to port 8443' >/dev/null || fail "synwall rules add"
[ -e "$r/etc/synwall/synwall.rules.bak" ] || fail "synwall rules add left no .bak"
in_root dpkg --remove synwall || fail "dpkg --remove failed"
[ ! -e "$r/usr/sbin/synwall" ] || fail "remove left /usr/sbin/synwall"
[ ! -e "$r/usr/lib/synwall" ] || fail "remove left /usr/lib/synwall"
[ -e "$r/etc/synwall/synwall.rules" ] || fail "remove took the changed conffile (only purge should)"
in_root dpkg --purge synwall || fail "dpkg --purge failed"
! in_root dpkg-query -W synwall >/dev/null 2>&1 || fail "dpkg still knows synwall after purge"
! in_root getent passwd synwall >/dev/null || fail "purge left the account synwall"
! in_root getent group synwall >/dev/null || fail "purge left the group synwall"

step "nothing of synwall left"
# What the overlay's upper layer holds: every file written or deleted (whiteouts) in the root.
# dpkg's, man-db's, systemd's and the account tools' bookkeeping may change; nothing else may.
left=$(cd "$base/upper" && find . -mindepth 1 ! -type d | sed 's|^\./|/|' | grep -Ev \
    '^/(var/lib/dpkg/|var/log/dpkg\.log$|var/log/apt/|var/cache/man/|var/cache/debconf/|var/lib/systemd/deb-systemd-helper-|etc/(passwd|group|shadow|gshadow|subuid|subgid)-?$|etc/\.pwd\.lock$|etc/ld\.so\.cache$|var/log/(lastlog|faillog)$)' || true)
[ -z "$left" ] || fail "files left after purge: $left"
# (man-db keeps formatted pages of what `man -l` showed above in /var/cache/man; its own cache,
# pruned by its daily job, not the package's.)
named=$(cd "$base/upper" && find . -iname '*synwall*' ! -path './var/cache/man/*' | sed 's|^\./|/|' || true)
[ -z "$named" ] || fail "paths named synwall left after purge: $named"
! grep -rqs synwall "$r/etc/passwd" "$r/etc/group" "$r/etc/shadow" "$r/etc/gshadow" || fail "the account is still in /etc"
! grep -q '^Package: synwall$' "$r/var/lib/dpkg/status" || fail "dpkg's status still lists synwall"
step "ok"
