#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make bench: Ferry's fault paths side by side, in one boot per accelerator.

Boots Ferry once per system measured (BOOTS: swapd's RAM store; the swap
partition and an ext2 file through ata with DMA; the same with PIO), first
under plain TCG (TSC cycles: host time, ratios only), then under `-icount
shift=0` (guest instructions; deterministic but for time spent halted
waiting for a device, which is reported apart).  In each boot the guest
runs `bench faults ROUNDS PAGES KIND LABEL`, which interleaves the fill
modes and cluster sizes in rounds and proves every timed page came from
the backing store; the RAM boot also runs `bench` (null syscall, IPC
round trip, context switch).

Writes a table to stdout, build/bench/results.csv (one row per accelerator x
backing x mode x cluster), build/bench/latency.png and build/bench/per_page.png
(gnuplot; they plot the table's own columns).  Compares
with the Linux 6.12 peer: the newest results file `make bench-peer` left in
its cache (peer/linux/), else the figures recorded below."""

import argparse
import csv
import datetime
import importlib.util
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ferry  # noqa: E402

OUT = os.path.join(ferry.BUILD, "bench")
MEM = "256M"    # the Linux peer's memory size

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


def peer_results():
    """The newest trustworthy `make bench-peer` results: => (path, data) or
    None.  Loaded by path: tests/run.py already owns the name `run`."""
    spec = importlib.util.spec_from_file_location("ferry_linux_peer", PEER_RUN)
    peer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(peer)
    return peer.latest_results()


def linux_figures():
    """=> (figures like LINUX, readahead pages/s, where they come from)."""
    found = peer_results()
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

PHASES = ["sent", "received", "replied", "taken_back", "mapped", "resumed"]
FIELDS = ["accel", "backing", "mode", "served", "cluster", "faults", "pages", "p10", "median",
          "p90", "p99", "mean", "per_page", "pageout_per_page", "copied_per_fault",
          "tlb_per_fault", "halted_per_fault"] + PHASES + ["hz", "unit", "qemu", "mem", "date"]


def qemu_version():
    out = subprocess.run([ferry.QEMU, "--version"], capture_output=True, text=True).stdout
    m = re.search(r"version (\S+)", out)
    return m.group(1) if m else "?"


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
    backings: (kind, label) pairs, kind `anon` (swap) or `file` (ext2)."""
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
    for kind, label in backings:
        start = len(g.buf)
        g.send("bench faults %d %d %s %s\r" % (rounds, pages, kind, label))
        last, _ = follow_fault_bench(g, start, label if progress else None)
        if last != "bench faults: done":
            raise RuntimeError("%s: %s" % (label, last))
        hz = re.search(r"cycles_per_sec=(\d+)", g.buf[start:])
        rows += [dict(parse_kv(line), hz=hz.group(1) if hz else "0")
                 for line in g.buf[start:].splitlines() if line.startswith("fault ")]
    return prims, rows


def boot_iso(name, overrides):
    """An ISO like build/ferry.iso, with some modules' arguments replaced."""
    mods = []
    for path, args in ferry.default_modules():
        mod = args.split()[0]
        mods.append((path, overrides.get(mod, args)))
    return ferry.make_iso(os.path.join(OUT, name + ".iso"), "", mods)


def boot_and_run(boot, iso, icount, rounds, pages, iters, accel):
    name, _, backings, prims = boot
    label = ("icount" if icount else accel) + "-" + name
    g = ferry.Guest(iso, mem=MEM, accel=accel, icount=icount,
                    name=label, log_path=os.path.join(OUT, "serial-%s.log" % label),
                    drives=[ferry.ide_drive(ferry.DISK, snapshot=True)])
    try:
        g.start()
        return run_guest(g, rounds, pages, iters, backings=backings, primitives=prims)
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
        lines.append("  %-8s %-6s %-6s %3s %7s %10s %10s %10s %10s %10s %8s %5s %10s" % (
            "backing", "mode", "served", "cl", "faults", "median", "p99", "mean", "per-page",
            "pageout/pg", "copied", "tlb", "halted"))
        for r in rows:
            lines.append("  %-8s %-6s %-6s %3s %7s %10s %10s %10s %10s %10s %8s %5s %10s" % (
                r["backing"], r["mode"], r["served"], r["cluster"], r["faults"], r["median"],
                r["p99"], r["mean"], r["per_page"], r["pageout_per_page"],
                r["copied_per_fault"], r["tlb_per_fault"], r.get("halted_per_fault", "?")))
        lines.append("  phase means, from the fault (%s):" % unit)
        for r in rows:
            if r["mode"] == r["served"]:
                phases = " ".join("%s=%s" % (p, r[p]) for p in PHASES)
                lines.append("  %-8s %-6s cl %-3s %s" % (r["backing"], r["mode"], r["cluster"],
                                                         phases))
    return "\n".join(lines)


def cell(rows, backing, mode, cluster):
    for r in rows:
        if (r["backing"] == backing and r["mode"] == mode and r["served"] == mode
                and int(r["cluster"]) == cluster):
            return r
    return None


def verdicts(runs, linux=LINUX, readahead=LINUX_READAHEAD_PAGES_PER_S):
    """The issue's three targets against the Linux peer, where measured."""
    out = []
    ic = runs.get("icount", ({}, []))[1]
    g = cell(ic, "ram", "grant", 1)
    if g:
        target = linux["uffd_copy"] / 2
        med = int(g["median"])
        out.append("1. grant-map fault from swapd's RAM store: %d instructions; target < %d "
                   "(half of Linux UFFDIO_COPY %d): %s" % (
                       med, target, linux["uffd_copy"],
                       "MET" if med < target else "MISSED by %.0f%%" % ((med / target - 1) * 100)))
    d = cell(ic, "disk-dma", "dma", 1)
    if d:
        med = int(d["median"])
        out.append("2. single-page swap-in from the swap partition by grant-DMA: %d instructions"
                   " (mean %s, of which %s halted waiting for the disk);"
                   " target <= %d (Linux in-kernel swap-in, no readahead): %s" % (
                       med, d["mean"], d.get("halted_per_fault", "?"), linux["swapin_pc0"],
                       "MET" if med <= linux["swapin_pc0"] else
                       "MISSED by %.0f%%" % ((med / linux["swapin_pc0"] - 1) * 100)))
    # Like the Linux rig: pages/s under icount (one virtual ns per
    # instruction) from the mean time per page touched, faults and pages
    # the cluster brought alike.  Like for like is cluster 8: Linux's
    # page-cluster=3 reads up to 8 pages.
    for r in [cell(ic, "disk-dma", "dma", 8), cell(ic, "disk-dma", "dma", 32)]:
        if not r:
            continue
        rate = 1e9 / max(int(r["per_page"]), 1)
        out.append("3. clustered swap-in throughput by grant-DMA, cluster %s: %.0f pages/s "
                   "(%s instructions per page); target > %d (Linux, 8-page readahead): %s" % (
                       r["cluster"], rate, r["per_page"], readahead,
                       "MET" if rate > readahead else
                       "MISSED by %.0f%%" % ((1 - rate / readahead) * 100)))
    for backing in sorted({r["backing"] for r in ic}):
        c, gg = cell(ic, backing, "copy", 1), cell(ic, backing, "grant", 1)
        dm = cell(ic, backing, "dma", 1)
        if c and gg:
            out.append("%s, 1 page: copy %s, grant-map %s%s instructions" % (
                backing, c["median"], gg["median"],
                ", grant-DMA %s" % dm["median"] if dm else " (no DMA on this backing)"))
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


MODE_NAMES = {"copy": "copy", "grant": "grant-map", "dma": "grant-DMA"}
MODES = ["copy", "grant", "dma"]
CLUSTERS = [1, 8, 32]
BACKING_NAMES = {"ram": "swapd's RAM store", "disk-dma": "swap partition, ata DMA",
                 "file-dma": "ext2 file, ata DMA", "disk-pio": "swap partition, ata PIO",
                 "file-pio": "ext2 file, ata PIO", "swapfile": "swap file, ata DMA"}


def served_rows(rows, cluster=None):
    """The rows whose mode served them (a `dma` row served as grant-map is
    the grant-map path again), optionally of one cluster size."""
    return [r for r in rows if r["mode"] == r["served"]
            and (cluster is None or int(r["cluster"]) == cluster)]


def figure_labels(runs):
    """=> (the run the latency spread comes from, the run the medians and
    the cost per page come from): spread needs plain TCG (icount has none),
    instructions need icount; with only one, both use it."""
    dist = next((k for k in runs if k != "icount"), "icount")
    return dist, "icount" if "icount" in runs else dist


def write_plot_data(runs, out_dir):
    """The figures' data files, the table's own columns: => {name: path}.
    latency.dat: spread per fault at cluster 1 (p10, p90, p99, median);
    medians.dat: median and halted per fault at cluster 1;
    per_page-BACKING.dat: per-page cost by cluster, one column per mode."""
    dist, main = figure_labels(runs)
    paths = {"latency": os.path.join(out_dir, "latency.dat"),
             "medians": os.path.join(out_dir, "medians.dat")}
    with open(paths["latency"], "w") as f:
        for i, r in enumerate(served_rows(runs[dist][1], 1)):
            f.write("%d %s/%s %s %s %s %s %s\n" % (i, r["backing"], r["mode"], r["p10"],
                                                     r["p10"], r["p99"], r["p90"],
                                                     r["median"]))
    with open(paths["medians"], "w") as f:
        f.write("label median halted\n")
        for r in served_rows(runs[main][1], 1):
            f.write("%s/%s %s %s\n" % (r["backing"], r["mode"], r["median"],
                                        r.get("halted_per_fault", "0")))
    rows = served_rows(runs[main][1])
    for backing in sorted({r["backing"] for r in rows}, key=backing_order):
        path = os.path.join(out_dir, "per_page-%s.dat" % backing)
        paths["per_page-" + backing] = path
        with open(path, "w") as f:
            f.write("cluster " + " ".join(MODE_NAMES[m] for m in MODES) + "\n")
            for cl in CLUSTERS:
                got = {r["mode"]: r["per_page"] for r in rows
                       if r["backing"] == backing and int(r["cluster"]) == cl}
                f.write("%d %s\n" % (cl, " ".join(got.get(m, "-") for m in MODES)))
    return paths


def backing_order(backing):
    order = list(BACKING_NAMES)
    return order.index(backing) if backing in order else len(order)


def plot(runs, out_dir):
    """Two PNGs from the table's own figures.  latency.png: the latency
    distribution per backing and mode from the plain-TCG run (p10-p90 box,
    p99 whisker, median bar; icount figures have no spread), and the icount
    medians per fault beside the mean time halted for the device.
    per_page.png: cost per page against cluster size, one line per fill
    mode, one panel per backing.  => gnuplot's complaint, or None."""
    if not shutil.which("gnuplot"):
        return "gnuplot not found: no PNG"
    dist, main = figure_labels(runs)
    paths = write_plot_data(runs, out_dir)
    unit = "instructions" if main == "icount" else "TSC cycles"
    n = len(served_rows(runs[dist][1], 1))
    script = """
set terminal pngcairo size 1200,900 noenhanced
set output '{png}'
set multiplot layout 2,1 title 'Ferry fault paths, one page per fault, by backing and fill mode'
set title 'latency per fault, {dist} (TSC cycles): box p10-p90, whisker to p99, bar median'
set ylabel 'cycles per fault'
set xrange [-0.6:{n}-0.4]
set style fill solid 0.4
set boxwidth 0.5
set xtics rotate by -30
set grid ytics
set logscale y
plot '{latency}' using 1:4:3:5:6:xticlabels(2) notitle with candlesticks whiskerbars, \\
     '' using 1:7:7:7:7 notitle with candlesticks lt -1
unset logscale y
unset xrange
set title "{main}: median {unit} per fault (the table's median) and mean time halted for the device (its halted)"
set ylabel '{unit} per fault'
set yrange [0:*]
set style data histograms
set style histogram clustered gap 1
set boxwidth 0.9 relative
set key outside
plot '{medians}' using 2:xtic(1) title 'median per fault', \\
     '' using 3 title 'mean halted per fault'
unset multiplot
""".format(png=os.path.join(out_dir, "latency.png"), dist=dist, main=main, unit=unit, n=n,
           latency=paths["latency"], medians=paths["medians"])
    panels = [k for k in paths if k.startswith("per_page-")]
    script += """
set output '{png}'
set multiplot layout {rows},2 title "{main}: cost per page against cluster size ({unit} per page read, the table's per-page: faults and the pages a cluster brought alike)"
set datafile missing '-'
set logscale x 2
set xrange [0.8:40]
set xtics (1, 8, 32) norotate
set yrange [0:*]
set grid ytics
set key inside top right
set style data linespoints
set xlabel 'pages per page-in (cluster)'
set ylabel '{unit} per page'
""".format(png=os.path.join(out_dir, "per_page.png"), rows=(len(panels) + 1) // 2,
           main=main, unit=unit)
    rows = served_rows(runs[main][1])
    for k in panels:
        backing = k[len("per_page-"):]
        # Only the modes measured there: swapd's RAM store serves no grant-DMA.
        cols = [str(2 + i) for i, m in enumerate(MODES)
                if any(r["backing"] == backing and r["mode"] == m for r in rows)]
        script += ('set title "%s (%s)"\nplot for [i in "%s"] \'%s\' using 1:int(i) '
                   'title columnheader(int(i)) lw 2 pt 7\n' % (
                       backing, BACKING_NAMES.get(backing, backing), " ".join(cols), paths[k]))
    script += "unset multiplot\n"
    p = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    return p.stderr.strip() or None


# The systems measured: (name, module-argument overrides, backings, primitives?).
BOOTS = [
    ("ram", {"swapd": "swapd ram 8192"}, [("anon", "ram")], True),
    ("disk-dma", {}, [("anon", "disk-dma"), ("file", "file-dma")], False),
    # swapd on /swapfile: the same faults, its slots in an ext2 file's blocks.
    ("swapfile", {"swapd": "swapd file /swapfile"}, [("anon", "swapfile")], False),
    ("disk-pio", {"ata": "ata part1=swapd part2=fs dma=off"},
     [("anon", "disk-pio"), ("file", "file-pio")], False),
]


def merge(a, b):
    prims = dict(a[0])
    prims.update(b[0])
    return prims, a[1] + b[1]


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--pages", type=int, default=256)
    p.add_argument("--iters", type=int, default=20000)
    p.add_argument("--no-icount", action="store_true")
    p.add_argument("--boots", default=",".join(b[0] for b in BOOTS))
    a = p.parse_args()
    os.makedirs(OUT, exist_ok=True)
    accel = ferry.choose_accel()
    runs = {}
    plan = [(accel, False)] + ([] if a.no_icount else [("tcg", True)])
    boots = [b for b in BOOTS if b[0] in a.boots.split(",")]
    isos = {b[0]: boot_iso(b[0], b[1]) for b in boots}

    # One QEMU at a time: a neighbour on the other core moved plain-TCG
    # medians of identical paths by 40% when we tried running them side by side.
    for acc, icount in plan:
        label = "icount" if icount else acc
        for boot in boots:
            print("bench: booting Ferry (%s, %s, %s, %d rounds x %d pages per cell)" % (
                boot[0], label, MEM, a.rounds, a.pages), flush=True)
            got = boot_and_run(boot, isos[boot[0]], icount, a.rounds, a.pages, a.iters, acc)
            runs[label] = merge(runs.get(label, ({}, [])), got)
    meta = {"qemu": qemu_version(), "mem": MEM,
            "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M")}
    print(table(runs))
    linux, readahead, source = linux_figures()
    print("\nAgainst the targets (Linux 6.12 peer in the same QEMU, icount medians):")
    print("  Linux figures: " + source)
    for v in verdicts(runs, linux, readahead):
        print("  " + v)
    csv_path = os.path.join(OUT, "results.csv")
    write_csv(runs, csv_path, meta)
    err = plot(runs, OUT)
    print("\nwrote %s, %s and %s%s" % (csv_path, os.path.join(OUT, "latency.png"),
                                       os.path.join(OUT, "per_page.png"),
                                       "" if not err else " (gnuplot: %s)" % err))
    bad = [r for _, (_, rows) in runs.items() for r in rows
           if "error" in r or "warning" in r]
    if bad:
        print("bench: %d cells had errors or pages that never left memory" % len(bad))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
