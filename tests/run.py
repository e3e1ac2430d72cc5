#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The test runner behind `make test`.

Runs (1) the host unit-test programs named on the command line and (2) every
QEMU test case registered in tests/cases/*.py, several QEMUs at once.  Each
test case prints or yields one result; the run ends with exactly one line
"N passed, M failed" and a non-zero exit status on any failure or timeout.
A case that takes longer than its timeout (@case(timeout=...)) fails and
its QEMU is stopped.  Figures (times, counts) print as "figure NAME: ..."
lines, outside the count.  Serial logs of every boot are kept in
build/test-logs/."""

import argparse
import concurrent.futures
import difflib
import os
import re
import shutil
import subprocess
import sys
import textwrap
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ferry  # noqa: E402
from cases import registry  # noqa: E402

LOGS = os.path.join(ferry.BUILD, "test-logs")
RESULT_LINE = re.compile(r"^test (\S+): (OK|FAILED)\s*$", re.M)


def run_host_program(path):
    """A host test program prints one result line per case.  A .py one
    (the runner's own tests) runs under this Python."""
    name = os.path.basename(path)
    argv = [sys.executable, path] if path.endswith(".py") else [path]
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=120)
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


def run_case(case, grace=30):
    """A QEMU case returns a list of (name, ok, detail); an exception fails
    it, and so does taking longer than case.timeout seconds: then its QEMU
    is stopped, which ends the case's waits, and it gets `grace` seconds to
    clean up."""
    log = os.path.join(LOGS, case.name + ".log")
    box = {}

    def body():
        try:
            box["results"] = case.run(log)
        except Exception as e:  # a timeout or failed expectation
            box["error"] = "%s\n%s" % (e, traceback.format_exc(limit=3))

    t0 = time.monotonic()
    try:
        case.iso()
    except Exception as e:
        return [("qemu/" + case.name, False, "cannot build its ISO: %s" % e)], 0.0
    worker = threading.Thread(target=body, name=case.name, daemon=True)
    worker.start()
    worker.join(case.timeout)
    if worker.is_alive():
        case.stop()
        worker.join(grace)
        results = [("qemu/" + case.name, False,
                    "took longer than its timeout of %ss: QEMU stopped" % case.timeout)]
    elif "error" in box:
        results = [("qemu/" + case.name, False, box["error"])]
    else:
        results = box["results"]
    dt = time.monotonic() - t0
    return [(n, ok, d + ("\n  serial log: %s" % log if ok is False else ""))
            for n, ok, d in results], dt


class Tally:
    """Prints results as they come and counts them.  ok is True or False
    for a check; None marks a figure, printed but not counted."""

    def __init__(self, out=sys.stdout):
        self.out, self.passed, self.failed = out, 0, 0

    def report(self, results):
        for name, ok, detail in results:
            if ok is None:
                print("figure %s: %s" % (name, detail), file=self.out)
                continue
            print("test %s: %s" % (name, "OK" if ok else "FAILED"), file=self.out)
            if not ok and detail:
                print("  " + detail.strip().replace("\n", "\n  "), file=self.out)
            self.passed += bool(ok)
            self.failed += not ok
        self.out.flush()


def select(cases, only):
    """(the cases whose name contains `only`, None), or ([], why not)."""
    if not only:
        return cases, None
    chosen = [c for c in cases if only in c.name]
    if chosen:
        return chosen, None
    names = [c.name for c in cases]
    close = difflib.get_close_matches(only, names, n=3, cutoff=0.5)
    hint = ("closest: %s" % ", ".join(close)) if close else "--list shows them all"
    return [], "--only %r matches no QEMU case (%s)" % (only, hint)


def list_cases(cases, width=None):
    """One entry per case: its name and its whole description, wrapped."""
    width = width or max(60, shutil.get_terminal_size((100, 24)).columns - 1)
    for c in cases:
        print(textwrap.fill("%s - %s" % (c.name, c.doc), width, subsequent_indent="    ",
                            break_long_words=False, break_on_hyphens=False))


def list_quietly(cases):
    """--list into a pipe whose reader stops early (`| head`) ends
    quietly: the reader has what it wanted."""
    try:
        list_cases(cases)
        sys.stdout.flush()
    except BrokenPipeError:
        # Python would flush stdout again at exit and complain: point it at
        # /dev/null first.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def main():
    # The suite runs on 2 CPUs unless told otherwise; cases that need
    # another count say so (@case(cpus=N)).
    os.environ.setdefault("FERRY_SMP", "2")
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--host", nargs="*", default=[], help="host test programs")
    p.add_argument("--only", help="run only QEMU cases whose name contains this")
    p.add_argument("--no-qemu", action="store_true")
    p.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 2)
    p.add_argument("--list", action="store_true")
    a = p.parse_args()

    cases, why_none = select(registry.all_cases(), a.only)
    if why_none:
        print("run.py: " + why_none, file=sys.stderr)
        return 2
    if a.list:
        return list_quietly(cases)
    os.makedirs(LOGS, exist_ok=True)
    tally = Tally()

    start = time.monotonic()
    for prog in a.host:
        tally.report(run_host_program(prog))
    if not a.no_qemu and cases:
        print("booting %d QEMU cases, %d at a time, accelerator %s"
              % (len(cases), a.jobs, ferry.choose_accel()))
        with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as pool:
            futures = {pool.submit(run_case, c): c for c in cases}
            for f in concurrent.futures.as_completed(futures):
                results, dt = f.result()
                print("# %s (%.1fs)" % (futures[f].name, dt))
                tally.report(results)
    print("# total %.1fs" % (time.monotonic() - start))
    print("%d passed, %d failed" % (tally.passed, tally.failed))
    return 1 if tally.failed or tally.passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
