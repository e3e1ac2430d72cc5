# SPDX-License-Identifier: MIT
"""Swap on disk: swapd's disk store on the partition mkswap made
(scripts/mkdisk.sh).  It registers the area's real size and pages through
ata in every fill mode; the memory stress test runs through it in a small
guest; a corrupt swap header is refused with its reason and the system runs
on without swap; read and write errors injected with blkdebug on the swap
sectors cost the faulting thread (page-in) or a slot (page-out), never data.

The expectations are computed here from the image: where partition 1 is,
what its header says."""

import os
import re
import struct

import ferry
from cases.ata import DiskCase, copy_disk, partitions, sectors
from cases.kdb import enter, kdb, leave
from cases.registry import _cases
from cases.user import PROMPT, shell_command, user_results
from cases.vm import suite_results

PAGE = 4096
SECTORS_PER_PAGE = PAGE // 512
HDR_INFO = 1024             # version, last_page, nr_badpages (Linux's union swap_header)
HDR_BADPAGES = 1536
HDR_MAGIC = PAGE - 10


def store_modules(store="disk", ata_extra=""):
    """The default boot modules with swapd's store and ata's options set.
    The benchmark's three swap providers:
      RAM store:     store_modules("ram 4096")
      disk, PIO:     store_modules("disk", "dma=off")
      disk, DMA:     store_modules("disk")   (what `make` ships)"""
    mods = []
    for path, args in ferry.default_modules():
        words = args.split(" ")
        if words[0] == "swapd":
            args = "swapd " + store
        elif words[0] == "ata" and ata_extra:
            args = "%s %s" % (args, ata_extra)
        mods.append((path, args))
    return mods


# --- what the host knows about the swap area ---

def swap_partition(image):
    """(first sector, sectors) of partition 1, the swap partition."""
    start, count, kind = partitions(image)[1]
    assert kind == 0x82, "partition 1 of %s is not Linux swap" % image
    return start, count


def swap_header(image):
    """{version, last_page, bad} from the area's first page."""
    start, _ = swap_partition(image)
    page = sectors(image, start, SECTORS_PER_PAGE)
    version, last_page, nbad = struct.unpack_from("<III", page, HDR_INFO)
    bad = list(struct.unpack_from("<%dI" % nbad, page, HDR_BADPAGES))
    assert page[HDR_MAGIC:] == b"SWAPSPACE2", "%s: no mkswap header" % image
    return {"version": version, "last_page": last_page, "bad": bad}


def usable_slots(image):
    h = swap_header(image)
    return h["last_page"] - len(set(h["bad"]))


def patch_header(image, **fields):
    """Rewrites fields of the swap header in place: magic (bytes), version,
    last_page, bad (a list of pages)."""
    start, _ = swap_partition(image)
    with open(image, "r+b") as f:
        base = start * 512
        if "magic" in fields:
            f.seek(base + HDR_MAGIC)
            f.write(fields["magic"])
        if "version" in fields:
            f.seek(base + HDR_INFO)
            f.write(struct.pack("<I", fields["version"]))
        if "last_page" in fields:
            f.seek(base + HDR_INFO + 4)
            f.write(struct.pack("<I", fields["last_page"]))
        if "bad" in fields:
            f.seek(base + HDR_INFO + 8)
            f.write(struct.pack("<I", len(fields["bad"])))
            f.seek(base + HDR_BADPAGES)
            f.write(struct.pack("<%dI" % len(fields["bad"]), *fields["bad"]))


def slot_lba(image, slot):
    """Where slot `slot` lives on the disk when the area lists no bad page:
    page slot + 1 of the partition, as Linux lays swap out."""
    start, _ = swap_partition(image)
    return start + (slot + 1) * SECTORS_PER_PAGE


def swap_row(g, index=0, name="swapd"):
    """kdb `swap`: provider `index`'s row as a dict (its WHERE as "where"),
    or None without such a provider."""
    out = kdb(g, "swap")
    m = re.search(r"^%d\s+(\w+)\s+(\d+)\s+%s\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)"
                  r"\s+(\d+)  (.+)$" % (index, name), out, re.M)
    if not m:
        return None
    row = dict(zip(("pid", "slots", "used", "bad", "out", "pages_in", "pages_out", "restarts"),
                   (int(x) for x in m.groups()[1:9])))
    row["state"] = m.group(1)
    row["where"] = m.group(10)
    return row


def registered_line(slots, where="on disk0 part1", modes="copy, grant and dma"):
    return (r"^swapd: %d slots \(%d KiB\) %s, modes %s$" % (slots, slots * 4, where, modes),
            r"swap: provider 0 is swapd \(pid \d+\), %d slots" % slots)


