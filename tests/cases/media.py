# SPDX-License-Identifier: MIT
"""Media errors and the rights around paging: a single bad sector in the
swap area retires the one slot whose page it holds (swapd writes a failed
run again page by page and names the pages that failed), never the whole
run, and no data is lost.

The bad sectors are blkdebug rules on a copy of the disk; which slots they
hold is computed here from the image (cases.swap.slot_lba)."""

import os
import re

import ferry
from cases.kdb import enter, kdb, leave
from cases.swap import found, shell_ready, slot_lba, swap_case, swap_row
from cases.user import shell_command
from cases.vm import suite_results

# One bad sector in each of three slots, each inside a different run of 8
# slots and at a different place in its page: what `pagetest 16 MODE`,
# run three times from a fresh boot, pages out to (slots 0-15, 16-31, 32-47).
BAD_SECTORS = ((3, 5), (21, 0), (42, 7))    # (slot, sector within its page)
MODES = ("dma", "copy", "grant")


def bad_sector_drives(tmp):
    """A copy of the disk whose BAD_SECTORS fail every write for good."""
    path = os.path.join(tmp, "disk.img")
    with open(ferry.DISK, "rb") as src, open(path, "wb") as dst:
        dst.write(src.read())
    rules = os.path.join(tmp, "blkdebug.conf")
    with open(rules, "w") as f:
        for slot, sector in BAD_SECTORS:
            f.write('[inject-error]\nevent = "read_aio"\niotype = "write"\nerrno = "5"\n'
                    'sector = "%d"\nonce = "off"\n\n' % (slot_lba(path, slot) + sector))
    return ["file=blkdebug:%s:%s,format=raw,if=ide,index=0,media=disk" % (rules, path)]


@swap_case("media_bad_sector", drives=bad_sector_drives, timeout=120)
def media_bad_sector(g):
    """A page-out of 16 pages (two runs of 8) over one bad sector, in each
    fill mode: 15 pages go out, the one whose slot holds the sector stays
    resident, every page reads back intact, and exactly that slot is BAD.
    (pagetest calls the round trip FAILED: not every page left memory.)"""
    shell_ready(g)
    results = []
    for mode in MODES:
        out = shell_command(g, "pagetest 16 %s" % mode, timeout=60)
        results.append(("qemu/media_bad_sector_pagetest_%s" % mode,
                        "16 pages written, 15 paged out, 15 now in swap" in out and
                        "1 of 16 pages stayed in memory" in out and
                        "16 pages read back, 16 resident, 0 mismatches" in out, out[-1200:]))
    marked = sorted(int(s) for s in re.findall(r"swap: provider 0 slot (\d+) marked bad", g.buf))
    want = sorted(slot for slot, _ in BAD_SECTORS)
    enter(g)
    row = swap_row(g)
    leave(g)
    results.append(("qemu/media_bad_sector_only_bad_slots",
                    marked == want and row is not None and row["bad"] == len(want),
                    "slots marked bad %s, want %s; kdb swap %s" % (marked, want, row)))
    results.append(("qemu/media_bad_sector_isolated",
                    len(re.findall(r"swapd: disk0 part1: page-out of 8 pages at slot \d+: "
                                   r"1 page failed alone", g.buf)) == len(want),
                    "want %d 'page failed alone' lines from swapd" % len(want)))
    # ata names the bad sector itself, not the start of the command it was in.
    image = os.path.join(g.disk_dir, "disk.img")
    named = set(int(x) for x in re.findall(r"^ata: disk0: write failed on the medium at lba "
                                           r"(\d+) \(of \d+ sectors at lba \d+\)$",
                                           g.buf, re.M))
    lbas = set(slot_lba(image, slot) + sector for slot, sector in BAD_SECTORS)
    results.append(("qemu/media_bad_sector_lba_named", named == lbas,
                    "ata named lbas %s, the bad sectors are %s" % (sorted(named), sorted(lbas))))
    return results


# --- a refusal is not a bad sector ---

@swap_case("media_refusal_not_bad", cmdline="init=utest initarg=refused panic=exit",
           timeout=150)
