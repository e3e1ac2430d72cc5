# SPDX-License-Identifier: MIT
"""The kernel core: boot, banner, self-tests, panic reports."""

import os
import re
import subprocess
import threading
import time

import ferry
from cases import registry
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


class OwnBootCase(registry.Case):
    """A case that starts QEMU its own way (through `tests/ferry.py run`,
    as `make run` does, or with a gdb stub): its function gets the path of
    the case (to register() its QEMUs with, so that a timeout can stop
    them) and the path of the case's log instead of a booted guest."""

    def __init__(self, fn, name):
        super().__init__(fn, name, "", "64M", 120, None)

    def run(self, log_path):
        return self.fn(self, log_path)


def own_boot_case(name):
    def register(fn):
        registry._cases.append(OwnBootCase(fn, name))
        return fn
    return register


RUN_ISO = os.path.join(ferry.BUILD, "ferry.iso")
# The shell's prompt, but not the redraw readline does when kdb continues
# ("\x1b[K" first): typed after a continue, a command's output ends at
# the prompt that follows it, not at the redraw that may land just after.
PROMPT = r"(?<!\x1b\[K)ferry> "


def ferry_run(log_path, typed, cmdline=None, wait_for=PROMPT, env=None):
    """`tests/ferry.py run --iso build/ferry.iso`, the command `make run`
    runs, with FERRY_CMDLINE=cmdline (and `env`): waits for `wait_for` (a
    pattern, or a list of patterns that must all appear),
    types `typed` and waits for the end.  => (exit status, what the
    terminal showed)."""
    env = dict(env or {})
    if cmdline is not None:
        env["FERRY_CMDLINE"] = cmdline
    console_log = log_path.replace(".log", ".console.log")
    r = ferry.RunSession(os.path.basename(log_path), log_path, env=env,
                         args=["--iso", RUN_ISO, "--log", console_log])
    try:
        r.start()
        for w in [wait_for] if isinstance(wait_for, str) else wait_for:
            r.expect(w, timeout=90)
        r.send(typed)
        code = r.wait_exit(timeout=60)
    finally:
        r.kill()
    return code, r.buf


def boot_module_names(out):
    """The module names of the banner's `modules: N` list."""
    m = re.search(r"^modules: (\d+)\n((?:  \S+ +\d+ bytes at 0x[0-9a-f]+\n)*)", out, re.M)
    return [line.split()[0] for line in m.group(2).splitlines()] if m else []


@own_boot_case("run_poweroff")
def run_poweroff(_case, log_path):
    """`make run` then `poweroff`: exit status 0, and build/ferry.iso boots the programs, no test-only module."""
    code, out = ferry_run(log_path, "poweroff\r")
    names = boot_module_names(out)
    bad_elfs = sorted(os.listdir(os.path.join(ferry.BUILD, "bad")))  # tools/mkbadelf.py's
    listed = [n for n in names if n in bad_elfs]
    return [
        ("qemu/run_poweroff_exit", code == 0,
         "exit status %s, want 0\n%s" % (code, out[-600:])),
        ("qemu/run_no_test_modules", bool(bad_elfs) and "sh" in names and not listed,
         "booted %s; never any of %s" % (names, bad_elfs)),
    ]


@own_boot_case("run_cmdline")
def run_cmdline(_case, log_path):
    """FERRY_CMDLINE='loglevel=debug console=ps' reaches the kernel of a `make run` boot."""
    code, out = ferry_run(log_path, "poweroff\r", cmdline="loglevel=debug console=ps")
    checks = [
        ("banner shows it", "command line: loglevel=debug console=ps" in out),
        ("loglevel=debug lets debug lines through", re.search(r"\] debug: spawn: sh as pid", out)),
        ("console=ps ran ps", re.search(r"^\[kdb begin ps\]\nPID\s+TID\s+NAME", out, re.M)),
        ("exit status 0", code == 0),
    ]
    bad = [what for what, ok in checks if not ok]
    return [("qemu/run_cmdline", not bad, "failed: %s\n%s" % (", ".join(bad), out[-600:]))]


@own_boot_case("run_disk_bus")
def run_disk_bus(_case, log_path):
    """`make run` boots on an NVMe disk (nvme serves swapd and fs), and
    FERRY_DISK_BUS=ide boots the same disk on IDE (ata serves them)."""
    results = []
    for bus, env in (("nvme", {}), ("ide", {"FERRY_DISK_BUS": "ide"})):
        driver = "nvme" if bus == "nvme" else "ata"
        log = log_path.replace(".log", "_%s.log" % bus)
        code, out = ferry_run(log, "poweroff\r", env=env,
                              wait_for=[r"fs: disk 0 partition \d+, \d+ KiB, via \w+",
                                        r"swapd: \d+ slots"])
        # Servers print as the shell starts, and with two CPUs a kernel
        # line may come between pieces of another: each line's words are
        # looked for wherever they are.
        want = [r"\b%s: ready: 1 \w+" % driver,
                r"\bswapd: disk driver %s \(pid \d+\)" % driver,
                r"\bfs: disk 0 partition 2, \d+ KiB, via %s \(pid \d+\)" % driver]
        missing = [w for w in want if not re.search(w, out, re.M)]
        results.append(("qemu/run_disk_bus_" + bus, code == 0 and not missing,
                         "exit status %s, missing %s\n%s" % (code, missing, out[-600:])))
    return results


