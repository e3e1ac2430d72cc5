# SPDX-License-Identifier: MIT
"""The IOMMU (kernel/iommu): DMA grants enforced for the device too.  A
rogue driver (ata started with `rogue`, driven by blktest dmarogue) aims a
grant's transfer at a frame it was not lent, at a grant that has ended and
past its window: each is a recorded fault naming device and address, the
target frame unchanged, the request failed with its reason, the system
running on.  The same transfers land where nothing stops them: with the
take-back's IOTLB invalidation skipped (iommu_test=stale) and on the `pc`
machine, which has no IOMMU (the negative controls)."""

import re

import ferry
from cases import registry
from cases.ata import copy_disk, disk_case, suite_end

KINDS = "stray,ended,beyond"
IDE = r"00:03\.0"       # Ferry's piix3-ide on q35 (tests/ferry.py)


def found(g, rx):
    return re.search(rx, g.buf, re.M) is not None


def rogue_lines(g, kind):
    """(ata's 'rogue: reading ... to ADDR' line's address, the child's line) for a kind."""
    what = {"stray": "a page of ata's own", "ended": "the device address of a grant that has "
            "ended", "beyond": "the page past the end of its window"}[kind]
    m = re.search(r"^ata: rogue: reading \d+ sectors at \d+ to (0x[0-9a-f]+): %s" % what,
                  g.buf, re.M)
    return m.group(1) if m else None


@disk_case("iommu_rogue_dma", cmdline="init=blktest initarg=dmarogue:%s panic=exit" % KINDS,
           drives=lambda tmp: [ferry.ide_drive(copy_disk(tmp))], timeout=120, extra="rogue",
           mach="q35")
def iommu_rogue_dma(g):
    """A rogue ata aims a DMA grant's read at its own page (never lent), at
    the device address of the grant before (ended) and past the end of the
    window: each time the IOMMU records a fault naming 00:03.0 and that
    address, the frame it aimed at is unchanged (ata's page, the child's
    page 0), the kernel fails the request (ERR_DMAFAULT) and the faulting
    thread dies with that reason, and blktest's and the kernel's checks
    pass afterwards.  Each fault is read at the unit's fault event, a
    message interrupt to CPU 0, not by the take-back's poll."""
    results = suite_end(g, "iommu_rogue_dma", timeout=120)
    for kind in KINDS.split(","):
        addr = rogue_lines(g, kind)
        results.append(("qemu/iommu_rogue_%s_aimed" % kind, addr is not None,
                        "ata logged no rogue transfer of this kind"))
        if addr is None:
            continue
        fault = (r"^\[[ \d.]+\] warning: iommu: DMA fault: %s \(ata\) write at %s: write to an "
                 r"address not mapped writable \(reason 5\), read " % (IDE, addr[:-3] + "000"))
        results.append(("qemu/iommu_rogue_%s_fault_recorded" % kind,
                        found(g, fault + r"(at its interrupt|by a poll)$"),
                        "no fault naming %s and %s" % (IDE, addr)))
        # The unit's fault event (a message interrupt to CPU 0) brought it,
        # not the take-back's read of the records (iommu_test=noirq: polled).
        results.append(("qemu/iommu_rogue_%s_fault_by_interrupt" % kind,
                        found(g, fault + r"at its interrupt$"),
                        "the fault was not read at the fault event's interrupt"))
    results.append(("qemu/iommu_rogue_requests_failed",
                    len(re.findall(r"page-in failed: the device's DMA faulted in the IOMMU",
                                   g.buf)) == 3,
                    "want 3 threads killed with the DMA fault's reason"))
    results.append(("qemu/iommu_rogue_grants_failed",
                    found(g, r"iommu: grant 0x[0-9a-f]+ fails: its device faulted outside every "
                             r"window it holds$") and
                    found(g, r"iommu: grant 0x[0-9a-f]+ fails: its device faulted past the end of "
                             r"its window$"), "no 'grant ... fails' line for each place"))
    results.append(("qemu/iommu_rogue_own_page_unchanged",
                    found(g, r"^ata: rogue: own page fnv (0x[0-9a-f]+) -> \1: unchanged$"),
                    "ata's own page changed (or no line)"))
    results.append(("qemu/iommu_rogue_child_pages_unchanged",
                    len(re.findall(r"^blktest: roguechild: page 0 fnv (0x[0-9a-f]+) -> \1 "
                                   r"\(unchanged\), page 1 not read: its thread was killed$",
                                   g.buf, re.M)) == 3, "a child's page 0 changed, or page 1 read"))
    return results


