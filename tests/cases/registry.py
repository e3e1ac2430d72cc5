# SPDX-License-Identifier: MIT
"""@case registers a QEMU test: a function taking a started Guest (booted
with the case's kernel command line) and returning its results."""

import importlib
import os
import pkgutil

import ferry

_cases = []


class Case:
    def __init__(self, fn, name, cmdline, mem, timeout, modules):
        self.fn, self.name, self.cmdline = fn, name, cmdline
        self.mem, self.timeout, self.modules = mem, timeout, modules
        self.doc = (fn.__doc__ or "").strip().split("\n")[0]

    def iso(self):
        mods = self.modules() if self.modules else ferry.default_modules()
        out = os.path.join(ferry.BUILD, "tests", self.name + ".iso")
        return ferry.make_iso(out, self.cmdline, mods)

    def run(self, log_path):
        g = ferry.Guest(self.iso(), mem=self.mem, name=self.name, log_path=log_path)
        try:
            g.start()
            out = self.fn(g)
        finally:
            g.kill()
        if out is None:
            return [("qemu/" + self.name, True, "")]
        return out


def case(name, cmdline="", mem="64M", timeout=60, modules=None):
    def register(fn):
        _cases.append(Case(fn, name, cmdline, mem, timeout, modules))
        return fn
    return register


def all_cases():
    pkg = os.path.dirname(__file__)
    for m in pkgutil.iter_modules([pkg]):
        if m.name != "registry":
            importlib.import_module("cases." + m.name)
    return list(_cases)


def kernel_results(guest):
    """The 'test kernel/NAME: OK|FAILED' lines a boot printed, as results."""
    import re
    return [("kernel/" + n, s == "OK", "" if s == "OK" else "see serial log")
            for n, s in re.findall(r"^test kernel/(\S+): (OK|FAILED)", guest.buf, re.M)]
