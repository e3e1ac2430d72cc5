#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make bench-peer: Linux 6.12 measured the way `make bench` measures Ferry.

Fetches Debian's kernel into the peer's cache (fetch.py) unless it is
there, builds peer/linux/pagebench.c with the project's clang (static,
against Debian's glibc: libc6-dev), packs it with busybox and the IDE and
NVMe disk modules into an initramfs, and boots Linux with the QEMU options
Ferry's benchmark boots use (tests/ferry.py's qemu_base_args: the same
machine and memory, build/disk.img with snapshot=on, TCG, `-icount
shift=0` for the icount mode), Linux swapping to Ferry's own swap
partition: once on the IDE disk (every test), once on the same image as
an NVMe disk (the swap-in tests, named TEST@nvme: `--disks`).  The icount boot runs under the cost-model plugin
(tools/costmodel/, as `make bench` runs Ferry): pagebench marks its timed
accesses, and the counters per test and their attribution to Linux's
functions (the guest's /proc/kallsyms, dumped at the end: Debian's
System.map is a stub; pagebench's own symbols) go into the results.  Prints
a table and writes the figures, with the date, kernel and QEMU versions,
to a results file in the cache, where `make bench` finds the newest one.

  python3 peer/linux/run.py [--modes icount,tcg] [--disks ide,nvme] [--pages N] [--reps N]
                            [TEST...]"""

import argparse
import base64
import datetime
import glob
import gzip
import json
import os
import re
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))
import bench_cost  # noqa: E402
import elfsyms  # noqa: E402
import fetch  # noqa: E402
import ferry  # noqa: E402

MEM = "256M"    # tests/bench.py's MEM: both sides get the same guest memory
APPEND = ("console=ttyS0 quiet panic=-1 zswap.enabled=0 transparent_hugepage=never "
          "mitigations=off")
CFLAGS = ["-static", "-O2", "-pthread", "-fuse-ld=lld", "-std=gnu11",
          "-Wall", "-Wextra", "-Werror",
          # ferry/costmark.h from Ferry's headers, after the system's: not its stdio.h
          "-idirafter", os.path.join(ROOT, "lib", "include")]
BOOT_TIMEOUT = 1200
RESULT = re.compile(r"^RESULT (\S+) (.*)$")


def results_dir(cache=None):
    return os.path.join(cache or fetch.cache_dir(), "results")


def latest_results(cache=None):
    """The newest results file with trustworthy icount figures (complete,
    every page proven out of memory, every page's data right): => (path,
    data) or None."""
    for path in sorted(glob.glob(os.path.join(results_dir(cache), "linux-peer-*.json")),
                       reverse=True):
        try:
            with open(path) as f:
                data = json.load(f)
        except (OSError, ValueError):
            continue
        icount = data.get("modes", {}).get("icount", {})
        if icount.get("results") and icount.get("complete") and not data.get("problems"):
            return path, data
    return None


def build_pagebench(out):
    src = os.path.join(HERE, "pagebench.c")
    p = subprocess.run(["clang"] + CFLAGS + ["-o", out, src], capture_output=True, text=True)
    if p.returncode != 0:
        hint = ""
        if "libc.a" in p.stderr or "cannot find -lc" in p.stderr or "-lpthread" in p.stderr:
            hint = "\n(a static build needs Debian's libc6-dev: sh scripts/deps.sh peer)"
        sys.exit("peer: building pagebench failed:\n%s%s" % (p.stderr.strip(), hint))
    return out


def cpio_entry(name, mode, data=b"", rdev=(0, 0), ino=[0]):
    """One file of a newc ("070701") cpio archive, as the kernel unpacks it."""
    ino[0] += 1
    name_b = name.encode() + b"\0"
    fields = [ino[0], mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name_b), 0]
    head = b"070701" + b"".join(b"%08X" % v for v in fields) + name_b

    def pad(b):
        return b + b"\0" * (-len(b) % 4)

    return pad(head) + pad(data)


def build_initramfs(out, kernel, pagebench):
    """A gzipped cpio: /init, busybox, pagebench and the disk modules."""
    kdir = fetch.kernel_dir()

    def read(path):
        with open(path, "rb") as f:
            return f.read()

    parts = [cpio_entry(d, 0o40755) for d in
             ("bin", "sbin", "usr", "usr/bin", "usr/sbin", "dev", "proc", "sys", "tmp",
              "lib", "lib/modules")]
    parts.append(cpio_entry("dev/console", 0o20600, rdev=(5, 1)))
    parts.append(cpio_entry("init", 0o100755, read(os.path.join(HERE, "init"))))
    parts.append(cpio_entry("bin/busybox", 0o100755, read(os.path.join(kdir, kernel["busybox"]))))
    parts.append(cpio_entry("pagebench", 0o100755, read(pagebench)))
    for m in kernel["modules"]:
        parts.append(cpio_entry("lib/modules/%s.ko" % m, 0o100644,
                                read(os.path.join(kdir, "modules", m + ".ko"))))
    parts.append(cpio_entry("lib/modules/ORDER", 0o100644,
                            ("\n".join(kernel["modules"]) + "\n").encode()))
    parts.append(cpio_entry("TRAILER!!!", 0))
    with gzip.open(out, "wb", compresslevel=6) as f:
        f.write(b"".join(parts))
    return out


def without(args, flag):
    """args less every `flag VALUE` pair."""
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
        elif a == flag:
            skip = True
        else:
            out.append(a)
    return out


def qemu_args(mode, kernel, initrd, append, disk="ide"):
    """Ferry's benchmark boot options (tests/ferry.py), booting Linux
    instead of the ISO: the same machine, memory, disk (on IDE or NVMe)
    and accelerator."""
    args = ferry.qemu_base_args("no-iso", MEM, "tcg", mode == "icount",
                                drives=[ferry.disk_drive(ferry.DISK, disk, snapshot=True)])
    args = without(without(args, "-cdrom"), "-boot")
    return args + ["-kernel", kernel, "-initrd", initrd, "-append", append,
                   "-serial", "stdio", "-monitor", "none"]


def boot(mode, args, log_path):
    """Runs one boot; => (RESULT dicts by test, PEER lines, complete?, wall
    seconds, the guest's /proc/kallsyms lines)."""
    results, info, done, kallsyms, encoded = {}, [], False, None, []
    t0 = time.monotonic()
    with open(log_path, "w") as log:
        log.write("# " + " ".join(args) + "\n")
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, errors="replace")
        timer = threading.Timer(BOOT_TIMEOUT, proc.kill)
        timer.start()
        try:
            for line in proc.stdout:    # whole lines only: readline waits for "\n"
                line = line.replace("\r", "").rstrip("\n")
                if kallsyms is None and line == "PEER kallsyms begin":
                    kallsyms = []
                elif kallsyms is not None and not encoded and line == "PEER kallsyms end":
                    encoded = kallsyms
                    log.write("(%d lines of base64: /proc/kallsyms, gzipped)\n" % len(encoded))
                elif kallsyms is not None and not encoded:
                    kallsyms.append(line)
                    continue
                log.write(line + "\n")
                m = RESULT.match(line)
                if m:
                    kv = dict(f.split("=", 1) for f in m.group(2).split() if "=" in f)
                    results[m.group(1)] = {k: int(v) for k, v in kv.items()}
                    print("  %s %-12s median %8s  mean %8s" % (mode, m.group(1), kv.get("median"),
                                                              kv.get("mean")), flush=True)
                elif line.startswith("PEER ") or line.startswith(("FATAL", "WARN", "SKIP")):
                    info.append(line)
                    if not line.startswith("PEER "):
                        print("  %s %s" % (mode, line), flush=True)
                elif line == "DONE":
                    done = True
            proc.wait()
        finally:
            timer.cancel()
    return results, info, done, time.monotonic() - t0, kallsyms_of(encoded)


def linux_resolver(kallsyms, pagebench):
    """Names for the plugin's sites: the running kernel's and modules' text
    symbols (the guest's /proc/kallsyms) and pagebench, the one user
    program in a region."""
    return bench_cost.Resolver(elfsyms.nm_lines(kallsyms),
                               [("pagebench", elfsyms.Elf(pagebench))])


def kallsyms_of(encoded):
    """The base64 lines of init's gzipped /proc/kallsyms => its lines."""
    try:
        return gzip.decompress(base64.b64decode("".join(encoded))).decode().splitlines()
    except (ValueError, OSError, EOFError):
        return []


def counted(results, counters_path, attr_path, resolver):
    """The plugin's files => {"model", "tests": {test: counters},
    "attribution": {test: {symbol: counters}}}, by the tags pagebench
    reported."""
    head, _, by_tag = bench_cost.read_counters(counters_path)
    sites = bench_cost.read_attr(attr_path)
    out = {"model": head, "tests": {}, "attribution": {}}
    for name, r in results.items():
        tag = r.get("cost_tag")
        if tag in by_tag:
            out["tests"][name] = by_tag[tag]
            out["attribution"][name] = bench_cost.trimmed(
                bench_cost.attribute(sites.get(tag, []), resolver))
    return out


def qemu_version():
    out = subprocess.run([ferry.QEMU, "--version"], capture_output=True, text=True).stdout
    m = re.search(r"version (\S+)", out)
    return m.group(1) if m else "?"


def table(modes):
    lines = ["%-7s %-11s %6s %9s %9s %9s %9s %9s %17s %5s %6s %5s" % (
        "mode", "test", "pages", "median", "p10", "p90", "p99", "mean", "median range",
        "res", "pswpin", "bad")]
    for mode, run in modes.items():
        for name, r in run["results"].items():
            lines.append("%-7s %-11s %6d %9d %9d %9d %9d %9d %17s %5d %6d %5d" % (
                mode, name, r["pages"], r["median"], r["p10"], r["p90"], r["p99"], r["mean"],
                "%d-%d" % (r["med_min"], r["med_max"]), r["resident_max"], r["pswpin"],
                r["mismatches"] + r["errors"]))
    return "\n".join(lines)


def problems(modes):
    """Figures that must not be believed: pages that never left memory,
    data that came back wrong, a boot that did not finish."""
    bad = []
    for mode, run in modes.items():
        if not run["complete"]:
            bad.append("%s: pagebench did not finish (see %s)" % (mode, run["log"]))
        for name, r in run["results"].items():
            if r["mismatches"] or r["errors"]:
                bad.append("%s %s: %d pages with wrong data, %d pager errors" % (
                    mode, name, r["mismatches"], r["errors"]))
            if r["resident_max"]:
                bad.append("%s %s: %d pages still resident before the timed reads" % (
                    mode, name, r["resident_max"]))
        model = run.get("cost", {}).get("model", "")
        if model and not ("marker_errors=0" in model and "announce_errors=0" in model):
            bad.append("%s: the cost-model plugin reports %s" % (mode, model))
    return bad


# pagebench's tests that read from the disk: the only ones an NVMe boot runs.
DISK_TESTS = ("swapin_pc0", "swapin_pc3", "swapin_pc5")


def run_disk(mode, disk, a, kernel, initrd, pagebench, cache):
    """One boot of Linux in `mode` swapping to the disk on `disk`.  => the
    mode's record (results named TEST@nvme for NVMe), or None if it has
    no test to run."""
    if disk not in ("ide", "nvme"):
        sys.exit("peer: unknown disk %r (ide or nvme)" % disk)
    tests = a.tests if disk == "ide" else [t for t in (a.tests or DISK_TESTS) if t in DISK_TESTS]
    if not tests and disk != "ide":
        return None
    suffix = "" if disk == "ide" else "-" + disk
    append = "%s pb_pages=%d pb_reps=%d pb_warm=%d pb_tests=%s pb_disk=%s" % (
        APPEND, a.pages, a.reps, a.warm, ",".join(tests), disk)
    args = qemu_args(mode, os.path.join(fetch.kernel_dir(), kernel["vmlinuz"]), initrd, append,
                     disk)
    plugin = mode == "icount" and not a.no_plugin
    counters = os.path.join(results_dir(cache), "cost-%s%s.csv" % (mode, suffix))
    attr = os.path.join(results_dir(cache), "attr-%s%s.csv" % (mode, suffix))
    if plugin:
        bench_cost.fresh(counters, attr)
        args += bench_cost.plugin_args(counters, attr, ferry_kernel=False)
    log = os.path.join(results_dir(cache), "serial-%s%s.log" % (mode, suffix))
    print("peer: booting Linux (%s, %s disk): %s" % (mode, disk, " ".join(args)), flush=True)
    results, info, done, wall, kallsyms = boot(mode, args, log)
    run = {"unit": "instructions" if mode == "icount" else "tsc_cycles",
           "qemu_args": args, "results": results, "complete": done,
           "guest": info, "wall_s": round(wall, 1), "log": log}
    if plugin and os.path.exists(counters):
        run["cost"] = counted(results, counters, attr, linux_resolver(kallsyms, pagebench))
        run["cost"]["symbols"] = "%d text symbols from the guest's /proc/kallsyms" % len(kallsyms)
        if not kallsyms:
            print("peer: no /proc/kallsyms from the guest: Linux's functions stay unnamed")
    if disk != "ide":
        at = "@" + disk
        run["results"] = {k + at: v for k, v in run["results"].items()}
        for part in ("tests", "attribution"):
            if part in run.get("cost", {}):
                run["cost"][part] = {k + at: v for k, v in run["cost"][part].items()}
    return run


def merge(modes, mode, run):
    """A boot's record into the mode's: results and counters side by side."""
    have = modes.get(mode)
    if not have:
        modes[mode] = run
        return
    have["results"].update(run["results"])
    have["complete"] = have["complete"] and run["complete"]
    have["guest"] += run["guest"]
    have["wall_s"] = round(have["wall_s"] + run["wall_s"], 1)
    have.setdefault("more_boots", []).append({"qemu_args": run["qemu_args"], "log": run["log"]})
    if "cost" in run:
        cost = have.setdefault("cost", {"model": run["cost"]["model"], "tests": {},
                                        "attribution": {}})
        for part in ("tests", "attribution"):
            cost.setdefault(part, {}).update(run["cost"].get(part, {}))


def main(argv):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--modes", default="icount", help="icount, tcg or both (comma-separated)")
    p.add_argument("--pages", type=int, default=2048)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--warm", type=int, default=256)
    p.add_argument("--no-plugin", action="store_true",
                   help="icount without the cost-model plugin (no counters)")
    p.add_argument("--disks", default="ide,nvme",
                   help="the disk Linux swaps to, one boot each: ide (every test), nvme "
                        "(the swap-in tests only, named TEST@nvme)")
    p.add_argument("tests", nargs="*", help="pagebench tests (default: all)")
    a = p.parse_args(argv)
    if not os.path.exists(ferry.DISK):
        sys.exit("peer: %s missing: run make first (Linux swaps to Ferry's swap partition)"
                 % ferry.DISK)
    t0 = time.monotonic()
    kernel = fetch.fetch()
    cache = fetch.cache_dir()
    work = os.path.join(cache, "work")
    os.makedirs(work, exist_ok=True)
    os.makedirs(results_dir(cache), exist_ok=True)
    pagebench = build_pagebench(os.path.join(work, "pagebench"))
    initrd = build_initramfs(os.path.join(work, "initramfs.cpio.gz"), kernel, pagebench)
    stamp = datetime.datetime.now()
    out = {"date": stamp.strftime("%Y-%m-%d %H:%M"), "kernel_release": kernel["kernel_release"],
           "kernel_package": kernel["kernel_package"], "busybox_package": kernel["busybox_package"],
           "qemu": qemu_version(), "mem": MEM, "pages": a.pages, "reps": a.reps, "modes": {}}
    print("peer: Linux %s, QEMU %s, %s, %d pages x %d repetitions per test; cache %s" % (
        kernel["kernel_release"], out["qemu"], MEM, a.pages, a.reps, cache), flush=True)
    for mode in a.modes.split(","):
        if mode not in ("icount", "tcg"):
            sys.exit("peer: unknown mode %r (icount or tcg)" % mode)
        for disk in a.disks.split(","):
            run = run_disk(mode, disk, a, kernel, initrd, pagebench, cache)
            if run:
                merge(out["modes"], mode, run)
    print(table(out["modes"]))
    bad = problems(out["modes"])
    out["problems"] = bad
    out["wall_s"] = round(time.monotonic() - t0, 1)
    path = os.path.join(results_dir(cache), "linux-peer-%s.json" % stamp.strftime("%Y%m%d-%H%M%S"))
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    print("peer: wrote %s (%.0f s in all); cache %s is %.1f MB" % (
        path, out["wall_s"], cache, fetch.size_of(cache) / 1e6))
    for b in bad:
        print("peer: " + b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
