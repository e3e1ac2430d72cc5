# SPDX-License-Identifier: MIT
"""fs, the ext2 server and pager of file mappings: the sample files of
disk/files read back inside Ferry through read() and through mmap in every
fill mode (1 KiB and 4 KiB blocks), a file bigger than RAM read under
memory pressure, writes (files, directories, shared writable mappings)
checked on the host after QEMU exits with e2fsck -fn and debugfs, and
corrupted images that give clear errors while the system keeps running.
Every boot gets its own disk: a copy of build/disk.img or one made here
with scripts/mkdisk.sh."""

import os
import re
import shutil
import struct
import subprocess
import tempfile
import zlib

import ferry
from cases import registry
from cases.kdb import enter, kdb, leave
from cases.user import PROMPT, shell_command

SAMPLES = os.path.join(ferry.ROOT, "disk", "files")
MODES = ("copy", "grant", "dma")
E2ENV = dict(os.environ, PATH=os.environ.get("PATH", "") + ":/sbin:/usr/sbin")


class FsCase(registry.Case):
    """A boot with a disk of its own: make_disk(tmpdir) returns its path;
    the case function gets the guest and that path."""

    def __init__(self, fn, name, make_disk, cmdline, mem, timeout, modules=None, bus="nvme"):
        super().__init__(fn, name, cmdline, mem, timeout, modules)
        self.make_disk = make_disk
        self.bus = bus

    def run(self, log_path):
        tmp = tempfile.mkdtemp(prefix="fs-", dir=ferry.BUILD)
        try:
            disk = self.make_disk(tmp)
            g = self.guest(log_path, drives=[ferry.disk_drive(disk, self.bus)])
            try:
                g.start()
                g.expect(r"^fs: ", timeout=60)
                g.expect(PROMPT, timeout=60)
                out = self.fn(g, disk)
                verdict = registry.consistency_check(g)
                if verdict:
                    out.append(verdict)
            finally:
                g.kill()
            return out
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def fs_case(name, make_disk, mem="64M", timeout=90, cmdline="", modules=None, bus="nvme"):
    """bus: where the disk is ("nvme", or "ide" for ata's own cases)."""
    def register(fn):
        registry._cases.append(FsCase(fn, name, make_disk, cmdline, mem, timeout, modules, bus))
        return fn
    return register


# --- disks ---

def copy_disk(tmp):
    path = os.path.join(tmp, "disk.img")
    shutil.copyfile(ferry.DISK, path)
    return path


def make_disk(tmp, files, block=1024, fs_mb=16):
    path = os.path.join(tmp, "disk.img")
    env = dict(E2ENV, FS_BLOCK=str(block), FS_MB=str(fs_mb))
    subprocess.run(["sh", os.path.join(ferry.ROOT, "scripts", "mkdisk.sh"), path, files],
                   check=True, env=env, capture_output=True)
    return path


def linux_partition(image):
    """(byte offset, bytes) of the image's first Linux (0x83) MBR partition."""
    with open(image, "rb") as f:
        mbr = f.read(512)
    for i in range(4):
        e = mbr[446 + 16 * i: 462 + 16 * i]
        if e[4] == 0x83:
            start, count = struct.unpack("<II", e[8:16])
            return start * 512, count * 512
    raise AssertionError("no Linux partition in %s" % image)


def extract_fs(image, tmp):
    """The ext2 partition as a file of its own, for e2fsck and debugfs."""
    off, size = linux_partition(image)
    out = os.path.join(tmp, "part.img")
    with open(image, "rb") as f, open(out, "wb") as o:
        f.seek(off)
        o.write(f.read(size))
    return out


def fsck(part):
    p = subprocess.run(["e2fsck", "-fn", part], capture_output=True, text=True, env=E2ENV)
    return p.returncode == 0, p.stdout + p.stderr


def debugfs(part, request):
    p = subprocess.run(["debugfs", "-R", request, part], capture_output=True, env=E2ENV)
    return p.stdout


def dump(part, path, tmp):
    out = os.path.join(tmp, "dump.out")
    if os.path.exists(out):
        os.unlink(out)
    debugfs(part, "dump %s %s" % (path, out))
    with open(out, "rb") as f:
        return f.read()


def samples():
    """(fs path, bytes) of every sample file."""
    out = []
    for root, _, names in os.walk(SAMPLES):
        for n in sorted(names):
            p = os.path.join(root, n)
            with open(p, "rb") as f:
                out.append(("/" + os.path.relpath(p, SAMPLES), f.read()))
    return sorted(out)


SUM = re.compile(r"^sum (\S+): (\d+) bytes; read ([0-9a-f]{8}) .*; mmap ([0-9a-f]{8}) "
                 r"\((\w+), .*\): (match|MISMATCH)$", re.M)


