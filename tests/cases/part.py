# SPDX-License-Identifier: MIT
"""Partitions by signature (lib/user/part.c): with no arguments, ata gives
each partition to the program its contents call for, whatever its number
or type byte says; explicit arguments override that, and a server given
what it cannot use refuses it with the reason.  The disks are made here
with the standard tools from the partitions of build/disk.img."""

import os
import re
import subprocess

import ferry
from cases.ata import EXT2_UUID, SWAP_UUID, copy_disk, partitions, sectors
from cases.swap import found, pagetests, shell_ready, swap_case
from cases.user import shell_command

MB = 2048                       # sectors


def make_disk(tmp, label, layout):
    """A disk labelled `label` ("dos" or "gpt") whose partitions, in order,
    are `layout`: (kind, sfdisk type) with kind "fat" (made by mformat),
    "ext2" or "swap" (copied from build/disk.img's partitions)."""
    src = partitions(ferry.DISK)
    content = {"swap": sectors(ferry.DISK, src[1][0], src[1][1]),
               "ext2": sectors(ferry.DISK, src[2][0], src[2][1])}
    fat = os.path.join(tmp, "fat.img")
    with open(fat, "wb") as f:
        f.truncate(4 * MB * 512)
    subprocess.run(["mformat", "-i", fat, "-v", "FERRYFAT", "::"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(fat, "rb") as f:
        content["fat"] = f.read()
    path = os.path.join(tmp, "disk.img")
    start, script, places = 2048, "label: %s\nunit: sectors\n" % label, []
    for kind, ptype in layout:
        count = len(content[kind]) // 512
        script += "start=%d, size=%d, type=%s\n" % (start, count, ptype)
        places.append((start, kind))
        start += count
    with open(path, "wb") as f:
        f.truncate((start + 2048) * 512)    # room for GPT's backup table
    subprocess.run(["sfdisk", "--quiet", "--no-reread", "--no-tell-kernel", path],
                   input=script, text=True, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    with open(path, "r+b") as f:
        for at, kind in places:
            f.seek(at * 512)
            f.write(content[kind])
    return [ferry.ide_drive(path)]


def part_line(scheme, n, what, who):
    return r"^ata: disk0: %s part%d: type 0x[0-9a-f]+, \d+ sectors at \d+, %s \(%s\)$" % (
        scheme, n, what, who)


def served_by_signature(g, name, scheme, fat, ext2, swap):
    """ata's lines for the three partitions (numbers fat, ext2, swap), then
    swapd and fs on the partitions they hold, swap in every fill mode."""
    shell_ready(g)
    want = [part_line(scheme, ext2, "ext2 file system " + EXT2_UUID, "fs"),
            part_line(scheme, swap, "swap area " + SWAP_UUID, "swapd"),
            r"^swapd: \d+ slots \(\d+ KiB\) on disk0 part%d, modes copy, grant and dma$" % swap,
            r"^fs: disk 0 partition %d, " % ext2]
    if fat:
        want.append(part_line(scheme, fat, "FAT file system", "nobody"))
    results = [("qemu/%s_found" % name, all(found(g, rx) for rx in want),
                "missing: %s" % [rx for rx in want if not found(g, rx)])]
    results += pagetests(g, name, pages=64)
    out = shell_command(g, "cat /hello.txt", timeout=30)
    results.append(("qemu/%s_files" % name, "Hello" in out or "hello" in out, out[-400:]))
    return results


@swap_case("part_fat_ext2_swap", timeout=150, drives=lambda tmp: make_disk(
    tmp, "dos", (("fat", "c"), ("ext2", "83"), ("swap", "82"))))
def part_fat_ext2_swap(g):
    """MBR: a FAT partition first, ext2 second, swap third: the FAT goes to
    nobody, ext2 to fs, swap to swapd, with no argument to ata."""
    return served_by_signature(g, "part_fat_ext2_swap", "MBR", 1, 2, 3)


@swap_case("part_gpt_by_signature", timeout=150, drives=lambda tmp: make_disk(
    tmp, "gpt", (("ext2", "L"), ("swap", "L"))))
def part_gpt_by_signature(g):
    """GPT, both partitions typed "Linux filesystem": only what is on them
    tells them apart."""
    return served_by_signature(g, "part_gpt_by_signature", "GPT", 0, 1, 2)


def swapped_roles(tmp):
    return [ferry.ide_drive(copy_disk(tmp))]


@swap_case("part_wrong_server", timeout=120, drives=swapped_roles,
           modules=lambda: [(path, "ata part1=fs part2=swapd" if args == "ata" else args)
                            for path, args in ferry.default_modules()])
def part_wrong_server(g):
    """ata's arguments give the swap area to fs and the file system to
    swapd: both refuse what they got, with the reason, and write nothing."""
    g.expect(r"ferry> ", timeout=60)
    g.expect(r"init: swapd \(pid \d+\) exited.*\n", timeout=30)
    g.expect(r"fs: no file system.*\n", timeout=30)
    want = [part_line("MBR", 1, "swap area " + SWAP_UUID, "fs, by the arguments"),
            part_line("MBR", 2, "ext2 file system " + EXT2_UUID, "swapd, by the arguments"),
            r"^swapd: swap header: bad magic",
            r"^swapd: disk0 part2 \(\d+ KiB\) refused: no swap$",
            r"^ext2: no ext2 file system \(magic ",
            r"^fs: no file system \(.*\): every request will fail"]
    results = [("qemu/part_wrong_server_refused", all(found(g, rx) for rx in want),
                "missing: %s" % [rx for rx in want if not found(g, rx)])]
    out = shell_command(g, "pagetest 8", timeout=30)
    results.append(("qemu/part_wrong_server_no_swap", "pages written" not in out, out[-400:]))
    image = os.path.join(g.disk_dir, "disk.img")
    with open(image, "rb") as f, open(ferry.DISK, "rb") as orig:
        same = f.read() == orig.read()
    results.append(("qemu/part_wrong_server_wrote_nothing", same, "the disk changed"))
    return results
