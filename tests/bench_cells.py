# SPDX-License-Identifier: MIT
"""make bench's cells: the boots it makes, and how one is run.

BOOTS lists the systems measured.  A Boot names the module lines it
changes and the QEMU options it needs (machine type, CPUs, devices,
drives), and the backings measured in it: each one `bench faults` run in
the guest over anonymous memory (through the boot's swap provider) or a
mapped ext2 file, under a label unique across boots that names the cell
everywhere (table, CSV, figures, verdicts).  With a backing goes the Linux
peer test it compares with, per cluster size.  A new cell (several CPUs,
an IOMMU, another disk) is a new Boot or Backing here: the runner, the
plugin's counters, the table, the CSV and the verdicts take it by its
label, with no code of its own.

The IOMMU's cells (issue 17) are boots too: the swap partition on IDE and
on NVMe, q35 with translation off (`iommu=off`) and with each way of
invalidating (`iommu_inval=`), and with zero-touch page-in off; a Boot's
`iommu` names its variant, and tests/bench_iommu.py compares the rows of
one bus across variants.  Each cell's page-outs are a region of their own
(ferry_tag(..., pageout=True)): the rows carry their counters as
"cost_out"."""

import os
import re
from dataclasses import dataclass, field
from typing import NamedTuple

import bench_cost
import ferry

OUT = os.path.join(ferry.BUILD, "bench")
MEM = "256M"    # the Linux peer's memory size too
MODES = ["copy", "grant", "dma"]            # user/bench/faults.c's mode_names
CLUSTERS = [1, 8, 32]                       # and its clusters[]
# The IOMMU variants a Boot can be (tests/bench_iommu.py): kernel command
# line of each.  "window" is the default kernel's.
IOMMU_VARIANTS = {"off": "iommu=off", "window": "", "page": "iommu_inval=page",
                  "queue": "iommu_inval=queue", "zeroing": "zerotouch=off"}


class Backing(NamedTuple):
    kind: str           # "anon": the boot's swap provider; "file": an ext2 file, mapped
    label: str          # the cell's name in every output
    peer: dict = {}     # cluster size -> the Linux pagebench test it compares with


@dataclass(frozen=True)
class Boot:
    name: str
    backings: tuple
    modules: dict = field(default_factory=dict)  # module name -> its whole module line
    machine: str = None         # QEMU -machine; None: FERRY_MACHINE (q35 + IOMMU)
    smp: int = 1                                 # QEMU -smp
    devices: tuple = ()                          # QEMU -device values (an IOMMU, ...)
    drives: tuple = None        # -drive values; None: build/disk.img as IDE disk 0, snapshot
    qemu: tuple = ()                             # any other QEMU options
    primitives: bool = False    # also `bench ITERS`: null syscall, IPC, context switch
    round_share: float = 1.0    # the share of the rounds asked for that this boot runs
    iommu: str = None           # an IOMMU_VARIANTS name: one of the IOMMU's cells
    bus: str = None             # the swap disk's bus in the IOMMU's cells: ide, nvme
    tcg: bool = True            # measured under plain TCG too, not only icount
    own_section: bool = False   # reported in the IOMMU's section only (and results.csv)

    def cmdline(self):
        return IOMMU_VARIANTS[self.iommu] if self.iommu else ""

    def iommu_variant(self):
        """The IOMMU variant this boot really measures: none on a
        machine without one (FERRY_MACHINE=pc for a boot that does not
        name its machine)."""
        if not self.iommu:
            return None
        return self.iommu if (self.machine or ferry.machine()) == "q35" else "none"

    def rounds(self, asked):
        return max(1, round(asked * self.round_share))

    def qemu_extra(self):
        extra = ["-smp", str(self.smp)] if self.smp != 1 else []
        for d in self.devices:
            extra += ["-device", d]
        return extra + list(self.qemu)


