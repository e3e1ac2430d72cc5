#!/bin/sh
# SPDX-License-Identifier: MIT
# mkdisk.sh OUT.img FILES-DIR
# Builds the disk QEMU attaches as the primary IDE master, with the real
# Linux tools and without root: an MBR (sfdisk) with
#   partition 1  Linux swap (type 82), formatted by mkswap
#   partition 2  Linux (type 83), ext2 made by mke2fs -d FILES-DIR, with
#                /swapfile: SWAPFILE_KB of blocks debugfs allocates (every
#                one, no hole) and mkswap's header in its first page
# and free space after them (raw-access tests write there).  mkswap and
# mke2fs work on separate files, which are then copied into the image at
# their partition offsets.  UUIDs, the hash seed and the time are fixed, so
# the same inputs give the same image.
#
# Sizes in MiB (the swap file's in KiB, 0: none), and the ext2 block size,
# can be overridden from the environment: SWAP_MB FS_MB FREE_MB FS_BLOCK
# SWAPFILE_KB.
set -eu
out=$1 files=$2
SWAP_MB=${SWAP_MB:-16}
FS_MB=${FS_MB:-16}
FREE_MB=${FREE_MB:-4}
FS_BLOCK=${FS_BLOCK:-1024}
SWAPFILE_KB=${SWAPFILE_KB:-4096}

sectors_per_mb=2048
swap_start=2048	# 1 MiB: where partitioning tools align the first partition
swap_size=$((SWAP_MB * sectors_per_mb))
fs_start=$((swap_start + swap_size))
fs_size=$((FS_MB * sectors_per_mb))
total=$((fs_start + fs_size + FREE_MB * sectors_per_mb))

dir=$(mktemp -d "${TMPDIR:-/tmp}/ferry-disk.XXXXXX")
trap 'rm -rf "$dir"' EXIT

truncate -s $((total * 512)) "$dir/disk.img"
sfdisk --quiet --no-reread --no-tell-kernel "$dir/disk.img" <<EOF
label: dos
label-id: 0x46455252
unit: sectors
start=$swap_start, size=$swap_size, type=82
start=$fs_start, size=$fs_size, type=83
EOF

truncate -s $((swap_size * 512)) "$dir/swap.img"
mkswap --label ferry-swap --uuid 46455252-5900-4000-8000-000000000001 "$dir/swap.img" \
	>"$dir/log" 2>&1 || { cat "$dir/log" >&2; exit 1; }

truncate -s $((fs_size * 512)) "$dir/fs.img"
E2FSPROGS_FAKE_TIME=1700000000 mke2fs -q -F -t ext2 -b "$FS_BLOCK" -L ferry \
	-U 46455252-5900-4000-8000-000000000002 -E hash_seed=46455252-5900-4000-8000-000000000003 \
	-d "$files" "$dir/fs.img" >"$dir/log" 2>&1 || { cat "$dir/log" >&2; exit 1; }

# /swapfile: allocated block by block inside the file system (mke2fs -d
# would make a file of zeros sparse), then mkswap's first page written over
# its first 4 KiB, block by block wherever debugfs put them.
if [ "$SWAPFILE_KB" -gt 0 ]; then
	E2FSPROGS_FAKE_TIME=1700000000 debugfs -w -f - "$dir/fs.img" >"$dir/log" 2>&1 <<EOF ||
write /dev/null swapfile
fallocate /swapfile 0 $((SWAPFILE_KB * 1024 / FS_BLOCK - 1))
sif /swapfile size $((SWAPFILE_KB * 1024))
sif /swapfile mode 0100600
EOF
		{ cat "$dir/log" >&2; exit 1; }
	truncate -s $((SWAPFILE_KB * 1024)) "$dir/swapfile"
	mkswap --label ferry-swapfile --uuid 46455252-5900-4000-8000-000000000004 \
		"$dir/swapfile" >"$dir/log" 2>&1 || { cat "$dir/log" >&2; exit 1; }
	b=0
	while [ $((b * FS_BLOCK)) -lt 4096 ]; do
		at=$(debugfs -R "bmap /swapfile $b" "$dir/fs.img" 2>/dev/null)
		dd if="$dir/swapfile" of="$dir/fs.img" bs="$FS_BLOCK" skip=$b seek="$at" count=1 \
			conv=notrunc status=none
		b=$((b + 1))
	done
fi

dd if="$dir/swap.img" of="$dir/disk.img" bs=512 seek=$swap_start conv=notrunc status=none
dd if="$dir/fs.img" of="$dir/disk.img" bs=512 seek=$fs_start conv=notrunc status=none
mv "$dir/disk.img" "$out"