def check_sum(g, path, data, mode, timeout=60):
    """`sum PATH MODE` agrees with the host's CRC-32 by read and by mmap."""
    out = shell_command(g, "sum %s %s" % (path, mode), timeout=timeout)
    m = SUM.search(out)
    want = "%08x" % (zlib.crc32(data) & 0xFFFFFFFF)
    ok = bool(m) and int(m.group(2)) == len(data) and m.group(3) == want \
        and m.group(4) == want and m.group(5) == mode
    return ("qemu/%s/sum%s/%s" % (g.name, path.replace("/", "_"), mode), ok,
            "" if ok else "want %s, %d bytes; got:\n%s" % (want, len(data), out))


def read_all_samples(g):
    results = [check_sum(g, path, data, mode) for path, data in samples() for mode in MODES]
    out = shell_command(g, "ls /docs/notes")
    results.append(("qemu/%s/ls" % g.name, bool(re.search(r"^d\s+\d+ deep$", out, re.M)) and
                    bool(re.search(r"^-\s+55 index.txt$", out, re.M)), out))
    return results


@fs_case("fs_read_1k", copy_disk)
def fs_read_1k(g, disk):
    """Every sample file, 1 KiB blocks: read() and mmap agree with the host in
    copy, grant and dma; the tail after the end of file is zero; a page past
    the end kills the thread that touches it, and the shell comes back."""
    results = read_all_samples(g)
    for mode in MODES:
        shell_command(g, "mode " + mode)
        out = shell_command(g, "peek /hello.txt 0") + shell_command(g, "peek /hello.txt 4000")
        results.append(("qemu/fs_read_1k/tail_zero/" + mode,
                        "peek /hello.txt 0: 0x48" in out and "peek /hello.txt 4000: 0" in out,
                        out))
    start = len(g.buf)
    g.send("peek /hello.txt 5000\r")
    g.expect(r"killed: page-in failed", timeout=30, start=start)
    g.expect(PROMPT, timeout=30, start=start)
    results.append(("qemu/fs_read_1k/past_eof", "beyond the end of the file" in g.buf[start:],
                    g.buf[start:]))
    return results


@fs_case("fs_read_4k", lambda tmp: make_disk(tmp, SAMPLES, block=4096))
def fs_read_4k(g, disk):
    """Every sample file, 4 KiB blocks, read() and mmap in the three fill modes."""
    return read_all_samples(g)


def pio_only_modules():
    return [(path, args + " dma=off" if args.split()[0] == "ata" else args)
            for path, args in ferry.default_modules()]


FAULTS = re.compile(r"^mode (\w+): faults (\d+)", re.M)


def faults_by_mode(g):
    enter(g)
    out = kdb(g, "faults")
    leave(g)
    return {m: int(n) for m, n in FAULTS.findall(out)}


@fs_case("fs_pio_only", copy_disk, modules=pio_only_modules, bus="ide")
def fs_pio_only(g, disk):
    """ata with dma=off: fs tells the kernel it cannot take DMA grants, so a
    mapping read in the dma fill mode is served as grant-map (and counted
    so), with the right bytes, instead of failing in ata."""
    path, data = [s for s in samples() if s[0] == "/data/pattern.bin"][0]
    before = faults_by_mode(g)
    results = [check_sum(g, path, data, "dma")]
    after = faults_by_mode(g)
    grew = {m: after.get(m, 0) - before.get(m, 0) for m in after}
    results.append(("qemu/fs_pio_only/dma_served_as_grant",
                    grew.get("dma") == 0 and grew.get("grant", 0) >= len(data) // 4096 // 32,
                    "faults added per mode: %s" % grew))
    return results


def big_files(tmp, mib):
    """disk/files plus big.bin: `mib` MiB, every 4 KiB page different."""
    files = os.path.join(tmp, "files")
    shutil.copytree(SAMPLES, files)
    block = bytes((i * 167 + 13) & 0xFF for i in range(4096 - 8))
    with open(os.path.join(files, "big.bin"), "wb") as f:
        for page in range(mib * 256):
            f.write(struct.pack("<Q", page * 0x9E3779B97F4A7C15 & (2**64 - 1)) + block)
    return files


BIG_MIB = 40


def big_crc():
    block = bytes((i * 167 + 13) & 0xFF for i in range(4096 - 8))
    crc = 0
    for page in range(BIG_MIB * 256):
        crc = zlib.crc32(struct.pack("<Q", page * 0x9E3779B97F4A7C15 & (2**64 - 1)) + block,
                         crc)
    return "%08x" % (crc & 0xFFFFFFFF)


