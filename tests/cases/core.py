# SPDX-License-Identifier: MIT
"""The kernel core: boot, banner, self-tests, panic reports."""

import re
import time

import ferry
from cases.registry import case, kernel_results


@case("boot_banner", cmdline="")
def boot_banner(g):
    """Boots to the banner, the memory map and the end of kernel start-up."""
    g.expect(r"^Ferry \d+\.\d+\.\d+ \(x86-64\)", timeout=30)
    banner_s = time.monotonic() - g.start_time
    g.expect(r"^memory: \d+ MiB usable", timeout=10)
    g.expect(r"^\s+symbols\s+\d+ bytes", timeout=10)
    g.expect(r"clock: TSC \d+ MHz", timeout=30)
    g.expect(r"boot complete", timeout=30)
    assert "PANIC" not in g.buf, "panic during boot"
    # A figure, not a check: how long the banner took depends on the host.
    return [("qemu/boot_banner", True, ""),
            ("qemu/boot_banner_time", None, "banner %.2fs after QEMU start" % banner_s)]


@case("kernel_selftests", cmdline="test=all panic=exit")
def kernel_selftests(g):
    """Runs every in-kernel self-test; each is one result, plus the exit code."""
    code = g.wait_exit(timeout=60)
    results = kernel_results(g)
    assert results, "no self-test printed a result"
    results.append(("qemu/kernel_selftests_exit", code == ferry.EXIT_PASS,
                    "QEMU exit status %s, want %d" % (code, ferry.EXIT_PASS)))
    return results


@case("panic_report", cmdline="test=panic panic=exit")
def panic_report(g):
    """A deliberate kernel page fault gives a complete, readable report."""
    code = g.wait_exit(timeout=60)
    out = g.buf
    checks = [
        ("exit status is the failure code", code == ferry.EXIT_FAIL),
        ("vector named", "PANIC: page fault (vector 14)" in out),
        ("error code and CR2", re.search(r"error code 0x2 cr2 0xdead000", out)),
        ("decoded", "write of a non-present page in kernel mode" in out),
        ("registers", re.search(r"^rip [0-9a-f]{16}\s+rsp [0-9a-f]{16}", out, re.M)),
        ("backtrace names the faulting function",
         re.search(r"#0\s+0x[0-9a-f]+ ktest_deliberate_fault\+0x", out)),
        ("backtrace reaches kmain", re.search(r"#\d+\s+0x[0-9a-f]+ kmain\+0x", out)),
        ("report ends", "END PANIC" in out),
    ]
    bad = [what for what, ok in checks if not ok]
    return [("qemu/panic_report", not bad, "missing: " + ", ".join(bad))]
