# SPDX-License-Identifier: MIT
"""make bench's IOMMU section (issue 17): what mapping, unmapping and
invalidating cost per page-in and per page-out, and what zero-touch
page-in saves.

The cells are bench_cells' boots with an `iommu` variant: the swap
partition on IDE and on NVMe, q35 with translation off (`off`), each way
of invalidating (`window`: one invalidation per grant, the default;
`page`: one per page, strict; `queue`: queued, one wait per grant) and
`zeroing` (window, zero-touch page-in off).  Every row is measured like
any other of `make bench` (icount, the cost-model plugin); here its
counters are read per page brought in (the fault's region) and per page
sent out (the VM_CTL_EVICT region, "cost_out"), the IOMMU's register
accesses apart from the device's (the plugin's mmio_iommu, by address)
and the invalidations the kernel announced (iotlb_inval), weighed by
docs/BENCHMARKS.md's table like everything else.

problems() is what must hold of the counts, whatever the figures: with
translation on, every request that lent frames to a driver invalidated
(strict: once per page) and touched the unit's registers, a copy lent
nothing and invalidated nothing (the unit's registers it may read: the
fault records are polled every 100 ms too); with it off, no invalidation
and no IOMMU register access at all.
`make bench` fails on any of them, and so does the `cost_iommu` test."""

import csv

import bench_cost as cost

VARIANTS = ["off", "window", "page", "queue", "zeroing"]
ON = ("window", "page", "queue", "zeroing")
BATCHED = ("window", "queue", "zeroing")
MODE_NAMES = {"copy": "copy", "grant": "grant-map", "dma": "grant-DMA"}
CSV_FIELDS = ["bus", "iommu", "mode", "cluster", "direction", "pages", "requests", "insns",
              "mmio_iommu", "mmio_device", "pio", "iotlb_inval", "dma_pages", "iommu_cycles",
              "model_cycles"]


def rows_of(rows):
    """The IOMMU's cells: counted anonymous-memory rows of a boot with an
    IOMMU variant, whose mode served them."""
    return [r for r in rows if r.get("iommu") and r.get("kind") == "anon" and "cost" in r
            and r["mode"] == r["served"]]


def pages_out(r):
    return int(r.get("pages_out") or r["pages"])


def figures(r, w, out=False):
    """Per page in (or out): the work and the device and IOMMU accesses,
    and the modelled cycles."""
    c = r.get("cost_out") if out else r["cost"]
    if not c:
        return None
    p = cost.per(c, pages_out(r) if out else int(r["pages"]))
    return {"insns": p["insns"], "mmio_iommu": cost.iommu_accesses(p),
            "mmio_device": p["mmio"] - cost.iommu_accesses(p), "pio": p["pio"] + p["pio_string"],
            "iotlb_inval": p.get("iotlb_inval", 0), "dma_pages": p["dma_pages"],
            "iommu_cycles": iommu_cycles(p, w), "model_cycles": cost.modelled_cycles(p, w)}


def iommu_cycles(c, w):
    """The modelled cycles of the IOMMU's hardware alone: its register
    accesses and the invalidations waited for (the instructions that map
    and unmap are in +insns against the cell with the IOMMU off)."""
    return cost.iommu_accesses(c) * w["mmio"] + c.get("iotlb_inval", 0) * w["iotlb_inval"]


def find(rows, bus, variant, mode, cluster):
    return next((r for r in rows if r["bus"] == bus and r["iommu"] == variant
                 and r["mode"] == mode and int(r["cluster"]) == cluster), None)


def ordered(rows):
    return sorted(rows, key=lambda r: (r["bus"], VARIANTS.index(r["iommu"])
                                       if r["iommu"] in VARIANTS else 99,
                                       ["copy", "grant", "dma"].index(r["mode"]),
                                       int(r["cluster"])))


def table(rows, w, out=False):
    """Per page in (out): instructions, the IOMMU's register accesses,
    the device's (MMIO and port), invalidations, modelled cycles, and the
    difference the IOMMU makes against the same cell with it off."""
    fmt = "  %-5s %-8s %-9s %3s %8s %7s %7s %6s %7s %9s %9s %9s %9s"
    lines = [fmt % ("bus", "iommu", "mode", "cl", "insns", "iommu", "dev-mm", "port", "inval",
                    "iommu-cyc", "cycles", "+insns", "+cycles")]
    for r in ordered(rows):
        f = figures(r, w, out)
        if not f:
            continue
        base = find(rows, r["bus"], "off", r["mode"], int(r["cluster"]))
        b = figures(base, w, out) if base else None
        lines.append(fmt % (r["bus"], r["iommu"], MODE_NAMES[r["mode"]], r["cluster"],
                            "%.0f" % f["insns"], "%.2f" % f["mmio_iommu"],
                            "%.2f" % f["mmio_device"], "%.2f" % f["pio"],
                            "%.3f" % f["iotlb_inval"], "%.0f" % f["iommu_cycles"],
                            "%.0f" % f["model_cycles"],
                            "%+.0f" % (f["insns"] - b["insns"]) if b else "-",
                            "%+.0f" % (f["model_cycles"] - b["model_cycles"]) if b else "-"))
    return lines


