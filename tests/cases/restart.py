# SPDX-License-Identifier: MIT
"""Servers that die come back (user/init, the restart service), and
nothing is lost: swapd killed while its pages are out (and while a page-in
may be in flight) is restarted by init, takes its provider over by the
swap area's UUID, and every page comes back intact in every fill mode.
Services get their rights only from init: copies of ata and swapd typed at
the shell run without rights, burn no swap provider, and the shell goes on."""

import re

import ferry
from cases.kdb import enter, kdb, leave
from cases.swap import found, shell_ready, swap_case, swap_row
from cases.user import shell_command

MODES = (("copy", 0), ("grant", 1), ("dma", 2))


@swap_case("restart_swapd", timeout=240)
def restart_swapd(g):
    """Kill swapd with every page of a test out in swap, in each fill mode."""
    shell_ready(g)
    results = []
    for name, num in MODES:
        out = shell_command(g, "utest restart_swapd %d 2" % num, timeout=90)
        rounds = re.findall(r"utest: restart_swapd %s round \d+: swapd (\d+) -> (\d+), (\d+) of "
                            r"(\d+) pages wrong, racer (\w+)" % name, out)
        results.append(("qemu/restart_swapd_%s" % name,
                        "utest: restart_swapd %s: ok" % name in out and len(rounds) == 2 and
                        all(r[2] == "0" and r[4] == "intact" and r[0] != r[1] for r in rounds),
                        out[-800:]))
    results.append(("qemu/restart_swapd_taken_over",
                     len(re.findall(r"swap: provider 0 taken over by swapd", g.buf)) == 6,
                     "want 6 take-overs of provider 0"))
    results.append(("qemu/restart_swapd_logged",
                     len(re.findall(r"init: restarting swapd \(killed", g.buf)) == 6,
                     "want 6 restart lines"))
    results.append(("qemu/restart_swapd_nobody_killed",
                     not found(g, r"killed: page-in failed"), "a faulting thread was killed"))
    enter(g)
    row = swap_row(g)
    leave(g)
    results.append(("qemu/restart_swapd_kdb_swap",
                    row is not None and row["state"] == "live" and row["restarts"] == 6 and
                    row["bad"] == 0, "kdb swap: %s" % row))
    return results


@swap_case("restart_rights")
def restart_rights(g):
    """ata and swapd typed at the shell: no rights, nothing burned."""
    shell_ready(g)
    results = []
    out = shell_command(g, "swapd", timeout=30)
    results.append(("qemu/restart_rights_swapd_refused",
                    found(g, r"spawn: swapd started by sh \(pid \d+\) runs without rights") and
                    "cannot register" in out and "not permitted" in out, out[-400:]))
    out = shell_command(g, "ata", timeout=30)
    results.append(("qemu/restart_rights_ata_refused",
                    found(g, r"spawn: ata started by sh \(pid \d+\) runs without rights"),
                    out[-400:]))
    out = shell_command(g, "pagetest 64 dma", timeout=60)
    results.append(("qemu/restart_rights_swap_still_works",
                    "64 pages read back, 64 resident, 0 mismatches: ok" in out, out[-400:]))
    out = kdb_swap_rows(g)
    results.append(("qemu/restart_rights_one_provider",
                    len(out) == 1 and out[0][1] == "live", "kdb swap rows: %s" % out))
    return results


def kdb_swap_rows(g):
    enter(g)
    out = kdb(g, "swap")
    leave(g)
    return re.findall(r"^(\d+)\s+(\w+)\s+\d+\s+\S+\s+\d+", out, re.M)
