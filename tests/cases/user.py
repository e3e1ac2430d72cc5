# SPDX-License-Identifier: MIT
"""User space: utest's in-guest suite, the shell over the serial line, and
the benchmarks started from the shell."""

import re

import ferry
from cases.registry import case

# The shell's prompt, but not the redraw readline does when kdb continues
# ("\x1b[K" first): typed after a continue, a command's output ends at
# the prompt that follows it, not at the redraw that may land just after.
PROMPT = r"(?<!\x1b\[K)ferry> "


def user_results(guest):
    """The 'test user/NAME: OK|FAILED' lines utest printed, as results.  A
    failure's detail is what the case printed before its result line and
    the runner's indented notes after it."""
    results, pending = [], []
    lines = guest.buf.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^test (user/\S+): (OK|FAILED)\s*$", line)
        if not m:
            pending.append(line)
            continue
        notes = []
        for nxt in lines[i + 1:]:
            if not nxt.startswith("  "):
                break
            notes.append(nxt)
        ok = m.group(2) == "OK"
        detail = "" if ok else "\n".join((pending + notes)[-20:])
        results.append((m.group(1), ok, detail))
        pending = []
    return results


# The vm_* cases want their own boot options (tests/cases/vm.py).
# It spawns the bad ELFs (malformed_elf): test-only modules, not in build/ferry.iso.
@case("user_suite", cmdline="init=utest initarg=base panic=exit", timeout=240,
      modules=ferry.test_modules)
def user_suite(g):
    """utest as the first program: every case but vm_* in its own process, then a leak check."""
    code = g.wait_exit(timeout=240)
    results = user_results(g)
    assert results, "utest printed no result"
    results.append(("qemu/user_suite_done", "utest: done" in g.buf,
                    "utest did not finish"))
    results.append(("qemu/user_suite_exit", code == ferry.EXIT_PASS,
                    "QEMU exit status %s, want %d" % (code, ferry.EXIT_PASS)))
    return results


def shell_command(g, line, timeout=30):
    """Types line at the prompt; returns the output up to the next prompt.
    A "\r\n" split across two socket reads escapes Guest's newline
    translation, so stray carriage returns are dropped here."""
    start = len(g.buf)
    g.send(line + "\r")
    end = g.expect(PROMPT, timeout=timeout, start=start)
    return g.buf[start:end.start()].replace("\r", "")


@case("shell_session")
def shell_session(g):
    """init starts sh; echo, ps and an unknown program behave."""
    g.expect(r"init: starting", timeout=60)
    g.expect(PROMPT, timeout=30)
    checks = []

    out = shell_command(g, "echo hello ferry")
    checks.append(("echo", re.search(r"^hello ferry$", out, re.M)))

    out = shell_command(g, "ps")
    checks.append(("ps header", re.search(
        r"^\s*PID\s+PPID\s+NAME\s+STATE\s+PRIO\s+THREADS\s+FROM\s+WAITS-ON$", out, re.M)))
    checks.append(("ps shows init waiting", re.search(
        r"^\s*\d+\s+\d+\s+init\s+wait\s+\d+\s+\d+\s", out, re.M)))
    checks.append(("ps shows sh running", re.search(
        r"^\s*\d+\s+\d+\s+sh\s+running\s+\d+\s+\d+\s", out, re.M)))

    out = shell_command(g, "nosuchprog")
    checks.append(("unknown program", re.search(
        r"^sh: nosuchprog: no such program$", out, re.M)))

    assert "PANIC" not in g.buf, "kernel panic"
    bad = [what for what, ok in checks if not ok]
    return [("qemu/shell_session", not bad, "failed: " + ", ".join(bad))]


@case("bench_runs", timeout=180)
def bench_runs(g):
    """bench, started from the shell, prints its three measurements."""
    g.expect(PROMPT, timeout=60)
    out = shell_command(g, "bench 2000", timeout=150)
    lines = re.findall(r"^bench (\S+)\s+median=\d+\s+p99=\d+\s+mean=\d+\s+iters=2000$",
                       out, re.M)
    ended = re.search(r"^\[bench exited with status 0\]$", out, re.M)
    return [("qemu/bench_runs", len(lines) == 3 and ended is not None,
             "measured %s; %s" % (lines or "nothing",
                                  "exited 0" if ended else "no clean exit"))]
