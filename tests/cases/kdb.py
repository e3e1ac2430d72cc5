# SPDX-License-Identifier: MIT
"""The kernel debug console, driven as a user would: over the serial line,
break key, commands, framed output."""

import os
import re
import time

import ferry
from cases.registry import case

# The shell's prompt, but not the redraw readline does when kdb continues
# ("\x1b[K" first): typed after a continue, a command's output ends at
# the prompt that follows it, not at the redraw that may land just after.
PROMPT = r"(?<!\x1b\[K)ferry> "


def kdb(g, line, timeout=30):
    """Runs one kdb command; returns its framed output."""
    name = line.split()[0]
    start = len(g.buf)
    g.send(line + "\r")
    m = g.expect(r"^\[kdb begin %s\]\n([\s\S]*?)^\[kdb end %s\]" % (re.escape(name), re.escape(name)),
                 timeout=timeout, start=start)
    return m.group(1)


def enter(g):
    start = len(g.buf)
    g.send("\x1d")
    g.expect(r"kdb> ", timeout=20, start=start)


def leave(g):
    start = len(g.buf)
    g.send("continue\r")
    return g.expect(r"\[kdb\] continuing", timeout=20, start=start).end()


def shell(g, line, until, timeout=120):
    start = len(g.buf)
    g.send(line + "\r")
    return g.expect(until, timeout=timeout, start=start)


def wait_for_services(g):
    """init starts ata, swapd and fs beside the shell, and with several CPUs
    they run while it does: page out only once swapd registered, and read
    a quiet transcript only once fs has mounted and said so."""
    g.expect(PROMPT, timeout=60)
    g.expect(r"swap: provider \d+ is swapd", timeout=60)
    g.expect(r"fs: ext2 .* mounted.*\n", timeout=60)
    g.expect(r"fs: pager of file system .*\n", timeout=60)


wait_for_swap = wait_for_services      # the name cases/exec.py imports



def enter_with_request_live(g, tries=40):
    """Breaks in once the page request exists: pagetest says it is touching
    the page before its fault reaches the kernel, and under load kdb can
    open in between.  Returns kdb's `mem` output (live 1 or the last try)."""
    for _ in range(tries):
        enter(g)
        out = kdb(g, "mem")
        if "page requests live 1" in out:
            return out
        leave(g)
        time.sleep(0.25)
    return out


def enter_with_stuck_pagetest(g):
    """Starts `pagetest stuck` (a page whose pager never answers) and breaks
    in once its request is live; returns where it started in the log and
    kdb's `mem` output."""
    g.expect(PROMPT, timeout=60)
    start = len(g.buf)
    g.send("pagetest stuck\r")
    g.expect(r"touching a page whose pager never answers", timeout=60, start=start)
    return start, enter_with_request_live(g)


def check(what, cond, bad):
    if not cond:
        bad.append(what)


@case("kdb_processes", mem="64M")
def kdb_processes(g):
    """Break in from the serial line, list threads, continue: the shell still works."""
    wait_for_services(g)
    # init may still be reaping a driver that found no device of its kind
    # (it exits at start-up): look again until init is back waiting.
    for tries in range(20):
        enter(g)
        out = kdb(g, "ps")
        if re.search(r"\binit\s+wait\b", out) or tries == 19:
            break
        leave(g)
        time.sleep(0.25)
    bad = []
    check("ps header", re.search(r"^PID\s+TID\s+NAME\s+STATE", out, re.M), bad)
    for name in ("init", "sh", "swapd"):
        check("ps lists " + name, re.search(r"^\d+\s+\d+\s+%s\s" % name, out, re.M), bad)
    check("init waits for a child", re.search(r"\binit\s+wait\b", out), bad)
    check("help lists commands", "grant" in kdb(g, "help"), bad)
    leave(g)
    shell(g, "echo still alive", r"^still alive$")
    return [("qemu/kdb_processes", not bad, "missing: " + ", ".join(bad))]


