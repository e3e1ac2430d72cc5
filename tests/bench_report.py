# SPDX-License-Identifier: MIT
"""make bench's report: tables, verdicts, results.csv and attribution.csv.

Runs are {label: (primitives, rows)}, label "icount" or the plain-TCG
accelerator's name.  Rows are bench_cells' fault rows (Ferry), each with
the cost-model plugin's counters under "cost" and their attribution under
"attr" in the icount run, and there also the Linux peer's tests as rows of
system "linux" (mode = the pagebench test).  Counter columns are whatever
the plugin wrote: a counter it adds reaches the CSV with no change here."""

import csv

import bench_cost as cost

PHASES = ["sent", "received", "replied", "taken_back", "mapped", "resumed"]
FIELDS = ["system", "accel", "backing", "mode", "served", "cluster", "faults", "pages", "p10",
          "median", "p90", "p99", "mean", "per_page", "pageout_per_page", "copied_per_fault",
          "tlb_per_fault", "halted_per_fault"] + PHASES + ["hz", "unit", "qemu", "mem", "date"]
COST_FIELDS = ["regions", "model_cycles_per_fault", "model_cycles_per_page", "cost_model"]
MODE_NAMES = {"copy": "copy", "grant": "grant-map", "dma": "grant-DMA"}
# The cost table's columns, per page read: (title, counter or function).
SHOWN = [("insns", "insns"), ("bytes", cost.bytes_moved), ("L1miss", "l1_misses"),
         ("L2miss", "l2_misses"), ("TLBmiss", "tlb_misses"), ("cr3", "cr3_writes"),
         ("invlpg", "invlpg"), ("pio", "pio"), ("pio_str", "pio_string"), ("mmio", "mmio"),
         ("ipi", "ipis"), ("dma", "dma_pages"), ("hlt", "hlt")]


def ferry_rows(rows):
    return [r for r in rows if r.get("system", "ferry") == "ferry"]


def served(r):
    return r["mode"] == r["served"]


def table(runs):
    lines = []
    for label, (prims, rows) in runs.items():
        unit = "instructions" if label == "icount" else "TSC cycles"
        lines.append("")
        lines.append("== %s (%s) ==" % (label, unit))
        for name, v in prims.items():
            lines.append("  %-14s median %9d  p99 %9d" % (name, v["median"], v["p99"]))
        fmt = "  %-8s %-6s %-6s %3s %7s %10s %10s %10s %10s %10s %8s %5s %10s"
        lines.append(fmt % ("backing", "mode", "served", "cl", "faults", "median", "p99", "mean",
                            "per-page", "pageout/pg", "copied", "tlb", "halted"))
        for r in ferry_rows(rows):
            lines.append(fmt % (r["backing"], r["mode"], r["served"], r["cluster"], r["faults"],
                                r["median"], r["p99"], r["mean"], r["per_page"],
                                r["pageout_per_page"], r["copied_per_fault"], r["tlb_per_fault"],
                                r.get("halted_per_fault", "?")))
        lines.append("  phase means, from the fault (%s):" % unit)
        for r in ferry_rows(rows):
            if served(r):
                lines.append("  %-8s %-6s cl %-3s %s" % (r["backing"], r["mode"], r["cluster"],
                                                         " ".join("%s=%s" % (p, r[p])
                                                                  for p in PHASES)))
    return "\n".join(lines)


def pages_of(r):
    """Pages read in the cell: every page touched for Ferry (its regions are
    the faults); every region for the Linux peer (it marks every read)."""
    return int(r["cost"]["regions"]) if r.get("system") == "linux" else int(r["pages"])


def per_page(r):
    return cost.per(r["cost"], pages_of(r))


def per_fault(r):
    return cost.per(r["cost"], int(r["cost"]["regions"]) if r.get("system") == "linux"
                    else int(r["faults"]))


def shown(c, what):
    return what(c) if callable(what) else c[what]


def num(v):
    return "0" if v == 0 else "%.0f" % v if abs(v) >= 10 else "%.1f" % v


