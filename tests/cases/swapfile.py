# SPDX-License-Identifier: MIT
"""Swap on a file (issue 21): `swapd file /swapfile` pages to a file of the
ext2 file system by raw block I/O through ata, which serves it the file's
blocks and nothing else (an allowance fs made: kernel/ipc/allow.h).  The
file is the one scripts/mkdisk.sh puts in build/disk.img (debugfs
fallocate, mkswap's header over its first page); the refused ones are made
here from it with debugfs (a sparse copy, a punched hole, a bad header).
After every boot that wrote, the host's e2fsck -fn is clean and the file's
first page still holds the swap header."""

import os
import re
import subprocess

import ferry
from cases.ata import copy_disk, partitions
from cases.kdb import counters, enter, kdb, leave
from cases.restart import restart_rounds
from cases.swap import found, pagetests, patch_header, shell_ready, swap_case, swap_row
from cases.user import shell_command

SWAPFILE_UUID = "46455252-5900-4000-8000-000000000004"
SWAPFILE_PAGES = 1024           # 4 MiB (SWAPFILE_KB in scripts/mkdisk.sh)


def fs_part(image):
    """The ext2 partition of `image`, as debugfs and e2fsck name it."""
    start = partitions(image)[2][0]
    return "%s?offset=%d" % (image, start * 512)


def debugfs(image, *cmds, write=False):
    args = ["debugfs"] + (["-w"] if write else []) + ["-R" if len(cmds) == 1 else "-f"]
    if len(cmds) == 1:
        out = subprocess.run(args + [cmds[0], fs_part(image)], capture_output=True, text=True)
    else:
        out = subprocess.run(args + ["-", fs_part(image)], input="\n".join(cmds) + "\n",
                             capture_output=True, text=True)
    return out.stdout


def e2fsck_clean(image):
    r = subprocess.run(["e2fsck", "-fn", fs_part(image)], capture_output=True, text=True)
    return r.returncode == 0, (r.stdout + r.stderr)[-600:]


def file_bytes(image, path, n):
    """The first n bytes of a file of the ext2 partition, read by the host."""
    r = subprocess.run(["debugfs", "-R", "cat %s" % path, fs_part(image)], capture_output=True)
    return r.stdout[:n]


def header_intact(image, path="/swapfile"):
    page = file_bytes(image, path, 4096)
    return len(page) == 4096 and page[4086:] == b"SWAPSPACE2" and page[1024:1028] == b"\1\0\0\0"


def modules(swapd="disk", swapfile=None, ata=""):
    """The default modules, swapd's store set, and `swapfile` (the swapd ELF
    under that name: a second provider) with these arguments."""
    mods = []
    for path, args in ferry.default_modules():
        if args.split(" ")[0] == "swapd":
            args = "swapd " + swapd
        elif args == "ata" and ata:
            args = "ata " + ata
        mods.append((path, args))
    if swapfile:
        mods.append((os.path.join(ferry.BUILD, "user", "swapd.elf"), "swapfile " + swapfile))
    return mods


def pagetests_in_modes(g, name, pages):
    """pagetest in every fill mode (cases.swap.pagetests), and each really
    served in its mode: kdb `faults` counts at least `pages` pages out and
    in for that mode (a mode the kernel downgraded is counted as the one it
    became; /bin/pagetest's own text comes from fs in the same mode)."""
    results = []
    for mode in ("copy", "grant", "dma"):
        enter(g)
        before = counters(kdb(g, "faults"), mode)
        leave(g)
        results += pagetests(g, name, modes=(mode,), pages=pages)
        enter(g)
        after = counters(kdb(g, "faults"), mode)
        leave(g)
        moved_in, moved_out = after[1] - before[1], after[2] - before[2]
        results.append(("qemu/%s_served_%s" % (name, mode),
                        moved_in >= pages and moved_out >= pages,
                        "kdb faults, mode %s: %d pages in, %d out during pagetest %d"
                        % (mode, moved_in, moved_out, pages)))
    return results


def writable_disk(tmp):
    return [ferry.ide_drive(copy_disk(tmp))]


def writable_nvme(tmp):
    return [ferry.nvme_drive(copy_disk(tmp))]


def after_the_run(g, name):
    """The host's view of the disk at the end, the guest idle at its prompt
    (fs writes everything back after each request, swapd and ata keep
    nothing): e2fsck -fn clean, the swap header in the file's first page."""
    image = os.path.join(g.disk_dir, "disk.img")
    clean, out = e2fsck_clean(image)
    return [("qemu/%s_e2fsck_clean" % name, clean, out),
            ("qemu/%s_header_intact" % name, header_intact(image), "the swap header is gone")]


