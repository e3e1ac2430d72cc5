#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make cost: what a page fault costs beyond its instruction count.

Runs Ferry's fault benchmark (`bench faults`, as tests/bench.py does) and
the Linux peer's pagebench (peer/linux/) under `-icount shift=0` with the
cost-model plugin (tools/costmodel/ferrycost.c).  Both programs mark the
timed accesses themselves (lib/include/ferry/costmark.h): the plugin counts
everything between the markers, on every vCPU, kernel and other processes
included.  Prints a table per backing, mode and cluster size: per page,
instructions, bytes loaded and stored, misses of the simulated L1D, L2 and
DTLB, CR3 writes, invlpg, port I/O, MMIO, IPIs, and modelled cycles from
the weights table in docs/BENCHMARKS.md ("Cost model").  Writes every raw
counter to build/cost/cost.csv, so other weights can be applied later.

  python3 tests/cost.py [--rounds N] [--pages N] [--boots ram,disk-dma,disk-pio]
                        [--linux-pages N] [--no-linux]"""

import argparse
import csv
import datetime
import importlib.util
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
import ferry  # noqa: E402

PLUGIN = os.path.join(ferry.BUILD, "costmodel", "ferrycost.so")
OUT = os.path.join(ferry.BUILD, "cost")
DOC = os.path.join(ferry.ROOT, "docs", "BENCHMARKS.md")
MODES = ["copy", "grant", "dma"]            # user/bench/faults.c's mode_names
CLUSTERS = [1, 8, 32]                       # and its clusters[]
# The Linux tests pagebench runs, by their index in its tests[] (its cost tags).
LINUX_TESTS = ["anon_touch", "uffd_copy", "uffd_move", "swapin_pc0", "swapin_pc3",
               "swapin_pc5"]
LINUX_COST_TESTS = ["uffd_copy", "uffd_move", "swapin_pc0", "swapin_pc3"]
# What the table shows per page, in this order: (column, counter or None).
SHOWN = [("insns", "insns"), ("loaded", "bytes_loaded"), ("stored", "bytes_stored"),
         ("L1miss", "l1_misses"), ("L2miss", "l2_misses"), ("TLBmiss", "tlb_misses"),
         ("cr3", "cr3_writes"), ("invlpg", "invlpg"), ("pio", "pio"), ("pio_str", "pio_string"),
         ("mmio", "mmio"),
         ("ipi", "ipis"), ("hlt", "hlt")]


def plugin_args(out, **opts):
    """QEMU options loading the plugin, results to the file `out`."""
    if not os.path.exists(PLUGIN):
        raise RuntimeError("%s missing: run `make cost-plugin`" % PLUGIN)
    spec = ",".join([PLUGIN, "out=" + out] + ["%s=%s" % kv for kv in sorted(opts.items())])
    return ["-plugin", spec]


def read_counters(path):
    """The plugin's results file => (header comment, {tag: {counter: sum over vCPUs}})."""
    with open(path) as f:
        head = f.readline().lstrip("# ").strip()
        by_tag = {}
        for r in csv.DictReader(f):
            tag = int(r.pop("tag"))
            r.pop("vcpu")
            acc = by_tag.setdefault(tag, {})
            for k, v in r.items():
                acc[k] = acc.get(k, 0) + int(v)
    return head, by_tag


def ferry_tag(kind, mode, cluster):
    """user/bench/faults.c's cost_tag()."""
    return (32 if kind == "file" else 0) + MODES.index(mode) * 8 + CLUSTERS.index(cluster)


def weights(doc=DOC):
    """The weights table of docs/BENCHMARKS.md: rows `| `name` | cycles | source |`
    between the lines `<!-- cost weights begin -->` and `... end -->`."""
    text = open(doc).read()
    m = re.search(r"<!-- cost weights begin -->(.*?)<!-- cost weights end -->", text, re.S)
    if not m:
        raise RuntimeError("no weights table in %s" % doc)
    w = {}
    for line in m.group(1).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and re.fullmatch(r"`[a-z_0-9]+`", cells[0]):
            w[cells[0].strip("`")] = float(cells[1])
    return w