def stop_at_page_in_grant(g):
    """Continues until a page-in grant (rw) of pagetest's anonymous memory
    (at USER_MMAP_BASE and up) is lent: page-outs (ro) come first, and
    page-ins of /bin/pagetest's own headers and text from fs."""
    for _ in range(40):
        m = g.expect(r"world stopped: grant (0x[0-9a-f]+) lent", timeout=120, start=g.mark)
        g.mark = m.end()
        gid = m.group(1)
        rows = kdb(g, "grants")
        if re.search(r"^%s\s+lent\s+\S+\s+\S+\s+\d+\s+0x0*1[0-9a-f]{11}\s+\d+\s+\S+\s+rw"
                     % gid, rows, re.M):
            return gid
        kdb(g, "break grant")
        leave(g)
    raise AssertionError("no page-in grant was lent")


def readme_block(name):
    """README's `<!-- NAME example: begin ... -->` .. `<!-- NAME example: end -->`."""
    return re.compile(r"^<!-- %s example: begin\b.*?-->\n(.*?)^<!-- %s example: end -->"
                      % (name, name), re.M | re.S)


def shape(line):
    """A transcript line with what differs from run to run (pids, ids,
    frames, ages: every number) and the spacing of columns made uniform."""
    line = re.sub(r"\b0x[0-9a-f]+\b", "0x#", line.replace("\x1b[K", ""))
    return " ".join(re.sub(r"\b\d+\b", "#", line).split())


def readme_example(name="kdb"):
    """README's kdb (or other) example as runs of lines that must each
    appear, in order and whole, in a real transcript ("..." separates them)."""
    with open(os.path.join(ferry.ROOT, "README.md")) as f:
        m = readme_block(name).search(f.read())
    if not m:
        return None
    runs = [[]]
    for line in m.group(1).strip("\n").split("\n"):
        line = re.sub(r"\s{2,}\(.*\)$", "", line[4:])      # code indent, remark
        if line.strip() == "...":
            runs.append([])
        else:
            runs[-1].append(shape(line))
    return [r for r in runs if r]


def example_mismatch(example, transcript):
    """=> the first run of the example's lines the transcript lacks (after
    the runs before it), or None when the example is true."""
    lines = [shape(line) for line in transcript.split("\n")]
    at = 0
    for run in example:
        found = next((i for i in range(at, len(lines) - len(run) + 1)
                      if lines[i:i + len(run)] == run), None)
        if found is None:
            return run
        at = found + len(run)
    return None


