#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make bench: Ferry's fault paths side by side, in one boot per accelerator.

Boots Ferry twice: under plain TCG (TSC cycles: host-time, ratios only) and
under `-icount shift=0` (guest instructions: deterministic).  In each boot
the guest runs `bench` (null syscall, IPC round trip, context switch) and
`bench faults ROUNDS PAGES`, which interleaves the fill modes and cluster
sizes in rounds and proves every timed page came from the backing store.

Writes a table to stdout, build/bench/results.csv (one row per accelerator x
backing x mode x cluster) and build/bench/latency.png (gnuplot).  Compares
with the Linux 6.12 peer's reference figures (../shared/peers/linux-qemu)."""

import argparse
import csv
import datetime
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ferry  # noqa: E402

OUT = os.path.join(ferry.BUILD, "bench")
MEM = "256M"    # the Linux peer's memory size

# Median guest instructions per page, -icount shift=0, from the peer's README.
LINUX = {
    "anon_touch": 3429,
    "uffd_copy": 15092,
    "uffd_move": 17288,
    "uffd_move_pool": 13831,
    "swapin_pc0": 52517,
    "swapin_pc3_per_page": 2714,
}
LINUX_READAHEAD_PAGES_PER_S = 71700

PHASES = ["sent", "received", "replied", "taken_back", "mapped", "resumed"]
FIELDS = ["accel", "backing", "mode", "served", "cluster", "faults", "pages", "p10", "median",
          "p90", "p99", "mean", "per_page", "pageout_per_page", "copied_per_fault",
          "tlb_per_fault"] + PHASES + ["unit", "qemu", "mem", "date"]


def qemu_version():
    out = subprocess.run([ferry.QEMU, "--version"], capture_output=True, text=True).stdout
    m = re.search(r"version (\S+)", out)
    return m.group(1) if m else "?"


def parse_kv(line):
    return dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)


def run_guest(g, rounds, pages, iters, progress=True):
    """Runs the benchmarks in a booted guest; => (primitives, fault rows)."""
    g.expect(r"ferry> ", timeout=120)
    prims = {}
    start = len(g.buf)
    g.send("bench %d\r" % iters)
    g.expect(r"\[bench exited[^\n]*\n", timeout=600, start=start)
    for m in re.finditer(r"^bench (\S+)\s+median=(\d+)\s+p99=(\d+)\s+mean=(\d+)",
                         g.buf[start:], re.M):
        prims[m.group(1)] = {"median": int(m.group(2)), "p99": int(m.group(3)),
                             "mean": int(m.group(4))}
    start = len(g.buf)
    g.send("bench faults %d %d\r" % (rounds, pages))
    seen = start
    while True:
        m = g.expect(r"^(progress round=\S+|bench faults: done)", timeout=600, start=seen)
        seen = m.end()
        if m.group(1).startswith("bench faults: done"):
            break
        if progress:
            print("  %s %s" % (g.name, m.group(1)), flush=True)
    rows = [parse_kv(line) for line in g.buf[start:].splitlines() if line.startswith("fault ")]
    return prims, rows


def boot_and_run(accel, icount, rounds, pages, iters):
    g = ferry.Guest(os.path.join(ferry.BUILD, "ferry.iso"), mem=MEM, accel=accel,
                    icount=icount, name="icount" if icount else accel,
                    log_path=os.path.join(OUT, "serial-%s.log" % ("icount" if icount else accel)))
    try:
        g.start()
        return run_guest(g, rounds, pages, iters)
    finally:
        g.kill()


def table(runs):
    lines = []
    for label, (prims, rows) in runs.items():
        unit = "instructions" if label == "icount" else "TSC cycles"
        lines.append("")
        lines.append("== %s (%s) ==" % (label, unit))
        for name, v in prims.items():
            lines.append("  %-14s median %9d  p99 %9d" % (name, v["median"], v["p99"]))
        lines.append("  %-7s %-6s %-6s %3s %7s %10s %10s %10s %10s %10s %8s %5s" % (
            "backing", "mode", "served", "cl", "faults", "median", "p99", "mean", "per-page",
            "pageout/pg", "copied", "tlb"))
        for r in rows:
            lines.append("  %-7s %-6s %-6s %3s %7s %10s %10s %10s %10s %10s %8s %5s" % (
                r["backing"], r["mode"], r["served"], r["cluster"], r["faults"], r["median"],
                r["p99"], r["mean"], r["per_page"], r["pageout_per_page"],
                r["copied_per_fault"], r["tlb_per_fault"]))
        lines.append("  phase means, from the fault (%s):" % unit)
        for r in rows:
            if r["mode"] == r["served"]:
                lines.append("  %-6s cl %-3s " % (r["mode"], r["cluster"]) + " ".join(
                    "%s=%s" % (p, r[p]) for p in PHASES))
    return "\n".join(lines)


