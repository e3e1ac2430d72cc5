# SPDX-License-Identifier: MIT
"""nvme, the NVMe driver: user/blktest (as the first program, `nvme:` in
front of its modes) checks reads at the disk's edges, refusals, the grant
paths through a pager of its own in every fill mode (PRPs naming the lent
frames), writes and flush, against the image file; QEMU's blkdebug fails
chosen sectors, and a null-co namespace slow enough to miss the deadline
makes the driver reset the controller."""

import os
import re
import subprocess

import ferry
from cases import registry
from cases.ata import (check_fnv_lines, check_info_line, check_writes, copy_disk, suite_end,
                       DiskCase, POLICY)

# Sectors of disk 0's free space given blkdebug rules: a read that fails
# once, reads that always fail, writes that always fail.
T_READ, P_READ, W_ERR = 70000, 70100, 70400
SLOW_LATENCY_NS = 2 * 10**9     # namespace 2 answers every command this late...
NVME_TIMEOUT_MS = 500           # ...and nvme gives up on a command after this


def modules(extra=""):
    """The default boot modules, nvme with ata's test policy (blktest may
    use every partition and the disk whole; `extra` options), and
    blktest's ELF once more as "blkrogue"."""
    mods = []
    for path, args in ferry.default_modules():
        if args.split(" ")[0] == "nvme":
            args = ("nvme %s %s" % (POLICY, extra)).strip()
        elif args.split(" ")[0] == "ata":
            args = "ata %s" % POLICY
        mods.append((path, args))
    mods.append((os.path.join(ferry.BUILD, "user", "blktest.elf"), "blkrogue"))
    return mods


def nvme_case(name, cmdline, drives, timeout=150, extra=""):
    def register(fn):
        registry._cases.append(DiskCase(fn, name, cmdline, "64M", timeout,
                                        lambda: modules(extra), drives))
        return fn
    return register


def boot_lines(g, how="interrupt", timeout_ms=2000):
    image_sectors = os.path.getsize(ferry.DISK) // 512
    want = [r"^nvme: controller 1b36:0010 at 00:0[0-9a-f]\.0: QEMU NVMe Ctrl, serial ferry0, "
            r"firmware [0-9.]+, NVMe 1\.4, 256-sector commands$",
            r"^nvme: disk0: namespace 1, %d sectors \(%d MiB\)$" % (image_sectors,
                                                                image_sectors >> 11),
            r"^nvme: disk0: MBR part1: type 0x82, 32768 sectors at 2048, swap area "
            r"46455252-5900-4000-8000-000000000001 \(swapd,blktest, by the arguments\)$",
            r"^nvme: disk0: MBR part2: type 0x83, 32768 sectors at 34816, ext2 file system "
            r"46455252-5900-4000-8000-000000000002 \(fs,blktest, by the arguments\)$",
            r"^nvme: disks whole \(raw\): blktest$",
            r"^nvme: ready: 1 namespace, completion by %s, command timeout %d ms$"
            % (how, timeout_ms),
            r"^\[ *[0-9.]+\] nvme \(pid \d+\): 00:0[0-9a-f]\.0 BAR0 0x[0-9a-f]+\+0x4000 mapped "
            r"uncached at 0x[0-9a-f]+, MSI-X pages held back$"]
    return [("qemu/%s_boot_log" % g.name, all(re.search(w, g.buf, re.M) for w in want),
             "missing: %s" % [w for w in want if not re.search(w, g.buf, re.M)])]


def suite_drives(tmp):
    return [ferry.nvme_drive(copy_disk(tmp))]


@nvme_case("nvme_suite", "init=blktest initarg=nvme:read+perm+pager+write panic=exit",
           suite_drives)
def nvme_suite(g):
    """ata's block suite against nvme on a copy of the disk (the only disk):
    partitions found by the same library, reads at the partitions' and the
    disk's edges, requests that leave a partition refused, PIO refused,
    the pager in every fill mode, foreign grants refused, copy-mode writes,
    flush, page-outs; checked against the image."""
    results = suite_end(g, "nvme_suite", timeout=150, driver="nvme")
    image = os.path.join(g.disk_dir, "disk.img")
    results += boot_lines(g)
    results.append(check_fnv_lines(g, image, name="nvme_data_matches_image"))
    results.append(check_writes(g, image, name="nvme_writes_in_image", min_lines=6))
    info = check_info_line(g, image)
    results.append(("qemu/nvme_info_matches_image",) + info[1:])
    return results