def modelled_cycles(c, w):
    """One region's (or a sum's) counters => cycles on the modelled machine:
    one cycle per instruction but for the iterations of rep movs/stos, which
    are charged by bytes; plus every miss and device access at its weight."""
    plain = c["insns"] - c["str_iters"]
    return (plain * w["insn"] + c["str_bytes"] * w["string_byte"]
            + c["l1_misses"] * w["l1_miss"] + c["l2_misses"] * w["l2_miss"]
            + c["tlb_misses"] * w["tlb_miss"] + c["cr3_writes"] * w["cr3_write"]
            + c["invlpg"] * w["invlpg"] + c["pio"] * w["pio"]
            + c["pio_string"] * w["pio_string"] + c["mmio"] * w["mmio"]
            + c["ipis"] * w["ipi"])


def per(c, n):
    return {k: v / max(n, 1) for k, v in c.items()}


def run_ferry(boots, rounds, pages, progress=True):
    """Ferry's fault benchmark under the plugin => rows: bench's fault rows,
    each with "cost" (counter sums of its regions) and "regions"."""
    os.makedirs(OUT, exist_ok=True)
    out = []
    for name, overrides, backings, _ in [b for b in bench.BOOTS if b[0] in boots]:
        iso = bench.boot_iso(name, overrides)
        path = os.path.join(OUT, "ferry-%s.csv" % name)
        if os.path.exists(path):
            os.unlink(path)
        label = "cost-" + name
        print("cost: booting Ferry (%s, icount, plugin, %d rounds x %d pages per cell)" % (
            name, rounds, pages), flush=True)
        g = ferry.Guest(iso, mem=bench.MEM, accel="tcg", icount=True, name=label,
                        log_path=os.path.join(OUT, "serial-%s.log" % label),
                        drives=[ferry.ide_drive(ferry.DISK, snapshot=True)],
                        extra=plugin_args(path))
        try:
            g.start()
            _, rows = bench.run_guest(g, rounds, pages, 0, progress=progress,
                                      backings=backings, primitives=False)
        finally:
            g.kill()
        head, by_tag = read_counters(path)
        kinds = {label_: kind for kind, label_ in backings}
        for r in rows:
            c = by_tag.get(ferry_tag(kinds[r["backing"]], r["mode"], int(r["cluster"])))
            if c:
                out.append(dict(r, system="ferry", cost=c, regions=c["regions"],
                                model=head))
    return out


def load_peer():
    spec = importlib.util.spec_from_file_location("ferry_linux_peer", bench.PEER_RUN)
    peer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(peer)
    return peer


def run_linux(pages, reps=1, warm=64):
    """The Linux peer's pagebench under the plugin => rows like run_ferry's."""
    peer = load_peer()
    kernel = peer.fetch.fetch()
    work = os.path.join(peer.fetch.cache_dir(), "work")
    os.makedirs(work, exist_ok=True)
    pagebench = peer.build_pagebench(os.path.join(work, "pagebench"))
    initrd = peer.build_initramfs(os.path.join(work, "initramfs.cpio.gz"), kernel, pagebench)
    append = "%s pb_pages=%d pb_reps=%d pb_warm=%d pb_tests=%s" % (
        peer.APPEND, pages, reps, warm, ",".join(LINUX_COST_TESTS))
    path = os.path.join(OUT, "linux.csv")
    if os.path.exists(path):
        os.unlink(path)
    args = peer.qemu_args("icount", os.path.join(peer.fetch.kernel_dir(), kernel["vmlinuz"]),
                          initrd, append) + plugin_args(path)
    print("cost: booting Linux %s (icount, plugin, %d pages)" % (kernel["kernel_release"], pages),
          flush=True)
    results, _, done, _ = peer.boot("icount", args, os.path.join(OUT, "serial-linux.log"))
    if not done:
        raise RuntimeError("pagebench did not finish: see %s" % os.path.join(OUT,
                                                                          "serial-linux.log"))
    head, by_tag = read_counters(path)
    out = []
    for name in LINUX_COST_TESTS:
        c = by_tag.get(LINUX_TESTS.index(name))
        if c and name in results:
            r = results[name]
            out.append({"system": "linux", "backing": "linux", "mode": name, "served": name,
                        "cluster": {"swapin_pc3": "8"}.get(name, "1"),
                        "faults": r.get("majflt", c["regions"]), "pages": c["regions"],
                        "mean": r["mean"], "cost": c, "regions": c["regions"], "model": head})
    return out


def check_rows(rows):
    """Problems that make figures untrustworthy: regions missing or not
    matching the faults bench timed, data errors."""
    bad = []
    for r in rows:
        if r["system"] == "ferry" and int(r["regions"]) != int(r["faults"]):
            bad.append("%s %s cl %s: %s regions for %s faults" % (
                r["backing"], r["mode"], r["cluster"], r["regions"], r["faults"]))
        if "error" in r or "warning" in r:
            bad.append("%s %s cl %s: %s" % (r["backing"], r["mode"], r["cluster"],
                                             r.get("error") or r.get("warning")))
    return bad


