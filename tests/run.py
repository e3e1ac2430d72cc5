#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The test runner behind `make test`.

Runs (1) the host unit-test programs named on the command line and (2) every
QEMU test case registered in tests/cases/*.py, several QEMUs at once.  Each
test case prints or yields one result; the run ends with exactly one line
"N passed, M failed" and a non-zero exit status on any failure or timeout.
Serial logs of every boot are kept in build/test-logs/."""

import argparse
import concurrent.futures
import importlib
import os
import re
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ferry  # noqa: E402
from cases import registry  # noqa: E402

LOGS = os.path.join(ferry.BUILD, "test-logs")
RESULT_LINE = re.compile(r"^test (\S+): (OK|FAILED)\s*$", re.M)


def run_host_program(path):
    """A host test program prints one result line per case."""
    name = os.path.basename(path)
    try:
        p = subprocess.run([path], capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return [("host/%s" % name, False, "timed out")]
    results = [(n, s == "OK", "") for n, s in RESULT_LINE.findall(p.stdout)]
    if p.returncode != 0 and all(ok for _, ok, _ in results):
        results.append(("host/%s" % name, False,
                        "exit status %d\n%s" % (p.returncode, p.stderr[-3000:])))
    elif p.returncode != 0:
        results = [(n, ok, "" if ok else p.stderr[-3000:]) for n, ok, _ in results]
    if not results:
        results.append(("host/%s" % name, False, "no test ran"))
    return results


def run_case(case):
    """A QEMU case returns a list of (name, ok, detail); an exception fails it."""
    log = os.path.join(LOGS, case.name + ".log")
    t0 = time.monotonic()
    try:
        results = case.run(log)
    except Exception as e:  # a timeout or failed expectation
        detail = "%s\n%s" % (e, traceback.format_exc(limit=3))
        results = [("qemu/" + case.name, False, detail)]
    dt = time.monotonic() - t0
    return [(n, ok, d + ("" if ok else "\n  serial log: %s" % log)) for n, ok, d in results], dt


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--host", nargs="*", default=[], help="host test programs")
    p.add_argument("--only", help="run only QEMU cases whose name contains this")
    p.add_argument("--no-qemu", action="store_true")
    p.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 2)
    p.add_argument("--list", action="store_true")
    a = p.parse_args()

    cases = registry.all_cases()
    if a.only:
        cases = [c for c in cases if a.only in c.name]
    if a.list:
        for c in cases:
            print(c.name, "-", c.doc)
        return 0
    os.makedirs(LOGS, exist_ok=True)
    passed = failed = 0

    def report(results):
        nonlocal passed, failed
        for name, ok, detail in results:
            print("test %s: %s" % (name, "OK" if ok else "FAILED"))
            if not ok and detail:
                print("  " + detail.strip().replace("\n", "\n  "))
            passed += ok
            failed += not ok
        sys.stdout.flush()

    start = time.monotonic()
    for prog in a.host:
        report(run_host_program(prog))
    if not a.no_qemu and cases:
        print("booting %d QEMU cases, %d at a time, accelerator %s"
              % (len(cases), a.jobs, ferry.choose_accel()))
        with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as pool:
            futures = {pool.submit(run_case, c): c for c in cases}
            for f in concurrent.futures.as_completed(futures):
                results, dt = f.result()
                print("# %s (%.1fs)" % (futures[f].name, dt))
                report(results)
    print("# total %.1fs" % (time.monotonic() - start))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
