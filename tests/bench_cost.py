# SPDX-License-Identifier: MIT
"""make bench's cost model: what the counting plugin wrote, the weights,
modelled cycles, and attribution of work to symbols.

The plugin (tools/costmodel/ferrycost.c) writes two files per boot: raw
counters per region tag and vCPU, and per tag and *site* (a translated
block's first address and first code bytes) the instructions, bytes,
misses and device accesses done there.  The weights come from the one
table in docs/BENCHMARKS.md ("Weights"), each with its source; modelled
cycles are the counters weighed by it.  Sites become symbols through
build/ferry.sym (the kernel) and the ELF files of the user programs
(build/user/*.elf: they share addresses, so the code bytes at the
address say whose it is); Linux's through the guest's /proc/kallsyms
(peer/linux/run.py)."""

import csv
import os
import re

import elfsyms
import ferry

PLUGIN = os.path.join(ferry.BUILD, "costmodel", "ferrycost.so")
DOC = os.path.join(ferry.ROOT, "docs", "BENCHMARKS.md")
KERNEL_SYMS = os.path.join(ferry.BUILD, "ferry.sym")
# The page of q35's VT-d unit's registers (QEMU's Q35_HOST_BRIDGE_IOMMU_ADDR,
# the address its DMAR table gives): the plugin counts MMIO there apart,
# as the IOMMU's (mmio_iommu).  Nothing answers there on `pc`.
IOMMU_REGS = 0xfed90000
# The kernel's idle work, which the plugin leaves out of regions: from the
# entry of the first function to the entry of the second (kernel/proc/
# sched.c's idle_work(): the zero pool's refill, done whenever a CPU would
# halt, so inside a region only when a device kept it waiting there).
IDLE_WORK = ("zeropool_clear", "zeropool_refill_end")

# What each weight of the table multiplies: a counter, or for `insn` every
# instruction but the iterations of rep movs/stos, charged by the byte.
WEIGHTED = {
    "insn": lambda c: c["insns"] - c["str_iters"],
    "string_byte": "str_bytes",
    "l1_miss": "l1_misses",
    "l2_miss": "l2_misses",
    "tlb_miss": "tlb_misses",
    "cr3_write": "cr3_writes",
    "invlpg": "invlpg",
    "pio": "pio",
    "pio_string": "pio_string",
    "mmio": "mmio",
    "ipi": "ipis",
    "iotlb_inval": "iotlb_inval",
}


def plugin_args(out, attr=None, ferry_kernel=True, **opts):
    """QEMU options loading the plugin: counters to `out`, attribution to
    `attr`; ferry_kernel: the guest runs build/ferry's kernel (its idle
    work is left out; not for the Linux peer)."""
    if not os.path.exists(PLUGIN):
        raise RuntimeError("%s missing: run `make cost-plugin`" % PLUGIN)
    spec = [PLUGIN, "out=" + out, "iommu=%#x" % IOMMU_REGS] + (
        ["idle=%#x:%#x" % idle_work()] if ferry_kernel else []) + (
        ["attr=" + attr] if attr else [])
    return ["-plugin", ",".join(spec + ["%s=%s" % kv for kv in sorted(opts.items())])]


def idle_work(syms=KERNEL_SYMS):
    """=> the addresses of IDLE_WORK's two functions in the kernel built."""
    k = elfsyms.nm_listing(syms)
    where = dict(zip(k.names, k.addrs))
    missing = [f for f in IDLE_WORK if f not in where]
    if missing:
        raise RuntimeError("%s lacks %s (tests/bench_cost.py IDLE_WORK)" % (syms, missing))
    return tuple(where[f] for f in IDLE_WORK)


def fresh(*paths):
    """Removes what an earlier run left at paths: a boot that dies must not
    leave someone else's counters behind."""
    for p in paths:
        if p and os.path.exists(p):
            os.unlink(p)


def read_counters(path):
    """The plugin's counters file => (header, counter names in order,
    {tag: {counter: sum over vCPUs}})."""
    with open(path) as f:
        head = f.readline().lstrip("# ").strip()
        reader = csv.DictReader(f)
        names = [n for n in reader.fieldnames if n not in ("tag", "vcpu")]
        by_tag = {}
        for r in reader:
            acc = by_tag.setdefault(int(r["tag"]), dict.fromkeys(names, 0))
            for k in names:
                acc[k] += int(r[k])
    return head, names, by_tag


def read_attr(path):
    """The plugin's attribution file => {tag: [site]}, a site being its
    counters plus kernel (bool), vaddr and code (bytes)."""
    by_tag = {}
    if not os.path.exists(path):
        return by_tag
    with open(path) as f:
        for r in csv.DictReader(f):
            site = {k: int(v) for k, v in r.items() if k not in ("tag", "kernel", "vaddr", "code")}
            site.update(kernel=r["kernel"] == "1", vaddr=int(r["vaddr"], 16),
                        code=bytes.fromhex(r["code"]))
            by_tag.setdefault(int(r["tag"]), []).append(site)
    return by_tag