@fs_case("fs_bigger_than_ram",
         lambda tmp: make_disk(tmp, big_files(tmp, BIG_MIB), block=1024, fs_mb=BIG_MIB + 8),
         mem="32M", timeout=150)
def fs_bigger_than_ram(g, disk):
    """A 40 MiB file in a 32 MiB guest: read() and one mapping of all of it
    agree (clean file pages are dropped under pressure and asked for again)."""
    results = []
    want = big_crc()
    for mode in MODES:
        out = shell_command(g, "sum /big.bin %s" % mode, timeout=120)
        m = SUM.search(out)
        ok = bool(m) and m.group(3) == want and m.group(4) == want
        results.append(("qemu/fs_bigger_than_ram/" + mode, ok,
                        "want %s, got:\n%s" % (want, out)))
    out = shell_command(g, "echo alive")
    results.append(("qemu/fs_bigger_than_ram/alive", "alive" in out, out))
    return results


# Few words (the shell splits a line into at most 16), 98 bytes with the newline.
LINE = "%03d: appended-inside-Ferry;-a-hundred-of-these-need-indirect-blocks" + "." * 30 + "\n"


def write_session(g, disk):
    """Files and directories made, grown, moved and removed in Ferry, and
    bytes written through mappings in each fill mode (shared: msync, munmap
    or exit write them back; private: the file keeps its bytes): after
    QEMU exits, e2fsck -fn finds nothing to fix and debugfs shows it all."""
    name = g.name
    lines = bytearray(open(os.path.join(SAMPLES, "docs", "lines.txt"), "rb").read())
    pattern = bytearray(open(os.path.join(SAMPLES, "data", "pattern.bin"), "rb").read())
    hello = open(os.path.join(SAMPLES, "hello.txt"), "rb").read()
    log = []

    def sh(cmd):
        log.append(shell_command(g, cmd))
        return log[-1]

    sh("write /notes.txt hello from ferry")
    sh("append /notes.txt second line")
    sh("mkdir /newdir /newdir/sub")
    sh("mv /notes.txt /newdir/sub/notes.txt")
    sh("rm /empty.txt /docs/notes/deep/leaf.txt /docs/notes/deep")
    sh("mv /docs/notes /newdir/notes")
    sh("write /grow.txt start")
    grow = b"start\n"
    for i in range(130):   # 12.7 KB: past the 12 direct 1 KiB blocks
        text = (LINE % i)[:-1]
        sh("append /grow.txt " + text)
        grow += text.encode() + b"\n"
    for mode, how, off, text, buf, path in (
            ("grant", "", 100, "MAPPED-GRANT", lines, "/docs/lines.txt"),
            ("dma", "", 70000, "MAPPED-DMA", lines, "/docs/lines.txt"),
            ("copy", "", 120000, "MAPPED-COPY", lines, "/docs/lines.txt"),
            ("copy", "-u ", 307300, "TAIL-COPY", pattern, "/data/pattern.bin"),
            ("grant", "-u ", 307312, "END", pattern, "/data/pattern.bin"),
            ("dma", "", 4090, "ACROSS-PAGES", pattern, "/data/pattern.bin"),
            ("grant", "-p ", 0, "PRIVATE", None, "/hello.txt"),
            ("dma", "-p ", 10, "PRIVATE", None, "/hello.txt")):
        sh("mode " + mode)
        sh("mmwrite %s%s %d %s" % (how, path, off, text))
        if buf is not None:
            buf[off:off + len(text)] = text.encode()
    sh("mode dma")
    sh("mmwrite -x /docs/lines.txt 3000 AT-EXIT")
    lines[3000:3007] = b"AT-EXIT"
    sh("mode grant")
    after = sh("sum /docs/lines.txt") + sh("cat /hello.txt")
    not_empty = sh("rm /newdir")
    g.send("poweroff\r")
    code = g.wait_exit(timeout=60)

    tmp = os.path.dirname(disk)
    part = extract_fs(disk, tmp)
    clean, report = fsck(part)
    want_crc = "%08x" % (zlib.crc32(bytes(lines)) & 0xFFFFFFFF)
    m = SUM.search(after)
    results = [("qemu/%s/exit" % name, code == ferry.EXIT_PASS, "QEMU exit status %s" % code),
               ("qemu/%s/e2fsck" % name, clean, report),
               ("qemu/%s/not_empty" % name, "directory not empty" in not_empty, not_empty),
               ("qemu/%s/read_after_mmap" % name, bool(m) and m.group(3) == want_crc and
                m.group(4) == want_crc and hello.decode() in after, after)]
    for path, want in (("/newdir/sub/notes.txt", b"hello from ferry\nsecond line\n"),
                       ("/grow.txt", grow), ("/docs/lines.txt", bytes(lines)),
                       ("/data/pattern.bin", bytes(pattern)), ("/hello.txt", hello),
                       ("/newdir/notes/index.txt",
                        open(os.path.join(SAMPLES, "docs/notes/index.txt"), "rb").read())):
        got = dump(part, path, tmp)
        results.append(("qemu/%s/content%s" % (name, path.replace("/", "_")), got == want,
                        "%s: %d bytes, want %d" % (path, len(got), len(want))))
    listing = debugfs(part, "ls -l /").decode(errors="replace")
    results.append(("qemu/%s/removed" % name, "empty.txt" not in listing and
                    b"deep" not in debugfs(part, "ls /newdir/notes"), listing))
    errors = [line for line in "".join(log).splitlines() if re.search(r": .*error", line)]
    results.append(("qemu/%s/no_errors" % name, not errors, "\n".join(errors)))
    return results


