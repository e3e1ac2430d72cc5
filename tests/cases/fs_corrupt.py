# SPDX-License-Identifier: MIT
"""ext2 operations on files whose block pointers are corrupt (into the
superblock, into the block bitmap, beyond the disk, one block named twice,
a block marked free)
fail before they change anything: rm, a truncating write and mv over such
a file give a clear log line and an I/O error, the name stays, and after
QEMU exits e2fsck -fn reports exactly what it reported before the run.
Healthy files next to them are still removed, rewritten and truncated."""

import os
import re
import struct

from cases.fs import debugfs, extract_fs, fs_case, fsck, linux_partition, make_disk, patch
from cases.user import shell_command
import ferry

BLOCK = 1024
FILE_BYTES = 3 * BLOCK          # three direct blocks each
# file name -> what its i_block[1] becomes (a function of the layout)
CORRUPT = {
    "super.txt": lambda lay: 1,                       # the superblock
    "bitmap.txt": lambda lay: lay["bitmap"],          # group 0's block bitmap
    "range.txt": lambda lay: 0x00FFFFF0,              # beyond the 16 MiB file system
    "twice.txt": lambda lay: lay["first"],            # i_block[0] again
    "free.txt": lambda lay: 8000,                     # a data block marked free
}
HEALTHY = ("keep.txt", "gone.txt", "short.txt")


def layout(part):
    stats = debugfs(part, "stats").decode(errors="replace")
    m = re.search(r"Group\s+0: block bitmap at (\d+)", stats)
    return {"bitmap": int(m.group(1))}


def corrupt_disk(tmp):
    files = os.path.join(tmp, "files")
    os.makedirs(os.path.join(files, "c"))
    for n in list(CORRUPT) + list(HEALTHY):
        with open(os.path.join(files, "c", n), "wb") as f:
            f.write((n.encode() + b" ") * (FILE_BYTES // (len(n) + 1)))
    disk = make_disk(tmp, files, block=BLOCK)
    part = extract_fs(disk, tmp)
    base, _ = linux_partition(disk)
    lay = layout(part)
    assert "8000" in debugfs(part, "testb 8000").decode() and \
        "not in use" in debugfs(part, "testb 8000").decode(), "block 8000 is in use"
    for n, target in CORRUPT.items():
        first = int(debugfs(part, "blocks /c/" + n).split()[0])
        m = re.search(rb"located at block (\d+), offset (0x[0-9a-f]+)",
                      debugfs(part, "imap /c/" + n))
        inode = base + int(m.group(1)) * BLOCK + int(m.group(2), 16)
        patch(disk, inode + 40 + 4 * 1, struct.pack("<I", target(dict(lay, first=first))))
    os.unlink(part)
    part = extract_fs(disk, tmp)
    with open(os.path.join(tmp, "fsck-before.txt"), "w") as f:
        f.write(fsck(part)[1])
    os.unlink(part)
    return disk


def problems(report):
    """e2fsck's findings, without the lines that change with any write:
    the banner, the pass headings, the counts, and the 'contains a file
    system with errors' note (fs marks the superblock, as Linux does,
    when it finds corruption)."""
    skip = re.compile(r"^(Pass \d|e2fsck \d|.* files \(.*\), .* blocks|.*contains a file system "
                      r"with errors|\s*$)")
    return sorted(set(line for line in report.splitlines() if not skip.match(line)))


@fs_case("fs_corrupt_rm", corrupt_disk, timeout=120)
def fs_corrupt_rm(g, disk):
    """rm, write (truncate) and mv over files with corrupt block pointers
    fail and change nothing; healthy files still work; e2fsck finds
    nothing new."""
    results = []
    out = {}
    for n in CORRUPT:
        path = "/c/" + n
        start = len(g.buf)
        rm = shell_command(g, "rm " + path)
        wr = shell_command(g, "write %s replaced" % path)
        mv = shell_command(g, "mv /c/keep.txt " + path)
        log = g.buf[start:]
        out[n] = rm + wr + mv
        why = {"super.txt": "points into metadata", "bitmap.txt": "points into metadata",
               "range.txt": "points beyond the file system",
               "twice.txt": "points at a block named twice",
               "free.txt": "points at a block marked free"}[n]
        results.append(("qemu/fs_corrupt_rm/%s/refused" % n,
                        "rm: %s: I/O error" % path in rm and "I/O error" in wr and
                        "I/O error" in mv and
                        re.search(r"ext2: corrupt: inode \d+: block pointer 1 \(block \d+\) %s: "
                                  r"nothing freed, file system needs e2fsck" % why, log)
                        is not None, log))
    listing = shell_command(g, "ls /c")
    results.append(("qemu/fs_corrupt_rm/names_kept",
                    all(n in listing for n in CORRUPT) and "keep.txt" in listing, listing))
    healthy = (shell_command(g, "rm /c/gone.txt") + shell_command(g, "write /c/short.txt short") +
               shell_command(g, "append /c/short.txt more") +
               shell_command(g, "write /c/new.txt fresh") + shell_command(g, "cat /c/short.txt"))
    results.append(("qemu/fs_corrupt_rm/healthy_ops",
                    "error" not in healthy and "short\nmore" in healthy, healthy))
    g.send("poweroff\r")
    code = g.wait_exit(timeout=60)
    results.append(("qemu/fs_corrupt_rm/exit", code == ferry.EXIT_PASS,
                    "QEMU exit status %s" % code))

    tmp = os.path.dirname(disk)
    part = extract_fs(disk, tmp)
    before = open(os.path.join(tmp, "fsck-before.txt")).read()
    after = fsck(part)[1]
    results.append(("qemu/fs_corrupt_rm/e2fsck_nothing_new", problems(after) == problems(before),
                    "before:\n%s\nafter:\n%s" % (before, after)))
    ls = debugfs(part, "ls /c").decode(errors="replace")
    results.append(("qemu/fs_corrupt_rm/on_disk",
                    all(n in ls for n in CORRUPT) and "keep.txt" in ls and "gone.txt" not in ls
                    and "new.txt" in ls, ls))
    return results
