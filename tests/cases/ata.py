# SPDX-License-Identifier: MIT
"""ata, the IDE driver: it comes up under the normal boot with the disk
`make` builds, and user/blktest (ata's test client) checks reads, writes,
the grant paths through a pager of its own, access control, and disk
faults injected with QEMU's blkdebug and a hung null-co drive.  What
blktest reads and writes is checked here against the image file."""

import os
import re
import shutil
import struct
import subprocess
import tempfile

import ferry
from cases import registry
from cases.user import PROMPT, shell_command

# ata's policy in these boots: blktest may use everything of disk 0.
POLICY = "part1=swapd,blktest part2=fs,blktest part3=blktest raw=blktest"

# Sectors of disk 0's free space (after partition 2) given blkdebug rules:
# transient (once) for a DMA and a PIO read, permanent for a DMA and a PIO
# read, and permanent for writes.
T_DMA, T_PIO, P_DMA, P_PIO, W_ERR = 70000, 70100, 70200, 70300, 70400
# The UUIDs scripts/mkdisk.sh gives the swap area and the file system.
SWAP_UUID = "46455252-5900-4000-8000-000000000001"
EXT2_UUID = "46455252-5900-4000-8000-000000000002"
HUNG_LATENCY_NS = 2 * 10**9     # disk 1 answers every request this late...
ATA_TIMEOUT_MS = 500            # ...and ata gives up on a command after this


def modules(extra=""):
    """The default boot modules, ata with POLICY (and `extra` options), and
    blktest's ELF once more as "blkrogue", a program the policy does not know."""
    mods = []
    for path, args in ferry.default_modules():
        if args.split(" ")[0] == "ata":
            args = ("ata %s %s" % (POLICY, extra)).strip()
        mods.append((path, args))
    mods.append((os.path.join(ferry.BUILD, "user", "blktest.elf"), "blkrogue"))
    return mods


class DiskCase(registry.Case):
    """A case whose guest gets its own drives: drives(tmpdir) returns the
    -drive values; tmpdir (copies of the disk, blkdebug rules) lives as long
    as the boot, and the case function gets it as g.disk_dir."""

    def __init__(self, fn, name, cmdline, mem, timeout, mods, drives, mach=None,
                 check_fails=False, cpus=None):
        super().__init__(fn, name, cmdline, mem, timeout, mods, cpus=cpus)
        self.drives = drives
        self.mach = mach    # None: FERRY_MACHINE's
        # A negative control whose point is that the kernel's consistency
        # check finds what the test switch broke: its failure is the pass.
        self.check_fails = check_fails

    def run(self, log_path):
        tmp = tempfile.mkdtemp(prefix="ata-", dir=ferry.BUILD)
        try:
            g = self.guest(log_path, drives=self.drives(tmp), mach=self.mach)
            g.disk_dir = tmp
            try:
                g.start()
                out = self.fn(g)
                verdict = registry.consistency_check(g)
                if verdict and self.check_fails:
                    verdict = (verdict[0] + "_finds_it", not verdict[1],
                               "the check found nothing" if verdict[1] else "")
                if verdict:
                    out.append(verdict)
            finally:
                g.kill()
            return out
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def disk_case(name, cmdline="", drives=None, mem="64M", timeout=90, extra="", mach=None,
              check_fails=False):
    def register(fn):
        registry._cases.append(DiskCase(
            fn, name, cmdline, mem, timeout, lambda: modules(extra),
            drives or (lambda tmp: ferry.default_drives("ide")), mach, check_fails))
        return fn
    return register


def copy_disk(tmp):
    """A private copy of build/disk.img, for boots that write."""
    path = os.path.join(tmp, "disk.img")
    shutil.copyfile(ferry.DISK, path)
    return path


# --- what the host knows about the image ---

def fnv64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def pattern(seed, n):
    """user/blktest/blk.c's pattern_fill."""
    return bytes(((i * 131 + seed * 7 + (i >> 9)) ^ seed) & 0xFF for i in range(n))


def partitions(image):
    """{n: (start, sectors, type)} from the image's MBR."""
    with open(image, "rb") as f:
        mbr = f.read(512)
    parts = {}
    for i in range(4):
        e = mbr[446 + 16 * i: 462 + 16 * i]
        start, count = struct.unpack("<II", e[8:16])
        if e[4]:
            parts[i + 1] = (start, count, e[4])
    return parts


def sectors(image, lba, count):
    with open(image, "rb") as f:
        f.seek(lba * 512)
        return f.read(count * 512)


