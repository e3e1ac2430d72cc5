# SPDX-License-Identifier: MIT
"""`make bench` is a benchmark, not a test: here a tiny run of its RAM-store
boot, under icount and the cost-model plugin as `make bench` runs it, must
complete, prove its pages left memory, and write results.csv with every
counter the plugin writes as a column, filled in every cell; the counters
must be what a working plugin gives (one region per timed fault,
instructions that agree with icount's, the bytes, misses and address-space
switches a fault cannot do without), and attribution must name the
functions that moved the bytes."""

import csv
import os

import bench_cells
import bench_cost
import bench_report
import ferry
from cases.registry import case

OUT = os.path.join(ferry.BUILD, "test-bench")
COUNTERS = os.path.join(OUT, "cost.csv")
ATTR = os.path.join(OUT, "attr.csv")
RAM_BOOT = bench_cells.BOOTS[0]
# Instructions in a region beyond the icount latency bench reports: the
# first rdtsc and the code after the second one up to the end marker, and
# the faulting load, which runs twice (once faulting, once after).
MARKER_SLACK = (0, 40)


def ram_store_modules():
    return bench_cells.boot_modules(RAM_BOOT)


def plugin_guest():
    os.makedirs(OUT, exist_ok=True)
    bench_cost.fresh(COUNTERS, ATTR)
    return {"accel": "tcg", "icount": True, "extra": bench_cost.plugin_args(COUNTERS, ATTR)}


def csv_problems(runs, names):
    """results.csv as make bench writes it: every plugin counter a column,
    filled in every cell."""
    path = os.path.join(OUT, "results.csv")
    bench_report.write_csv(runs, path, {"qemu": "test", "mem": "256M", "date": "-"})
    with open(path) as f:
        read = list(csv.DictReader(f))
    problems = []
    want = (bench_report.FIELDS + bench_report.COST_FIELDS
            + ["cost_" + n for n in names])
    have = list(read[0]) if read else []
    if have != want:
        problems.append("results.csv lacks %s, has extra %s" % (
            sorted(set(want) - set(have)), sorted(set(have) - set(want))))
    if len(read) != 9:
        problems.append("%d rows, want 3 modes x 3 clusters" % len(read))
    for r in read:
        empty = [k for k in want if k.startswith(("cost_", "model_")) and r.get(k, "") == ""]
        if empty:
            problems.append("%s/%s: no %s" % (r["mode"], r["cluster"], ", ".join(empty[:4])))
        if int(r["faults"]) <= 0 or int(r["median"]) <= 0:
            problems.append("empty cell %s/%s" % (r["mode"], r["cluster"]))
    return problems


def cell_problems(r):
    """What is wrong with one cell's counters, r a row with its "cost"."""
    where = "%s cl %s" % (r["mode"], r["cluster"])
    c = r.get("cost")
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
    if r["served"] == "grant" and c["invlpg"] < faults:
        bad.append("%s: %d invlpg for %d faults (the lent frame is taken back)" % (
            where, c["invlpg"], faults))
    return bad


def attribution_problems(rows):
    """Sites resolve to functions: nearly every byte has a name, and the
    page copies are where they must be (the kernel's in copy mode,
    swapd's into the lent frame in grant-map)."""
    bad = []
    for r in rows:
        attr = r.get("attr") or {}
        total = sum(bench_cost.bytes_moved(c) for c in attr.values())
        unnamed = sum(bench_cost.bytes_moved(c) for s, c in attr.items() if ":0x" in s)
        where = "%s cl %s" % (r["mode"], r["cluster"])
        if total != bench_cost.bytes_moved(r["cost"]):
            bad.append("%s: attribution sums %d bytes, the counters %d" % (
                where, total, bench_cost.bytes_moved(r["cost"])))
        if unnamed > total * 0.02:
            bad.append("%s: %d of %d bytes by unnamed code" % (where, unnamed, total))
        tops = [s for s, _ in bench_cost.top(attr, bench_cost.bytes_moved, 2)]
        want = {"copy": "kernel:memcpy", "grant": "swapd:memcpy"}.get(r["mode"])
        if int(r["cluster"]) == 1 and want and want not in tops:
            bad.append("%s: %s not among the top movers %s" % (where, want, tops))
    return bad


@case("bench_quick", mem=bench_cells.MEM, modules=ram_store_modules, qemu=plugin_guest,
      timeout=240)
def bench_quick(g):
    """make bench's RAM-store boot, tiny, under the plugin: CSV, counters, attribution."""
    prims, rows = bench_cells.run_guest(g, rounds=1, pages=32, iters=500, progress=False,
                                        backings=RAM_BOOT.backings, primitives=True)
    head, names, counters = bench_cost.read_counters(COUNTERS)
    bench_cells.add_counters(rows, counters, bench_cost.read_attr(ATTR),
                             bench_cost.ferry_resolver(), head)
    quick = csv_problems({"icount": (prims, rows)}, names)
    quick += ["%d cells with data errors or pages that never left memory" % n
              for n in [sum(1 for r in rows if "error" in r or "warning" in r)] if n]
    quick += ["no %s figure" % n for n in ("null_syscall", "ipc_call", "ctxsw_yield")
              if n not in prims]
    model = ["plugin: " + head] if "marker_errors=0" not in head else []
    for r in rows:
        model += cell_problems(r)
    served = [r for r in rows if r["mode"] == r["served"] and "cost" in r]
    attr = attribution_problems(served) if served else ["no counted cells"]
    return [("qemu/bench_quick", not quick, "; ".join(quick[:6])),
            ("qemu/cost_model", not model, "; ".join(model[:6])),
            ("qemu/cost_attribution", not attr, "; ".join(attr[:6]))]
