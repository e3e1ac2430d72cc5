# SPDX-License-Identifier: MIT
"""make bench's IOMMU cells, tiny (tests/bench_iommu.py): two of its boots
as make bench runs them (icount, the cost-model plugin, the boot's kernel
command line, machine and disk), one round of 16 pages per cell, the
counts checked by the report's own bench_iommu.problems(): with the IOMMU
on (IDE, one invalidation per grant), every page-in and page-out that
lent frames invalidated and touched the unit's registers, and a copy did
neither; with it off (NVMe, `iommu=off` on the same q35), nothing did.
On top, the exact count the default mode promises: one invalidation per
grant-DMA page-in request."""

import os

import bench_cells
import bench_cost
import bench_iommu
import ferry
from cases.registry import case

OUT = os.path.join(ferry.BUILD, "test-cost-iommu")


def boot(name):
    return next(b for b in bench_cells.BOOTS if b.name == name)


def plugin_guest(b):
    def qemu():
        os.makedirs(OUT, exist_ok=True)
        path = os.path.join(OUT, "cost-%s.csv" % b.name)
        bench_cost.fresh(path)
        drives = list(b.drives) if b.drives is not None else [
            ferry.ide_drive(ferry.DISK, snapshot=True)]
        return {"accel": "tcg", "icount": True, "drives": drives, "mach": b.machine or "q35",
                "extra": b.qemu_extra() + bench_cost.plugin_args(path)}
    return qemu


def counted_rows(g, b):
    """The boot's swap cells, one round of 16 pages, with their counters
    as run_boot gives them."""
    _, rows = bench_cells.run_guest(g, rounds=1, pages=16, iters=0, progress=False,
                                    backings=[bench_cells.Backing("anon", b.name)],
                                    primitives=False)
    head, _, counters = bench_cost.read_counters(os.path.join(OUT, "cost-%s.csv" % b.name))
    bench_cells.add_counters(rows, counters, {}, None, head)
    for r in rows:
        r.update(bus=b.bus, iommu=b.iommu)
    return head, rows


def check(g, b, exact):
    head, rows = counted_rows(g, b)
    cells = bench_iommu.rows_of(rows)
    bad = [] if "marker_errors=0" in head else ["plugin: " + head]
    if len(cells) != 9:
        bad.append("%d counted cells served by their mode, want 3 modes x 3 clusters" % len(cells))
    bad += bench_iommu.problems(cells)
    for r in cells:
        if exact and r["mode"] == "dma" and r["cost"].get("iotlb_inval") != int(r["faults"]):
            bad.append("%s cl %s: %s invalidations for %s grant-DMA page-ins, want one each" % (
                b.name, r["cluster"], r["cost"].get("iotlb_inval"), r["faults"]))
    return [("qemu/" + ("cost_iommu" if exact else "cost_iommu_off"), not bad,
             "; ".join(bad[:6]))]


ON, OFF = boot("disk-dma"), boot("nvme-iommu-off")


@case("cost_iommu", cmdline=ON.cmdline(), mem=bench_cells.MEM, qemu=plugin_guest(ON),
      timeout=240)
def cost_iommu(g):
    """The IOMMU's cells, IOMMU on (IDE, q35): lent frames invalidated, copies not."""
    return check(g, ON, exact=True)


@case("cost_iommu_off", cmdline=OFF.cmdline(), mem=bench_cells.MEM, qemu=plugin_guest(OFF),
      timeout=240)
def cost_iommu_off(g):
    """The IOMMU's cells, IOMMU off on the same q35 (NVMe): no invalidation at all."""
    return check(g, OFF, exact=False)