def blktest_results(g, driver="ata"):
    """The 'test DRIVER/NAME: OK|FAILED' lines, a failure's detail being the
    indented lines blktest printed before it."""
    results, pending = [], []
    for line in g.buf.splitlines():
        m = re.match(r"^test (%s/\S+): (OK|FAILED)\s*$" % driver, line)
        if not m:
            if line.startswith("  "):
                pending.append(line)
            continue
        ok = m.group(2) == "OK"
        results.append((m.group(1), ok, "" if ok else "\n".join(pending[-10:])))
        pending = []
    return results


def check_fnv_lines(g, image, name="ata_data_matches_image", disk=0, layout=None):
    """Every 'blktest: fnv' line of one disk against its image's bytes;
    partition starts from the MBR of `layout` (default: the image)."""
    parts = partitions(layout or image)
    lines = re.findall(r"^blktest: fnv disk%d (\S+) (\d+)\+(\d+) = (0x[0-9a-f]+)$" % disk,
                       g.buf, re.M)
    bad = []
    for part, sector, count, h in lines:
        start = 0 if part == "raw" else parts[int(part[4:])][0]
        want = fnv64(sectors(image, start + int(sector), int(count)))
        if want != int(h, 16):
            bad.append("%s %s+%s: guest %s, image %#x" % (part, sector, count, h, want))
    return ("qemu/" + name, bool(lines) and not bad,
            "no fnv lines" if not lines else "; ".join(bad))


def check_info_line(g, image):
    parts = partitions(image)
    size = os.path.getsize(image) // 512
    want = "blktest: info disk0 %d part1 %#x %d@%d part2 %#x %d@%d" % (
        size, parts[1][2], parts[1][1], parts[1][0], parts[2][2], parts[2][1], parts[2][0])
    return ("qemu/ata_info_matches_image", want in g.buf, "want '%s'" % want)


def check_writes(g, image, name="ata_writes_in_image", min_lines=7):
    """Every 'blktest: wrote' line: the bytes are in the (copied) image, at
    the disk address the driver was asked for."""
    lines = re.findall(r"^blktest: wrote disk0 lba (\d+) count (\d+) seed (\d+) skip (\d+)$",
                       g.buf, re.M)
    bad = []
    for lba, count, seed, skip in lines:
        lba, count, seed, skip = int(lba), int(count), int(seed), int(skip)
        if sectors(image, lba, count) != pattern(seed, skip + count * 512)[skip:]:
            bad.append("lba %d+%d seed %d" % (lba, count, seed))
    return ("qemu/" + name, len(lines) >= min_lines and not bad,
            "%d write lines; wrong: %s" % (len(lines), bad))


def suite_end(g, name, timeout, driver="ata"):
    code = g.wait_exit(timeout=timeout)
    results = blktest_results(g, driver)
    assert results, "blktest printed no result"
    results.append(("qemu/%s_done" % name, "blktest: done" in g.buf, "blktest did not finish"))
    results.append(("qemu/%s_exit" % name, code == ferry.EXIT_PASS,
                    "QEMU exit status %s, want %d" % (code, ferry.EXIT_PASS)))
    return results


# --- the cases ---