@nvme_case("nvme_poll", "init=blktest initarg=nvme:raw+rawwrite panic=exit", suite_drives,
           extra="poll")
def nvme_poll(g):
    """nvme with `poll` (completion by polling the ring, no interrupt) and
    the disk served whole: reads at the edges, PRP shapes, refusals, the
    pager in every fill mode, writes, flush, page-outs; against the image."""
    results = suite_end(g, "nvme_poll", timeout=150, driver="nvme")
    image = os.path.join(g.disk_dir, "disk.img")
    results += boot_lines(g, how="polling")
    results.append(check_fnv_lines(g, image, name="nvme_poll_data_matches_image"))
    results.append(check_writes(g, image, name="nvme_poll_writes_in_image", min_lines=5))
    return results


def fault_drives(tmp):
    """Namespace 1: a copy of the disk behind blkdebug rules; namespace 2:
    a null-co drive that answers every command 2 s late."""
    rules = os.path.join(tmp, "blkdebug.conf")
    with open(rules, "w") as f:
        for sector, once, event in ((T_READ, "on", "read_aio"), (P_READ, "off", "read_aio"),
                                    (W_ERR, "off", "write_aio")):
            f.write('[inject-error]\nevent = "%s"\nerrno = "5"\nsector = "%d"\nonce = "%s"\n\n'
                    % (event, sector, once))
    return [ferry.nvme_namespaces([
        "file=blkdebug:%s:%s,format=raw" % (rules, copy_disk(tmp)),
        "driver=null-co,size=64M,read-zeroes=on,latency-ns=%d" % SLOW_LATENCY_NS])]


@nvme_case("nvme_faults", "init=blktest initarg=nvme:rawfaults:%d,%d,%d panic=exit"
           % (T_READ, P_READ, W_ERR), fault_drives, timeout=150,
           extra="timeout=%d" % NVME_TIMEOUT_MS)
def nvme_faults(g):
    """A read that fails once is retried, reads and writes that always fail
    end in ERR_IO with the decoded status, a namespace too slow for the
    deadline makes nvme reset the controller, and the next command works."""
    results = suite_end(g, "nvme_faults", timeout=150, driver="nvme")
    want = {
        "error_decoded": r"^nvme: disk0: read of 8 sectors at lba %d: media error: unrecovered "
                         r"read error \(sct 2 sc 0x81\), try 1 of 3$" % P_READ,
        "retry_logged": r"^nvme: disk0: read at lba %d succeeded on try 2$" % T_READ,
        "failure_logged": r"^nvme: disk0: read of 8 sectors at lba %d failed: I/O error$" % P_READ,
        "write_decoded": r"^nvme: disk0: write of 8 sectors at lba %d: media error: write fault "
                         r"\(sct 2 sc 0x80\), try 1 of 3$" % W_ERR,
        "timeout_logged": r"^nvme: disk1: read of 8 sectors at lba 0: timeout after %d ms, "
                          r"try 1 of 3$" % NVME_TIMEOUT_MS,
        "reset_logged": r"^nvme: controller reset \(command timed out\): ready again after "
                        r"\d+ ms$",
        "client_told": r"^nvme: read of disk1 part0 .* by blktest .*: I/O error$",
    }
    for what, rx in want.items():
        results.append(("qemu/nvme_faults_" + what, re.search(rx, g.buf, re.M) is not None,
                        "no line like %r" % rx))
    return results


@nvme_case("nvme_kdb_prp_view", "init=blktest initarg=nvme:rawprp console=break,grant panic=exit",
           lambda tmp: [ferry.nvme_drive(ferry.DISK, snapshot=True)], timeout=120)
