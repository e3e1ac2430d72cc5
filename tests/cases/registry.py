# SPDX-License-Identifier: MIT
"""@case registers a QEMU test: a function taking a started Guest (booted
with the case's kernel command line) and returning its results."""

import copy
import importlib
import os
import pkgutil
import re

import ferry

_cases = []


def first_paragraph(doc):
    """A docstring's first paragraph as one line: what --list prints."""
    return " ".join((doc or "").strip().split("\n\n")[0].split())


class Case:
    """timeout: seconds the case may take from its boot to its last check;
    the runner fails a case that takes longer and stops its QEMU.  The ISO
    is built before the clock starts (iso() remembers it), so a slow
    grub-mkrescue on a loaded host does not eat a case's time."""

    def __init__(self, fn, name, cmdline, mem, timeout, modules, qemu=None, cpus=None):
        self.fn, self.name, self.cmdline = fn, name, cmdline
        self.cpus = cpus    # None: $FERRY_SMP (the runner's default: 2)
        self.mem, self.timeout, self.modules = mem, timeout, modules
        self.qemu = qemu    # None, or a function => more Guest() arguments
        self.doc = first_paragraph(fn.__doc__)
        self.guests = []
        self._iso = None

    def iso(self):
        if self._iso is None:
            mods = self.modules() if self.modules else ferry.default_modules()
            out = os.path.join(ferry.BUILD, "tests", self.name + ".iso")
            self._iso = ferry.make_iso(out, self.cmdline, mods)
        return self._iso

    def guest(self, log_path, **kw):
        """The case's Guest (not started yet), known to stop()."""
        kw.setdefault("cpus", self.cpus)
        return self.register(ferry.Guest(self.iso(), mem=self.mem, name=self.name,
                                         log_path=log_path, **kw))

    def register(self, g):
        """A Guest the case made its own way, known to stop() from now on."""
        self.guests.append(g)
        return g

    def stop(self):
        """Ends the case's QEMUs from another thread: the case's next wait
        on its guest then fails at once, and its own clean-up runs."""
        for g in self.guests:
            if g.proc and g.proc.poll() is None:
                g.proc.kill()

    def run(self, log_path):
        g = self.guest(log_path, **(self.qemu() if self.qemu else {}))
        try:
            g.start()
            out = self.fn(g)
            if out is None:
                out = [("qemu/" + self.name, True, "")]
            verdict = consistency_check(g)
            if verdict:
                out.append(verdict)
        finally:
            g.kill()
        return out


def case(name, cmdline="", mem="64M", timeout=150, modules=None, qemu=None, cpus=None):
    def register(fn):
        _cases.append(Case(fn, name, cmdline, mem, timeout, modules, qemu, cpus))
        return fn
    return register


_variants = []      # (case name, CPUs): also_on()


def also_on(name, cpus):
    """Runs the case `name` once more on `cpus` CPUs, as NAME@Ncpu (its
    results' names get the same mark)."""
    _variants.append((name, cpus))


def _on_cpus(c, cpus):
    v = copy.copy(c)
    mark = "@%dcpu" % cpus
    v.name, v.cpus, v.guests, v._iso = c.name + mark, cpus, [], None

    def fn(g, _fn=c.fn):
        return [(n if n.startswith("qemu/" + v.name) else n + mark, ok, d)
                for n, ok, d in (_fn(g) or [("qemu/" + c.name, True, "")])]
    fn.__doc__ = "%s, on %d CPU%s: %s" % (c.name, cpus, "" if cpus == 1 else "s", c.doc)
    v.fn, v.doc = fn, first_paragraph(fn.__doc__)
    return v


def all_cases():
    pkg = os.path.dirname(__file__)
    for m in pkgutil.iter_modules([pkg]):
        if m.name != "registry":
            importlib.import_module("cases." + m.name)
    by_name = {c.name: c for c in _cases}
    return list(_cases) + [_on_cpus(by_name[n], k) for n, k in _variants if n in by_name]


CHECK_BLOCK = re.compile(r"^\[kdb begin check\]\n(.*?)^\[kdb end check\]", re.M | re.S)


def consistency_check(g):
    """Every boot ends with the kernel's consistency check: one the kernel
    ran itself before an orderly shutdown, or one we ask for through the
    debug console (break key, `check`) while the guest still runs.  Boots
    that end in a panic have none: their own checks judge them."""
    if g.proc.poll() is None and g.accel:
        start = len(g.buf)
        try:
            g.send("\x1d")
            g.expect(r"kdb> ", timeout=20, start=start)
            g.send("check\r")
            g.expect(r"^\[kdb end check\]", timeout=30, start=start)
        except ferry.Timeout as e:
            return ("qemu/%s_consistency" % g.name, False, "debug console: %s" % e)
    blocks = CHECK_BLOCK.findall(g.buf)
    if not blocks:
        return None
    ok = "check: OK" in blocks[-1]
    return ("qemu/%s_consistency" % g.name, ok, "" if ok else blocks[-1])


def kernel_results(guest):
    """The 'test kernel/NAME: OK|FAILED' lines a boot printed, as results."""
    import re
    return [("kernel/" + n, s == "OK", "" if s == "OK" else "see serial log")
            for n, s in re.findall(r"^test kernel/(\S+): (OK|FAILED)", guest.buf, re.M)]