def cost_table(rows, w):
    """Ferry and Linux side by side: every counted row, per page read."""
    counted = [r for r in rows if "cost" in r and served(r)]
    fmt = "  %-6s %-9s %-10s %3s" + " %7s" * len(SHOWN) + " %9s %10s"
    lines = [fmt % (("system", "backing", "mode", "cl") + tuple(t for t, _ in SHOWN)
                    + ("cyc/page", "cyc/fault"))]
    for r in counted:
        pp = per_page(r)
        lines.append(fmt % ((r.get("system", "ferry"), r["backing"], r["mode"], r["cluster"])
                            + tuple(num(shown(pp, f)) for _, f in SHOWN)
                            + (num(cost.modelled_cycles(pp, w)),
                               num(cost.modelled_cycles(per_fault(r), w)))))
    return "\n".join(lines)


def cell(rows, backing, mode, cluster):
    for r in ferry_rows(rows):
        if (r["backing"] == backing and r["mode"] == mode and served(r)
                and int(r["cluster"]) == cluster):
            return r
    return None


def linux_row(rows, test):
    return next((r for r in rows if r.get("system") == "linux" and r["mode"] == test), None)


def ratios(a, b, w):
    """Cost ratios of two counted rows, per page: modelled cycles, bytes
    moved, instructions counted."""
    pa, pb = per_page(a), per_page(b)
    return (cost.modelled_cycles(pa, w) / max(cost.modelled_cycles(pb, w), 1e-9),
            cost.bytes_moved(pa) / max(cost.bytes_moved(pb), 1e-9),
            pa["insns"] / max(pb["insns"], 1e-9))


def cost_verdicts(rows, w):
    """grant-map/copy and grant-DMA/copy per backing and cluster size."""
    lines = ["  %-9s %3s %-15s %9s %6s %6s %13s" % ("backing", "cl", "ratio", "modelled",
                                                    "bytes", "insns", "icount median")]
    for r in ferry_rows(rows):
        base = cell(rows, r["backing"], "copy", int(r["cluster"]))
        if r["mode"] == "copy" or not served(r) or not base or "cost" not in r \
                or "cost" not in base:
            continue
        m, b, i = ratios(r, base, w)
        lines.append("  %-9s %3s %-15s %9.2f %6.2f %6.2f %13.2f" % (
            r["backing"], r["cluster"], MODE_NAMES[r["mode"]] + "/copy", m, b, i,
            int(r["median"]) / max(int(base["median"]), 1)))
    return lines


def versus_linux(rows, peers, w):
    """Ferry's cells against the Linux test their backing names per cluster
    (peers: {label: {cluster: test}}), per page; icount: medians, at one
    page per fault only (clustered, only means per page exist, and with
    the disk's waiting in them they follow the host's load)."""
    lines = ["  %-28s %-12s %9s %6s %6s %7s" % ("Ferry", "/ Linux", "modelled", "bytes",
                                                 "insns", "icount")]
    for r in ferry_rows(rows):
        test = peers.get(r["backing"], {}).get(int(r["cluster"]))
        lx = linux_row(rows, test) if test else None
        if not lx or not served(r) or "cost" not in r or "cost" not in lx:
            continue
        m, b, i = ratios(r, lx, w)
        ic = ("%.2f" % (int(r["median"]) / max(int(lx["median"]), 1))
              if int(r["cluster"]) == 1 else "-")
        lines.append("  %-28s %-12s %9.2f %6.2f %6.2f %7s" % (
            "%s %s cl %s" % (r["backing"], MODE_NAMES[r["mode"]], r["cluster"]), test,
            m, b, i, ic))
    return lines


