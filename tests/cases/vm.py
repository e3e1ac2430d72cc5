# SPDX-License-Identifier: MIT
"""Virtual memory: utest's vm_* cases (swapd, the three fault paths,
pagers that misbehave) and the stress cases that touch more memory than
the guest has."""

import ferry
from cases.registry import case
from cases.user import user_results


def suite_results(g, name, timeout):
    """Every 'test user/...' line, then whether utest finished and how QEMU ended."""
    code = g.wait_exit(timeout=timeout)
    results = user_results(g)
    assert results, "utest printed no result"
    results.append(("qemu/%s_done" % name, "utest: done" in g.buf, "utest did not finish"))
    results.append(("qemu/%s_exit" % name, code == ferry.EXIT_PASS,
                    "QEMU exit status %s, want %d" % (code, ferry.EXIT_PASS)))
    return results


# overtime=2000: vm_pager_never_replies waits for its request to be failed.
@case("vm_suite", cmdline="init=utest initarg=vm overtime=2000 panic=exit", mem="64M",
      timeout=150)
def vm_suite(g):
    """utest's vm_* cases, swapd started by the runner, then its leak check."""
    return suite_results(g, "vm_suite", timeout=150)


@case("vm_stress", cmdline="init=utest initarg=stress panic=exit", mem="32M", timeout=150)
def vm_stress(g):
    """The stress cases in 32 MiB: 1.5 times free memory through swapd's RAM store, copy,
    grant and dma (served as grant: a RAM store takes no DMA).  The disk store's run is
    tests/cases/swap.py's swap_stress_disk."""
    return suite_results(g, "vm_stress", timeout=150)
