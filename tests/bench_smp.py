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

Both boots run under make bench's cost-model plugin (tools/costmodel/,
lazy=0: it counts from the start, so no translation-cache reset happens
with two vCPU threads), which counts every CPU's work inside the cells'
regions (each page the client reads, each page-out call; each of
pagebench's timed faults): IPIs as the local APIC's ICR sees them sent
(shootdowns, and the wake-ups the kernel counters do not count), invlpg,
kernel instructions.

Counts, not times: `-icount` would run both vCPUs on one thread, so these
boots run without it, and their cycle figures are host-dependent; so are
instruction counts where a CPU spins (waiting for a lock or an
acknowledgement spins for as long as the other vCPU's host thread takes).
The modelled shootdown cost adds the IPI and invlpg weights of
docs/BENCHMARKS.md's cost-model table to every fault.  Writes
build/bench/smp.csv.

  python3 tests/bench_smp.py [--rounds N] [--pages N] [--no-peer] [--no-plugin]"""

import argparse
import csv
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_cost  # noqa: E402
import ferry  # noqa: E402

OUT = os.path.join(ferry.BUILD, "bench")
MEM = "256M"
DOC = os.path.join(ferry.ROOT, "docs", "BENCHMARKS.md")
LINE = re.compile(r"^smp kind=(\S+) holder=(\S+) mode=(\S+) cluster=(\d+) served=(\S+) "
                  r"requests=(\d+) pages=(\d+) ipis=(\d+) remote=(\d+) acks=(\d+) "
                  r"wait_cycles=(\d+) all_ipis=(\d+) lock_wakes=(\d+) tag=(\d+)$", re.M)
# The plugin's counters kept per row, and per fault.
PLUGIN_KEYS = ["regions", "ipis", "invlpg", "insns_kernel", "iret", "hlt", "cr3_writes"]
FIELDS = ["system", "kind", "holder", "mode", "cluster", "served", "requests", "pages", "ipis",
          "remote", "acks", "wait_cycles", "ipis_per_fault", "remote_per_fault",
          "ipis_per_page", "remote_per_page", "modelled_per_page", "median_cycles", "tag",
          "all_ipis", "lock_wakes", "all_ipis_per_page", "lock_wakes_per_page"] + \
    ["plugin_" + k for k in PLUGIN_KEYS] + \
    ["apic_ipis_per_page", "invlpg_per_page", "kernel_insns_per_page"]
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
        r.update(zip(["requests", "pages", "ipis", "remote", "acks", "wait_cycles", "all_ipis",
                      "lock_wakes", "tag"], (int(x) for x in m.groups()[5:])))
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
    if "all_ipis" in r:
        r["all_ipis_per_page"] = ratio(r["all_ipis"], r["pages"])
        r["lock_wakes_per_page"] = ratio(r["lock_wakes"], r["pages"])
    c = r.get("cost")
    if c:
        for k in PLUGIN_KEYS:
            r["plugin_" + k] = c[k]
        # Pages read in regions (a page-in cell, pagebench), or paged out.
        n = c["regions"] if r["kind"] != "pageout" else r["pages"]
        r["apic_ipis_per_page"] = ratio(c["ipis"], n)
        r["invlpg_per_page"] = ratio(c["invlpg"], n)
        r["kernel_insns_per_page"] = ratio(c["insns_kernel"], n)
    return r


def plugin_extra(name, plugin):
    """QEMU options for the plugin (or none), and the counters file's path."""
    path = os.path.join(OUT, "cost-smp-%s.csv" % name)
    bench_cost.fresh(path)
    return (bench_cost.plugin_args(path, lazy=0) if plugin else []), path


def plugin_counters(path, problems, what):
    """{tag: counters summed over the vCPUs}, or {} (a problem noted)."""
    if not os.path.exists(path):
        problems.append("%s: the plugin wrote no counters" % what)
        return {}
    head, _, by_tag = bench_cost.read_counters(path)
    if "marker_errors=0" not in head:
        problems.append("%s: the plugin reports %s" % (what, head))
    return by_tag


def run_ferry(rounds, pages, problems, cpus=2, plugin=True):
    """One boot: `bench smp`; => rows (with the plugin's counters: "cost")."""
    from cases.swap import store_modules
    iso = ferry.make_iso(os.path.join(OUT, "smp.iso"), "", store_modules("ram 4096"))
    extra, path = plugin_extra("ferry", plugin)
    g = ferry.Guest(iso, mem=MEM, name="bench-smp", cpus=cpus, accel="tcg", extra=extra,
                    log_path=os.path.join(OUT, "serial-smp.log"))
    try:
        g.start()
        g.expect(r"ferry> ", timeout=300)
        g.expect(r"fs: pager of file system .*\n", timeout=300)
        start = len(g.buf)
        g.send("bench smp %d %d\r" % (rounds, pages))
        m = g.expect_line(r"bench smp: .*", timeout=3600, start=start)
        if m.group(0) != "bench smp: done":
            raise RuntimeError("bench smp failed: " + m.group(0))
        rows = parse(g.buf[start:])
    finally:
        g.kill()
    if plugin:
        by_tag = plugin_counters(path, problems, "ferry")
        for r in rows:
            if r["tag"] in by_tag:
                r["cost"] = by_tag[r["tag"]]
                want = r["pages"] if r["kind"] == "pagein" else rounds
                if r["cost"]["regions"] != want:
                    problems.append("ferry %s %s %s/%d: %d regions, want %d" % (
                        r["kind"], r["holder"], r["mode"], r["cluster"],
                        r["cost"]["regions"], want))
    return rows


def run_peer(pages, reps, problems, plugin=True):
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
        extra, path = plugin_extra("linux-" + holder, plugin)
        results, _, done, _, _ = peer.boot("tcg", args + extra,
                                           os.path.join(OUT, "serial-smp-linux-%s.log" % holder))
        if not done:
            problems.append("the Linux peer did not finish (%s)" % holder)
        by_tag = plugin_counters(path, problems, "linux " + holder) if plugin else {}
        for name, r in results.items():
            # The plugin's regions: every timed fault of every repetition.
            c = by_tag.get(r.get("cost_tag"))
            rows.append({"kind": name, "holder": holder, "mode": "-", "cluster": 0, "served": "-",
                         "requests": r["pages"], "pages": r["pages"], "tag": r.get("cost_tag"),
                         "ipis": r.get("tlb_ipis", 0), "remote": 0, "acks": 0, "wait_cycles": 0,
                         "median_cycles": r["median"], **({"cost": c} if c else {})})
    return rows


def table(rows):
    """Per page: the kernel's shootdown IPIs and their modelled cost, every
    IPI it sent and of them the kernel lock's wake-ups (Ferry), and the
    plugin's IPIs (the APIC's, inside the regions), invlpg on every CPU
    and kernel instructions; Linux's median fault in TSC cycles."""
    fmt = "%-6s %-10s %-6s %-5s %3s %-5s %6s %7s %8s %7s %7s %7s %7s %8s %9s"
    out = [fmt % ("system", "kind", "holder", "mode", "cl", "srv", "pages", "tlb/pg",
                  "model/pg", "all/pg", "wake/pg", "apic/pg", "invlpg", "kins/pg", "median")]
    for r in rows:
        out.append(fmt % (
            r["system"], r["kind"], r["holder"], r["mode"], r["cluster"] or "-", r["served"],
            r["pages"], r["ipis_per_page"], r["modelled_per_page"],
            r.get("all_ipis_per_page", "-"), r.get("lock_wakes_per_page", "-"),
            r.get("apic_ipis_per_page", "-"), r.get("invlpg_per_page", "-"),
            r.get("kernel_insns_per_page", "-"), r.get("median_cycles", "-")))
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
    p.add_argument("--no-plugin", action="store_true", help="without the cost-model plugin")
    a = p.parse_args(argv)
    os.makedirs(OUT, exist_ok=True)
    os.environ["FERRY_SMP"] = "2"   # the peer's qemu_base_args too
    w = weights()
    print("bench-smp: Ferry on 2 CPUs, %d rounds x %d pages per cell" % (a.rounds, a.pages),
          flush=True)
    plugin = not a.no_plugin
    if plugin and not os.path.exists(bench_cost.PLUGIN):
        print("bench-smp: %s missing (make cost-plugin): no plugin counters" % bench_cost.PLUGIN)
        plugin = False
    problems = []
    rows = [dict(r, system="ferry") for r in run_ferry(a.rounds, a.pages, problems,
                                                       plugin=plugin)]
    if not a.no_peer:
        print("bench-smp: Linux on 2 CPUs, %d pages x %d repetitions" % (a.peer_pages,
                                                                       a.peer_reps), flush=True)
        try:
            rows += [dict(r, system="linux") for r in run_peer(a.peer_pages, a.peer_reps,
                                                               problems, plugin=plugin)]
        except SystemExit as e:
            print("bench-smp: no Linux peer: %s" % e, flush=True)
    rows = [derive(r, w) for r in rows]
    print(table(rows))
    path = os.path.join(OUT, "smp.csv")
    write_csv(rows, path)
    print("bench-smp: wrote %s (weights: ipi %s, invlpg %s cycles)" % (
        path, w.get("ipi"), w.get("invlpg")))
    for b in problems:
        print("bench-smp: " + b)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