BOOTS = [
    Boot("ram", (Backing("anon", "ram", {1: "uffd_copy"}),),
         modules={"swapd": "swapd ram 8192"}, primitives=True),
    Boot("disk-dma", (Backing("anon", "disk-dma", {1: "swapin_pc0", 8: "swapin_pc3",
                                                   32: "swapin_pc5"}),
                      Backing("file", "file-dma")), iommu="window", bus="ide"),
    # The same image as an NVMe disk: nvme fills the grants by PRPs naming
    # the lent frames, one doorbell write per command (MMIO, against ata's
    # port accesses); the Linux peer swaps in from the same NVMe disk
    # (make bench-peer's TEST@nvme).
    Boot("nvme", (Backing("anon", "nvme-dma", {1: "swapin_pc0@nvme", 8: "swapin_pc3@nvme"}),
                  Backing("file", "file-nvme")),
         drives=(ferry.nvme_drive(ferry.DISK, snapshot=True),), iommu="window", bus="nvme"),
    # The same NVMe boot with nvme's `intx`: completion by the INTx line
    # (the kernel masks and unmasks it at the I/O APIC around each message)
    # instead of MSI-X: what the message interrupt saves per request.
    Boot("nvme-intx", (Backing("anon", "nvme-intx"),), modules={"nvme": "nvme intx"},
         drives=(ferry.nvme_drive(ferry.DISK, snapshot=True),), round_share=0.5),
    # swapd on /swapfile: the same faults, its slots in an ext2 file's blocks.
    Boot("swapfile", (Backing("anon", "swapfile"),), modules={"swapd": "swapd file /swapfile"}),
    # 2,056 port transfers per page, each a trip through QEMU's IDE code and,
    # under the plugin, two callbacks: 10 rounds took 584 of a run's 827 s.
    Boot("disk-pio", (Backing("anon", "disk-pio"), Backing("file", "file-pio")),
         modules={"ata": "ata part1=swapd part2=fs dma=off"}, round_share=0.3),
]


def iommu_boots(bus, drives):
    """The IOMMU's other variants on one bus (disk-dma and nvme above are
    its `window`): q35 always, under icount only (the plain-TCG figures
    would say nothing the icount ones do not), 0.4 of the rounds (the
    figures are per page and deterministic: 4 rounds of 256 pages repeat
    to the instruction but for the disk's timing)."""
    return [Boot("%s-iommu-%s" % (bus, v), (Backing("anon", "%s-iommu-%s" % (bus, v)),),
                 machine="q35", drives=drives, iommu=v, bus=bus, tcg=False, round_share=0.4,
                 own_section=True)
            for v in IOMMU_VARIANTS if v != "window"]


BOOTS += iommu_boots("ide", None) + iommu_boots(
    "nvme", (ferry.nvme_drive(ferry.DISK, snapshot=True),))


def labels_unique(boots):
    seen = [b.label for boot in boots for b in boot.backings]
    return len(seen) == len(set(seen))


def ferry_tag(kind, mode, cluster, pageout=False):
    """user/bench/faults.c's cost_tag(): the plugin's region tag of a
    cell's page-ins, or with pageout of its page-outs."""
    return ((32 if kind == "file" else 0) + MODES.index(mode) * 8
            + (len(CLUSTERS) if pageout else 0) + CLUSTERS.index(cluster))


def parse_kv(line):
    return dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)


def follow_fault_bench(g, start, label=None):
    """Follows `bench faults` from offset `start` to its last line, whole
    lines only; prints its progress lines when given a label.
    => (the last line, the progress lines)."""
    seen, progress = start, []
    while True:
        # A guest bench that dies says so in its exit line: stop there.
        m = g.expect_line(r"progress round=\S+|bench faults: done|bench: .*|"
                          r"\[bench exited with status [^0].*", timeout=900, start=seen)
        seen = m.end()
        line = m.group(0)
        if not line.startswith("progress"):
            return line, progress
        progress.append(line)
        if label:
            print("  %s %s %s" % (g.name, label, line), flush=True)