@own_boot_case("run_panic")
def run_panic(_case, log_path):
    """A panic ends `make run` non-zero with its reason, with panic=exit and after kdb's poweroff."""
    results = []
    for name, cmdline, typed, wait_for in (
            ("exit", "test=panic panic=exit", "", r"END PANIC"),
            ("kdb_poweroff", "test=panic", "poweroff\r", r"kdb> ")):
        log = log_path.replace(".log", "_%s.log" % name)
        code, out = ferry_run(log, typed, cmdline=cmdline, wait_for=wait_for)
        said = re.search(r"^ferry: kernel panic: page fault \(vector 14\) error code 0x2"
                         r" cr2 0xdead000 \(serial log: ", out, re.M)
        results.append(("qemu/run_panic_" + name, code not in (0, None) and bool(said),
                        "exit status %s, reason %s (log %s)\n%s"
                        % (code, "printed" if said else "missing", log, out[-400:])))
    return results


def gdb_session(case, log_path, commands):
    """Boots build/ferry.iso halted under a gdb stub and runs gdb on it
    with the script `make debug` writes (connect, stop at kmain), then
    `commands`.  The stub is a Unix socket: parallel boots cannot collide.
    The QEMU is the case's: stopping the case ends it, and gdb with it.
    => gdb's output."""
    g = case.register(ferry.Guest(RUN_ISO, name="gdb", log_path=log_path))
    opts, target = g.gdb_stub_args()
    g.extra += opts
    script = os.path.join(g.tmp, "ferry.gdb")
    with open(script, "w") as f:
        f.write(ferry.gdb_script(target))
    try:
        g.start()
        deadline = time.monotonic() + 20   # QEMU makes the stub's socket after the serial's
        while not os.path.exists(target) and time.monotonic() < deadline:
            time.sleep(0.05)
        cmd = ["gdb", "-batch", "-nx", "-x", script]
        for c in commands:
            cmd += ["-ex", c]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                           stdin=subprocess.DEVNULL)
    finally:
        g.kill()
    return p.stdout + p.stderr


@own_boot_case("gdb_backtrace")
def gdb_backtrace(case, log_path):
    """gdb with `make debug`'s script stops at kmain; bt there ends at the boot entry."""
    out = gdb_session(case, log_path, ["set backtrace limit 64", "bt", "kill"])
    frames = re.findall(r"^#\d+\s+(?:0x[0-9a-f]+ in )?(\S+) \(", out, re.M)
    checks = [
        # With several vCPUs gdb names the thread (CPU) that stopped.
        ("stopped at kmain", re.search(r"^(?:Thread \d+ hit )?Temporary breakpoint 1, kmain \(",
                                       out, re.M)),
        ("bt starts in kmain", frames[:1] == ["kmain"]),
        ("bt ends at long_mode_high, the boot entry", frames[-1:] == ["long_mode_high"]
         and len(frames) <= 3),
    ]
    bad = [what for what, ok in checks if not ok]
    return [("qemu/gdb_backtrace", not bad,
             "failed: %s; %d frames\n%s" % (", ".join(bad), len(frames), out[-1500:]))]


@own_boot_case("gdb_session_stoppable")
def gdb_session_stoppable(case, log_path):
    """A gdb session's QEMU is its case's: stopping the case, as its timeout does, ends gdb at once."""
    box = {}
    t = threading.Thread(target=lambda: box.update(out=gdb_session(case, log_path, ["continue"])),
                         daemon=True)
    t.start()
    deadline = time.monotonic() + 30
    while not case.guests and time.monotonic() < deadline:
        time.sleep(0.1)
    if not case.guests:
        return [("qemu/gdb_session_stoppable", False, "the session's QEMU is not the case's")]
    case.guests[-1].expect(PROMPT, timeout=90)     # gdb continued: Ferry runs
    case.stop()
    t.join(30)
    return [("qemu/gdb_session_stoppable", not t.is_alive(),
             "gdb still running 30 s after the case was stopped")]


@case("acpi_tables", cmdline="console=acpi")
def acpi_tables(g):
    """The firmware's ACPI tables are found, checked and listed (boot log and kdb `acpi`):
    QEMU's RSDT names a MADT (APIC) and a FADT (FACP), both passing their checks."""
    g.expect(r"boot complete", timeout=60)
    listed = re.search(r"acpi: (RSDT|XSDT) at 0x[0-9a-f]+, (\d+) tables:((?: \S{4})+)", g.buf)
    kdb = re.search(r"\[kdb begin acpi\]\n(.*?)\[kdb end acpi\]", g.buf, re.S)
    rows = dict(re.findall(r"^(\S{4}) +0x[0-9a-f]+ +\d+  (.+)$", kdb.group(1), re.M)) if kdb else {}
    return [
        ("qemu/acpi_tables_listed", listed is not None and "APIC" in listed.group(3).split()
         and "FACP" in listed.group(3).split(), g.buf[-1500:]),
        ("qemu/acpi_tables_checked", rows.get("APIC") == "ok" and rows.get("FACP") == "ok"
         and "malformed" not in g.buf, str(rows)),
    ]


@case("acpi_off", cmdline="acpi=off")
def acpi_off(g):
    """`acpi=off` ignores the firmware's tables, says so, and the system boots as before."""
    g.expect(r"boot complete", timeout=60)
    return [("qemu/acpi_off", "acpi: off (acpi=off)" in g.buf and
             not re.search(r"acpi: (RSDT|XSDT) at", g.buf), g.buf[-1500:])]
