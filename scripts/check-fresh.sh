#!/bin/sh
# SPDX-License-Identifier: MIT
# A new user's trial, reproduced: debootstrap a minimal Debian 12 (minbase,
# then only git and ca-certificates) into a temporary directory, clone this
# repository's HEAD into it with that system's git, and run README.md's two
# Quick start commands there as root.  The first boots Ferry; it is driven
# from here: wait for the banner and the shell prompt, type `poweroff`.  The
# second runs the tests.  Each step is reported with its wall time, then a
# verdict.  Everything is unmounted and removed afterwards, also when
# interrupted.  Downloads several hundred MB, so it is not part of
# `make test`.  Needs root (debootstrap, chroot, mounts).
#
#   scripts/check-fresh.sh      (or make check-fresh)
#   MIRROR=URL                  Debian mirror (default: the bookworm entry
#                               of this machine's /etc/apt/sources.list(.d))
#   FRESH_TIMEOUT=SECONDS       limit for each of the two commands (3600)
# Logs of every step: build/check-fresh/ in this checkout.
set -eu

REPO=$(cd "$(dirname "$0")/.." && pwd)
SUITE=bookworm
LIMIT=${FRESH_TIMEOUT:-3600}
LOGS=$REPO/build/check-fresh
PATH_IN=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

work="" rootfs="" child=""
T0=$(date +%s)

say() { echo "check-fresh: $*"; }
now() { date +%s; }

# ---- cleanup: nothing mounted, nothing running, nothing left ----

# Mount points inside the work directory, deepest first.
mounts_under() {
	awk -v w="$work" '$5 == w || index($5, w "/") == 1 { print $5 }' /proc/self/mountinfo |
		sort -r
}

# Processes whose root is the chroot: ours (apt, make, QEMU), started below.
kill_chroot_processes() {
	for p in /proc/[0-9]*; do
		r=$(readlink "$p/root" 2>/dev/null) || continue
		case "$r" in "$rootfs" | "$rootfs"/*) kill -KILL "${p#/proc/}" 2>/dev/null || : ;; esac
	done
}

cleanup() {
	status=$?
	set +e
	trap - EXIT INT TERM
	[ -n "$child" ] && kill -KILL "-$child" 2>/dev/null
	exec 3>&-
	case $status in 130 | 143) echo && say "interrupted" ;; esac
	if [ -n "$work" ] && [ -d "$work" ]; then
		kill_chroot_processes
		sleep 1
		n=0
		for m in $(mounts_under); do
			umount "$m" 2>/dev/null || umount -l "$m"
			n=$((n + 1))
		done
		if [ -n "$(mounts_under)" ]; then
			say "still mounted under $work, not removing it:"
			mounts_under
			status=1
		else
			rm -rf --one-file-system "$work"
			say "cleaned up: $n mounts undone, $work removed"
		fi
	fi
	exit "$status"
}

# ---- steps ----

# job LOG COMMAND...: runs COMMAND in its own session (so an interrupt
# arrives here at once and the whole job can be stopped), output to LOG,
# exit status in $rc.
job() {
	log=$1
	shift
	setsid -w timeout "$LIMIT" "$@" >"$log" 2>&1 </dev/null &
	child=$!
	rc=0
	wait "$child" || rc=$?
	child=""
}

# step NAME LOG COMMAND...: a job that must succeed; one line with the wall
# time, on failure the log's tail.
step() {
	name=$1
	printf 'check-fresh: %s ... ' "$name"
	start=$(now)
	shift
	job "$@"
	[ "$rc" = 0 ] || fail "$name" "exit status $rc after $(($(now) - start))s" "$log"
	echo "ok ($(($(now) - start))s)"
}

fail() {
	echo "FAILED: $2"
	echo "  last lines of $3:"
	tail -n 30 "$3" | sed 's/^/    /'
	say "verdict: FAIL at '$1' (total $(($(now) - T0))s; logs in $LOGS)"
	exit 1
}

# The environment of a login in the fresh system.
LOGIN_ENV="/usr/bin/env -i PATH=$PATH_IN TERM=dumb LANG=C.UTF-8"

# chroot_step NAME LOG COMMANDLINE: a step run as root in the fresh system.
chroot_step() {
	# shellcheck disable=SC2086
	step "$1" "$2" chroot "$rootfs" $LOGIN_ENV HOME=/root /bin/sh -c "$3"
}

# Without root the first command installs nothing: it names the exact
# apt-get line and fails.
nonroot_refusal() {
	name="$1 as a user, not root" cmd=$1 log=$LOGS/nonroot.log
	printf 'check-fresh: %s ... ' "$name"
	start=$(now)
	# shellcheck disable=SC2086
	chroot "$rootfs" $LOGIN_ENV /bin/sh -c 'useradd -m -u 4242 trial &&
		cp -a /root/ferry /home/trial/ && chown -R trial: /home/trial/ferry' >"$log" 2>&1 ||
		fail "$name" "could not add the user" "$log"
	# shellcheck disable=SC2086
	job "$log" chroot --userspec=4242:4242 "$rootfs" $LOGIN_ENV HOME=/home/trial \
		/bin/sh -c "cd /home/trial/ferry && $cmd"
	line=$(sed -n 's/^  apt-get update && //p' "$log")
	[ "$rc" != 0 ] || fail "$name" "exit status 0 without the build tools" "$log"
	case "$line" in
	"apt-get install -y --no-install-recommends "*" make "*) ;;
	*) fail "$name" "no 'apt-get install ... make ...' line" "$log" ;;
	esac
	[ ! -e "$rootfs/usr/bin/make" ] || fail "$name" "make got installed" "$log"
	echo "ok ($(($(now) - start))s; exit status $rc, names the line to run as root:)"
	echo "    $line"
}

# The first bookworm entry (one-line or deb822 format) of this machine's apt sources.
bookworm_mirror() {
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk -v s="$SUITE" '$1 == "deb" {
			i = 2
			if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
			if ($(i + 1) == s) { print $i; exit }
		}' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v s="$SUITE" 'BEGIN { RS = "" } {
			n = split($0, line, "\n"); uri = ""; deb = 0; suite = 0; on = 1
			for (k = 1; k <= n; k++) {
				if (line[k] ~ /^#/) continue
				split(line[k], w, /[ \t]+/)
				if (w[1] == "Types:" && line[k] ~ /[ \t]deb([ \t]|$)/) deb = 1
				if (w[1] == "URIs:") uri = w[2]
				if (w[1] == "Suites:" && (" " line[k] " ") ~ ("[ \t]" s "[ \t]")) suite = 1
				if (w[1] == "Enabled:" && w[2] == "no") on = 0
			}
			if (deb && suite && on && uri != "") { print uri; exit }
		}' "$f"
	done
}

# README.md's Quick start: its first indented block, comments dropped.
readme_commands() {
	awk '/^## / { inside = ($0 == "## Quick start"); next }
		inside && /^    [^ ]/ { sub(/^    /, ""); sub(/[ \t]*#.*/, ""); print; block = 1; next }
		inside && block { exit }' "$REPO/README.md"
}

