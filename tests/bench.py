#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make bench: Ferry's fault paths side by side, what they cost, and Linux.

Boots Ferry once per system measured (bench_cells.BOOTS: swapd's RAM
store; the swap partition and an ext2 file through ata with DMA; the same
with PIO), first under plain TCG (TSC cycles: host time, ratios only),
then under `-icount shift=0` (guest instructions; deterministic but for
time spent halted waiting for a device, which is reported apart) with the
cost-model plugin (tools/costmodel/ferrycost.c) counting, per fault,
bytes moved, simulated cache and TLB misses, CR3 writes, invlpg, port and
MMIO accesses, IPIs, and which functions did it.  In each boot the guest
runs `bench faults ROUNDS PAGES KIND LABEL`, which interleaves the fill
modes and cluster sizes in rounds, proves every timed page came from the
backing store and marks each timed fault for the plugin (and each cell's
page-out, apart); the RAM boot also runs `bench` (null syscall, IPC round
trip, context switch).  The IOMMU's cells (q35 with it off, each way of
invalidating, zero-touch off; on IDE and NVMe) are boots too, icount
only, reported in a section of their own (tests/bench_iommu.py), which
also writes build/bench/iommu.csv; `--iommu` runs only them.

Prints the latency tables, the cost table (Ferry and the Linux peer side
by side, per page, with modelled cycles from the weights in
docs/BENCHMARKS.md), where the bytes and device accesses go, and the
verdicts; writes build/bench/results.csv (every raw counter as cost_*),
build/bench/attribution.csv, latency.png and per_page.png.  The Linux
figures and counters come from the newest results `make bench-peer` left
in its cache (peer/linux/), else recorded latency figures without
counters."""

import argparse
import datetime
import importlib.util
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_cost  # noqa: E402
import bench_iommu  # noqa: E402
import bench_plot  # noqa: E402
import bench_report as report  # noqa: E402
import ferry  # noqa: E402
from bench_cells import BOOTS, MEM, OUT, labels_unique, run_boot  # noqa: E402

# The fallback when no `make bench-peer` results are cached: median guest
# instructions per page, -icount shift=0, recorded from an earlier peer rig.
LINUX = {
    "anon_touch": 3429,
    "uffd_copy": 15092,
    "uffd_move": 17288,
    "uffd_move_pool": 13831,
    "swapin_pc0": 52517,
    "swapin_pc3_per_page": 2714,
}
LINUX_READAHEAD_PAGES_PER_S = 71700
PEER_RUN = os.path.join(ferry.ROOT, "peer", "linux", "run.py")
NEEDED_FROM_PEER = ["uffd_copy", "swapin_pc0", "swapin_pc3"]    # what verdicts() compares with
LINUX_CLUSTER = {"swapin_pc3": 8, "swapin_pc5": 32}     # pages a page-cluster reads at most


def peer_results():
    """The newest trustworthy `make bench-peer` results: => (path, data) or
    None.  Loaded by path: tests/run.py already owns the name `run`."""
    spec = importlib.util.spec_from_file_location("ferry_linux_peer", PEER_RUN)
    peer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(peer)
    return peer.latest_results()


def linux_figures(found):
    """=> (figures like LINUX, readahead pages/s, where they come from)."""
    if not found:
        return (LINUX, LINUX_READAHEAD_PAGES_PER_S,
                "recorded reference figures (no `make bench-peer` results in the peer cache)")
    path, data = found
    res = data["modes"]["icount"]["results"]
    lacking = [t for t in NEEDED_FROM_PEER if t not in res]
    if lacking:
        return (LINUX, LINUX_READAHEAD_PAGES_PER_S,
                "recorded reference figures (the newest peer results, %s, lack %s)" % (
                    path, ", ".join(lacking)))
    figures = {k: v["median"] for k, v in res.items()}
    # The same rate as the recorded figure: one virtual ns per instruction,
    # from the mean over every page touched with page-cluster=3.
    rate = 1e9 / max(res["swapin_pc3"]["mean"], 1)
    return figures, rate, "make bench-peer results of %s, Linux %s, %d pages x %d: %s" % (
        data["date"], data["kernel_release"], data["pages"], data["reps"], path)


def linux_rows(found):
    """The peer's tests as icount rows with their counters, when its
    results have them: => (rows, why not)."""
    if not found:
        return [], "no `make bench-peer` results"
    path, data = found
    icount = data["modes"]["icount"]
    counted = icount.get("cost")
    if not counted:
        return [], "the newest peer results (%s) have no counters: run `make bench-peer`" % path
    rows = []
    for test, c in counted["tests"].items():
        r = icount["results"].get(test, {})
        rows.append({"system": "linux", "backing": "linux", "mode": test, "served": test,
                     "cluster": str(LINUX_CLUSTER.get(test, 1)), "faults": r.get("majflt", ""),
                     "pages": c["regions"], "median": r.get("median", 0),
                     "mean": r.get("mean", 0), "p10": r.get("p10", ""), "p90": r.get("p90", ""),
                     "p99": r.get("p99", ""), "cost": c, "model": counted["model"],
                     "attr": counted["attribution"].get(test, {})})
    return rows, None


def qemu_version():
    out = subprocess.run([ferry.QEMU, "--version"], capture_output=True, text=True).stdout
    m = re.search(r"version (\S+)", out)
    return m.group(1) if m else "?"


def merge(a, b):
    prims = dict(a[0])
    prims.update(b[0])
    return prims, a[1] + b[1]


def measure(boots, a, accel):
    """Every boot, one QEMU at a time: plain TCG, then icount under the
    plugin.  => (runs, problems)."""
    runs, problems = {}, []
    plan = ([] if a.no_tcg else [(accel, False)]) + ([] if a.no_icount else [("tcg", True)])
    # One QEMU at a time: a neighbour on the other core moved plain-TCG
    # medians of identical paths by 40% when we tried running them side by side.
    for acc, icount in plan:
        label = "icount" if icount else acc
        plugin = a.plugin_opts if icount and not a.no_plugin else None
        for boot in boots:
            if not icount and not boot.tcg:
                continue
            t0 = time.monotonic()
            print("bench: booting Ferry (%s, %s%s, %s, %d rounds x %d pages per cell)" % (
                boot.name, label, ", plugin" if plugin is not None else "", MEM,
                boot.rounds(a.rounds), a.pages),
                flush=True)
            prims, rows, bad = run_boot(boot, a.rounds, a.pages, a.iters, acc, icount, plugin)
            print("bench: %s %s took %.0f s" % (label, boot.name, time.monotonic() - t0),
                  flush=True)
            runs[label] = merge(runs.get(label, ({}, [])), (prims, rows))
            problems += bad
    return runs, problems


def print_cost(runs, boots, w):
    rows = runs.get("icount", ({}, []))[1]
    if not any("cost" in r for r in rows):
        return
    peers = {b.label: b.peer for boot in boots for b in boot.backings}
    print("\n== cost model (icount, plugin), per page read; Ferry and Linux side by side ==")
    print("  (bytes: loaded + stored by the CPU; misses of the simulated L1D, L2, DTLB; "
          "dma: pages a device wrote, as announced;\n   cycles: modelled, weights in "
          "docs/BENCHMARKS.md; cyc/fault: per fault, Linux per read)")
    print(report.cost_table(rows, w))
    print("\nWhere the bytes and device accesses go, per fault at one page (Linux: per read), "
          "by function:")
    for line in report.attribution_lines(rows):
        print(line)
    print("\nVerdicts per backing and cluster size (per page; icount median per fault):")
    for line in report.cost_verdicts(rows, w):
        print(line)
    print("\nFerry against Linux (per page; icount: median at one page, else mean per page):")
    for line in report.versus_linux(rows, peers, w):
        print(line)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--pages", type=int, default=256)
    p.add_argument("--iters", type=int, default=20000)
    p.add_argument("--no-icount", action="store_true", help="plain TCG only")
    p.add_argument("--no-tcg", action="store_true", help="icount only")
    p.add_argument("--no-plugin", action="store_true", help="icount without the cost model")
    p.add_argument("--plugin-opts", default="", metavar="K=V,...",
                   help="the cost-model plugin's options: l1_kib, l1_ways, l2_kib, l2_ways, "
                   "tlb, tlb_ways, lazy (tools/costmodel/ferrycost.c)")
    p.add_argument("--boots", default=",".join(b.name for b in BOOTS))
    p.add_argument("--iommu", action="store_true",
                   help="the IOMMU's cells only (every boot with an IOMMU variant), icount only")
    a = p.parse_args()
    if a.iommu:
        a.boots, a.no_tcg = ",".join(b.name for b in BOOTS if b.iommu), True
    a.plugin_opts = dict(kv.split("=", 1) for kv in a.plugin_opts.split(",") if kv)
    t0 = time.monotonic()
    os.makedirs(OUT, exist_ok=True)
    assert labels_unique(BOOTS), "bench_cells.BOOTS: two backings share a label"
    w = bench_cost.weights()
    boots = [b for b in BOOTS if b.name in a.boots.split(",")]
    runs, problems = measure(boots, a, ferry.choose_accel())
    every = runs.get("icount", ({}, []))[1]
    # The IOMMU's own boots are reported in its section (and the CSV) only.
    runs_all, runs = runs, {k: (prims, [r for r in rows if not r.get("own_section")])
                            for k, (prims, rows) in runs.items()}
    meta = {"qemu": qemu_version(), "mem": MEM,
            "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M")}
    print(report.table(runs))
    found = peer_results()
    linux, readahead, source = linux_figures(found)
    if "icount" in runs:
        lrows, why = linux_rows(found)
        runs["icount"][1].extend(lrows)
        runs_all["icount"][1].extend(lrows)
        print("\nLinux peer counters: %s" % (why or source))
    print_cost(runs, boots, w)
    cells = bench_iommu.rows_of(every)
    if cells:
        print("\n== The IOMMU's cost (icount, plugin; q35, IOMMU on and off; issue 17) ==")
        for line in bench_iommu.report(cells, w):
            print(line)
        bench_iommu.write_csv(cells, os.path.join(OUT, "iommu.csv"), w)
        print("(per page in and out, every cell: %s)" % os.path.join(OUT, "iommu.csv"))
        problems += ["IOMMU counts: " + b for b in bench_iommu.problems(cells)]
    if "icount" in runs:
        print("\nIssue 20's targets (the fault path's diet; docs/BENCHMARKS.md):")
        for v in report.diet_verdicts(runs["icount"][1], w, "IOMMU on" if ferry.machine() == "q35"
                                     else "no IOMMU: FERRY_MACHINE=pc"):
            print("  " + v)
    print("\nAgainst the targets (Linux 6.12 peer in the same QEMU, icount medians):")
    print("  Linux figures: " + source)
    for v in report.verdicts(runs, linux, readahead):
        print("  " + v)
    csv_path = os.path.join(OUT, "results.csv")
    attr_path = os.path.join(OUT, "attribution.csv")
    report.write_csv(runs_all, csv_path, meta, w)
    report.write_attr_csv(runs.get("icount", ({}, []))[1], attr_path)
    err = bench_plot.plot(runs, OUT)
    print("\nwrote %s, %s, %s and %s%s" % (csv_path, attr_path, os.path.join(OUT, "latency.png"),
                                           os.path.join(OUT, "per_page.png"),
                                           "" if not err else " (gnuplot: %s)" % err))
    print("bench: %.0f s in all" % (time.monotonic() - t0))
    problems += ["%s %s cl %s: %s" % (r["backing"], r["mode"], r["cluster"],
                                      r.get("error") or r.get("warning"))
                 for _, (_, rows) in runs_all.items() for r in rows
                 if "error" in r or "warning" in r]
    for b in problems:
        print("bench: " + b)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
