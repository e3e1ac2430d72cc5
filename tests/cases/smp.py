# SPDX-License-Identifier: MIT
"""Several CPUs: the CPUs come up (from the MADT), their interrupt
controllers and IPIs work, TLB shootdowns happen where a grant or a
page-out needs them and nowhere else (utest's smp_* cases, at 2, 4 and 8
CPUs), the shootdown cases fail when the IPI is skipped (`shootdown=off`,
a test-only switch: they could not catch a missing one otherwise), and a
malformed MADT, handed to the kernel by GRUB's `acpi` command, leaves one
CPU and the 8259s with the reason in the log.

The suite runs on 2 CPUs (tests/run.py's default FERRY_SMP); these cases
say how many they want."""

import os
import re
import struct

import ferry
from cases.kdb import enter, kdb, leave
from cases.registry import Case, _cases, also_on, case
from cases.user import PROMPT, user_results
from cases.vm import suite_results

SMP_SUITE = "init=utest initarg=smp panic=exit"


def smp_suite(cpus):
    def run(g):
        results = suite_results(g, "smp_suite_%dcpu" % cpus, timeout=200)
        m = re.search(r"smp: (\d+) CPUs? online", g.buf)
        results.append(("qemu/smp_suite_%dcpu_online" % cpus,
                         m is not None and int(m.group(1)) == cpus,
                         "want %d CPUs online: %s" % (cpus, m.group(0) if m else "no line")))
        return [(("%s@%dcpu" % (n, cpus)) if n.startswith("user/") else n, ok, d)
                for n, ok, d in results]
    run.__doc__ = ("utest's smp_* cases on %d CPUs: a holder writing through its window "
                   "while the grant is taken back, a reader racing a page-out, a fault "
                   "storm in every fill mode, shootdown counts per mode; then the leak "
                   "check." % cpus)
    return run


for _n in (2, 4, 8):
    _cases.append(Case(smp_suite(_n), "smp_suite_%dcpu" % _n, SMP_SUITE, "64M", 220, None,
                       cpus=_n))


@case("smp_without_shootdown", cmdline="init=utest initarg=smp shootdown=off panic=exit",
      timeout=220, cpus=2)
def smp_without_shootdown(g):
    """With the shootdown IPIs skipped (`shootdown=off`) the holder, reader and storm
    cases fail: a stale translation on another CPU writes the faulting process's page,
    or reads a frame that changed hands.  (The counts case fails by construction: no
    IPI, none counted.)"""
    g.wait_exit(timeout=200)
    got = {n: ok for n, ok, _ in user_results(g)}
    results = [("qemu/smp_without_shootdown_warned",
                "shootdown=off: other CPUs keep stale translations" in g.buf,
                "no warning that the switch is on")]
    for name in ("smp_holder_window", "smp_reader_pageout", "smp_fault_storm"):
        results.append(("qemu/smp_without_shootdown_%s_fails" % name,
                        got.get("user/" + name) is False,
                        "user/%s: %s, want FAILED" % (name, got.get("user/" + name))))
    return results


# --- a MADT of our own, through GRUB's `acpi` command ---

def madt(apic_ids, checksum_ok=True):
    """A MADT like the one QEMU's pc machine builds, listing these local
    APIC ids (all enabled), its I/O APIC and its interrupt overrides."""
    body = struct.pack("<II", 0xFEE00000, 1)            # local APIC address, PC-AT compatible
    for uid, apic in enumerate(apic_ids):
        body += struct.pack("<BBBBI", 0, 8, uid, apic, 1)
    body += struct.pack("<BBBBII", 1, 12, 0, 0, 0xFEC00000, 0)
    for source, gsi, flags in ((0, 2, 0), (5, 5, 0xD), (9, 9, 0xD), (10, 10, 0xD), (11, 11, 0xD)):
        body += struct.pack("<BBBBIH", 2, 10, 0, source, gsi, flags)
    body += struct.pack("<BBBHB", 4, 6, 0xFF, 0, 1)     # local APIC NMI on LINT1
    header = b"APIC" + struct.pack("<IBB", 36 + len(body), 1, 0) + b"FERRY " + b"FERRYTST" + \
        struct.pack("<III", 1, 0x46455252, 1)
    table = bytearray(header + body)
    table[9] = (-sum(table)) & 0xFF
    if not checksum_ok:
        table[9] ^= 0x5A
    return bytes(table)