# The first command boots Ferry on this terminal: answer it like a user.
# Banner and prompt within the limit, `poweroff` typed, QEMU gone within
# two minutes with a clean-poweroff status.
boot_and_power_off() {
	name=$1 log=$2 cmd=$3
	printf 'check-fresh: %s ... ' "$name"
	start=$(now)
	fifo=$work/console
	mkfifo "$fifo"
	# shellcheck disable=SC2086
	setsid -w chroot "$rootfs" $LOGIN_ENV HOME=/root /bin/sh -c "cd /root/ferry && $cmd" \
		<"$fifo" >"$log" 2>&1 &
	child=$!
	exec 3>"$fifo"
	until grep -q 'ferry> ' "$log"; do
		kill -0 "$child" 2>/dev/null ||
			fail "$name" "ended before the shell prompt" "$log"
		[ $(($(now) - start)) -lt "$LIMIT" ] ||
			fail "$name" "no shell prompt within ${LIMIT}s" "$log"
		sleep 2
	done
	grep -q 'Ferry [0-9]' "$log" || fail "$name" "shell prompt without the banner" "$log"
	booted=$(($(now) - start))
	printf 'poweroff\r' >&3
	until ! kill -0 "$child" 2>/dev/null; do
		[ $(($(now) - start - booted)) -lt 120 ] ||
			fail "$name" "QEMU still running 120s after poweroff" "$log"
		sleep 1
	done
	rc=0
	wait "$child" || rc=$?
	child=""
	exec 3>&-
	clean_poweroff "$rc" "$log" ||
		fail "$name" "exit status $rc after poweroff" "$log"
	echo "ok ($(($(now) - start))s; prompt after ${booted}s, poweroff exit status $rc$note)"
}