@swap_case("swapfile_only", timeout=180, drives=writable_disk,
           modules=lambda: modules(swapd="file /swapfile"))
def swapfile_only(g):
    """swapd on /swapfile alone: fs checks it and maps its blocks, swapd
    registers its slots and pages out and in through ata in every fill
    mode; kdb `swap` says where."""
    return swapfile_alone(g, "swapfile_only", "ata")


@swap_case("swapfile_nvme", timeout=180, drives=writable_nvme,
           modules=lambda: modules(swapd="file /swapfile"))
def swapfile_nvme(g):
    """The same on the NVMe disk: fs names its driver (nvme) in its answer,
    swapd reaches the file's blocks through nvme with fs's allowance."""
    return swapfile_alone(g, "swapfile_nvme", "nvme")


def swapfile_alone(g, name, driver):
    shell_ready(g)
    want = [r"^fs: /swapfile is swap for pid \d+: %d pages in \d+ extents?, allowance 0x[0-9a-f]+$"
            % SWAPFILE_PAGES,
            r"^swapd: file /swapfile: swap area 'ferry-swapfile', pages 1\.\.%d, 0 bad pages "
            r"skipped$" % (SWAPFILE_PAGES - 1),
            r"^swapd: %d slots \(%d KiB\) in file /swapfile, modes copy, grant and dma$"
            % (SWAPFILE_PAGES - 1, (SWAPFILE_PAGES - 1) * 4),
            r"allowance 0x[0-9a-f]+: fs \(pid \d+\) lets swapd \(pid \d+\) use \d+ ranges? of "
            r"0x2$"]
    results = [("qemu/%s_registered" % name, all(found(g, rx) for rx in want),
                "missing: %s" % [rx for rx in want if not found(g, rx)])]
    results += pagetests_in_modes(g, name, pages=256)
    enter(g)
    row = swap_row(g)
    allow = kdb(g, "allow")
    leave(g)
    results.append(("qemu/%s_kdb_allow" % name,
                    row is not None and re.search(
                        r"^[0-9a-f]+\s+fs\s+\d+\s+%d\s+2\s+[0-9a-f]+\s+\d+\s+\d+\.\.\d+$"
                        % row["pid"], allow, re.M) is not None and
                    "live allowances: 1" in allow, allow))
    results.append(("qemu/%s_kdb_swap" % name,
                    row is not None and row["where"] == "file /swapfile" and
                    row["slots"] == SWAPFILE_PAGES - 1 and row["bad"] == 0 and
                    row["pages_out"] >= 768, "kdb swap: %s" % row))
    results.append(("qemu/%s_no_refusal" % name,
                    not found(g, r"^%s: .* by swapd .*: not permitted" % driver),
                    "%s refused swapd" % driver))
    return results + after_the_run(g, name)


# --- files fs must refuse, made on the host ---

