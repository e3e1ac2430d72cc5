#!/bin/sh
# SPDX-License-Identifier: MIT
# Puts QEMU's plugin header, include/qemu/qemu-plugin.h, into a cache and
# prints its path.  Debian's qemu-system-x86 runs plugins (-plugin) but no
# package ships the header, so it comes from the source package of the very
# QEMU installed, fetched with `apt-get source --download-only` through a
# private apt configuration under the cache: the system's sources, lists
# and caches stay as they are.  Only the header is extracted; the tarballs
# and the private apt lists are deleted after.  Never committed to the
# repository.
#
#   tools/costmodel/fetch-header.sh [CACHE]     (default ~/.cache/ferry-qemu)
set -eu

CACHE=${1:-${FERRY_QEMU_CACHE:-$HOME/.cache/ferry-qemu}}
version=$(dpkg-query -W -f '${source:Version}' qemu-system-x86 2>/dev/null || true)
[ -n "$version" ] || { echo "fetch-header: qemu-system-x86 is not installed" >&2; exit 1; }
dir="$CACHE/$(echo "$version" | tr -c 'A-Za-z0-9.\n' _)"
dest="$dir/qemu-plugin.h"
if [ -s "$dest" ]; then
	echo "$dest"
	exit 0
fi

keyring=/usr/share/keyrings/debian-archive-keyring.gpg
apt="$CACHE/apt"
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$dir"
cat >"$apt/sources.list" <<SRC
deb-src [signed-by=$keyring] http://deb.debian.org/debian bookworm main
deb-src [signed-by=$keyring] http://deb.debian.org/debian bookworm-updates main
deb-src [signed-by=$keyring] http://deb.debian.org/debian-security bookworm-security main
SRC
log="$CACHE/fetch.log"
set -- -q -o Dir::Etc::sourcelist="$apt/sources.list" -o Dir::Etc::sourceparts=- \
	-o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt/cache" \
	-o APT::Sandbox::User="$(id -un)" -o Debug::NoLocking=1
echo "fetch-header: fetching QEMU $version's source package (once) into $CACHE ..." >&2
apt-get "$@" update >"$log" 2>&1 || { tail -n 20 "$log" >&2; exit 1; }
work=$(mktemp -d "$CACHE/src.XXXXXX")
trap 'rm -rf "$work"' EXIT
# The installed version if the archive still has it, else the newest: the
# plugin API (version 1) did not change within 7.2.
(cd "$work" && { apt-get "$@" source --download-only "qemu=$version" ||
	apt-get "$@" source --download-only qemu; }) >>"$log" 2>&1 ||
	{ tail -n 20 "$log" >&2; exit 1; }
orig=$(ls "$work"/qemu_*.orig.tar.* | head -n 1)
tar -xf "$orig" -C "$work" --wildcards '*/include/qemu/qemu-plugin.h' >>"$log" 2>&1 ||
	{ echo "fetch-header: no include/qemu/qemu-plugin.h in $orig" >&2; exit 1; }
found=$(find "$work" -path '*/include/qemu/qemu-plugin.h' | head -n 1)
cp "$found" "$dest.tmp" && mv "$dest.tmp" "$dest"
rm -rf "$apt"	# the lists (about 20 MB) are needed for this fetch only
echo "fetch-header: $dest ($(wc -c <"$dest") bytes)" >&2
echo "$dest"