def zero_touch(rows, w):
    """What zero-touch page-in saves: `window` against `zeroing` (the same
    but DMA page-ins on pre-zeroed frames), grant-DMA, per page in."""
    lines = []
    for bus in sorted({r["bus"] for r in rows}):
        for cl in (1, 8, 32):
            on, off = find(rows, bus, "window", "dma", cl), find(rows, bus, "zeroing", "dma", cl)
            if not (on and off):
                continue
            a, b = figures(on, w), figures(off, w)
            lines.append("  %-5s cl %-3s zero-touch %6.0f insns, %7.0f cycles per page in; "
                         "zeroing %6.0f, %7.0f: saves %5.0f instructions (%4.1f%%), %6.0f "
                         "cycles" % (bus, cl, a["insns"], a["model_cycles"], b["insns"],
                                     b["model_cycles"], b["insns"] - a["insns"],
                                     100 * (b["insns"] - a["insns"]) / max(b["insns"], 1),
                                     b["model_cycles"] - a["model_cycles"]))
    return lines


def verdicts(rows, w):
    """Where grant-DMA still wins with the IOMMU's cost in it: per bus,
    invalidation variant and cluster, grant-DMA's modelled cycles per page
    brought in against grant-map's and copy's in the same boot, and
    against copy with the IOMMU off (copy lends nothing, so it pays no
    IOMMU cost per request).  Page-ins only: a page-out region also
    holds whatever the CPU did while the write was in flight (the idle
    thread refilling the zero pool), which follows the disk's timing."""
    lines = []
    for bus in sorted({r["bus"] for r in rows}):
        for v in ("window", "queue", "page"):
            for cl in (1, 8, 32):
                d = find(rows, bus, v, "dma", cl)
                others = [("grant-map", find(rows, bus, v, "grant", cl)),
                          ("copy", find(rows, bus, v, "copy", cl)),
                          ("copy, IOMMU off", find(rows, bus, "off", "copy", cl))]
                if not d:
                    continue
                din = figures(d, w)["model_cycles"]
                parts = ["%s %.2f" % (name, din / max(figures(o, w)["model_cycles"], 1e-9))
                         for name, o in others if o]
                wins = all(din < figures(o, w)["model_cycles"] for _, o in others if o)
                lines.append("  %-5s %-6s cl %-3s grant-DMA %7.0f cycles per page in; against "
                             "%s: %s" % (bus, v, cl, din, ", ".join(parts),
                                 "WINS" if wins else "LOSES to " + ", ".join(
                                     n for n, o in others
                                     if o and figures(o, w)["model_cycles"] <= din)))
    return lines


def problems(rows):
    """What must hold of the IOMMU's counts (see the module's comment):
    => one line per broken cell."""
    bad = []
    for r in rows:
        where = "%s %s %s cl %s" % (r["bus"], r["iommu"], r["mode"], r["cluster"])
        lent = r["mode"] in ("grant", "dma")
        for out, c in ((False, r["cost"]), (True, r.get("cost_out"))):
            if c is None:
                bad.append("%s: page-outs not counted" % where)
                continue
            what = "page-outs" if out else "page-ins"
            inval, regs = c.get("iotlb_inval", 0), c.get("mmio_iommu", 0)
            requests = int(c["regions"]) if not out else 1
            pages = pages_out(r) if out else int(r["pages"])
            if r["iommu"] in ON and lent:
                least = pages if r["iommu"] == "page" else requests
                if inval < least or regs == 0:
                    bad.append("%s %s: %d invalidations and %d IOMMU register accesses for %d "
                               "pages in %d regions with the IOMMU on" % (
                                   where, what, inval, regs, pages, int(c["regions"])))
            elif inval or (regs and r["iommu"] not in ON):
                bad.append("%s %s: %d invalidations and %d IOMMU register accesses where %s" % (
                    where, what, inval, regs, "nothing was lent" if lent is False and
                    r["iommu"] in ON else "the IOMMU is off"))
    return bad


def write_csv(rows, path, w):
    with open(path, "w", newline="") as f:
        out = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        out.writeheader()
        for r in ordered(rows):
            for direction in ("in", "out"):
                fg = figures(r, w, direction == "out")
                if not fg:
                    continue
                c = r["cost"] if direction == "in" else r["cost_out"]
                out.writerow(dict({k: "%.3f" % v for k, v in fg.items()}, bus=r["bus"],
                                  iommu=r["iommu"], mode=r["mode"], cluster=r["cluster"],
                                  direction=direction, requests=c["regions"],
                                  pages=r["pages"] if direction == "in" else pages_out(r)))


def report(rows, w):
    """The section make bench prints: => lines."""
    lines = ["  (per page brought in, or sent out; iommu: the unit's register accesses, "
             "dev-mm: the device's and\n   the interrupt controller's MMIO, port: port "
             "accesses, inval: IOTLB invalidations waited for;\n   cycles modelled, "
             "`iotlb_inval` and `mmio` weights in docs/BENCHMARKS.md; +insns, +cycles: "
             "against the\n   same cell with the IOMMU off)", "", "Page-ins:"]
    lines += table(rows, w)
    lines += ["", "Page-outs (VM_CTL_EVICT: the swap writes, in runs of contiguous slots; the "
              "cycles also hold what the\n  CPU did while a write was in flight, such as the "
              "idle thread refilling the zero pool):"]
    lines += table(rows, w, out=True)
    lines += ["", "What zero-touch page-in saves (grant-DMA):"] + zero_touch(rows, w)
    lines += ["", "Where grant-DMA still wins, the IOMMU's cost included (modelled cycles "
              "per page: grant-DMA / the other):"] + verdicts(rows, w)
    return lines
