#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The test runner's own tests, run by `make test` as a host test program:
one "test host/runner/NAME: OK|FAILED" line each, the format run.py reads.
They check what a user sees of the runner without booting anything: --list
prints whole descriptions, --only selects by substring and says so when
nothing matches, a case that outlives its timeout fails, and figures are
printed but not counted, and `--list | head` ends quietly."""

import io
import os
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run  # noqa: E402
import selftest  # noqa: E402
from cases import registry  # noqa: E402

RUN_PY = os.path.join(HERE, "run.py")
WIDTH = 80


def runner(*args):
    """run.py with args, at a fixed terminal width: (exit status, output)."""
    env = dict(os.environ, COLUMNS=str(WIDTH + 1))
    p = subprocess.run([sys.executable, RUN_PY] + list(args), capture_output=True,
                       text=True, timeout=60, env=env)
    return p.returncode, p.stdout + p.stderr


def whole_description(fn):
    """The docstring's first paragraph, spelled out independently of registry."""
    return " ".join((fn.__doc__ or "").strip().split("\n\n")[0].split())


def listed_entries(text):
    """--list output back into one line per case: continuation lines are indented."""
    entries = []
    for line in text.splitlines():
        if line.startswith(" ") and entries:
            entries[-1] += " " + line.strip()
        elif line:
            entries.append(line)
    return entries


def test_list_prints_whole_descriptions():
    code, out = runner("--list")
    assert code == 0, "exit status %d:\n%s" % (code, out)
    cases = registry.all_cases()
    want = ["%s - %s" % (c.name, whole_description(c.fn)) for c in cases]
    assert any(len(w) > WIDTH for w in want), "no description long enough to need wrapping"
    got = listed_entries(out)
    missing = [w for w in want if w not in got]
    assert not missing, "cut or missing: %s" % missing[:3]
    long_lines = [line for line in out.splitlines() if len(line) > WIDTH]
    assert not long_lines, "lines wider than %d: %s" % (WIDTH, long_lines[:2])


def test_only_selects_by_substring():
    code, out = runner("--list", "--only", "swap_header")
    want = [c.name for c in registry.all_cases() if "swap_header" in c.name]
    got = [e.split(" - ")[0] for e in listed_entries(out)]
    assert code == 0 and len(want) >= 2 and got == want, "want %s, got %s" % (want, got)


def test_only_nothing_matched_names_closest():
    code, out = runner("--only", "boot_baner", "--no-qemu")
    assert code != 0, "exit status 0"
    assert "matches no QEMU case" in out and "boot_banner" in out, out
    assert "passed" not in out, "ran anyway: " + out


def test_only_nothing_close_says_so():
    code, out = runner("--only", "nosuchcase", "--no-qemu")
    assert code != 0 and "'nosuchcase' matches no QEMU case" in out, out


def test_list_into_closed_pipe_is_quiet():
    """`run.py --list | head`: the reader is gone before the list is written."""
    rd, wr = os.pipe()
    p = subprocess.Popen([sys.executable, RUN_PY, "--list"], stdout=wr,
                         stderr=subprocess.PIPE, text=True)
    os.close(wr)
    os.close(rd)        # before run.py has imported its cases: its first write fails
    err = p.communicate(timeout=60)[1]
    assert p.returncode == 0 and not err, "exit status %d:\n%s" % (p.returncode, err)


class SlowCase:
    """Stands in for a registry.Case whose boot hangs until stopped."""
    name, timeout = "selftest_slow", 1

    def __init__(self):
        self.stopped = threading.Event()

    def iso(self):
        return None

    def run(self, log_path):
        self.stopped.wait(20)
        return [("qemu/" + self.name, True, "")]

    def stop(self):
        self.stopped.set()


def test_case_timeout_fails_and_stops():
    case = SlowCase()
    t0 = time.monotonic()
    results, _ = run.run_case(case, grace=5)
    took = time.monotonic() - t0
    assert case.stopped.is_set(), "the case was not stopped"
    assert took < 10, "waited %.1fs for a case with a 1 s timeout" % took
    assert len(results) == 1 and results[0][1] is False, results
    assert "timeout of 1s" in results[0][2], results[0][2]


class SlowIsoCase:
    """A case whose ISO takes longer to build than its timeout allows for
    the boot: the build happens before the case's clock starts."""
    name, timeout = "selftest_slow_iso", 1
    built = False

    def iso(self):
        if not self.built:
            time.sleep(1.5)
            self.built = True

    def run(self, log_path):
        self.iso()  # as registry.Case.run does, through guest()
        return [("qemu/" + self.name, True, "")]

    def stop(self):
        pass


def test_iso_build_is_not_timed():
    results, _ = run.run_case(SlowIsoCase(), grace=1)
    assert results[0][1] is True, results


def test_figures_are_not_counted():
    out = io.StringIO()
    tally = run.Tally(out)
    tally.report([("qemu/a", True, ""), ("qemu/a_time", None, "1.25s"),
                  ("qemu/b", False, "why")])
    text = out.getvalue()
    assert (tally.passed, tally.failed) == (1, 1), (tally.passed, tally.failed)
    assert "figure qemu/a_time: 1.25s" in text and "test qemu/a_time" not in text, text


if __name__ == "__main__":
    sys.exit(selftest.run_tests("runner", globals()))
