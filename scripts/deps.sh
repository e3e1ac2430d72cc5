#!/bin/sh
# SPDX-License-Identifier: MIT
# The one place that knows what Ferry's build and tests need from the host.
# Checks every tool; as root, installs the missing Debian packages (after
# apt-get update); otherwise prints the exact apt-get line and fails.
set -eu

# tool:package pairs
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
"
# Files (not commands) that packages provide.
FILES="
/usr/lib/grub/i386-pc/multiboot2.mod:grub-pc-bin
"

missing=""
add() {
	case " $missing " in *" $1 "*) ;; *) missing="$missing $1" ;; esac
}
for pair in $TOOLS; do
	tool=${pair%%:*} pkg=${pair#*:}
	command -v "$tool" >/dev/null 2>&1 || add "$pkg"
done
for pair in $FILES; do
	file=${pair%%:*} pkg=${pair#*:}
	[ -e "$file" ] || add "$pkg"
done
# The Linux peer (`make bench-peer`, peer/linux/): checked only when asked,
# `sh scripts/deps.sh peer`.  It builds its guest program with the clang
# above, static, so it needs glibc's static library and the kernel headers
# (userfaultfd.h); Debian's kernel and busybox-static are not installed but
# fetched into the peer's cache by peer/linux/fetch.py (apt-get download).
PEER_FILES="
/usr/lib/x86_64-linux-gnu/libc.a:libc6-dev
/usr/include/linux/userfaultfd.h:linux-libc-dev
"
if [ "${1:-}" = peer ]; then
	for pair in $PEER_FILES; do
		file=${pair%%:*} pkg=${pair#*:}
		[ -e "$file" ] || add "$pkg"
	done
fi

[ -z "$missing" ] && exit 0

line="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" != 0 ]; then
	echo "ferry: missing build tools. Please run, as root:" >&2
	echo "  apt-get update && $line" >&2
	exit 1
fi
echo "ferry: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >&2