@case("kdb_grant_step", mem="64M")
def kdb_grant_step(g):
    """Stop at a grant during a page-in, see it in both address spaces, step it through; README's example is this run's transcript."""
    wait_for_services(g)
    session = g.buf.rindex("ferry> ")
    enter(g)
    kdb(g, "break grant")
    # Typed once the shell's prompt is back, as a user would: the
    # transcript then reads like README's example.
    g.expect(r"^(?:\x1b\[K)?ferry> ", timeout=30, start=leave(g))
    g.mark = len(g.buf)
    g.send("pagetest 4 grant\r")
    gid = stop_at_page_in_grant(g)
    bad = []
    lent = kdb(g, "grant " + gid)
    check("holder window maps the granted frame", "holder window -> frame" in lent
          and "the granted frame" in lent, bad)
    check("faulting address in flight", "in flight: request" in lent, bad)
    frame = re.search(r"page 0: frame (0x[0-9a-f]+)", lent)
    check("swapd has no device domain", "device  none: holder pid" in lent
          if g.mach == "q35" else "device  no IOMMU" in lent, bad)
    start = len(g.buf)
    g.send("step\r")
    g.expect(r"world stopped: grant %s filled" % gid, timeout=60, start=start)
    filled = kdb(g, "grant " + gid)
    if g.mach == "q35" and frame:
        # Forwarded to the disk driver (nvme): mapped in its domain,
        # write-only, at that frame.
        dev = re.search(r"^  device  domain (\d+) (0x[0-9a-f]+) -> frame %s -w \(write-only"
                        % frame.group(1), filled, re.M)
        check("the driver's domain maps the frame write-only", dev, bad)
        check("kdb iommu lists the window", dev and re.search(
            r"^%s\s+%#-12x %s\s+\d+\s+-w\s+grant %s$" % (dev.group(1), int(dev.group(2), 16),
                                                      frame.group(1), gid),
            kdb(g, "iommu"), re.M), bad)
    start = len(g.buf)
    g.send("step\r")
    g.expect(r"world stopped: grant %s taken back" % gid, timeout=60, start=start)
    back = kdb(g, "grant " + gid)
    check("holder has no mapping after take-back", "holder  no mapping: grant ended" in back, bad)
    check("device has no mapping after take-back", g.mach != "q35" or
          "device  no mapping: grant ended" in back, bad)
    check("faulter still in flight before mapping", "in flight: request" in back, bad)
    start = len(g.buf)
    g.send("step\r")
    g.expect(r"world stopped: grant %s mapped" % gid, timeout=60, start=start)
    mapped = kdb(g, "grant " + gid)
    check("faulter maps the granted frame", "faulter maps -> frame %s: the granted frame"
          % (frame.group(1) if frame else "?") in mapped, bad)
    check("history shows it completed", re.search(r"^%s\s+completed" % gid,
                                                     kdb(g, "history 5"), re.M), bad)
    check("consistency while stopped", "check: OK" in kdb(g, "check"), bad)
    leave(g)
    g.expect(r"pagetest: 4 pages read back, 4 resident, 0 mismatches: ok\n", timeout=120,
             start=g.mark)
    results = [("qemu/kdb_grant_step", not bad, "failed: " + ", ".join(bad))]
    if g.mach != "q35":
        return results      # README's transcript is the default machine's (device lines)
    example = readme_example()
    lacking = example_mismatch(example, g.buf[session:]) if example else ["no example found"]
    return results + [("qemu/kdb_readme_example", not lacking,
                       "README.md's kdb example is not this run's transcript (serial log); "
                       "these lines, as compared, are not in it:\n" + "\n".join(lacking or []))]


def swap_counters(out):
    """(pages in, pages out) of swap provider 0, from kdb `swap`."""
    m = re.search(r"^0\s+\S+\s+\d+\s+\S+\s+\d+\s+\d+\s+\d+\s+\d+\s+(\d+)\s+(\d+)", out, re.M)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def counters(out, mode):
    m = re.search(r"^mode %s: faults (\d+) pages-in (\d+) pages-out (\d+) bytes-copied (\d+)"
                  % mode, out, re.M)
    return tuple(int(x) for x in m.groups()) if m else (0, 0, 0, 0)


@case("kdb_faultpath_switch", mem="64M")
def kdb_faultpath_switch(g):
    """Switch the fill mode from the console and watch the statistics move."""
    wait_for_services(g)
    bad = []
    for mode in ("copy", "grant"):
        enter(g)
        check("switch to " + mode, "fault path: " + mode in kdb(g, "faultpath " + mode), bad)
        before = counters(kdb(g, "faults"), mode)
        swap_before = swap_counters(kdb(g, "swap"))
        leave(g)
        shell(g, "pagetest 16", r"pagetest: 16 pages read back, 16 resident, 0 mismatches: ok")
        g.expect(PROMPT, timeout=30, start=len(g.buf) - 200)
        enter(g)
        after = counters(kdb(g, "faults"), mode)
        swap_after = swap_counters(kdb(g, "swap"))
        leave(g)
        # /bin/pagetest's own pages come from fs in the same mode: pages-in
        # beyond swapd's are those, and no page of a program goes out.
        pages_in = after[1] - before[1]
        check(mode + " swapd pages-in moved by 16", swap_after[0] - swap_before[0] == 16, bad)
        check(mode + " pages-in moved by 16 and the program's text (%d)" % pages_in,
              pages_in > 16, bad)
        check(mode + " pages-out moved by 16", after[2] - before[2] == 16, bad)
        check(mode + " swapd pages-out moved by 16", swap_after[1] - swap_before[1] == 16, bad)
        copied = after[3] - before[3]
        check(mode + " bytes copied %d" % copied,
              copied == (pages_in + 16) * 4096 if mode == "copy" else copied == 0, bad)
    return [("qemu/kdb_faultpath_switch", not bad, "failed: " + ", ".join(bad))]