class MadtCase(Case):
    """A boot whose firmware MADT GRUB replaces with `table` (bytes)."""

    def __init__(self, fn, name, table, cpus):
        super().__init__(fn, name, "", "64M", 90, None, cpus=cpus)
        self.table = table

    def iso(self):
        if self._iso is None:
            path = os.path.join(ferry.BUILD, "tests", self.name + ".madt")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            if not os.path.exists(path) or open(path, "rb").read() != self.table:
                with open(path, "wb") as f:
                    f.write(self.table)
            out = os.path.join(ferry.BUILD, "tests", self.name + ".iso")
            self._iso = ferry.make_iso(out, "", ferry.default_modules(), acpi=[("APIC", path)])
        return self._iso


def madt_case(name, table, cpus=2):
    def register(fn):
        _cases.append(MadtCase(fn, name, table, cpus))
        return fn
    return register


def shell_runs(g, name):
    """The system works on whatever it booted with: the shell answers."""
    g.expect(PROMPT, timeout=60)
    g.expect(r"fs: pager of file system .*\n", timeout=60)
    start = len(g.buf)
    g.send("echo one cpu\r")
    try:
        g.expect(r"^one cpu$", timeout=30, start=start)
        return ("qemu/%s_shell" % name, True, "")
    except ferry.Timeout as e:
        return ("qemu/%s_shell" % name, False, str(e))


def boot_lines(g, name, want):
    return [("qemu/%s_%s" % (name, what), re.search(rx, g.buf, re.M) is not None,
             "no line matching %r" % rx) for what, rx in want]


ONE_CPU_PIC = ("pic_one_cpu", r"^\[[ \d.]+\] interrupts: 8259 PIC and PIT tick, one CPU \(")
ONE_ONLINE = ("one_online", r"smp: 1 CPU online")


@madt_case("acpi_madt_replaced", madt([0]))
def acpi_madt_replaced(g):
    """The control: GRUB's acpi command hands the kernel our own, valid MADT, which names
    one CPU of QEMU's two: the APICs deliver and the kernel starts only that one."""
    shell = shell_runs(g, "acpi_madt_replaced")    # booted, and past the lines below
    return boot_lines(g, "acpi_madt_replaced", [
        ("ours", r"interrupts: local APIC .* 1 CPU in the MADT"), ONE_ONLINE]) + [shell]


@madt_case("acpi_madt_bad_checksum", madt([0, 1], checksum_ok=False))
def acpi_madt_bad_checksum(g):
    """A MADT with a wrong checksum is refused with the reason, and the system runs on one
    CPU with the 8259s although QEMU has two."""
    shell = shell_runs(g, "acpi_madt_bad_checksum")    # booted, and past the lines below
    return boot_lines(g, "acpi_madt_bad_checksum", [
        ("refused", r"acpi: table \d+ \(APIC at 0x[0-9a-f]+\) is malformed: checksum wrong"),
        ("pic", ONE_CPU_PIC[1] + r"no usable MADT\)"), ONE_ONLINE]) + [shell]


@madt_case("acpi_madt_id_out_of_range", madt([0, 255]))
def acpi_madt_id_out_of_range(g):
    """A well-formed MADT naming an enabled CPU with APIC id 255 (the broadcast id) is
    refused, entry and id named, and the system runs on one CPU with the 8259s."""
    shell = shell_runs(g, "acpi_madt_id_out_of_range")    # booted, and past the lines below
    return boot_lines(g, "acpi_madt_id_out_of_range", [
        ("refused", r"acpi: MADT refused: entry 1: local APIC id 255 out of range"),
        ("pic", ONE_CPU_PIC[1] + r"the MADT was refused\)"), ONE_ONLINE]) + [shell]


@madt_case("acpi_madt_duplicate_id", madt([0, 1, 1]), cpus=4)
def acpi_madt_duplicate_id(g):
    """A MADT listing one APIC id twice is refused; one CPU of QEMU's four runs."""
    shell = shell_runs(g, "acpi_madt_duplicate_id")    # booted, and past the lines below
    return boot_lines(g, "acpi_madt_duplicate_id", [
        ("refused", r"acpi: MADT refused: entry 2: APIC id 1 listed twice"),
        ("pic", ONE_CPU_PIC[1] + r"the MADT was refused\)"), ONE_ONLINE]) + [shell]


# The suite runs on 2 CPUs.  The cases that exercise grants, swap and the
# debug console run once more on 4, and a few on 1 (the APICs with one CPU;
# acpi_off and the MADT cases above cover the 8259s): README's table says so.
for _name in ("kdb_grant_step", "kdb_processes", "swap_disk_boot", "vm_suite", "chaos_quick",
              "restart_ata_holding"):
    also_on(_name, 4)