def swap_case(name, cmdline="", mem="64M", timeout=90, drives=None, modules=None, cpus=None):
    def register(fn):
        _cases.append(DiskCase(fn, name, cmdline, mem, timeout, modules,
                               drives or (lambda tmp: ferry.default_drives()), cpus=cpus))
        return fn
    return register


def found(g, rx):
    """Whether the boot printed rx; a "^" in front also takes a line that
    starts with the shell's prompt, since servers print as the shell starts."""
    if rx.startswith("^"):
        rx = "^(?:%s)?%s" % (PROMPT, rx[1:])
    return re.search(rx, g.buf, re.M) is not None


def shell_ready(g, swap=True):
    """The prompt, swapd's verdict and fs mounted: init starts the shell
    without waiting for its servers, whose lines would cut into the shell's."""
    g.expect(PROMPT, timeout=60)
    # Any of them may share a line with the prompt.
    g.expect(r"swapd: \d+ slots.*\n" if swap else r"init: swapd \(pid \d+\) exited.*\n",
             timeout=30)
    g.expect(r"fs: ext2 .* mounted.*\n", timeout=30)


# --- the cases ---

def pagetests(g, name, modes=("copy", "grant", "dma"), pages=64):
    results = []
    for mode in modes:
        out = shell_command(g, "pagetest %d %s" % (pages, mode), timeout=60)
        results.append(("qemu/%s_pagetest_%s" % (name, mode),
                        "%d paged out, %d now in swap" % (pages, pages) in out and
                        "%d pages read back, %d resident, 0 mismatches: ok" % (pages, pages) in out,
                        out[-800:]))
    return results


@swap_case("swap_disk_boot")
def swap_disk_boot(g):
    """The normal boot: swapd finds partition 1, checks its header, registers
    every page but the header's; pages go out and back in each fill mode."""
    slots = usable_slots(ferry.DISK)
    shell_ready(g)
    results = [("qemu/swap_disk_registered", all(found(g, rx) for rx in registered_line(slots)),
                "want lines %s" % (registered_line(slots),))]
    results += pagetests(g, "swap_disk", pages=256)
    enter(g)
    row = swap_row(g)
    leave(g)
    results.append(("qemu/swap_disk_kdb_swap",
                    row is not None and row["slots"] == slots and row["bad"] == 0 and
                    row["pages_out"] >= 768 and row["pages_in"] >= 768, "kdb swap: %s" % row))
    results.append(("qemu/swap_disk_no_failure", not found(g, r"^swapd: .*failed"),
                    "swapd failed a request"))
    return results


@swap_case("swap_store_ram", modules=lambda: store_modules("ram 4096"))
def swap_store_ram(g):
    """The benchmark's RAM store (module line `swapd ram 4096`): copy and
    grant; a DMA fault path is served as grant."""
    shell_ready(g)
    want = registered_line(4096, where="of RAM", modes="copy and grant")
    results = [("qemu/swap_store_ram_registered", all(found(g, rx) for rx in want),
                "want lines %s" % (want,))]
    results += pagetests(g, "swap_store_ram")
    return results + pagetest_refusals(g, "swap_store_ram", slots=4096)


def pagetest_refusals(g, name, slots):
    """pagetest says no, before writing anything, to more pages than swap
    has room for and to a page count or mode that is not one."""
    out = shell_command(g, "pagetest %d copy" % (slots + 1), timeout=60)
    too_many = re.search(r"pagetest: %d pages asked for, but swap has room for \d+: refused"
                         % (slots + 1), out) and "pages written" not in out
    usage = [shell_command(g, "pagetest %s" % args, timeout=30) for args in ("0", "8 bogus")]
    return [("qemu/%s_pagetest_refuses_too_many" % name, bool(too_many), out[-800:]),
            ("qemu/%s_pagetest_usage" % name,
             all("usage: pagetest" in u and "pages written" not in u for u in usage),
             "\n".join(u[-400:] for u in usage))]


@swap_case("swap_disk_pio", modules=lambda: store_modules("disk", "dma=off"),
           drives=lambda tmp: ferry.default_drives("ide"))
def swap_disk_pio(g):
    """The disk by PIO only (ata dma=off): swapd registers copy and grant, and
    pages go out and back in each fault path (dma served as grant)."""
    shell_ready(g)
    slots = usable_slots(ferry.DISK)
    want = registered_line(slots, modes="copy and grant") + (r"^ata: ready: 1 disk, PIO only",)
    results = [("qemu/swap_disk_pio_registered", all(found(g, rx) for rx in want),
                "want lines %s" % (want,))]
    return results + pagetests(g, "swap_disk_pio")


