#!/bin/sh
# SPDX-License-Identifier: MIT
# The one place that knows what Ferry's build, tests and documented targets
# need from a Debian 12 host.  Each need is checked by what the build uses:
# a command, a file, or the sanitizer runtime clang will link (a Recommends
# of clang that --no-install-recommends leaves out).  Plain sh, no make:
# ./ferry runs this before make may exist.  As root it installs what is
# missing, one line per step, the full apt log in a file; otherwise it
# prints the exact apt-get line and fails.
set -eu

# command:package pairs
TOOLS="
clang:clang
ld.lld:lld
llvm-nm:llvm
make:make
python3:python3
qemu-system-x86_64:qemu-system-x86
xorriso:xorriso
grub-mkrescue:grub-common
mformat:mtools
mkswap:util-linux
mke2fs:e2fsprogs
e2fsck:e2fsprogs
debugfs:e2fsprogs
sfdisk:fdisk
gnuplot:gnuplot-nox
gdb:gdb
"
# file:package pairs, for what packages provide that is not a command.
FILES="
/usr/lib/grub/i386-pc/multiboot2.mod:grub-pc-bin
"
# The host unit tests' sanitizers (HOST_TEST_CFLAGS in tests/build.mk).
SANITIZE=-fsanitize=address,undefined
SANITIZER_RUNTIME=libclang-rt-dev

ROOT=$(cd "$(dirname "$0")/.." && pwd)

missing=""
add() {
	case " $missing " in *" $1 "*) ;; *) missing="$missing $1" ;; esac
}

# The clang_rt archives clang names on its link line for $SANITIZE must all
# exist; no clang, or a link line naming none, counts as missing too.
sanitizer_runtime_present() {
	command -v clang >/dev/null 2>&1 || return 1
	found=0
	for f in $(clang $SANITIZE -### -x c /dev/null -o /dev/null 2>&1 | tr ' ' '\n' |
			sed -n 's|^"\(/[^"]*libclang_rt[^"]*\.a\)"$|\1|p'); do
		[ -e "$f" ] || return 1
		found=1
	done
	[ "$found" = 1 ]
}

find_missing() {
	missing=""
	for pair in $TOOLS; do
		command -v "${pair%%:*}" >/dev/null 2>&1 || add "${pair#*:}"
	done
	for pair in $FILES; do
		[ -e "${pair%%:*}" ] || add "${pair#*:}"
	done
	sanitizer_runtime_present || add "$SANITIZER_RUNTIME"
	if [ "$WANT_PEER" = 1 ]; then
		for pair in $PEER_FILES; do
			[ -e "${pair%%:*}" ] || add "${pair#*:}"
		done
	fi
	if [ "$WANT_COST" = 1 ]; then
		for pair in $COST_FILES; do
			[ -e "${pair%%:*}" ] || add "${pair#*:}"
		done
	fi
}

# The Linux peer (`make bench-peer`, peer/linux/): checked only when asked,
# `sh scripts/deps.sh peer`.  It builds its guest program with the clang
# above, static, so it needs glibc's static library and the kernel headers
# (userfaultfd.h); Debian's kernel and busybox-static are not installed but
# fetched into the peer's cache by peer/linux/fetch.py (apt-get download).
PEER_FILES="
/usr/lib/x86_64-linux-gnu/libc.a:libc6-dev
/usr/include/linux/userfaultfd.h:linux-libc-dev
"
WANT_PEER=0
[ "${1:-}" = peer ] && WANT_PEER=1

# The cost-model plugin (tools/costmodel/: `make bench`, `make bench-peer`, its tests in
# `make test`): `sh scripts/deps.sh cost`.  The plugin is plain C against
# QEMU's plugin header (no GLib: the header needs none); the header comes
# from the Debian source package, fetched with apt-get and unpacked with
# tar, which needs xz for the .orig.tar.xz.
COST_FILES="
/usr/bin/xz:xz-utils
/usr/bin/dpkg-query:dpkg
"
WANT_COST=0
[ "${1:-}" = cost ] && WANT_COST=1

# build/deps.log in the checkout, or a temporary file where that is not writable.
open_log() {
	log="$ROOT/build/deps.log"
	if ! { mkdir -p "$ROOT/build" && : >"$log"; } 2>/dev/null; then
		log=$(mktemp "${TMPDIR:-/tmp}/ferry-deps.XXXXXX.log")
	fi
}

# step WHAT COMMAND...: one line on the terminal, everything else in $log;
# on failure the log's tail, so the reason is on screen.
step() {
	what=$1
	shift
	printf 'ferry: %s ... ' "$what" >&2
	start=$(date +%s)
	echo "### $*" >>"$log"
	if "$@" >>"$log" 2>&1 </dev/null; then
		printf 'ok (%ss)\n' $(($(date +%s) - start)) >&2
	else
		printf 'FAILED; last lines of %s:\n' "$log" >&2
		tail -n 25 "$log" | sed 's/^/    /' >&2
		exit 1
	fi
}

find_missing
[ -z "$missing" ] && exit 0

install="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" != 0 ]; then
	echo "ferry: missing build tools. Please run, as root:" >&2
	echo "  apt-get update && $install" >&2
	exit 1
fi
open_log
export DEBIAN_FRONTEND=noninteractive
# Waits for a dpkg lock held elsewhere (unattended-upgrades on a new machine).
apt_get() { apt-get -q -o DPkg::Lock::Timeout=600 "$@"; }
step "apt-get update" apt_get update
# shellcheck disable=SC2086
step "installing$missing" apt_get install -y --no-install-recommends $missing
find_missing
if [ -n "$missing" ]; then
	echo "ferry: still missing after the install:$missing (log: $log)" >&2
	exit 1
fi
echo "ferry: build tools installed (log: $log)" >&2
