# SPDX-License-Identifier: MIT
"""Symbols for the cost model's attribution (tests/bench_cost.py): which
function a guest code address belongs to.

Two sources: `nm -n` style listings (build/ferry.sym; Linux's
/proc/kallsyms, modules included); ELF executables (Ferry's user programs,
the peer's static pagebench), whose loaded bytes also tell programs apart
that share addresses.  Standard library only."""

import bisect
import gzip
import struct

TEXT_TYPES = set("tTwW")
PT_LOAD = 1
SHT_SYMTAB = 2
STT_FUNC = 2
SHF_EXECINSTR = 0x4


class Symbols:
    """Sorted (address, name) pairs: name(addr) is the last symbol at or
    below addr, or None below the first one or beyond `end`."""

    def __init__(self, pairs, end=None):
        pairs = sorted(pairs)
        self.addrs = [a for a, _ in pairs]
        self.names = [n for _, n in pairs]
        self.end = end

    def __len__(self):
        return len(self.addrs)

    def name(self, addr):
        i = bisect.bisect_right(self.addrs, addr) - 1
        if i < 0 or (self.end is not None and addr >= self.end):
            return None
        return self.names[i]


def nm_lines(lines):
    """`ADDR TYPE NAME [MODULE]` lines (llvm-nm -n, System.map,
    /proc/kallsyms) => their text symbols; a module's are NAME[MODULE]."""
    pairs = []
    for line in lines:
        p = line.split()
        if len(p) >= 3 and p[1] in TEXT_TYPES:
            name = p[2] + (p[3] if len(p) > 3 and p[3].startswith("[") else "")
            pairs.append((int(p[0], 16), name))
    return Symbols(pairs)


def nm_listing(path):
    """nm_lines() of a file (gzip allowed)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        return nm_lines(f)


class Elf:
    """An ELF64 little-endian file: its sections, loaded segments and
    function symbols."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = f.read()
        d = self.data
        if d[:4] != b"\x7fELF" or d[4] != 2 or d[5] != 1:
            raise ValueError("%s: not a little-endian ELF64 file" % path)
        (self.type, _, _, _, phoff, shoff, _, _, phentsize, phnum, shentsize, shnum,
         shstrndx) = struct.unpack_from("<HHIQQQIHHHHHH", d, 16)
        self.segments = []      # (vaddr, file offset, file size) of PT_LOAD
        for i in range(phnum):
            p_type, _, off, vaddr, _, filesz, _, _ = struct.unpack_from(
                "<IIQQQQQQ", d, phoff + i * phentsize)
            if p_type == PT_LOAD:
                self.segments.append((vaddr, off, filesz))
        self.sections = []      # (name offset, type, flags, addr, offset, size, link)
        for i in range(shnum):
            name, typ, flags, addr, off, size, link, _, _, _ = struct.unpack_from(
                "<IIQQQQIIQQ", d, shoff + i * shentsize)
            self.sections.append((name, typ, flags, addr, off, size, link))
        strtab = self.sections[shstrndx][4] if shnum else 0
        self.section_names = [self._str(strtab, s[0]) for s in self.sections]

    def _str(self, table_off, off):
        end = self.data.index(b"\0", table_off + off)
        return self.data[table_off + off:end].decode(errors="replace")

    def functions(self):
        """=> [(value, name, section index)] of the code symbols."""
        out = []
        for typ_sec in self.sections:
            if typ_sec[1] != SHT_SYMTAB:
                continue
            _, _, _, _, off, size, link = typ_sec
            strtab = self.sections[link][4]
            for k in range(off, off + size, 24):
                name, info, _, shndx, value, _ = struct.unpack_from("<IBBHQQ", self.data, k)
                if (info & 0xf) not in (0, STT_FUNC) or not (0 < shndx < len(self.sections)):
                    continue
                if not self.sections[shndx][2] & SHF_EXECINSTR:
                    continue
                n = self._str(strtab, name)
                if n and not n.startswith("$"):
                    out.append((value, n, shndx))
        return out

    def symbols(self):
        """An executable's code symbols, at their addresses."""
        return Symbols([(v, n) for v, n, _ in self.functions()],
                       end=max((a + s for a, _, s in self.segments), default=None))

    def code_at(self, vaddr, n):
        """The n bytes the file loads at vaddr, or None."""
        for start, off, size in self.segments:
            if start <= vaddr and vaddr + n <= start + size:
                return self.data[off + vaddr - start:off + vaddr - start + n]
        return None
