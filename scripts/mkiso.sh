#!/bin/sh
# SPDX-License-Identifier: MIT
# mkiso.sh OUT.iso KERNEL.elf "KERNEL CMDLINE" [FILE:MODULE-ARGS ...]
# Builds a BIOS-bootable GRUB 2 ISO that loads KERNEL by multiboot2 and each
# FILE as a module whose command line is MODULE-ARGS (its first word names
# it).  Only the GRUB modules needed are installed: the ISO stays small.
# FERRY_ISO_ACPI="SIG:FILE ...": GRUB's acpi command replaces the firmware's
# ACPI table SIG with FILE before booting (tests hand the kernel a broken
# MADT this way; GRUB builds a new RSDT and RSDP around it).
set -eu
out=$1 kernel=$2 cmdline=$3
shift 3
dir=$(mktemp -d "${TMPDIR:-/tmp}/ferry-iso.XXXXXX")
log=$(mktemp "${TMPDIR:-/tmp}/ferry-iso-log.XXXXXX")	# not inside what xorriso packs
trap 'rm -rf "$dir" "$log"' EXIT
mkdir -p "$dir/boot/grub"
cp "$kernel" "$dir/boot/ferry.elf"
cfg="$dir/boot/grub/grub.cfg"
{
	echo 'set timeout=0'
	echo 'set default=0'
	echo 'menuentry "Ferry" {'
} > "$cfg"
if [ -n "${FERRY_ISO_ACPI:-}" ]; then
	mkdir -p "$dir/boot/acpi"
	sigs= files= i=0
	for t in $FERRY_ISO_ACPI; do
		sig=${t%%:*} file=${t#*:}
		cp "$file" "$dir/boot/acpi/$i.aml"
		sigs=${sigs:+$sigs,}$sig files="$files /boot/acpi/$i.aml" i=$((i + 1))
	done
	echo "  acpi --exclude=$sigs$files" >> "$cfg"
fi
echo "  multiboot2 /boot/ferry.elf $cmdline" >> "$cfg"
for m in "$@"; do
	file=${m%%:*} args=${m#*:}
	name=${args%% *}
	cp "$file" "$dir/boot/$name"
	echo "  module2 /boot/$name $args" >> "$cfg"
done
echo '  boot' >> "$cfg"
echo '}' >> "$cfg"
grub-mkrescue -o "$out" "$dir" --compress=no \
	--install-modules="multiboot2 normal iso9660 biosdisk part_msdos acpi" \
	--locales= --fonts= --themes= >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
