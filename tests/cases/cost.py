# SPDX-License-Identifier: MIT
"""The cost-model plugin (tools/costmodel/ferrycost.c, `make cost`): a
short fault benchmark under it, checked against what must be true of a
working plugin: one region per timed fault, instruction counts that agree
with icount's, and the bytes, misses and address-space switches a fault
from swapd's RAM store cannot do without."""

import csv
import os
import re

import bench
import cost
import ferry
from cases.registry import case

OUT = os.path.join(ferry.BUILD, "test-cost")
COUNTERS = os.path.join(OUT, "ferry-ram.csv")
# Instructions in a region beyond the icount latency bench reports: the
# first rdtsc and the code after the second one up to the end marker, and
# the faulting load, which runs twice (once faulting, once after).
MARKER_SLACK = (0, 40)


def ram_store_modules():
    return [(path, "swapd ram 8192" if args.split()[0] == "swapd" else args)
            for path, args in ferry.default_modules()]


def plugin_guest():
    os.makedirs(OUT, exist_ok=True)
    if os.path.exists(COUNTERS):
        os.unlink(COUNTERS)
    return {"accel": "tcg", "icount": True, "extra": cost.plugin_args(COUNTERS)}


def cell_problems(r, c):
    """What is wrong with one cell's counters; r: bench's row, c: its region sums."""
    where = "%s cl %s" % (r["mode"], r["cluster"])
    if c is None:
        return ["%s: no regions counted" % where]
    bad = []
    faults = int(r["faults"])
    if c["regions"] != faults:
        bad.append("%s: %d regions for %d faults" % (where, c["regions"], faults))
    extra = c["insns"] / max(faults, 1) - int(r["mean"])
    if not MARKER_SLACK[0] <= extra <= MARKER_SLACK[1]:
        bad.append("%s: %.1f instructions per fault beyond icount's mean %s" % (
            where, extra, r["mean"]))
    # Every fault enters the kernel, switches to swapd and back, and the
    # frame's 4 KiB are written at least once.
    for k, least in (("bytes_stored", 4096), ("bytes_loaded", 4096), ("cr3_writes", 2),
                     ("l1_misses", 1), ("tlb_misses", 1), ("insns_kernel", 1)):
        if c[k] < least * faults:
            bad.append("%s: %s %d for %d faults" % (where, k, c[k], faults))
    return bad


@case("cost_model", mem="256M", modules=ram_store_modules, qemu=plugin_guest, timeout=240)
def cost_model(g):
    """bench faults under the plugin, icount: counters per cell, checked."""
    _, rows = bench.run_guest(g, rounds=1, pages=32, iters=0, progress=False,
                              primitives=False)
    head, by_tag = cost.read_counters(COUNTERS)
    problems = []
    if "marker_errors=0" not in head:
        problems.append("plugin: " + head)
    for r in rows:
        c = by_tag.get(cost.ferry_tag("anon", r["mode"], int(r["cluster"])))
        problems += cell_problems(r, c)
    grant = [by_tag.get(cost.ferry_tag("anon", "grant", 1))]
    if grant[0] and grant[0]["invlpg"] < grant[0]["regions"]:
        problems.append("grant cl 1: %d invlpg for %d faults (the lent frame is taken back)"
                        % (grant[0]["invlpg"], grant[0]["regions"]))
    # `make cost`'s CSV has every counter the plugin writes, as columns.
    table = [dict(r, system="ferry", cost=by_tag[t], regions=by_tag[t]["regions"], model=head)
             for r in rows for t in [cost.ferry_tag("anon", r["mode"], int(r["cluster"]))]
             if t in by_tag]
    path = os.path.join(OUT, "cost.csv")
    cost.write_csv(table, path, cost.weights())
    with open(path) as f:
        cols = set(next(csv.reader(f)))
    with open(COUNTERS) as f:
        f.readline()
        want = set(f.readline().strip().split(",")) - {"tag", "vcpu"}
    if not want <= cols or "modelled_cycles_per_page" not in cols:
        problems.append("cost.csv lacks %s" % sorted(want - cols))
    if len(table) != 9:
        problems.append("%d cells with counters, want 3 modes x 3 clusters" % len(table))
    bad = [r for r in rows if "error" in r or "warning" in r]
    if bad:
        problems.append("%d cells with data errors or pages that never left memory" % len(bad))
    return [("qemu/cost_model", not problems, "; ".join(problems[:6]))]