def verdicts(runs):
    """The issue's targets, against the Linux peer, where we can measure them."""
    if "icount" not in runs:
        return ["(no icount run: targets are judged in guest instructions)"]
    rows = runs["icount"][1]
    out = []

    def cell(mode, cluster):
        for r in rows:
            if r["mode"] == mode and r["served"] == mode and int(r["cluster"]) == cluster:
                return r
        return None

    g = cell("grant", 1)
    if g:
        target = LINUX["uffd_copy"] / 2
        med = int(g["median"])
        out.append("grant-map fault, RAM store, 1 page: %d instructions; target < %d "
                   "(half of Linux UFFDIO_COPY %d): %s by %.1fx" % (
                       med, target, LINUX["uffd_copy"], "MET" if med < target else "MISSED",
                       med / target if med >= target else target / med))
    c = cell("copy", 1)
    if c and g:
        out.append("copy vs grant-map, 1 page: %s vs %s instructions: %s wins by %.0f%%" % (
            c["median"], g["median"], "copy" if int(c["median"]) < int(g["median"]) else "grant",
            abs(int(c["median"]) - int(g["median"])) * 100.0 / max(int(c["median"]),
                                                                    int(g["median"]))))
    for cl in (8, 32):
        c, gg = cell("copy", cl), cell("grant", cl)
        if c and gg:
            out.append("cluster %d, per page: copy %s, grant %s instructions (Linux swap-in "
                       "with readahead: %d per page, from disk)" % (
                           cl, c["per_page"], gg["per_page"], LINUX["swapin_pc3_per_page"]))
    out.append("grant-DMA from the swap partition (target <= %d, Linux swapin_pc0) and "
               "clustered swap-in from disk (target > %d pages/s): need the disk backing "
               "(ata, swapd on disk): not measured in this build" % (
                   LINUX["swapin_pc0"], LINUX_READAHEAD_PAGES_PER_S))
    dma = [r for r in rows if r["mode"] == "dma"]
    if dma and all(r["served"] != "dma" for r in dma):
        out.append("dma on the RAM store: served as %s (a RAM store has no device to DMA)"
                   % dma[0]["served"])
    return out


def write_csv(runs, path, meta):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS, extrasaction="ignore")
        w.writeheader()
        for label, (prims, rows) in runs.items():
            for r in rows:
                row = dict(r, accel=label,
                           unit="instructions" if label == "icount" else "tsc_cycles", **meta)
                w.writerow(row)


def plot(runs, out_png):
    """Two panels: the latency distribution per mode and cluster from the
    plain-TCG run (p10-p90 box, p99 whisker, median bar; icount figures have
    no spread), and the mean phase breakdown from the icount run."""
    if not shutil.which("gnuplot"):
        return "gnuplot not found: no PNG"
    dist_label = next((k for k in runs if k != "icount"), "icount")
    phase_label = "icount" if "icount" in runs else dist_label
    data = os.path.join(OUT, "latency.dat")
    phases = os.path.join(OUT, "phases.dat")
    rows = [r for r in runs[dist_label][1] if r["mode"] == r["served"]]
    with open(data, "w") as f:
        for i, r in enumerate(rows):
            f.write("%d %s-c%s %s %s %s %s %s\n" % (i, r["mode"], r["cluster"], r["p10"],
                                                     r["p10"], r["p99"], r["p90"],
                                                     r["median"]))
    with open(phases, "w") as f:
        f.write("label " + " ".join(PHASES) + "\n")
        for r in runs[phase_label][1]:
            if r["mode"] != r["served"]:
                continue
            prev, parts = 0, []
            for p in PHASES:
                v = int(r[p]) if int(r[p]) else prev
                parts.append(str(max(v - prev, 0)))
                prev = max(v, prev)
            f.write("%s-c%s %s\n" % (r["mode"], r["cluster"], " ".join(parts)))
    script = """
set terminal pngcairo size 1200,900 noenhanced
set output '{png}'
set multiplot layout 2,1 title 'Ferry fault paths, swapd RAM store'
set title 'latency per fault, {dist} (TSC cycles): box p10-p90, whisker to p99, bar median'
set ylabel 'cycles per fault'
set xrange [-0.6:{n}-0.4]
set style fill solid 0.4
set boxwidth 0.5
set xtics rotate by -30
set grid ytics
set logscale y
plot '{data}' using 1:4:3:5:6:xticlabels(2) notitle with candlesticks whiskerbars, \\
     '' using 1:7:7:7:7 notitle with candlesticks lt -1
unset logscale y
unset xrange
set title 'where the time goes, {ph} (mean guest instructions per phase, from the fault)'
set ylabel 'instructions'
set style data histograms
set style histogram rowstacked
set key outside
plot for [i=2:7] '{phases}' using i:xtic(1) title columnheader(i)
unset multiplot
""".format(png=out_png, dist=dist_label, ph=phase_label, n=len(rows), data=data,
           phases=phases)
    p = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    return p.stderr.strip() or None


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--pages", type=int, default=256)
    p.add_argument("--iters", type=int, default=20000)
    p.add_argument("--no-icount", action="store_true")
    a = p.parse_args()
    os.makedirs(OUT, exist_ok=True)
    accel = ferry.choose_accel()
    runs = {}
    plan = [(accel, False)] + ([] if a.no_icount else [("tcg", True)])
    for acc, icount in plan:
        label = "icount" if icount else acc
        print("bench: booting Ferry (%s, %s, %d rounds x %d pages per cell)" % (
            label, MEM, a.rounds, a.pages), flush=True)
        runs[label] = boot_and_run(acc, icount, a.rounds, a.pages, a.iters)
    meta = {"qemu": qemu_version(), "mem": MEM,
            "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M")}
    print(table(runs))
    print("\nAgainst the targets (Linux 6.12 peer in the same QEMU, icount medians):")
    for v in verdicts(runs):
        print("  " + v)
    csv_path = os.path.join(OUT, "results.csv")
    write_csv(runs, csv_path, meta)
    err = plot(runs, os.path.join(OUT, "latency.png"))
    print("\nwrote %s and %s%s" % (csv_path, os.path.join(OUT, "latency.png"),
                                   "" if not err else " (gnuplot: %s)" % err))
    bad = [r for _, (_, rows) in runs.items() for r in rows
           if "error" in r or "warning" in r]
    if bad:
        print("bench: %d cells had errors or pages that never left memory" % len(bad))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
