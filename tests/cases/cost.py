# SPDX-License-Identifier: MIT
"""The cost model's DMA announcements (tools/costmodel/, <ferry/costmark.h>):
QEMU's plugin API cannot see a device writing memory, so ata announces
what it reads by DMA into memory it maps (its copy buffer, a grant-map
window) and the kernel the frames of a DMA-only grant when it takes them
back.  A short run under the plugin checks that every page a fault read
from the disk was announced once: swap pages in every fill mode, file
pages (through memory objects) in both grant modes; `bench
costcheck` that an announced page's lines leave the simulated caches (a
page just written, read back: no miss before its announcement, a miss in
L1 and L2 for every line after it)."""

import os

import bench_cells
import bench_cost
import ferry
from cases.registry import case

OUT = os.path.join(ferry.BUILD, "test-cost")
COUNTERS = os.path.join(OUT, "cost.csv")
LINES_PER_PAGE = 64
COSTCHECK_CACHED, COSTCHECK_DEVICE = 60, 61     # user/bench/costcheck.c's tags


def plugin_guest():
    os.makedirs(OUT, exist_ok=True)
    bench_cost.fresh(COUNTERS)
    return {"accel": "tcg", "icount": True, "extra": bench_cost.plugin_args(COUNTERS)}


def run_costcheck(g):
    """=> whether `bench costcheck` ran to its end."""
    start = len(g.buf)
    g.send("bench costcheck\r")
    m = g.expect(r"bench costcheck: done|\[bench exited with status [^0]", timeout=60,
                 start=start)
    return m.group(0).startswith("bench costcheck")


def costcheck_problems(counters):
    """bench costcheck's two regions: the page's 64 lines cached, then gone."""
    cached, device = counters.get(COSTCHECK_CACHED), counters.get(COSTCHECK_DEVICE)
    if not cached or not device:
        return ["bench costcheck: no regions counted"]
    bad = []
    if cached["l1_misses"] or cached["l2_misses"]:
        bad.append("costcheck: %d L1 and %d L2 misses reading a page just written" % (
            cached["l1_misses"], cached["l2_misses"]))
    if device["l1_misses"] < LINES_PER_PAGE or device["l2_misses"] < LINES_PER_PAGE:
        bad.append("costcheck: %d L1 and %d L2 misses reading a page a device wrote, want %d" % (
            device["l1_misses"], device["l2_misses"], LINES_PER_PAGE))
    return bad


@case("cost_dma", mem=bench_cells.MEM, qemu=plugin_guest, timeout=240)
def cost_dma(g):
    """Swap and file faults under the plugin: every page a device wrote is announced."""
    _, rows = bench_cells.run_guest(g, rounds=1, pages=16, iters=0, progress=False,
                                    backings=[bench_cells.Backing("anon", "disk-dma"),
                                              bench_cells.Backing("file", "file-dma")],
                                    primitives=False)
    problems = []
    ran = run_costcheck(g)     # its counters come with its dump marker
    head, _, counters = bench_cost.read_counters(COUNTERS)
    check = costcheck_problems(counters) if ran else ["bench costcheck did not run"]
    if "announce_errors=0" not in head or "marker_errors=0" not in head:
        problems.append("plugin: " + head)
    for r in rows:
        c = counters.get(bench_cells.ferry_tag(r["kind"], r["mode"], int(r["cluster"])))
        where = "%s %s cl %s" % (r["backing"], r["mode"], r["cluster"])
        if r["kind"] == "file" and r["served"] == "copy":
            continue    # 16 pages of a file fit fs's block cache: no disk read
        if not c:
            problems.append("%s: no regions counted" % where)
        elif c["dma_pages"] != int(r["pages"]):
            problems.append("%s: %d pages announced for %s read from the disk" % (
                where, c["dma_pages"], r["pages"]))
    return [("qemu/cost_dma", not problems, "; ".join(problems[:6])),
            ("qemu/cost_dma_invalidates", not check, "; ".join(check[:6]))]