@disk_case("iommu_stale_lands", cmdline="init=blktest initarg=dmalanded:ended iommu_test=stale "
           "panic=exit", drives=lambda tmp: [ferry.ide_drive(copy_disk(tmp))], timeout=120,
           extra="rogue", mach="q35")
def iommu_stale_lands(g):
    """Negative control: with the take-back's IOTLB invalidation skipped
    (iommu_test=stale), the rogue DMA to the ended grant's device address
    hits QEMU's stale IOTLB entry and lands in the frame the child now
    maps: page 0 changes, no fault is recorded, the request completes.
    So iommu_rogue_dma can fail."""
    results = suite_end(g, "iommu_stale_lands", timeout=120)
    results.append(("qemu/iommu_stale_switch_said",
                    found(g, r"iommu: iommu_test=stale: stale DMA can land"), "no warning"))
    results.append(("qemu/iommu_stale_landed",
                    found(g, r"^blktest: roguechild: page 0 fnv (0x[0-9a-f]+) -> (?!\1)0x[0-9a-f]+"
                             r" \(CHANGED\), page 1 read \(no fault noticed\)$"),
                    "the stale DMA did not land"))
    results.append(("qemu/iommu_stale_no_fault", not found(g, r"iommu: DMA fault"),
                    "a fault was recorded"))
    return results


@disk_case("iommu_pc_trusts_dma", cmdline="init=blktest initarg=dmalanded:stray panic=exit",
           drives=lambda tmp: [ferry.ide_drive(copy_disk(tmp))], timeout=120, extra="rogue",
           mach="pc")
def iommu_pc_trusts_dma(g):
    """Negative control on the `pc` machine (no IOMMU): the kernel says DMA
    is trusted, and ata's stray transfer lands in its own page unnoticed."""
    results = suite_end(g, "iommu_pc_trusts_dma", timeout=120)
    results.append(("qemu/iommu_pc_said_trusted",
                    found(g, r"iommu: none \(no usable DMAR table\): device DMA is trusted$"),
                    "no line saying DMA is trusted"))
    results.append(("qemu/iommu_pc_stray_landed",
                    found(g, r"^ata: rogue: own page fnv (0x[0-9a-f]+) -> (?!\1)0x[0-9a-f]+: "
                             r"CHANGED$"), "the stray DMA did not land"))
    return results


def slow_drives(tmp):
    """Disk 0 as always; disk 1 (primary slave) a copy throttled to 80 KiB/s:
    after the child's read of 128 KiB its page-in's read waits about 1.5 s,
    past the kernel's overtime (200 ms) and short of ata's command timeout
    (2 s), whose channel reset would cancel the transfer instead of letting
    it land."""
    return [ferry.ide_drive(ferry.DISK, snapshot=True),
            ferry.ide_drive(copy_disk(tmp), index=1) + ",throttling.bps-read=81920"]


SLOW = "init=blktest initarg=slowdma overtime=200 panic=exit"


def slow_common(g, name):
    results = suite_end(g, name, timeout=120)
    results.append(("qemu/%s_overtime" % name,
                    found(g, r"page request 0x[0-9a-f]+ \(page-in of 1 pages for pid \d+ at "
                             r"0x[0-9a-f]+\) overran 200 ms: failing it$") and
                    found(g, r"thread \d+ killed: page-in failed: pager overran its overtime"),
                    "the kernel did not give the page-in up by overtime"))
    return results


def late_write(g):
    return found(g, r"(violation: free frame 0x[0-9a-f]+ was written after it was freed|"
                    r"frame 0x[0-9a-f]+ was written after it was freed)")


@disk_case("iommu_slow_parks", cmdline=SLOW, drives=slow_drives, timeout=120, mach="q35")
def iommu_slow_parks(g):
    """A DMA page-in from a slow disk that the kernel gives up on (overtime)
    before the transfer lands: the window is closed and invalidated at once;
    the frame, which QEMU's block DMA may still write (it translates a
    transfer when it starts), waits parked until ata says its device is
    done with the grant (sys_grant_done); then it is freed, after the
    landing: nothing written after a free (kdb check watches the frame),
    nothing quarantined for good."""
    results = slow_common(g, "iommu_slow_parks")
    results.append(("qemu/iommu_slow_parked_then_freed",
                    found(g, r"iommu: 1 frames parked for grant 0x[0-9a-f]+ freed: ata's device "
                             r"is done with it$"), "no frame parked and freed"))
    results.append(("qemu/iommu_slow_no_late_write", not late_write(g),
                    "a transfer landed in a freed frame"))
    results.append(("qemu/iommu_slow_no_quarantine",
                    not found(g, r"quarantined: a DMA transfer into it may still be under way"),
                    "a frame was quarantined for good"))
    return results