def table(rows, w):
    cols = ["system", "backing", "mode", "cl"] + [c for c, _ in SHOWN] + ["cycles", "insn/fault"]
    fmt = "%-6s %-9s %-10s %3s" + " %8s" * (len(SHOWN) + 2)
    lines = ["per page touched (regions: %s)" % (rows[0]["model"] if rows else "-"),
             fmt % tuple(cols)]
    for r in rows:
        pp = per(r["cost"], int(r["pages"]))
        pf = per(r["cost"], int(r["regions"]))
        vals = ["%.0f" % pp[k] if pp[k] >= 10 or pp[k] == 0 else "%.1f" % pp[k]
                for _, k in SHOWN]
        mode = r["mode"] if r["mode"] == r["served"] else r["mode"] + ">" + r["served"]
        lines.append(fmt % tuple([r["system"], r["backing"], mode, r["cluster"]] + vals
                                 + ["%.0f" % modelled_cycles(pp, w), "%.0f" % pf["insns"]]))
    return "\n".join(lines)


def ratios(rows, w):
    """grant-map/copy and grant-DMA/copy per backing and cluster, in
    modelled cycles, bytes moved and instructions; Ferry against Linux."""
    out = []
    cells = {(r["backing"], r["mode"], r["cluster"]): r for r in rows if r["mode"] == r["served"]}

    def pp(r):
        return per(r["cost"], int(r["pages"]))

    for (backing, mode, cl), r in sorted(cells.items()):
        base = cells.get((backing, "copy", cl))
        if mode == "copy" or not base or r["system"] != "ferry":
            continue
        a, b = pp(r), pp(base)
        out.append("%-9s cl %-2s %-5s/copy: modelled cycles %.2f, bytes moved %.2f, "
                   "instructions %.2f" % (
                       backing, cl, mode, modelled_cycles(a, w) / modelled_cycles(b, w),
                       (a["bytes_loaded"] + a["bytes_stored"])
                       / max(b["bytes_loaded"] + b["bytes_stored"], 1),
                       a["insns"] / max(b["insns"], 1)))
    lx = {r["mode"]: pp(r) for r in rows if r["system"] == "linux"}
    pairs = [(("ram", "grant", "1"), "uffd_copy"), (("disk-dma", "dma", "1"), "swapin_pc0"),
             (("disk-dma", "dma", "8"), "swapin_pc3")]
    for key, test in pairs:
        if key in cells and test in lx:
            a = pp(cells[key])
            out.append("Ferry %s %s cl %s / Linux %s: modelled cycles %.2f, instructions %.2f" % (
                key[0], key[1], key[2], test, modelled_cycles(a, w) / modelled_cycles(lx[test], w),
                a["insns"] / max(lx[test]["insns"], 1)))
    return out


def write_csv(rows, path, w):
    counters = list(rows[0]["cost"]) if rows else []
    fields = ["system", "backing", "mode", "served", "cluster", "faults", "pages", "regions",
              "modelled_cycles_per_page", "model"] + counters
    with open(path, "w", newline="") as f:
        out = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        out.writeheader()
        for r in rows:
            out.writerow(dict(r, modelled_cycles_per_page="%.1f" % modelled_cycles(
                per(r["cost"], int(r["pages"])), w), **r["cost"]))


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--pages", type=int, default=128)
    p.add_argument("--boots", default="ram,disk-dma")
    p.add_argument("--linux-pages", type=int, default=256)
    p.add_argument("--no-linux", action="store_true")
    a = p.parse_args()
    w = weights()
    os.makedirs(OUT, exist_ok=True)
    rows = run_ferry(a.boots.split(","), a.rounds, a.pages)
    if not a.no_linux:
        rows += run_linux(a.linux_pages)
    print()
    print(table(rows, w))
    print("\nRatios (per page; modelled cycles from the weights in docs/BENCHMARKS.md):")
    for line in ratios(rows, w):
        print("  " + line)
    path = os.path.join(OUT, "cost.csv")
    write_csv(rows, path, w)
    print("\nwrote %s (%s)" % (path, datetime.datetime.now().strftime("%Y-%m-%d %H:%M")))
    bad = check_rows(rows)
    for b in bad:
        print("cost: " + b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