def media_refusal_not_bad(g):
    """The disk driver refuses swapd (utest replaces it by one whose
    arguments give swap to nobody): every page-out is "not permitted", in
    each fill mode; the pages stay resident and intact, no slot is marked
    bad, and with the driver as it was the same pages go out and back."""
    results = suite_results(g, "media_refusal_not_bad", timeout=150)
    driver = r"(?:nvme|ata)"
    results.append(("qemu/media_refusal_driver_refused",
                    found(g, r"^%s: write of disk0 part1 .* by swapd \(pid 0x[0-9a-f]+\): not "
                             r"permitted$" % driver) and
                    found(g, r"^swapd: disk0 part1: write of \d+ pages at page \d+ .*: not "
                             r"permitted$"), "no refusal seen: nothing was tested"))
    results.append(("qemu/media_refusal_no_slot_bad", not found(g, r"marked bad"),
                    "a refusal retired swap slots"))
    results.append(("qemu/media_refusal_pagein_reason",
                    len(re.findall(r"thread \d+ killed: page-in failed: the pager's disk driver "
                                   r"refused it \(not permitted\)", g.buf)) == 1,
                    "want one thread killed for a refused page-in, with that reason"))
    return results


# --- the pager and faultpath rights ---

def rogue_modules():
    """The default modules and pagetest's ELF once more as "pagerogue", a
    program the boot configuration gives no rights."""
    return ferry.default_modules() + [(os.path.join(ferry.BUILD, "user", "pagetest.elf"),
                                       "pagerogue")]


@swap_case("rights_pager_faultpath", modules=rogue_modules, timeout=90)
def rights_pager_faultpath(g):
    """Being a pager and switching the fault path take rights of their own
    (`pager`, `faultpath`): pagetest has them and works, the same program
    under a name without them is refused, and the kernel log says why."""
    shell_ready(g)
    results = []
    out = shell_command(g, "pagerogue 8 dma", timeout=30)
    results.append(("qemu/rights_faultpath_refused",
                    "pagetest: cannot switch the fault path to dma: not permitted" in out and
                    re.search(r"pagerogue \(pid \d+\): switching the fault path refused: no "
                              r"`faultpath` right", g.buf) is not None, out[-800:]))
    out = shell_command(g, "pagerogue stuck", timeout=30)
    results.append(("qemu/rights_pager_refused",
                    "pagetest: cannot be the pager of a page: not permitted" in out and
                    re.search(r"pagerogue \(pid \d+\): mem_map_pager refused: port 0x[0-9a-f]+'s "
                              r"owner pagerogue \(pid \d+\) has no `pager` right", g.buf)
                    is not None, out[-800:]))
    out = shell_command(g, "pagetest 8 dma", timeout=60)
    results.append(("qemu/rights_faultpath_granted",
                    "8 pages read back, 8 resident, 0 mismatches: ok" in out and
                    re.search(r"fault path switched to dma by pagetest", g.buf) is not None,
                    out[-800:]))
    # fs has the pager right: a file mapping works (sh's `sum ... map`).
    out = shell_command(g, "sum /hello.txt dma", timeout=60)
    results.append(("qemu/rights_pager_granted_fs",
                    re.search(r"^sum /hello\.txt: \d+ bytes; .* \(dma, \d+ ms\): match$", out,
                              re.M) is not None, out[-800:]))
    return results


# --- late replies ---

@swap_case("late_reply_counted", timeout=90)
def late_reply_counted(g):
    """An answer that comes after its caller gave up (utest late_reply: the
    caller waits 20 ms, the server answers at 200 ms) is dropped quietly:
    the server is told ERR_TIMEOUT, the kernel counts it, kdb `ipc` shows
    the count and who answered last, and no log line is written for it."""
    shell_ready(g)
    start = len(g.buf)
    out = shell_command(g, "utest late_reply", timeout=60)
    results = [("qemu/late_reply_utest",
                re.search(r"^utest: late_reply: \d+ late replies so far$", out, re.M) is not None and
                "[utest exited with status 0]" in out,
                out[-1200:])]
    enter(g)
    ipc = kdb(g, "ipc")
    leave(g)
    m = re.search(r"^ports \d+ live, late replies (\d+) dropped \(last from utest, pid \d+\)$",
                  ipc, re.M)
    results.append(("qemu/late_reply_kdb_ipc", m is not None and int(m.group(1)) >= 1, ipc))
    noise = [line for line in g.buf[start:].splitlines()
             if re.search(r"bad handle|timed out|refused", line)]
    results.append(("qemu/late_reply_quiet", not noise, "log lines: %s" % noise[:5]))
    return results