def mkswap_page(tmp, kib):
    """The first page mkswap writes for an area of `kib` KiB."""
    path = os.path.join(tmp, "mkswap.img")
    with open(path, "wb") as f:
        f.truncate(kib * 1024)
    subprocess.run(["mkswap", "--label", "refused", path], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(path, "rb") as f:
        return f.read(4096)


def put_file_bytes(image, path, data, block=1024):
    """Writes data over the first bytes of an allocated file, block by block
    where debugfs says each one is (as scripts/mkdisk.sh does)."""
    start = partitions(image)[2][0] * 512
    with open(image, "r+b") as f:
        for b in range(0, len(data), block):
            at = int(debugfs(image, "bmap %s %d" % (path, b // block)).strip())
            assert at, "%s: block %d is a hole" % (path, b // block)
            f.seek(start + at * block)
            f.write(data[b:b + block])


def allocated_file(image, path, kib):
    debugfs(image, "write /dev/null %s" % path.lstrip("/"),
            "fallocate %s 0 %d" % (path, kib - 1), "sif %s size %d" % (path, kib * 1024),
            write=True)


def refusal_disk(tmp):
    """build/disk.img with files swapon would refuse beside /swapfile:
    /sparse    mkswap'ed, written by debugfs, which leaves its zero blocks
               unallocated (holes)
    /holed     allocated, mkswap's header, then one block punched out
    /badhdr    allocated, no header
    /tiny      one page: a header and no room for a slot"""
    image = copy_disk(tmp)
    header = mkswap_page(tmp, 1024)
    sparse = os.path.join(tmp, "sparse")
    with open(sparse, "wb") as f:
        f.write(header)
        f.truncate(1024 * 1024)
    debugfs(image, "write %s sparse" % sparse, write=True)
    allocated_file(image, "/holed", 1024)
    put_file_bytes(image, "/holed", header)
    debugfs(image, "punch /holed 100 100", write=True)
    allocated_file(image, "/badhdr", 1024)
    allocated_file(image, "/tiny", 4)
    put_file_bytes(image, "/tiny", mkswap_page(tmp, 40)[:4096])
    clean, out = e2fsck_clean(image)
    assert clean, "the refusal disk is not clean: " + out
    return [ferry.ide_drive(image)]


@swap_case("swapfile_refused", timeout=180, drives=refusal_disk)
def swapfile_refused(g):
    """fs refuses, with the reason in its log: a missing file, a directory,
    a sparse file, a punched hole, no header, a file too small, a file open
    for writing by another process, a mapped one.  Given /swapfile, ata
    serves this asker the file's sectors and none just outside them, and
    fs refuses everyone else the file until the asker is gone."""
    shell_ready(g)
    # A mapped read in grant mode first: fs's grant window gets its page
    # tables once, which utest's leak check would otherwise count.
    shell_command(g, "sum /hello.txt grant", timeout=60)
    out = shell_command(g, "utest swapfile", timeout=120)
    results = [("qemu/swapfile_refused_utest_%s" % name, ok == "OK", out[-1500:])
               for name, ok in re.findall(r"^test user/(swapfile_\w+): (OK|FAILED)", out, re.M)]
    results.append(("qemu/swapfile_refused_all_ran",
                    len(results) == 3 and "[utest exited with status 0]" in out, out[-800:]))
    reasons = {"nope": "no such file", "docs": "not a regular file",
               "sparse": r"a hole at block \d+ \(byte \d+\): a sparse file cannot be swap",
               "holed": r"a hole at block 100 \(byte 102400\)",
               "badhdr": r"no mkswap header \(no SWAPSPACE2 at byte 4086\)",
               "tiny": r"smaller than two pages",
               "swapfile": r"it is open for writing by utest \(pid \d+\)"}
    for name, why in reasons.items():
        results.append(("qemu/swapfile_refused_%s" % name,
                        found(g, r"^fs: swap file /%s refused for pid \d+: %s" % (name, why)),
                        "no refusal line for /%s (%s)" % (name, why)))
    results.append(("qemu/swapfile_refused_mapped",
                    found(g, r"^fs: swap file /swapfile refused for pid \d+: it is mapped "
                             r"\(1 mapping\)$"), "no refusal for a mapped file"))
    confined = [r"^ata: read of disk0 part2 \(1 sectors at \d+, mode 0\) by utest "
                r"\(pid 0x[0-9a-f]+\) via allowance 0x[0-9a-f]+: not permitted \(sectors outside the ranges its "
                r"allowance gives it\)$",
                r"^ata: read of disk0 part2 .* by utest .*: not permitted$",
                r"^ata: read of disk0 part2 .* via allowance 0x[0-9a-f]+: not permitted \(its "
                r"allowance is not live\)$",
                r"^ata: read of disk0 part1 .* via allowance 0x[0-9a-f]+: not permitted \(its "
                r"allowance is for another partition\)$"]
    results.append(("qemu/swapfile_refused_ata_confines",
                    all(found(g, rx) for rx in confined),
                    "missing: %s" % [rx for rx in confined if not found(g, rx)]))
    guarded = ["opening for writing", "truncating", "reading", "deleting", "moving",
               "replacing", r"mapping \(a page-in of\)"]
    results.append(("qemu/swapfile_refused_file_guarded",
                    all(found(g, r"^fs: %s inode \d+ refused: it is swap \(allowance "
                                 r"0x[0-9a-f]+\)$" % w) for w in guarded),
                    "missing: %s" % [w for w in guarded
                                     if not found(g, r"^fs: %s inode \d+ refused" % w)]))
    results.append(("qemu/swapfile_refused_allowance_ends",
                    found(g, r"allowance 0x[0-9a-f]+ of fs ended: its grantee died"),
                    "no line for the allowance's end"))
    return results + after_the_run(g, "swapfile_refused")


# --- beside a swap partition, and across restarts ---

def small_partition_disk(tmp):
    """A copy of the disk whose swap partition's header says 64 pages: a
    page-out of more overflows to the swap file's provider."""
    image = copy_disk(tmp)
    patch_header(image, last_page=64)
    return [ferry.ide_drive(image)]


@swap_case("swapfile_two_providers", timeout=240, drives=small_partition_disk,
           modules=lambda: modules(swapd="disk", swapfile="file /swapfile"))
def swapfile_two_providers(g):
    """swapd on the partition (64 slots) and `swapfile` on /swapfile: both
    register, pages overflow from the first to the second, every page comes
    back in every fill mode, and kdb `swap` says which is which."""
    shell_ready(g)
    g.expect(r"swapd: \d+ slots \(\d+ KiB\) in file /swapfile.*\n", timeout=60)
    results = pagetests_in_modes(g, "swapfile_two_providers", pages=512)
    enter(g)
    part = swap_row(g, 0, "swapd")
    file = swap_row(g, 1, "swapfile")
    leave(g)
    results.append(("qemu/swapfile_two_providers_kdb_swap",
                    part is not None and file is not None and
                    part["where"] == "disk0 part1" and part["slots"] == 64 and
                    file["where"] == "file /swapfile" and
                    file["slots"] == SWAPFILE_PAGES - 1 and
                    part["pages_out"] > 0 and file["pages_out"] > 0 and
                    part["bad"] == 0 and file["bad"] == 0,
                    "kdb swap rows: %s, %s" % (part, file)))
    return results + after_the_run(g, "swapfile_two_providers")


def process_pid(g, name):
    """The pid `ps` shows for the live process `name`."""
    out = shell_command(g, "ps", timeout=30)
    m = re.search(r"^\s*(\d+)\s+\d+\s+%s\s" % name, out, re.M)
    return int(m.group(1)) if m else None


@swap_case("swapfile_restarts", timeout=300, drives=writable_disk,
           modules=lambda: modules(swapd="file /swapfile"))
def swapfile_restarts(g):
    """swapd on /swapfile killed with its pages out (in every fill mode):
    init restarts it, fs gives the file to the successor (its pages wait
    for one), which takes the provider over; nothing is lost.  Then fs is
    killed: swapd pages on through ata alone, and the restarted fs learns
    from the kernel that the file is swap and keeps refusing it."""
    shell_ready(g)
    results = restart_rounds(g, "swapd", rounds=1, tag="_file")
    results.append(("qemu/swapfile_restarts_taken_over",
                    len(re.findall(r"swap: provider 0 taken over by swapd", g.buf)) == 3 and
                    len(re.findall(r"^fs: /swapfile is swap for pid \d+", g.buf, re.M)) == 4,
                    "want 3 take-overs of provider 0 and 4 grants of the file by fs"))
    fs = process_pid(g, "fs")
    shell_command(g, "kill %d" % fs, timeout=30)
    g.expect(r"fs: inode \d+ is swap \(allowance 0x[0-9a-f]+, made before our restart\)\n",
             timeout=60)
    g.expect(r"fs: pager of file system", timeout=60)
    out = shell_command(g, "cat /swapfile", timeout=30)
    results.append(("qemu/swapfile_restarts_fs_remembers",
                    found(g, r"^fs: reading inode \d+ refused: it is swap") and
                    "SWAPSPACE2" not in out, out[-400:]))
    results += pagetests(g, "swapfile_restarts_after_fs", pages=128)
    return results + after_the_run(g, "swapfile_restarts")


@swap_case("swapfile_orphan_guarded", timeout=240, drives=writable_disk)
def swapfile_orphan_guarded(g):
    """A provider of /swapfile dies, then fs dies before any successor
    asks for the file: the restarted fs refuses it (open for writing,
    truncate, read, delete, move, replace) from the start, because the
    allowance, suspended by its grantee's death, still names the swap area
    the kernel keeps for a successor; once the kernel lets the area go
    (SWAP_ORPHAN_NS) the file is an ordinary file again."""
    shell_ready(g)
    out = shell_command(g, "utest swapfile_orphan", timeout=120)
    results = [("qemu/swapfile_orphan_guarded_utest", "utest: swapfile orphan: ok" in out,
                out[-1500:])]
    results.append(("qemu/swapfile_orphan_guarded_recovered",
                    found(g, r"^fs: inode \d+ is swap \(allowance 0x[0-9a-f]+, made before our "
                             r"restart; its provider died: its pages wait for a successor\)"),
                    "the restarted fs did not learn of the file"))
    return results + after_the_run(g, "swapfile_orphan_guarded")
