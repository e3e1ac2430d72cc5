#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make bench-smp (and the last part of make bench): TLB shootdowns on two
CPUs, Ferry against Linux.

Ferry: a boot with 2 CPUs on multi-threaded TCG and swapd's RAM store runs
`bench smp ROUNDS PAGES` (user/bench/smp.c): page-ins served by the bench
itself as the pager (the holder of the grants), each fill mode and cluster
size, the holder's second thread spinning on the other CPU (`spread`) or
not (`alone`); page-outs of the bench's own pages likewise.  The kernel's
counters give shootdown IPIs and pages invalidated on other CPUs per fault
and per page.

Linux 6.12 (peer/linux, same QEMU options, 2 CPUs): pagebench's uffd_copy
and uffd_move with the pager thread on the other CPU (`-p 1`) or the same
one (`-p 0`), counting the TLB shootdown IPIs every CPU took
(/proc/interrupts), and the swap-in tests.

Counts, not times: `-icount` would run both vCPUs on one thread, so these
boots run without it, and their cycle figures are host-dependent.  The
modelled cost adds the IPI and invlpg weights of docs/BENCHMARKS.md's
cost-model table to every fault.  Writes build/bench/smp.csv.

  python3 tests/bench_smp.py [--rounds N] [--pages N] [--no-peer]"""

import argparse
import csv
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ferry  # noqa: E402

OUT = os.path.join(ferry.BUILD, "bench")
MEM = "256M"
DOC = os.path.join(ferry.ROOT, "docs", "BENCHMARKS.md")
LINE = re.compile(r"^smp kind=(\S+) holder=(\S+) mode=(\S+) cluster=(\d+) served=(\S+) "
                  r"requests=(\d+) pages=(\d+) ipis=(\d+) remote=(\d+) acks=(\d+) "
                  r"wait_cycles=(\d+)$", re.M)
FIELDS = ["system", "kind", "holder", "mode", "cluster", "served", "requests", "pages", "ipis",
          "remote", "acks", "wait_cycles", "ipis_per_fault", "remote_per_fault",
          "ipis_per_page", "remote_per_page", "modelled_per_page", "median_cycles"]
PEER_TESTS = ["uffd_copy", "uffd_move", "swapin_pc0", "swapin_pc3"]


def weights(doc=DOC):
    """The cost model's weights (cycles) from BENCHMARKS.md's table."""
    with open(doc) as f:
        m = re.search(r"<!-- cost weights begin -->(.*?)<!-- cost weights end -->", f.read(), re.S)
    table = {}
    for row in (m.group(1) if m else "").splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0].startswith("`"):
            table[cells[0].strip("`")] = float(cells[1])
    return table


def parse(text):
    """`bench smp` lines as dicts, counts as ints."""
    rows = []
    for m in LINE.finditer(text):
        r = dict(zip(["kind", "holder", "mode", "cluster", "served"], m.groups()[:5]))
        r.update(zip(["requests", "pages", "ipis", "remote", "acks", "wait_cycles"],
                     (int(x) for x in m.groups()[5:])))
        r["cluster"] = int(r["cluster"])
        rows.append(r)
    return rows


def derive(r, w):
    """Per fault and per page figures of one row (ratios; None without a divisor)."""
    def ratio(a, b):
        return round(a / b, 3) if b else None
    r["ipis_per_fault"] = ratio(r["ipis"], r["requests"])
    r["remote_per_fault"] = ratio(r["remote"], r["requests"])
    r["ipis_per_page"] = ratio(r["ipis"], r["pages"])
    r["remote_per_page"] = ratio(r["remote"], r["pages"])
    cost = r["ipis"] * w.get("ipi", 0) + r["remote"] * w.get("invlpg", 0)
    r["modelled_per_page"] = ratio(cost, r["pages"])
    return r


def run_ferry(rounds, pages, cpus=2):
    """One boot: `bench smp`; => rows."""
    from cases.swap import store_modules
    iso = ferry.make_iso(os.path.join(OUT, "smp.iso"), "", store_modules("ram 4096"))
    g = ferry.Guest(iso, mem=MEM, name="bench-smp", cpus=cpus, accel="tcg",
                    log_path=os.path.join(OUT, "serial-smp.log"))
    try:
        g.start()
        g.expect(r"ferry> ", timeout=120)
        g.expect(r"fs: pager of file system .*\n", timeout=120)
        start = len(g.buf)
        g.send("bench smp %d %d\r" % (rounds, pages))
        m = g.expect_line(r"bench smp: .*", timeout=1800, start=start)
        if m.group(0) != "bench smp: done":
            raise RuntimeError("bench smp failed: " + m.group(0))
        return parse(g.buf[start:])
    finally:
        g.kill()


def run_peer(pages, reps):
    """Linux on 2 CPUs, the pager on the other CPU and on the same one;
    => rows, or [] with a note when the peer cannot run here."""
    sys.path.insert(0, os.path.join(ferry.ROOT, "peer", "linux"))
    import fetch
    import run as peer
    kernel = fetch.fetch()
    work = os.path.join(fetch.cache_dir(), "work")
    os.makedirs(work, exist_ok=True)
    pagebench = peer.build_pagebench(os.path.join(work, "pagebench"))
    initrd = peer.build_initramfs(os.path.join(work, "initramfs.cpio.gz"), kernel, pagebench)
    rows = []
    for holder, cpu in (("spread", 1), ("alone", 0)):
        append = "%s pb_pages=%d pb_reps=%d pb_warm=64 pb_pager_cpu=%d pb_tests=%s" % (
            peer.APPEND, pages, reps, cpu, ",".join(PEER_TESTS))
        args = peer.qemu_args("tcg", os.path.join(fetch.kernel_dir(), kernel["vmlinuz"]),
                              initrd, append)
        results, _, done, _, _ = peer.boot("tcg", args, os.path.join(OUT, "serial-smp-linux-%s.log"
                                                                 % holder))
        if not done:
            print("bench-smp: the Linux peer did not finish (%s)" % holder, flush=True)
        for name, r in results.items():
            rows.append({"kind": name, "holder": holder, "mode": "-", "cluster": 0, "served": "-",
                         "requests": r["pages"], "pages": r["pages"],
                         "ipis": r.get("tlb_ipis", 0), "remote": 0, "acks": 0, "wait_cycles": 0,
                         "median_cycles": r["median"]})
    return rows


def table(rows):
    out = ["%-7s %-10s %-6s %-5s %7s %-5s %6s %9s %10s %9s %10s %9s %9s" % (
        "system", "kind", "holder", "mode", "cluster", "srv", "pages", "ipis/flt", "remote/flt",
        "ipis/pg", "remote/pg", "model/pg", "median")]
    for r in rows:
        out.append("%-7s %-10s %-6s %-5s %7s %-5s %6d %9s %10s %9s %10s %9s %9s" % (
            r["system"], r["kind"], r["holder"], r["mode"], r["cluster"] or "-", r["served"],
            r["pages"], r["ipis_per_fault"], r["remote_per_fault"], r["ipis_per_page"],
            r["remote_per_page"], r["modelled_per_page"], r.get("median_cycles", "-")))
    return "\n".join(out)


def write_csv(rows, path):
    with open(path, "w", newline="") as f:
        wr = csv.DictWriter(f, fieldnames=FIELDS, extrasaction="ignore")
        wr.writeheader()
        for r in rows:
            wr.writerow(r)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--pages", type=int, default=256)
    p.add_argument("--peer-pages", type=int, default=512)
    p.add_argument("--peer-reps", type=int, default=3)
    p.add_argument("--no-peer", action="store_true")
    a = p.parse_args(argv)
    os.makedirs(OUT, exist_ok=True)
    os.environ["FERRY_SMP"] = "2"   # the peer's qemu_base_args too
    w = weights()
    print("bench-smp: Ferry on 2 CPUs, %d rounds x %d pages per cell" % (a.rounds, a.pages),
          flush=True)
    rows = [dict(r, system="ferry") for r in run_ferry(a.rounds, a.pages)]
    if not a.no_peer:
        print("bench-smp: Linux on 2 CPUs, %d pages x %d repetitions" % (a.peer_pages,
                                                                       a.peer_reps), flush=True)
        try:
            rows += [dict(r, system="linux") for r in run_peer(a.peer_pages, a.peer_reps)]
        except SystemExit as e:
            print("bench-smp: no Linux peer: %s" % e, flush=True)
    rows = [derive(r, w) for r in rows]
    print(table(rows))
    path = os.path.join(OUT, "smp.csv")
    write_csv(rows, path)
    print("bench-smp: wrote %s (weights: ipi %s, invlpg %s cycles)" % (
        path, w.get("ipi"), w.get("invlpg")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