# Pages the stress disk's header lists as bad, and the bytes put in them:
# swapd must never touch them, and every slot must skip them.
BAD_PAGES = [2, 3, 64, 65, 66, 700, 2047]
MARKER = b"bad page, swapd never writes it\n" * (PAGE // 32)


def stress_drives(tmp):
    path = copy_disk(tmp)
    patch_header(path, bad=BAD_PAGES)
    start, _ = swap_partition(path)
    with open(path, "r+b") as f:
        for p in BAD_PAGES:
            f.seek((start + p * SECTORS_PER_PAGE) * 512)
            f.write(MARKER)
    return [ferry.ide_drive(path)]


# 10 MiB: about 800 frames free, against 4088 slots: three times free memory.
@swap_case("swap_stress_disk", cmdline="init=utest initarg=stress-disk panic=exit", mem="10M",
           drives=stress_drives, timeout=120)
def swap_stress_disk(g):
    """The stress cases through the swap partition (copy, grant, dma), three
    times free memory, each page checked, then the leak check; the area's
    header lists bad pages, which swapd skips and never writes."""
    results = suite_results(g, "swap_stress_disk", timeout=120)
    image = os.path.join(g.disk_dir, "disk.img")
    slots = usable_slots(image)
    results.append(("qemu/swap_stress_disk_registered",
                    all(found(g, rx) for rx in registered_line(slots)) and
                    found(g, r"^swapd: disk0 part1: swap area 'ferry-swap', pages 1\.\.%d, %d bad "
                          r"pages skipped$" % (swap_header(image)["last_page"], len(BAD_PAGES))),
                    "want %d slots, %d bad pages skipped" % (slots, len(BAD_PAGES))))
    start, _ = swap_partition(image)
    untouched = [p for p in BAD_PAGES
                 if sectors(image, start + p * SECTORS_PER_PAGE, SECTORS_PER_PAGE) == MARKER]
    results.append(("qemu/swap_stress_disk_bad_pages_untouched", untouched == BAD_PAGES,
                    "written over: %s" % sorted(set(BAD_PAGES) - set(untouched))))
    m = re.findall(r"^utest: stress (\w+)[^:]*: (\d+) pages, (\d+) free:", g.buf, re.M)
    results.append(("qemu/swap_stress_disk_several_times_memory",
                    len(m) == 3 and all(int(n) >= 2 * int(free) for _, n, free in m),
                    "pages against free frames: %s" % m))
    results.append(("qemu/swap_stress_disk_no_failure", not found(g, r"^swapd: .*failed"),
                    "swapd failed a request"))
    return results


def corrupt_case(name, message, ata_args="", **patch):
    """ata_args: ata's module arguments (a header without the magic is no
    swap area, so ata gives it to nobody unless its arguments say so)."""
    def drives(tmp):
        path = copy_disk(tmp)
        patch_header(path, **patch)
        return [ferry.ide_drive(path)]

    def run(g):
        shell_ready(g, swap=False)
        results = [("qemu/%s_refused" % name,
                    found(g, r"^swapd: swap header: %s" % re.escape(message)) and
                    found(g, r"^swapd: disk0 part1 \(16384 KiB\) refused: no swap$") and
                    found(g, r"init: swapd \(pid \d+\) exited with status 1$"),
                    "want 'swapd: swap header: %s', the refusal and init's report" % message)]
        results.append(("qemu/%s_not_registered" % name, not found(g, r"swap: provider \d+ is"),
                        "a swap provider registered"))
        out = shell_command(g, "echo still running")
        results.append(("qemu/%s_system_runs" % name,
                        re.search(r"^still running$", out, re.M) is not None and
                        found(g, r"fs: ext2 .* mounted"), out))
        enter(g)
        row = swap_row(g)
        leave(g)
        results.append(("qemu/%s_no_provider" % name, row is None, "kdb swap: %s" % row))
        return results
    run.__doc__ = "A swap header with %s is refused; the system runs on without swap." % message
    return swap_case(name, drives=drives, modules=lambda: ata_modules(ata_args))(run)


def ata_modules(ata_args):
    return [(path, ("ata " + ata_args).strip() if args == "ata" else args)
            for path, args in ferry.default_modules()]


corrupt_case("swap_header_bad_magic", "bad magic", ata_args="part1=swapd", magic=b"SWAPSPACE9")


@swap_case("swap_header_no_signature", drives=lambda tmp: corrupt_drive(tmp, b"SWAPSPACE9"))
def swap_header_no_signature(g):
    """Without arguments, ata gives a partition whose swap signature is gone
    to nobody: swapd says it has no swap partition, the system runs on."""
    shell_ready(g, swap=False)
    want = [r"^ata: disk0: MBR part1: type 0x82, \d+ sectors at \d+, unknown \(nobody\)$",
            r"^swapd: no disk driver gives swapd a partition on disk0",
            r"init: swapd \(pid \d+\) exited with status 1$"]
    return [("qemu/swap_header_no_signature_nobody", all(found(g, rx) for rx in want),
             "missing: %s" % [rx for rx in want if not found(g, rx)])]


def corrupt_drive(tmp, magic):
    path = copy_disk(tmp)
    patch_header(path, magic=magic)
    return [ferry.ide_drive(path)]
corrupt_case("swap_header_bad_version", "bad version 2 (want 1)", version=2)
corrupt_case("swap_header_last_page", "last_page 4096 past the partition (4096 pages)",
             last_page=4096)


def error_drives(iotype):
    """The disk behind blkdebug: every 8th slot (7, 15, ...) fails reads or
    writes (`iotype`) for good, so every run of 8 slots has one bad slot.
    A rule comes into force at its event (the first read) and matches any
    request that covers its sector."""
    def drives(tmp):
        path = copy_disk(tmp)
        slots = usable_slots(path)
        rules = os.path.join(tmp, "blkdebug.conf")
        with open(rules, "w") as f:
            for slot in range(7, slots, 8):
                f.write('[inject-error]\nevent = "read_aio"\niotype = "%s"\nerrno = "5"\n'
                        'sector = "%d"\nonce = "off"\n\n' % (iotype, slot_lba(path, slot)))
        return ["file=blkdebug:%s:%s,format=raw,if=ide,index=0,media=disk" % (rules, path)]
    return drives


def run_utest_group(g, group):
    shell_ready(g)
    out = shell_command(g, "utest " + group, timeout=80)
    results = user_results(g)
    results.append(("qemu/swap_%s_done" % group.replace("-", "_"),
                    "utest: done" in out and "[utest exited with status 0]" in out, out[-1500:]))
    return results


@swap_case("swap_pagein_errors", drives=error_drives("read"), timeout=120)
def swap_pagein_errors(g):
    """Read errors on swap sectors: the faulting thread is killed with a clear
    line, its process goes on, every other page comes back intact (swapd
    retries the faulting page alone when only read-ahead failed)."""
    results = run_utest_group(g, "pagein-errors")
    lost = sum(int(n) for n in re.findall(r"^utest: pagein-errors \w+: (\d+) of \d+ pages "
                                          r"unreadable", g.buf, re.M))
    killed = re.findall(r"pid \d+ \(utest\) thread \d+ killed: page-in failed: I/O error at "
                        r"0x[0-9a-f]+", g.buf)
    results.append(("qemu/swap_pagein_errors_threads_killed", lost >= 3 and len(killed) == lost,
                    "%d pages lost, %d kill lines" % (lost, len(killed))))
    results.append(("qemu/swap_pagein_errors_logged",
                    found(g, r"^swapd: disk0 part1: read of 1 pages at page \d+ \(1 run, \w+\): "
                          r"I/O error$") and
                    found(g, r"^swapd: page-in of \d+ pages at slot \d+ \(\w+\) failed: "
                          r"I/O error$"),
                    "no swapd lines for the failed reads"))
    results.append(("qemu/swap_pagein_errors_readahead_retried",
                    found(g, r"^swapd: page-in of \d+ pages at slot \d+ failed: trying the "
                          r"faulting page alone$"), "no read-ahead retried alone"))
    # A media error is an answer: ata said its device was done with the
    # frames (sys_grant_done), so none is quarantined and none is missing.
    enter(g)
    mem = kdb(g, "mem")
    leave(g)
    q = re.search(r"^quarantine\s+(\d+)\s", mem, re.M)
    held = int(q.group(1)) if q else -1
    results.append(("qemu/swap_pagein_errors_frames_back",
                    held == 0, "kdb mem: %d in quarantine" % held))
    return results


@swap_case("swap_pageout_errors", drives=error_drives("write"), timeout=120)
def swap_pageout_errors(g):
    """Write errors on swap sectors: the pages stay resident and intact, the
    slots are marked bad (kdb swap shows them), later page-outs go elsewhere."""
    results = run_utest_group(g, "pageout-errors")
    marked = re.findall(r"swap: provider 0 slot (\d+) marked bad", g.buf)
    enter(g)
    row = swap_row(g)
    leave(g)
    results.append(("qemu/swap_pageout_errors_marked_bad",
                    len(marked) >= 3 and row is not None and row["bad"] == len(marked) and
                    any(int(s) % 8 == 7 for s in marked),
                    "%d 'marked bad' lines, kdb swap %s" % (len(marked), row)))
    results.append(("qemu/swap_pageout_errors_logged",
                    found(g, r"^swapd: disk0 part1: write of \d+ pages at page \d+ .*: I/O error$")
                    and found(g, r"^swapd: page-out of \d+ pages at slot \d+ \(\w+\) failed: "
                                 r"I/O error$"), "no swapd lines for the failed writes"))
    return results