def attribution_lines(rows, n=4, clusters=(1,)):
    """Where each cell's bytes and device accesses go, per fault (Linux:
    per page read), by symbol; and who called the functions that made
    the device accesses (the register accessors are small functions)."""
    lines = []
    for r in rows:
        if "attr" not in r or not served(r) or int(r["cluster"]) not in clusters:
            continue
        nf = max(int(r["cost"]["regions"]), 1)
        for what, key, fmt, least in (("bytes", cost.bytes_moved, "%.0f", 1),
                                      ("device accesses", cost.device_accesses, "%.1f", 0.05),
                                      ("... asked by", cost.device_callers, "%.1f", 0.05)):
            total = sum(key(c) for c in r["attr"].values()) / nf
            if total < least:
                continue
            tops = [(s, key(c) / nf) for s, c in cost.top(r["attr"], key, n)]
            lines.append("  %-6s %-9s %-10s cl %-2s %-15s %s: %s" % (
                r.get("system", "ferry"), r["backing"], r["mode"], r["cluster"], what,
                fmt % total, ", ".join("%s %s" % (s, fmt % v) for s, v in tops if v >= least)))
    return lines


def counter_names(rows):
    for r in rows:
        if "cost" in r:
            return list(r["cost"])
    return []


def csv_row(r, label, meta, w):
    row = dict(r, accel=label, system=r.get("system", "ferry"),
               unit="instructions" if label == "icount" else "tsc_cycles", **meta)
    if "cost" in r:
        row.update({"cost_" + k: v for k, v in r["cost"].items()})
        row.update(regions=r["cost"]["regions"], cost_model=r.get("model", ""),
                   model_cycles_per_fault="%.1f" % cost.modelled_cycles(per_fault(r), w),
                   model_cycles_per_page="%.1f" % cost.modelled_cycles(per_page(r), w))
    return row


def write_csv(runs, path, meta, w=None):
    """results.csv: one row per accelerator x system x backing x mode x
    cluster, the plugin's every raw counter (sums over the cell) as cost_*."""
    counters = counter_names([r for _, (_, rows) in runs.items() for r in rows])
    fields = FIELDS + (COST_FIELDS + ["cost_" + c for c in counters] if counters else [])
    with open(path, "w", newline="") as f:
        out = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        out.writeheader()
        for label, (_, rows) in runs.items():
            for r in rows:
                out.writerow(csv_row(r, label, meta, w or cost.weights()))
    return fields


def write_attr_csv(rows, path):
    """attribution.csv: per counted cell and symbol, the plugin's sums over
    the cell (divide by regions for per fault)."""
    keys = ["insns", "bytes", "l1_misses", "l2_misses", "pio", "pio_string", "mmio",
            "device_callee"]
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["system", "backing", "mode", "cluster", "regions", "symbol"] + keys)
        for r in rows:
            for sym, c in sorted((r.get("attr") or {}).items()):
                out.writerow([r.get("system", "ferry"), r["backing"], r["mode"], r["cluster"],
                              r["cost"]["regions"], sym] + [c.get(k, 0) for k in keys])


def verdicts(runs, linux, readahead):
    """The issue-8 targets against the Linux peer, where measured."""
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
    # With the disk's waiting in them these means follow the host's load;
    # the plugin's instructions per page are the work alone.
    pc3 = linux_row(ic, "swapin_pc3")
    for r in [cell(ic, "disk-dma", "dma", 8), cell(ic, "disk-dma", "dma", 32)]:
        if not r:
            continue
        rate = 1e9 / max(int(r["per_page"]), 1)
        work = ""
        if "cost" in r and pc3 and "cost" in pc3:
            mine, theirs = per_page(r)["insns"], per_page(pc3)["insns"]
            work = "; work alone (the plugin's instructions per page): %.0f against Linux's " \
                   "%.0f, %.1fx the pages per instruction" % (mine, theirs, theirs / mine)
        out.append("3. clustered swap-in throughput by grant-DMA, cluster %s: %.0f pages/s "
                   "(%s instructions per page); target > %d (Linux, 8-page readahead): %s%s" % (
                       r["cluster"], rate, r["per_page"], readahead,
                       "MET" if rate > readahead else
                       "MISSED by %.0f%%" % ((1 - rate / readahead) * 100), work))
    for backing in sorted({r["backing"] for r in ferry_rows(ic)}):
        c, gg = cell(ic, backing, "copy", 1), cell(ic, backing, "grant", 1)
        dm = cell(ic, backing, "dma", 1)
        if c and gg:
            out.append("%s, 1 page: copy %s, grant-map %s%s instructions" % (
                backing, c["median"], gg["median"],
                ", grant-DMA %s" % dm["median"] if dm else " (no DMA on this backing)"))
    return out