# A clean poweroff exits 0.  Until `make run` maps it so, QEMU's
# isa-debug-exit status for it, 33, passes too: make then exits 2 and
# names the 33.
clean_poweroff() {
	note=""
	[ "$1" = 0 ] && return 0
	note=": make's, for QEMU's 33"
	[ "$1" = 2 ] && tail -n 3 "$2" | grep -q '^make: \*\*\* \[.*run\] Error 33'
}

main() {
	[ "$(id -u)" = 0 ] || { say "needs root (debootstrap, chroot, mounts)" >&2; exit 1; }
	cmds=$(readme_commands)
	n=$(echo "$cmds" | grep -c .) || :
	[ "$n" = 2 ] || { say "README.md's Quick start should hold exactly two commands, found $n" >&2; exit 1; }
	run_cmd=$(echo "$cmds" | sed -n 1p) test_cmd=$(echo "$cmds" | sed -n 2p)
	mirror=${MIRROR:-$(bookworm_mirror | head -n 1)}
	[ -n "$mirror" ] || { say "no $SUITE entry in /etc/apt/sources.list(.d); set MIRROR=URL" >&2; exit 1; }
	head=$(git -C "$REPO" rev-parse HEAD)
	rm -rf "$LOGS"
	mkdir -p "$LOGS"

	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	work=$(mktemp -d "${TMPDIR:-/var/tmp}/ferry-fresh.XXXXXX")
	rootfs=$work/rootfs
	say "commit $head$(git -C "$REPO" status --porcelain | grep -q . && echo ' (uncommitted changes are not part of the trial)')"
	say "mirror $mirror, work directory $work, logs $LOGS"
	say "README commands: '$run_cmd', then '$test_cmd'"

	if ! command -v debootstrap >/dev/null 2>&1; then
		step "apt-get install debootstrap" "$LOGS/debootstrap-install.log" \
			sh -c 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap'
	fi
	step "debootstrap --variant=minbase $SUITE" "$LOGS/debootstrap.log" \
		debootstrap --variant=minbase "$SUITE" "$rootfs" "$mirror"
	[ -s "$rootfs/etc/resolv.conf" ] || cp /etc/resolv.conf "$rootfs/etc/resolv.conf"

	printf 'check-fresh: mount /dev /dev/pts /dev/shm /proc /sys ... '
	mount --bind /dev "$rootfs/dev" && mount --make-private "$rootfs/dev"
	mount --bind /dev/pts "$rootfs/dev/pts" && mount --make-private "$rootfs/dev/pts"
	mount -t tmpfs -o mode=1777 tmpfs "$rootfs/dev/shm" && mount --make-private "$rootfs/dev/shm"
	mount -t proc proc "$rootfs/proc" && mount --make-private "$rootfs/proc"
	mount --bind /sys "$rootfs/sys" && mount --make-private "$rootfs/sys"
	echo ok

	chroot_step "apt-get install git ca-certificates (nothing else)" "$LOGS/git-install.log" \
		'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends git ca-certificates'
	# shellcheck disable=SC2016
	step "clone $head" "$LOGS/clone.log" sh -c '
		git clone -q --bare --no-hardlinks "$1" "$2/tmp/ferry.git" &&
		chroot "$2" /usr/bin/env -i HOME=/root PATH="$3" /bin/sh -c \
			"git clone -q /tmp/ferry.git /root/ferry && cd /root/ferry && git checkout -q $4 && git log -1 --oneline"
		' sh "$REPO" "$rootfs" "$PATH_IN" "$head"

	nonroot_refusal "$run_cmd"
	boot_and_power_off "$run_cmd" "$LOGS/run.log" "$run_cmd"
	cp "$rootfs/root/ferry/build/deps.log" "$LOGS/deps.log"
	grep '^ferry: ' "$LOGS/run.log" | sed 's/^/    /'
	echo "    (apt's own output: $(wc -l <"$LOGS/deps.log") lines, kept in $LOGS/deps.log)"
	echo "    ($(sed -n '/Ferry [0-9]/q;p' "$LOGS/run.log" | wc -l) lines before the banner)"

	chroot_step "$test_cmd" "$LOGS/test.log" "cd /root/ferry && $test_cmd"
	grep -E '^[0-9]+ passed, [0-9]+ failed' "$LOGS/test.log" | tail -n 1 | sed 's/^/    /'

	say "verdict: PASS (total $(($(now) - T0))s)"
}

main "$@"
