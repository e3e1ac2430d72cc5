#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write malformed variants of a valid static ELF64 user program.

    python3 tools/mkbadelf.py GOOD.elf OUTDIR

Each file in OUTDIR carries exactly one flaw, named after it, and must be
refused by the kernel's elf_parse() for that reason.  Where a flaw would
otherwise trip an earlier check (page-offset alignment), the change keeps
the rest of the header consistent so the intended check is the one that
fires.  Prints nothing on success.
"""

import os
import struct
import sys

EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
PHDR = struct.Struct("<IIQQQQQQ")
PT_LOAD = 1
PF_X, PF_W = 0x1, 0x2
PAGE = 4096
KERNEL_BASE = 0xFFFF800000000000

# Field offsets inside the ELF header and a program header.
EI_CLASS, E_MACHINE, E_ENTRY, E_PHOFF = 4, 18, 24, 32
P_FLAGS, P_OFFSET, P_VADDR, P_FILESZ, P_MEMSZ = 4, 8, 16, 32, 40


class ElfError(Exception):
    pass


def put(buf, off, fmt, value):
    struct.pack_into("<" + fmt, buf, off, value)


def get(buf, off, fmt):
    return struct.unpack_from("<" + fmt, buf, off)[0]


def load_headers(data):
    """Offsets of the PT_LOAD program headers that occupy memory, in file order."""
    if len(data) < EHDR.size or data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ElfError("not a little-endian ELF64 file")
    fields = EHDR.unpack_from(data)
    phoff, phentsize, phnum = fields[5], fields[9], fields[10]
    if phentsize != PHDR.size or phoff + phnum * PHDR.size > len(data):
        raise ElfError("program header table is malformed")
    loads = []
    for i in range(phnum):
        off = phoff + i * PHDR.size
        p_type = get(data, off, "I")
        if p_type == PT_LOAD and get(data, off + P_MEMSZ, "Q") > 0:
            loads.append(off)
    if len(loads) < 2:
        raise ElfError("need at least two PT_LOAD segments")
    return loads


def same_page_offset(data, ph, vaddr):
    """vaddr moved so it keeps ph's file offset modulo the page size."""
    offset = get(data, ph + P_OFFSET, "Q")
    return (vaddr & ~(PAGE - 1)) + offset % PAGE


def variants(data):
    """Yields (name, bytes) for each flaw."""
    first, second = load_headers(data)[:2]

    def edit(change):
        buf = bytearray(data)
        change(buf)
        return bytes(buf)

    yield "bad_magic", edit(lambda b: put(b, 1, "B", ord("e")))
    yield "bad_class", edit(lambda b: put(b, EI_CLASS, "B", 1))
    yield "bad_machine", edit(lambda b: put(b, E_MACHINE, "H", 3))
    yield "truncated", data[:100]
    yield "phdr_out_of_bounds", edit(lambda b: put(b, E_PHOFF, "Q", len(data)))
    # Both moves keep the page offset, or "misaligned" would fire first.
    yield "kernel_address", edit(lambda b: put(
        b, first + P_VADDR, "Q", same_page_offset(data, first, KERNEL_BASE)))
    yield "entry_outside", edit(lambda b: put(b, E_ENTRY, "Q", 0x10))
    yield "overlapping", edit(lambda b: put(
        b, second + P_VADDR, "Q", same_page_offset(data, second, get(data, first + P_VADDR, "Q"))))
    yield "filesz_gt_memsz", edit(lambda b: put(
        b, first + P_FILESZ, "Q", get(data, first + P_MEMSZ, "Q") + 1))
    yield "writable_exec", edit(lambda b: put(
        b, first + P_FLAGS, "I", get(data, first + P_FLAGS, "I") | PF_W | PF_X))
    # A download cut short: the headers arrived, no segment did.
    phoff, phnum = EHDR.unpack_from(data)[5], EHDR.unpack_from(data)[10]
    yield "truncated_after_headers", data[:phoff + phnum * PHDR.size]

    # A segment that claims a page more of the file than there is.
    def past_eof(b):
        size = len(data) - get(data, second + P_OFFSET, "Q") + PAGE
        put(b, second + P_FILESZ, "Q", size)
        put(b, second + P_MEMSZ, "Q", max(size, get(data, second + P_MEMSZ, "Q")))
    yield "segment_past_eof", edit(past_eof)


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: mkbadelf.py GOOD.elf OUTDIR\n")
        return 2
    try:
        with open(argv[1], "rb") as f:
            data = f.read()
        os.makedirs(argv[2], exist_ok=True)
        for name, content in variants(data):
            with open(os.path.join(argv[2], name), "wb") as f:
                f.write(content)
    except (OSError, ElfError) as e:
        sys.stderr.write("mkbadelf: %s: %s\n" % (argv[1], e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