def driver_accesses(r):
    """Register accesses (port and MMIO, not data transfers) made by user
    programs, the drivers, per fault: the device's own, apart from the
    kernel's interrupt controller and IOMMU accesses."""
    nf = max(int(r["cost"]["regions"]), 1)
    return sum(c.get("pio", 0) + c.get("mmio", 0) for s, c in r.get("attr", {}).items()
               if not s.startswith("kernel:")) / nf


def diet_verdicts(rows, w, machine):
    """Issue 20's targets (the fault path's diet), from the icount run's
    rows: => lines, each a target with the figure, MET or MISSED."""
    out = []

    def verdict(what, got, limit, unit, fmt="%.0f"):
        out.append("%s: %s%s; target <= %s: %s" % (
            what, fmt % got, " " + unit if unit else "", fmt % limit,
            "MET" if got <= limit else "MISSED by %.0f%%" % ((got / max(limit, 1e-9) - 1) * 100)))

    for mode, insns, kib in (("copy", 3500, 12), ("grant", 4000, 16)):
        r = cell(rows, "ram", mode, 1)
        if r and "cost" in r:
            pf = per_fault(r)
            verdict("RAM store %s, one page per fault (icount median; the plugin's mean "
                    "%s)" % (MODE_NAMES[mode], num(pf["insns"])),
                    int(r["median"]), insns, "instructions")
            verdict("RAM store %s, one page per fault, CPU memory traffic" % MODE_NAMES[mode],
                    cost.bytes_moved(pf), kib * 1024, "bytes")
    for cl, kib in ((1, 8), (32, 2)):
        r = cell(rows, "disk-dma", "dma", cl)
        if r and "cost" in r:
            verdict("swap partition grant-DMA, %d page%s per fault, CPU memory traffic per "
                    "page (%s)" % (cl, "s" if cl > 1 else "", machine),
                    cost.bytes_moved(per_page(r)), kib * 1024, "bytes")
    r = cell(rows, "disk-dma", "dma", 1)
    if r and "cost" in r:
        pf = per_fault(r)
        verdict("IDE register accesses per request, grant-DMA, one page (ata's own; the "
                "fault's all, interrupt controller and IOMMU included: %s port, %s MMIO)" % (
                    "%.0f" % pf["pio"], "%.0f" % pf["mmio"]),
                driver_accesses(r), 12, "", "%.1f")
    r = cell(rows, "nvme-dma", "dma", 1)
    if r and "cost" in r:
        pf = per_fault(r)
        verdict("NVMe register accesses per request, grant-DMA, one page (nvme's own MMIO; "
                "the fault's all, interrupt controller and IOMMU included: %s MMIO)" % (
                    "%.0f" % pf["mmio"]), driver_accesses(r), 3, "", "%.1f")
    else:
        out.append("NVMe MMIO accesses per request: not measured (no NVMe backing in this run)")
    for cl, test in ((1, "swapin_pc0"), (8, "swapin_pc3"), (32, "swapin_pc5")):
        r, lx = cell(rows, "disk-dma", "dma", cl), linux_row(rows, test)
        if not (r and lx and "cost" in r and "cost" in lx):
            continue
        ratio = ratios(r, lx, w)[0]
        verdict("swap partition grant-DMA against Linux %s, %d page%s per fault, modelled "
                "cycles per page, Ferry/Linux" % (test, cl, "s" if cl > 1 else ""), ratio,
                0.5 if cl == 1 else 1.0, "", "%.2f")
    return out