@disk_case("iommu_slow_nopark_caught", cmdline=SLOW + " iommu_test=nopark", drives=slow_drives,
           timeout=120, check_fails=True, mach="q35")
def iommu_slow_nopark_caught(g):
    """Negative control: freed at once (iommu_test=nopark), the frame takes
    the late transfer and the watch catches it (kdb check at shutdown, or
    the allocator): so iommu_slow_parks can fail."""
    results = slow_common(g, "iommu_slow_nopark_caught")
    results.append(("qemu/iommu_slow_nopark_late_write_caught", late_write(g),
                    "the late transfer was not caught"))
    return results


@disk_case("iommu_slow_pc_quarantines", cmdline=SLOW, drives=slow_drives, timeout=120,
           mach="pc")
def iommu_slow_pc_quarantines(g):
    """The same without an IOMMU (`pc`): the frame is quarantined for good,
    as before, and nothing lands in a frame someone has."""
    results = slow_common(g, "iommu_slow_pc_quarantines")
    results.append(("qemu/iommu_slow_pc_quarantined",
                    found(g, r"quarantined: a DMA transfer into it may still be under way"),
                    "no frame quarantined"))
    results.append(("qemu/iommu_slow_pc_no_late_write", not late_write(g),
                    "a transfer landed in a freed frame"))
    return results


def inval_case(mode):
    name = "iommu_inval_%s" % mode

    def run(g):
        results = suite_end(g, name, timeout=120)
        results.append(("qemu/%s_said" % name,
                        found(g, r"iommu: translating: 1 unit, \d+ domains?, invalidation %s$" % mode),
                        "the kernel did not say it invalidates by %s" % mode))
        addr = rogue_lines(g, "ended")
        results.append(("qemu/%s_stale_dma_faults" % name, addr is not None and found(
            g, r"iommu: DMA fault: %s \(ata\) write at %s: " % (IDE, addr)),
            "the ended grant's address did not fault: its IOTLB entry survived"))
        return results
    run.__doc__ = ("Invalidation by %s (iommu_inval=%s) really invalidates: the rogue DMA to "
                   "an ended grant's device address faults." % (mode, mode))
    return disk_case(name, cmdline="init=blktest initarg=dmarogue:ended iommu_inval=%s "
                     "panic=exit" % mode, drives=lambda tmp: [ferry.ide_drive(copy_disk(tmp))],
                     timeout=120, extra="rogue", mach="q35")(run)


inval_case("page")
inval_case("queue")


def zero_touch_count(out):
    m = re.search(r"^mode dma: faults \d+ pages-in (\d+) .* zero-touch (\d+)$", out, re.M)
    return (int(m.group(1)), int(m.group(2))) if m else (0, -1)


def zero_touch_case(name, cmdline, mach, want_unzeroed, doc):
    def run(g):
        from cases.kdb import enter, kdb, leave, shell, wait_for_swap
        wait_for_swap(g)
        shell(g, "pagetest 64 dma", r"pagetest: 64 pages read back, 64 resident, 0 mismatches: ok")
        enter(g)
        pages_in, unzeroed = zero_touch_count(kdb(g, "faults"))
        leave(g)
        ok = pages_in >= 64 and (unzeroed >= pages_in if want_unzeroed else unzeroed == 0)
        return [("qemu/" + name, ok, "dma pages in %d, lent unzeroed %d" % (pages_in, unzeroed))]
    run.__doc__ = doc
    return registry.case(name, cmdline=cmdline, mem="64M", timeout=90,
                         qemu=lambda: {"mach": mach})(run)


zero_touch_case("iommu_zero_touch", "", "q35", True,
                "With the IOMMU, DMA swap page-ins lend frames unzeroed (kdb faults: zero-touch"
                " counts every frame of them) and every page comes back right.")
zero_touch_case("iommu_zero_touch_off", "zerotouch=off", "q35", False,
                "zerotouch=off: the same page-ins take zeroed frames (zero-touch stays 0).")
zero_touch_case("iommu_zero_touch_pc", "", "pc", False,
                "Without an IOMMU (pc) a DMA page-in's frame is always zeroed: the driver "
                "could read it.")
