# SPDX-License-Identifier: MIT
"""`make bench` is a benchmark, not a test: here we only check that a tiny
run completes, proves its pages left memory, and writes a well-formed CSV."""

import csv
import os

import bench
import ferry
from cases.registry import case


@case("bench_quick", mem="256M")
def bench_quick(g):
    """One round of every fault-path cell, written as results.csv."""
    prims, rows = bench.run_guest(g, rounds=1, pages=64, iters=500, progress=False)
    out = os.path.join(ferry.BUILD, "test-bench")
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "results.csv")
    bench.write_csv({"tcg": (prims, rows)}, path, {"qemu": "test", "mem": "256M", "date": "-"})
    problems = []
    with open(path) as f:
        read = list(csv.DictReader(f))
    if len(read) != 9:
        problems.append("%d rows, want 3 modes x 3 clusters" % len(read))
    for r in read:
        if set(r) != set(bench.FIELDS):
            problems.append("columns differ")
            break
        if int(r["faults"]) <= 0 or int(r["median"]) <= 0:
            problems.append("empty cell %s/%s" % (r["mode"], r["cluster"]))
    bad = [r for r in rows if "error" in r or "warning" in r]
    if bad:
        problems.append("%d cells with data errors or pages that never left memory" % len(bad))
    for name in ("null_syscall", "ipc_call", "ctxsw_yield"):
        if name not in prims:
            problems.append("no %s figure" % name)
    return [("qemu/bench_quick", not problems, "; ".join(problems))]
