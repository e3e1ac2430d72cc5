#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make bench-iommu: what the IOMMU costs on the fault path, and what
zero-touch page-in saves.

One q35 boot per variant, all under `-icount shift=0` (guest instructions,
deterministic but for time halted waiting for the disk, reported apart):

  off      iommu=off: the same machine, translation off (DMA trusted)
  window   the default: one page-selective invalidation per grant window
  page     iommu_inval=page: one invalidation and wait per page (strict)
  queue    iommu_inval=queue: queued invalidation, one wait per window
  zeroing  zerotouch=off: DMA swap page-ins take pre-zeroed frames

In each boot the guest runs `bench faults ROUNDS PAGES anon disk-dma`
(tests/bench.py's fault bench: the swap partition through ata, every fill
mode and cluster 1, 8, 32), with the debug console's `iommu` counters read
before and after: the unit's register reads and writes and invalidations
per fault.  Writes a table and build/bench/iommu.csv."""

import argparse
import csv
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
import ferry  # noqa: E402

VARIANTS = [
    ("off", "iommu=off"),
    ("window", ""),
    ("page", "iommu_inval=page"),
    ("queue", "iommu_inval=queue"),
    ("zeroing", "zerotouch=off"),
]
COUNTERS = ("mmio-reads", "mmio-writes", "invalidations")
FIELDS = ["variant", "mode", "served", "cluster", "faults", "median", "mean", "per_page",
          "pageout_per_page", "halted_per_fault", "taken_back", "mmio_per_fault",
          "inval_per_fault"]


def kdb_counters(g):
    """The `units:` line of kdb `iommu` ({} when translation is off)."""
    start = len(g.buf)
    g.send("\x1d")
    g.expect(r"kdb> ", timeout=30, start=start)
    g.send("iommu\r")
    g.expect(r"^\[kdb end iommu\]", timeout=30, start=start)
    out = g.buf[start:]
    g.send("continue\r")
    g.expect(r"\[kdb\] continuing", timeout=30, start=start)
    m = re.search(r"^units: (.*)$", out, re.M)
    if not m:
        return {}
    words = m.group(1).split()
    return {words[i]: int(words[i + 1]) for i in range(0, len(words) - 1, 2)}


def run_variant(name, cmdline, rounds, pages):
    iso = ferry.make_iso(os.path.join(bench.OUT, "iommu-%s.iso" % name), cmdline,
                         ferry.default_modules())
    g = ferry.Guest(iso, mem=bench.MEM, accel="tcg", icount=True, name="iommu-" + name,
                    log_path=os.path.join(bench.OUT, "serial-iommu-%s.log" % name),
                    drives=[ferry.ide_drive(ferry.DISK, snapshot=True)], mach="q35")
    try:
        g.start()
        g.expect(r"ferry> ", timeout=120)
        before = kdb_counters(g)
        g.expect(r"ferry> ", timeout=60, start=len(g.buf) - 20)
        _, rows = bench.run_guest(g, rounds, pages, 0, progress=False,
                                  backings=(("anon", "disk-dma"),), primitives=False)
        after = kdb_counters(g)
    finally:
        g.kill()
    for r in rows:
        r["variant"] = name
    # The unit's counters cover the whole run: spread over its faults.
    faults = sum(int(r["faults"]) for r in rows) or 1
    if before and after:
        mmio = sum(after[c] - before[c] for c in COUNTERS[:2])
        inval = after["invalidations"] - before["invalidations"]
        for r in rows:
            r["mmio_per_fault"] = "%.1f" % (mmio / faults)
            r["inval_per_fault"] = "%.2f" % (inval / faults)
    return rows


def main(argv):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--pages", type=int, default=128)
    a = p.parse_args(argv)
    os.makedirs(bench.OUT, exist_ok=True)
    rows = []
    for name, cmdline in VARIANTS:
        print("iommu bench: %s (%s)" % (name, cmdline or "defaults"), flush=True)
        rows += run_variant(name, cmdline, a.rounds, a.pages)
    path = os.path.join(bench.OUT, "iommu.csv")
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    print("\n%-8s %-6s %-6s %3s %8s %9s %9s %9s %10s %9s %6s %6s" % (
        "variant", "mode", "served", "cl", "faults", "median", "per-page", "pageout",
        "taken-back", "halted", "mmio", "inval"))
    for r in rows:
        print("%-8s %-6s %-6s %3s %8s %9s %9s %9s %10s %9s %6s %6s" % (
            r["variant"], r["mode"], r["served"], r["cluster"], r["faults"], r["median"],
            r["per_page"], r["pageout_per_page"], r["taken_back"],
            r.get("halted_per_fault", "?"), r.get("mmio_per_fault", "-"),
            r.get("inval_per_fault", "-")))
    print("\n(instructions, -icount shift=0; mmio and inval: the IOMMU's register accesses and"
          " invalidations per fault, page-outs included)\nwrote %s" % path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