@fs_case("fs_write_1k", copy_disk, timeout=120)
def fs_write_1k(g, disk):
    """Writes in Ferry on 1 KiB blocks, checked on the host (e2fsck, debugfs)."""
    return write_session(g, disk)


@fs_case("fs_write_4k", lambda tmp: make_disk(tmp, SAMPLES, block=4096), timeout=120)
def fs_write_4k(g, disk):
    """Writes in Ferry on 4 KiB blocks, checked on the host (e2fsck, debugfs)."""
    return write_session(g, disk)


def patch(image, off, data):
    with open(image, "r+b") as f:
        f.seek(off)
        f.write(data)


def corrupt_metadata(tmp):
    """build/disk.img with /docs's first directory block and a block pointer
    of /data/pattern.bin (at the group descriptors) damaged."""
    disk = copy_disk(tmp)
    part = extract_fs(disk, tmp)
    base, _ = linux_partition(disk)
    docs = int(debugfs(part, "blocks /docs").split()[0])
    patch(disk, base + docs * 1024 + 4, struct.pack("<H", 0))      # rec_len 0
    m = re.search(rb"located at block (\d+), offset (0x[0-9a-f]+)",
                  debugfs(part, "imap /data/pattern.bin"))
    inode = base + int(m.group(1)) * 1024 + int(m.group(2), 16)
    patch(disk, inode + 40 + 4 * 2, struct.pack("<I", 2))           # i_block[2]
    return disk


@fs_case("fs_corrupt", corrupt_metadata)
def fs_corrupt(g, disk):
    """A damaged directory and a damaged block pointer: clear errors by
    read() and by mmap, a log line, and fs, the shell and the rest keep
    working."""
    out = shell_command(g, "ls /docs")
    results = [("qemu/fs_corrupt/ls", "ls: /docs: I/O error" in out, out)]
    out = shell_command(g, "write /docs/new x")
    results.append(("qemu/fs_corrupt/create", "I/O error" in out, out))
    out = shell_command(g, "sum /data/pattern.bin")
    results.append(("qemu/fs_corrupt/read", "sum: /data/pattern.bin: I/O error" in out, out))
    results.append(("qemu/fs_corrupt/logged", "ext2: corrupt: directory" in g.buf and
                    "ext2: corrupt: inode" in g.buf, g.buf[-3000:]))
    start = len(g.buf)
    g.send("peek /data/pattern.bin 0\r")
    g.expect(r"killed: page-in failed", timeout=30, start=start)
    g.expect(PROMPT, timeout=30, start=start)
    out = shell_command(g, "cat /hello.txt") + shell_command(g, "ps")
    results.append(("qemu/fs_corrupt/still_serving",
                    "Hello from Ferry" in out and bool(re.search(r"\sfs\s", out)), out))
    return results


def unsupported_feature(tmp):
    """build/disk.img whose superblock claims the extents feature (ext4)."""
    disk = copy_disk(tmp)
    base, _ = linux_partition(disk)
    with open(disk, "rb") as f:
        f.seek(base + 1024 + 96)
        incompat = struct.unpack("<I", f.read(4))[0]
    patch(disk, base + 1024 + 96, struct.pack("<I", incompat | 0x40))
    return disk


@fs_case("fs_refuses_ext4", unsupported_feature)
def fs_refuses_ext4(g, disk):
    """An incompatible feature is refused with a clear line; file ops fail
    with I/O error, and everything else keeps running."""
    out = shell_command(g, "ls /") + shell_command(g, "echo still here")
    return [("qemu/fs_refuses_ext4/refused",
             bool(re.search(r"ext2: incompatible features 0x40 not supported", g.buf))
             and "fs: no file system" in g.buf, g.buf[-2000:]),
            ("qemu/fs_refuses_ext4/errors", "ls: /: I/O error" in out and "still here" in out,
             out)]