def weights(doc=DOC):
    """The weights table of docs/BENCHMARKS.md: rows `| `name` | cycles | source |`
    between `<!-- cost weights begin -->` and `<!-- cost weights end -->`;
    every weight WEIGHTED uses, and no other."""
    text = open(doc).read()
    m = re.search(r"<!-- cost weights begin -->(.*?)<!-- cost weights end -->", text, re.S)
    if not m:
        raise RuntimeError("no weights table in %s" % doc)
    w = {}
    for line in m.group(1).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and re.fullmatch(r"`[a-z_0-9]+`", cells[0]):
            if not cells[2]:
                raise RuntimeError("weight %s in %s has no source" % (cells[0], doc))
            w[cells[0].strip("`")] = float(cells[1])
    if set(w) != set(WEIGHTED):
        raise RuntimeError("%s: weights %s; the model needs exactly %s" % (
            doc, sorted(w), sorted(WEIGHTED)))
    return w


def weighed(c, name):
    """What weight `name` multiplies in counters c; 0 for a counter c has
    not (counted by an older plugin, e.g. cached Linux peer results)."""
    f = WEIGHTED[name]
    return f(c) if callable(f) else c.get(f, 0)


def modelled_cycles(c, w):
    """Counters (a region's, a sum, or per fault or page) => cycles on the
    modelled machine."""
    return sum(weighed(c, k) * w[k] for k in WEIGHTED)


def per(c, n):
    return {k: v / max(n, 1) for k, v in c.items()}


def bytes_moved(c):
    return c["bytes_loaded"] + c["bytes_stored"] if "bytes_loaded" in c else c["bytes"]


def device_accesses(c):
    return c["pio"] + c["pio_string"] + c["mmio"]


def iommu_accesses(c):
    """The IOMMU's register accesses (part of mmio)."""
    return c.get("mmio_iommu", 0)


def device_callers(c):
    """Device accesses made by the functions this code called last."""
    return c.get("device_callee", 0)


class Resolver:
    """Sites => "program:function".  kernel: the kernel's Symbols;
    programs: (name, Elf) of every user program that may have run."""

    def __init__(self, kernel, programs):
        self.kernel = kernel
        self.programs = [(name, elf, elf.symbols()) for name, elf in programs]
        self.cache = {}

    def name(self, site):
        key = (site["vaddr"], site["code"], site["kernel"])
        if key not in self.cache:
            self.cache[key] = self._name(site)
        return self.cache[key]

    def _name(self, site):
        va = site["vaddr"]
        if site["kernel"]:
            return "kernel:%s" % (self.kernel.name(va) or "0x%x" % va)
        owners = {}
        for prog, elf, syms in self.programs:
            if elf.code_at(va, len(site["code"])) == site["code"]:
                owners.setdefault(syms.name(va) or "0x%x" % va, []).append(prog)
        if not owners:
            return "user:0x%x" % va
        return " ".join("%s:%s" % ("|".join(p), fn) for fn, p in sorted(owners.items()))


def ferry_resolver():
    """Ferry's kernel and every user program the build made, boot modules
    and programs on the disk alike (build/user/NAME.elf)."""
    user = os.path.join(ferry.BUILD, "user")
    progs = [(f[:-4], elfsyms.Elf(os.path.join(user, f))) for f in sorted(os.listdir(user))
             if f.endswith(".elf")]
    return Resolver(elfsyms.nm_listing(KERNEL_SYMS), progs)


def attribute(sites, resolver):
    """One tag's sites => {symbol: summed counters}."""
    out = {}
    for s in sites:
        acc = out.setdefault(resolver.name(s), {})
        for k, v in s.items():
            if isinstance(v, int) and not isinstance(v, bool) and k != "vaddr":
                acc[k] = acc.get(k, 0) + v
    return out


def top(attr, key, n=5):
    """The n symbols with the most of key(counters), biggest first."""
    ranked = sorted(attr.items(), key=lambda kv: (-key(kv[1]), kv[0]))
    return [(sym, c) for sym, c in ranked[:n] if key(c) > 0]


def trimmed(attr, n=12):
    """The symbols worth keeping: the top n by bytes, by device accesses,
    by the device accesses of their callees and by instructions."""
    keep = {s for f in (bytes_moved, device_accesses, device_callers, lambda c: c["insns"])
            for s, _ in top(attr, f, n)}
    return {s: attr[s] for s in sorted(keep)}