@disk_case("ata_boot", timeout=90)
def ata_boot(g):
    """init starts ata on the disk `make` builds; it logs the disk, the
    partitions and DMA; blktest, run from the shell, reads both partitions."""
    g.expect(r"^ata: ready: [^\n]*\n", timeout=60)
    image = ferry.DISK
    parts = partitions(image)
    # pc: the PIIX3 function of the south bridge, the CD-ROM its secondary
    # master; q35: the piix3-ide Ferry adds, the CD-ROM on the AHCI.
    pc = g.mach == "pc"
    want = [r"^ata: IDE controller 8086:7010 at %s, compatibility mode, bus master at 0xc0"
            % (r"00:01\.1" if pc else r"00:03\.0"),
            r"^ata: disk0 \(primary master\): QEMU HARDDISK, %d sectors .*, LBA48, DMA$"
            % (os.path.getsize(image) // 512),
            r"^ata: secondary master: packet device" if pc else r"^ata: disks whole",
            r"^ata: disk0: MBR part1: type 0x82, %d sectors at %d, swap area %s "
            r"\(swapd,blktest, by the arguments\)$" % (parts[1][1], parts[1][0], SWAP_UUID),
            r"^ata: disk0: MBR part2: type 0x83, %d sectors at %d, ext2 file system %s "
            r"\(fs,blktest, by the arguments\)$" % (parts[2][1], parts[2][0], EXT2_UUID),
            r"^ata: ready: 1 disk, bus-master DMA and PIO"]
    # The shell starts beside ata: its prompt may come first on a line.
    want = [r"^(?:ferry> )?" + w[1:] for w in want]
    results = [("qemu/ata_boot_log", all(re.search(w, g.buf, re.M) for w in want),
                "missing: %s" % [w for w in want if not re.search(w, g.buf, re.M)])]
    g.expect(PROMPT, timeout=60)
    out = shell_command(g, "blktest read", timeout=60)
    results.append(("qemu/ata_boot_blktest_exit",
                    re.search(r"^\[blktest exited with status 0\]$", out, re.M) is not None,
                    out[-2000:]))
    results += blktest_results(g)
    results.append(check_fnv_lines(g, image))
    results.append(check_info_line(g, image))
    results.append(("qemu/ata_boot_no_panic", "PANIC" not in g.buf, "kernel panic"))
    return results


@disk_case("ata_suite", cmdline="init=blktest initarg=read+perm+pager+write panic=exit",
           drives=lambda tmp: [ferry.ide_drive(copy_disk(tmp))], timeout=150)
def ata_suite(g):
    """blktest as the first program on a copy of the disk: reads, refusals,
    the pager in every fill mode (grants forwarded to ata), writes."""
    results = suite_end(g, "ata_suite", timeout=150)
    image = os.path.join(g.disk_dir, "disk.img")
    results.append(check_fnv_lines(g, image))
    results.append(check_info_line(g, image))
    results.append(check_writes(g, image))
    return results


def fault_drives(tmp):
    """Disk 0: a copy of the disk behind blkdebug rules; disk 1 (primary
    slave): a null-co drive that answers every request 2 s late."""
    rules = os.path.join(tmp, "blkdebug.conf")
    with open(rules, "w") as f:
        for sector, once, event in ((T_DMA, "on", "read_aio"), (T_PIO, "on", "read_aio"),
                                    (P_DMA, "off", "read_aio"), (P_PIO, "off", "read_aio"),
                                    (W_ERR, "off", "write_aio")):
            f.write('[inject-error]\nevent = "%s"\nerrno = "5"\nsector = "%d"\nonce = "%s"\n\n'
                    % (event, sector, once))
    return ["file=blkdebug:%s:%s,format=raw,if=ide,index=0,media=disk" % (rules, copy_disk(tmp)),
            "driver=null-co,size=64M,read-zeroes=on,latency-ns=%d,if=ide,index=1,media=disk"
            % HUNG_LATENCY_NS]


@disk_case("ata_faults", cmdline="init=blktest initarg=faults:%d,%d,%d,%d,%d panic=exit"
           % (T_DMA, T_PIO, P_DMA, P_PIO, W_ERR), drives=fault_drives, timeout=120,
           extra="timeout=%d" % ATA_TIMEOUT_MS)
def ata_faults(g):
    """Transient errors are retried, permanent ones end in ERR_IO with the
    decoded error, a hung disk times out and is reset, and ata goes on."""
    results = suite_end(g, "ata_faults", timeout=120)
    log = g.buf
    want = {
        "device_error_logged": r"^ata: disk0: read of 8 sectors at lba %d \(dma\): device error "
                               r"ABRT \(status 0x41, error 0x4\) DMA, try 1 of 3$" % P_DMA,
        "pio_error_logged": r"^ata: disk0: read of 8 sectors at lba %d \(pio\): device error ABRT"
                            % P_PIO,
        "retry_logged": r"^ata: disk0: read at lba %d succeeded on try 2$" % T_DMA,
        "retry_pio_logged": r"^ata: disk0: read at lba %d succeeded on try 2$" % T_PIO,
        "failure_logged": r"^ata: disk0: read of 8 sectors at lba %d failed: I/O error$" % P_DMA,
        "write_failure_logged": r"^ata: disk0: write of 8 sectors at lba %d failed: I/O error$"
                                % W_ERR,
        "timeout_logged": r"^ata: disk1: read of 8 sectors at lba 0 \(dma\): timeout waiting "
                          r"for DMA after %d ms" % ATA_TIMEOUT_MS,
        "reset_logged": r"^ata: primary channel reset \(command timed out\): drives ready$",
        "client_told": r"^ata: read of disk1 part0 .* by blktest .*: I/O error$",
    }
    for what, rx in want.items():
        results.append(("qemu/ata_faults_" + what, re.search(rx, log, re.M) is not None,
                        "no line like %r" % rx))
    return results


@disk_case("ata_pio_only", cmdline="init=blktest initarg=piponly panic=exit", extra="dma=off")
def ata_pio_only(g):
    """ata with dma=off: it says so, serves everything by PIO, refuses DMA grants."""
    results = suite_end(g, "ata_pio_only", timeout=60)
    want = [r"^ata: disk0 \(primary master\): .*, PIO$", r"^ata: ready: 1 disk, PIO only"]
    results.append(("qemu/ata_pio_only_logged", all(re.search(w, g.buf, re.M) for w in want),
                    "no PIO-only start-up lines"))
    return results


def gpt_drives(tmp):
    """A copy of the disk relabelled GPT by sfdisk, partitions where they were
    (Linux swap and Linux filesystem type GUIDs): the contents stay."""
    path = copy_disk(tmp)
    layout = "".join("start=%d, size=%d, type=%s\n" % (start, count, "S" if n == 1 else "L")
                     for n, (start, count, _) in sorted(partitions(path).items()))
    subprocess.run(["sfdisk", "--quiet", "--no-reread", "--no-tell-kernel", path],
                   input="label: gpt\n" + layout, text=True, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    second = os.path.join(tmp, "second.img")
    with open(second, "wb") as f:
        f.write(pattern(77, 1 << 20))
    return [ferry.ide_drive(path), ferry.ide_drive(second, index=3)]


@disk_case("ata_gpt", cmdline="init=blktest initarg=read+pager+second panic=exit",
           drives=gpt_drives)
def ata_gpt(g):
    """The same disk under a GPT label: partitions and their types come from
    the GPT (GUIDs mapped to 0x82 and 0x83), reads and the pager work.  A
    second disk on the secondary channel is served whole."""
    results = suite_end(g, "ata_gpt", timeout=60)
    results.append(check_fnv_lines(g, os.path.join(g.disk_dir, "disk.img"), layout=ferry.DISK))
    results.append(check_fnv_lines(g, os.path.join(g.disk_dir, "second.img"),
                                   "ata_second_disk_matches_image", disk=1))
    results.append(("qemu/ata_second_disk_logged", re.search(
        r"^ata: disk1 \(secondary slave\): QEMU HARDDISK, 2048 sectors .*, DMA$", g.buf, re.M)
        is not None, "no line for disk1"))
    want = [r"^ata: disk0: GPT part%d: type %#x, %d sectors at %d, " % (n, t, count, start)
            for n, (start, count, t) in partitions(ferry.DISK).items()]
    results.append(("qemu/ata_gpt_partitions", all(re.search(w, g.buf, re.M) for w in want),
                    "missing GPT partition lines"))
    return results


def giveup_drives(tmp):
    """Disk 0 as `make` built it; disk 1 (primary slave) a null-co drive
    that answers every command 2 s late, with zeros."""
    return [ferry.ide_drive(ferry.DISK, snapshot=True),
            "driver=null-co,size=64M,read-zeroes=on,latency-ns=%d,if=ide,index=1,media=disk"
            % HUNG_LATENCY_NS]


@disk_case("ata_dma_giveup", cmdline="init=blktest initarg=giveup panic=exit",
           drives=giveup_drives, timeout=120, extra="timeout=%d" % ATA_TIMEOUT_MS)
def ata_dma_giveup(g):
    """A pager gives up on a DMA page-in while ata is still transferring
    (a hung disk): the kernel fails the fault but holds the frames back
    instead of freeing them (quarantined without an IOMMU; with one parked
    until ata says its device is done), so the transfer that lands later
    changes nobody's memory.  In DMA and grant-map mode (ata uses DMA for both);
    a pager that claims success meanwhile is not believed."""
    results = suite_end(g, "ata_dma_giveup", timeout=120)
    want = [r"^blktest: pager: gave up on ata after 300 ms \(timed out\): failing",
            r"^blktest: pager: gave up on ata after 300 ms \(timed out\): claiming success",
            r"page request 0x[0-9a-f]+ \(pid \d+ at 0x[0-9a-f]+\): its pager answered while "
            r"its driver's DMA on grant 0x[0-9a-f]+ was still open: failed",
            # No IOMMU: quarantined for good; with one: parked until ata is done.
            r"frame 0x[0-9a-f]+ quarantined: a DMA transfer into it may still be under way"
            if g.mach == "pc" else
            r"iommu: 1 frames parked for grant 0x[0-9a-f]+ freed: ata's device is done with it"]
    results.append(("qemu/ata_dma_giveup_logged", all(re.search(w, g.buf, re.M) for w in want),
                    "missing: %s" % [w for w in want if not re.search(w, g.buf, re.M)]))
    return results
