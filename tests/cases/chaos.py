# SPDX-License-Identifier: MIT
"""The chaos test: while workers page memory out and in and read
/data/pattern.bin by read() and through one long-lived mapping, ata, swapd
and fs are killed in turn at random, seeded moments (every other kill when
the server holds a grant), under every fill mode.  Expected: no data
mismatch, no thread killed, the kernel's `check` OK after every round, no
swap slot marked bad, every restart taken over (swap provider, object
pager), and a handle to a deleted file stale across an fs restart.

`make test` runs chaos_quick (9 rounds); `make chaos` runs chaos_long
(CHAOS_ROUNDS, default 63: 21 kills of each server; CHAOS_SEED picks the
seed, else the time)."""

import os
import re
import time
import zlib

import ferry
from cases.kdb import enter, kdb, leave
from cases.registry import _cases
from cases.swap import DiskCase, found, shell_ready, swap_row
from cases.user import PROMPT

PATTERN = os.path.join(os.path.dirname(__file__), "..", "..", "disk", "files", "data",
                       "pattern.bin")
ROUND = re.compile(r"utest: chaos: round (\d+): (\w+) killed \(pid \d+, (holding|not holding)"
                   r" a grant, fault path (\w+)\), back after (\d+) ms")
SUMMARY = re.compile(r"utest: chaos: seed (\d+): kills (?:ata|nvme) (\d+) swapd (\d+) fs (\d+) "
                     r"\(holding a grant: (\d+) (\d+) (\d+)\), mismatches (\d+), longest "
                     r"restart (\d+) ms, longest wait (\d+) ms")


def run_chaos(g, name, seed, rounds, round_timeout=90):
    shell_ready(g)
    data = open(PATTERN, "rb").read()
    crc = zlib.crc32(data) & 0xFFFFFFFF
    start = len(g.buf)
    g.send("utest chaos %d %d %08x %d\r" % (seed, rounds, crc, len(data)))
    checks, seen = [], start
    for r in range(rounds):
        m = g.expect(ROUND.pattern + r"|utest: .*failed.*\n", timeout=round_timeout,
                     start=seen)
        seen = m.end()
        if not m.group(0).startswith("utest: chaos: round"):
            return [("qemu/%s_ok" % name, False, g.buf[start:][-1500:])]
        enter(g)
        out = kdb(g, "check")
        leave(g)
        checks.append((int(m.group(1)), "check: OK" in out, out[-300:]))
    end = g.expect(r"utest: chaos: (ok|.*failed.*)\n", timeout=round_timeout, start=seen)
    g.expect(PROMPT, timeout=30, start=end.start())
    log = g.buf[start:]
    summary = SUMMARY.search(log)
    results = [("qemu/%s_ok" % name, "utest: chaos: ok" in end.group(0), log[-1500:])]
    bad_checks = [c for c in checks if not c[1]]
    results.append(("qemu/%s_check_every_round" % name,
                    len(checks) == rounds and not bad_checks,
                    "rounds %d, failed checks: %s" % (len(checks), bad_checks[:2])))
    results.append(("qemu/%s_no_mismatch" % name,
                    summary is not None and summary.group(8) == "0" and "MISMATCH" not in log,
                    summary.group(0) if summary else "no summary"))
    results.append(("qemu/%s_nobody_killed" % name,
                    not found(g, r"killed: ") and not found(g, r"thread \d+ killed"),
                    "a thread was killed"))
    results.append(("qemu/%s_no_slot_bad" % name, not found(g, r"marked bad"),
                    "a swap slot was marked bad"))
    results.append(("qemu/%s_stale_handle" % name,
                    "stale handle after an fs restart" in log, log[-600:]))
    enter(g)
    row = swap_row(g)
    pagers = kdb(g, "pagers")
    leave(g)
    kills = [int(x) for x in summary.groups()[1:4]] if summary else [0, 0, 0]
    # swapd is killed kills[1] times; fs kills[2] + 1 (the stale-handle step).
    results.append(("qemu/%s_swap_taken_over" % name,
                    row is not None and row["state"] == "live" and row["bad"] == 0 and
                    row["restarts"] == kills[1], "kdb swap: %s" % row))
    pm = re.search(r"^0\s+live\s+\d+\s+fs\s+(\d+)\s+(\d+)$", pagers, re.M)
    results.append(("qemu/%s_pager_taken_over" % name,
                    pm is not None and int(pm.group(1)) == kills[2] + 1, pagers))
    results.append(("%s_seed" % name, None, str(seed)))
    if summary:
        held = [int(x) for x in summary.groups()[4:7]]
        driver = re.search(r"utest: chaos: seed \d+, \d+ rounds, disk driver (\w+)", g.buf)
        driver = driver.group(1) if driver else "driver"
        results += [
            ("%s_kills" % name, None, "%s %d, swapd %d, fs %d (holding a grant: %s %d, "
             "swapd %d, fs %d)" % (driver, kills[0], kills[1], kills[2], driver, held[0],
                                   held[1], held[2])),
            ("%s_mismatches" % name, None, summary.group(8)),
            ("%s_longest_restart_ms" % name, None, summary.group(9)),
            ("%s_longest_wait_ms" % name, None, summary.group(10))]
        if pm:
            results.append(("%s_fs_longest_away_ms" % name, None, pm.group(2)))
        running = re.search(r"utest: chaos: kills while running on another CPU with a grant: "
                            r"(\w+ \d+ swapd \d+ fs \d+)", log)
        if running:
            results.append(("%s_kills_running_with_grant" % name, None, running.group(1)))
    return results


def chaos_case(name, rounds, timeout, seed=None):
    def fn(g):
        s = seed if seed is not None else int(os.environ.get("CHAOS_SEED") or time.time())
        return run_chaos(g, name, s, rounds)
    fn.__doc__ = __doc__
    # FERRY_DISK_BUS=ide: the disk on IDE, as for make run (ata is killed).
    _cases.append(DiskCase(fn, name, "", "64M", timeout, None,
                           lambda tmp: ferry.default_drives(
                               os.environ.get("FERRY_DISK_BUS", "nvme"))))


# In make test: three kills of each server, one per fill mode, a fixed seed (printed; CHAOS_SEED overrides).
chaos_case("chaos_quick", 9, 150, seed=int(os.environ.get("CHAOS_SEED") or 1414))

if os.environ.get("CHAOS_LONG"):
    chaos_case("chaos_long", int(os.environ.get("CHAOS_ROUNDS") or 63), 3600)
