# SPDX-License-Identifier: MIT
"""Several CPUs: the CPUs come up (from the MADT), their interrupt
controllers and IPIs work, TLB shootdowns happen where a grant or a
page-out needs them and nowhere else (utest's smp_* cases, at 2 and at 4
CPUs), the shootdown cases fail when the IPI is skipped (`shootdown=off`,
a test-only switch: they could not catch a missing one otherwise), and a
malformed MADT, handed to the kernel by GRUB's `acpi` command, leaves one
CPU and the 8259s with the reason in the log.

The suite runs on 2 CPUs (tests/run.py's default FERRY_SMP); these cases
say how many they want."""

import os
import re
import struct

import ferry
from cases.kdb import enter, kdb, leave
from cases.registry import Case, _cases, case
from cases.user import PROMPT, user_results
from cases.vm import suite_results

SMP_SUITE = "init=utest initarg=smp panic=exit"


def smp_suite(cpus):
    def run(g):
        results = suite_results(g, "smp_suite_%dcpu" % cpus, timeout=200)
        m = re.search(r"smp: (\d+) CPUs? online", g.buf)
        results.append(("qemu/smp_suite_%dcpu_online" % cpus,
                         m is not None and int(m.group(1)) == cpus,
                         "want %d CPUs online: %s" % (cpus, m.group(0) if m else "no line")))
        return [(("%s@%dcpu" % (n, cpus)) if n.startswith("user/") else n, ok, d)
                for n, ok, d in results]
    run.__doc__ = ("utest's smp_* cases on %d CPUs: a holder writing through its window "
                   "while the grant is taken back, a reader racing a page-out, a fault "
                   "storm in every fill mode, shootdown counts per mode; then the leak "
                   "check." % cpus)
    return run


for _n in (2, 4):
    _cases.append(Case(smp_suite(_n), "smp_suite_%dcpu" % _n, SMP_SUITE, "64M", 220, None,
                       cpus=_n))


@case("smp_without_shootdown", cmdline="init=utest initarg=smp shootdown=off panic=exit",
      timeout=220, cpus=2)
def smp_without_shootdown(g):
    """With the shootdown IPIs skipped (`shootdown=off`) the holder, reader and storm
    cases fail: a stale translation on another CPU writes the faulting process's page,
    or reads a frame that changed hands.  (The counts case fails by construction: no
    IPI, none counted.)"""
    g.wait_exit(timeout=200)
    got = {n: ok for n, ok, _ in user_results(g)}
    results = [("qemu/smp_without_shootdown_warned",
                "shootdown=off: other CPUs keep stale translations" in g.buf,
                "no warning that the switch is on")]
    for name in ("smp_holder_window", "smp_reader_pageout", "smp_fault_storm"):
        results.append(("qemu/smp_without_shootdown_%s_fails" % name,
                        got.get("user/" + name) is False,
                        "user/%s: %s, want FAILED" % (name, got.get("user/" + name))))
    return results