@case("kdb_stuck_provider", mem="64M")
def kdb_stuck_provider(g):
    """A pager that never answers: the console shows who waits on what; kill it."""
    start, mem = enter_with_stuck_pagetest(g)
    bad = []
    out = kdb(g, "ps")
    waiter = re.search(r"^(\d+)\s+\d+\s+pagetest\s+pager-io\s+\d+\s+request\s+0x[0-9a-f]+",
                       out, re.M)
    check("a pagetest thread waits in pager-io on a request", waiter, bad)
    check("the request is live", "page requests live 1" in mem, bad)
    if waiter:
        check("kill", "killed" in kdb(g, "kill " + waiter.group(1)), bad)
    leave(g)
    g.expect(r"\[pagetest exited with status (-257|killed)", timeout=60, start=start)
    enter(g)
    check("nothing left in flight", "page requests live 0" in kdb(g, "mem"), bad)
    check("consistent", "check: OK" in kdb(g, "check"), bad)
    leave(g)
    shell(g, "echo alive", r"^alive$")
    return [("qemu/kdb_stuck_provider", not bad, "failed: " + ", ".join(bad))]


# overtime=16000: a request is failed after 16 s of running time and
# warned about after a quarter of it; the world stays stopped longer.
STOP_OVERTIME_MS = 16000
STOP_S = 5.0


@case("kdb_stop_does_not_age", cmdline="overtime=%d" % STOP_OVERTIME_MS, mem="64M")
def kdb_stop_does_not_age(g):
    """A request outstanding while the world is stopped in kdb does not age: no warning after."""
    start, mem = enter_with_stuck_pagetest(g)
    bad = []
    check("the request is live", "page requests live 1" in mem, bad)
    time.sleep(STOP_S)      # past the warning age, in wall-clock time
    leave(g)
    resumed = len(g.buf)
    time.sleep(1.5)         # the overtime check runs every 100 ms of it
    enter(g)
    out = kdb(g, "ps")
    waiter = re.search(r"^(\d+)\s+\d+\s+pagetest\s+pager-io\s", out, re.M)
    check("pagetest still waits on its request", waiter, bad)
    if waiter:
        kdb(g, "kill " + waiter.group(1))
    leave(g)
    g.expect(r"\[pagetest exited with status", timeout=60, start=resumed)
    # Its running time stays well below the warning's quarter (4 s):
    # the wait for the first prompt after the request started, then 1.5 s.
    aged = re.findall(r"page request \S+ for pid \d+ at \S+ is (\d+) ms old", g.buf[start:])
    check("no request aged by the stop (warned at %s ms)" % ", ".join(aged), not aged, bad)
    check("no request failed for overtime", "overran" not in g.buf, bad)
    return [("qemu/kdb_stop_does_not_age", not bad, "failed: " + ", ".join(bad))]


@case("kdb_prompt_after_continue", mem="64M")
def kdb_prompt_after_continue(g):
    """After `continue` the shell's prompt and the half-typed line are back, and the line runs."""
    wait_for_services(g)
    start = len(g.buf)
    g.send("echo half")
    g.expect(r"echo half", timeout=30, start=start)
    enter(g)
    leave(g)
    bad = []
    try:
        # Servers still starting may log between the two (fs mounting):
        # any "ferry> echo half" after "continuing" is the redraw.
        g.expect(r"^\[kdb\] continuing\n(?:.*\n)*?(?:\x1b\[K)?ferry> echo half", timeout=20,
                 start=start)
    except ferry.Timeout:
        bad.append("prompt and line redrawn after continue")
    g.send(" typed\r")
    try:
        g.expect(r"^half typed$", timeout=30, start=start)
    except ferry.Timeout:
        bad.append("the line runs")
    return [("qemu/kdb_prompt_after_continue", not bad,
             "failed: %s\n%s" % (", ".join(bad), g.buf[start:][-400:]))]