def run_guest(g, rounds, pages, iters, progress=True, backings=(("anon", "ram"),),
              primitives=True):
    """Runs the benchmarks in a booted guest; => (primitives, fault rows).
    backings: Backings or (kind, label) pairs."""
    g.expect(r"ferry> ", timeout=120)
    prims = {}
    if primitives:
        start = len(g.buf)
        g.send("bench %d\r" % iters)
        g.expect(r"\[bench exited[^\n]*\n", timeout=600, start=start)
        for m in re.finditer(r"^bench (\S+)\s+median=(\d+)\s+p99=(\d+)\s+mean=(\d+)",
                             g.buf[start:], re.M):
            prims[m.group(1)] = {"median": int(m.group(2)), "p99": int(m.group(3)),
                                 "mean": int(m.group(4))}
    rows = []
    for kind, label, *_ in backings:
        start = len(g.buf)
        g.send("bench faults %d %d %s %s\r" % (rounds, pages, kind, label))
        last, _ = follow_fault_bench(g, start, label if progress else None)
        if last != "bench faults: done":
            raise RuntimeError("%s: %s" % (label, last))
        hz = re.search(r"cycles_per_sec=(\d+)", g.buf[start:])
        rows += [dict(parse_kv(line), kind=kind, hz=hz.group(1) if hz else "0")
                 for line in g.buf[start:].splitlines() if line.startswith("fault ")]
    return prims, rows


def boot_modules(boot):
    """build/ferry.iso's modules with the boot's module lines in place."""
    return [(path, boot.modules.get(args.split()[0], args))
            for path, args in ferry.default_modules()]


def boot_iso(boot):
    return ferry.make_iso(os.path.join(OUT, boot.name + ".iso"), boot.cmdline(),
                          boot_modules(boot))


def add_counters(rows, counters, sites, resolver, model):
    """Gives each fault row the plugin's counters for its cell ("cost",
    with "regions") and their attribution to symbols ("attr"), and its
    page-outs' counters ("cost_out", one region per round)."""
    for r in rows:
        tag = ferry_tag(r["kind"], r["mode"], int(r["cluster"]))
        if tag in counters:
            r["cost"] = counters[tag]
            r["model"] = model
            r["attr"] = bench_cost.attribute(sites.get(tag, []), resolver)
        out = counters.get(ferry_tag(r["kind"], r["mode"], int(r["cluster"]), pageout=True))
        if out:
            r["cost_out"] = out


def run_boot(boot, rounds, pages, iters, accel, icount, plugin=None, progress=True):
    """Boots `boot` once and runs its backings; with the plugin (plugin: a
    dict of its options, {} for the defaults) each row also carries its
    counters.  => (primitives, rows, problems)."""
    label = ("icount" if icount else accel) + "-" + boot.name
    extra = boot.qemu_extra()
    counters_path = os.path.join(OUT, "cost-%s.csv" % label)
    attr_path = os.path.join(OUT, "attr-%s.csv" % label)
    if plugin is not None:
        bench_cost.fresh(counters_path, attr_path)
        extra += bench_cost.plugin_args(counters_path, attr_path, **plugin)
    drives = list(boot.drives) if boot.drives is not None else [
        ferry.ide_drive(ferry.DISK, snapshot=True)]
    rounds = boot.rounds(rounds)
    g = ferry.Guest(boot_iso(boot), mem=MEM, accel=accel, icount=icount, name=label,
                    log_path=os.path.join(OUT, "serial-%s.log" % label), drives=drives,
                    mach=boot.machine, extra=extra)
    try:
        g.start()
        prims, rows = run_guest(g, rounds, pages, iters, progress=progress,
                                backings=boot.backings, primitives=boot.primitives)
    finally:
        g.kill()
    for r in rows:
        r.update(boot=boot.name, bus=boot.bus or "", iommu=boot.iommu_variant() or "",
                 own_section=boot.own_section)
    problems = []
    if plugin is not None:
        head, _, counters = bench_cost.read_counters(counters_path)
        if "marker_errors=0" not in head or "announce_errors=0" not in head:
            problems.append("%s: the plugin reports %s" % (boot.name, head))
        add_counters(rows, counters, bench_cost.read_attr(attr_path),
                     bench_cost.ferry_resolver(), head)
        for r in rows:
            if int(r.get("cost", {}).get("regions", -1)) != int(r["faults"]):
                problems.append("%s %s cl %s: %s regions for %s faults" % (
                    r["backing"], r["mode"], r["cluster"],
                    r.get("cost", {}).get("regions", "no"), r["faults"]))
    return prims, rows, problems