for _name in ("user_suite", "vm_suite", "kdb_grant_step"):
    also_on(_name, 1)


def pc_machine():
    """QEMU's i440FX machine (the suite's default is q35, FERRY_MACHINE)."""
    return dict(mach="pc")


def smp_pc(g):
    """utest's smp_* cases on QEMU's pc machine (i440FX, no IOMMU) with 2 CPUs: its
    MADT's APICs deliver, both CPUs come up, shootdowns where a grant or a page-out needs
    them; then the leak check.  The rest of the suite runs on q35."""
    results = suite_results(g, "smp_pc", timeout=200)
    results += boot_lines(g, "smp_pc", [
        ("apic", r"interrupts: local APIC .* 2 CPUs in the MADT"),
        ("online", r"smp: 2 CPUs online"),
        ("no_iommu", r"iommu: .*(no DMAR|no usable DMAR|device DMA is trusted)")])
    return [(("%s@pc" % n) if n.startswith("user/") else n, ok, d) for n, ok, d in results]


_cases.append(Case(smp_pc, "smp_pc", SMP_SUITE, "64M", 220, None, qemu=pc_machine, cpus=2))


@case("smp_cpus_cap", cmdline="cpus=1", cpus=2)
def smp_cpus_cap(g):
    """`cpus=1` on the command line: of QEMU's two CPUs only the boot CPU runs, and the log
    says why the other is left off."""
    shell = shell_runs(g, "smp_cpus_cap")
    return boot_lines(g, "smp_cpus_cap", [
        ("left_off", r"smp: cpus=1: 1 of the firmware's CPUs left off"),
        ("apic", r"interrupts: local APIC .* 2 CPUs in the MADT"), ONE_ONLINE]) + [shell]


def ram_store():
    from cases.swap import store_modules
    return store_modules("ram 4096")


@case("bench_smp_quick", mem="256M", cpus=2, timeout=180, modules=ram_store)
def bench_smp_quick(g):
    """`bench smp` (make bench's SMP cells) in one small round on 2 CPUs, swapd's RAM store
    as in make bench: every cell reported, and the counts are the protocol's: a grant-map
    take-back sends one IPI per fault when the holder has a thread on the other CPU and none
    when it has not, copy and DMA page-ins none, a page-out run of a process with a thread
    elsewhere one.  (A grant-mode page-out also takes swapd's window back: its IPIs, if
    swapd's tables are live elsewhere, count too; so `alone` is checked for copy only.)"""
    import bench_smp
    g.expect(PROMPT, timeout=60)
    g.expect(r"fs: pager of file system .*\n", timeout=60)
    start = len(g.buf)
    g.send("bench smp 1 16\r")
    m = g.expect_line(r"bench smp: .*", timeout=150, start=start)
    rows = bench_smp.parse(g.buf[start:])
    bad = [] if m.group(0) == "bench smp: done" else [m.group(0)]
    if len(rows) != 3 * (3 * 2 + 2):
        bad.append("%d cells, want 24" % len(rows))
    for r in rows:
        cell = "%s %s %s/%d" % (r["kind"], r["holder"], r["mode"], r["cluster"])
        if r["kind"] == "pagein" and r["served"] in ("copy", "dma") and r["ipis"]:
            bad.append("%s: %d IPIs, want none" % (cell, r["ipis"]))
        if r["kind"] == "pagein" and r["served"] == "grant" and r["holder"] == "spread" and \
                r["ipis"] != r["requests"]:
            bad.append("%s: %d IPIs for %d faults" % (cell, r["ipis"], r["requests"]))
        if r["holder"] == "alone" and r["ipis"] and \
                (r["kind"] == "pagein" or r["served"] == "copy"):
            bad.append("%s: %d IPIs with no thread elsewhere" % (cell, r["ipis"]))
        if r["kind"] == "pageout" and r["holder"] == "spread" and r["ipis"] != 2:
            bad.append("%s: %d IPIs for 16 pages (2 runs of 8)" % (cell, r["ipis"]))
        if r["all_ipis"] < r["ipis"] or r["lock_wakes"] > r["all_ipis"]:
            bad.append("%s: %d IPIs in all, %d shootdowns, %d lock wake-ups" % (
                cell, r["all_ipis"], r["ipis"], r["lock_wakes"]))
    return [("qemu/bench_smp_quick", not bad, "; ".join(bad))]