def nvme_kdb_prp_view(g):
    """kdb stops at a DMA grant of a page-in, steps it to `filled` and shows
    which frames nvme's commands named: PRP1, then PRP2 or the PRP list,
    each a frame of the grant."""
    from cases.kdb import kdb, leave
    m = g.expect(r"world stopped: grant (0x[0-9a-f]+) lent", timeout=90)
    gid = m.group(1)
    start = len(g.buf)
    g.send("step\r")
    g.expect(r"world stopped: grant %s filled" % gid, timeout=60, start=start)
    out = kdb(g, "grant " + gid)
    frames = re.findall(r"^page (\d+): frame (0x[0-9a-f]+)", out, re.M)
    named = re.findall(r"^    (?:PRP1|PRP2|list) (0x[0-9a-f]+) -> page (\d+) \(frame (0x[0-9a-f]+)\)",
                       out, re.M)
    bad = []
    if not re.search(r"^prp view: commands in pid \d+'s submission ring naming this grant$",
                     out, re.M):
        bad.append("no prp view")
    if not re.search(r"^  sq slot \d+ cid 0x[0-9a-f]{4} read nsid 1 lba \d+\+\d+:$", out, re.M):
        bad.append("no read command")
    if not re.search(r"^    PRP2 0x[0-9a-f]+: a PRP list in the holder's DMA memory$", out, re.M):
        bad.append("no PRP list (4 pages: one command, PRP1 and a list of 3)")
    if "NOT A FRAME OF THIS GRANT" in out:
        bad.append("a PRP names another frame")
    pages = {int(p) for _, p, _ in named}
    if not frames or pages != {int(p) for p, _ in frames}:
        bad.append("the commands name pages %s of %d" % (sorted(pages), len(frames)))
    if any(dict((int(p), f) for p, f in frames).get(int(p)) != f for _, p, f in named):
        bad.append("a PRP's frame is not the page's")
    leave(g)
    results = suite_end(g, "nvme_kdb_prp_view", timeout=90, driver="nvme")
    results.append(("qemu/nvme_kdb_prp_view", not bad, "; ".join(bad) + "\n" + out))
    if ferry.machine() == "q35":
        # With the IOMMU the commands name device addresses in nvme's
        # domain (what sys_grant_info gave it), never the frames.
        translating = re.search(r"iommu: domain \d+ for nvme: ", g.buf) and \
            "iommu: translating:" in g.buf
        results.append(("qemu/nvme_kdb_prp_view_device_addresses",
                        bool(translating) and bool(named) and
                        all(addr != frame for addr, _, frame in named),
                        "IOMMU %s; PRPs %s" % ("on" if translating else "off", named)))
    return results


def one_partition(tmp, name, keep):
    """A copy of the disk whose MBR keeps only partition `keep` (the other's
    bytes stay, unlisted)."""
    path = copy_disk(tmp)
    out = os.path.join(tmp, name)
    os.rename(path, out)
    subprocess.run(["sfdisk", "--quiet", "--no-reread", "--no-tell-kernel", "--delete", out,
                    str(3 - keep)], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return out


def both_case(name, swap_bus):
    """Swap on one disk, ext2 on the other: swapd and fs each find theirs
    through whichever driver serves it (block_find), and both work."""
    ext2_bus = "ide" if swap_bus == "nvme" else "nvme"
    drivers = {"nvme": "nvme", "ide": "ata"}

    def drives(tmp):
        return [ferry.disk_drive(one_partition(tmp, "swap.img", 1), swap_bus),
                ferry.disk_drive(one_partition(tmp, "ext2.img", 2), ext2_bus)]

    def run(g):
        from cases.swap import found, shell_ready
        from cases.user import shell_command
        shell_ready(g)
        want = [r"^swapd: disk driver %s \(pid \d+\)$" % drivers[swap_bus],
                r"^fs: disk 0 partition 2, \d+ KiB, via %s \(pid \d+\)$"
                % drivers[ext2_bus],
                r"^%s: disk0: MBR part1: type 0x82, 32768 sectors at 2048, swap area " %
                drivers[swap_bus],
                r"^%s: disk0: MBR part2: type 0x83, 32768 sectors at 34816, ext2 file system "
                % drivers[ext2_bus]]
        missing = [w for w in want if not found(g, w)]
        page = shell_command(g, "pagetest 256 dma", timeout=120)
        total = shell_command(g, "sum /data/pattern.bin dma", timeout=120)
        return [("qemu/%s_found" % name, not missing, "missing %s" % missing),
                ("qemu/%s_swap" % name, "256 pages read back, 256 resident, 0 mismatches: ok"
                 in page, page[-400:]),
                ("qemu/%s_mmap" % name, "match" in total and "MISMATCH" not in total,
                 total[-400:])]
    run.__doc__ = ("Swap on the %s disk, ext2 on the %s one: swapd and fs find theirs "
                   "through %s and %s, pages go out and back, a file mapped reads right."
                   % (swap_bus, ext2_bus, drivers[swap_bus], drivers[ext2_bus]))
    registry._cases.append(DiskCase(run, name, "", "64M", 150, ferry.default_modules, drives))


both_case("disks_swap_nvme_ext2_ide", "nvme")
both_case("disks_swap_ide_ext2_nvme", "ide")
