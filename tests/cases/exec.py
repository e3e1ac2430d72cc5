# SPDX-License-Identifier: MIT
"""Programs from the disk and memory objects: a normal boot whose disk has,
besides /bin (pagetest, bench, hello), utest as /bin/utest and broken ELF
files in /bad.  utest's exec cases run from the shell with a leak check
around each (frames, memory objects, grants, requests, ports, processes);
then the shell runs /bin programs in every fill mode, two instances of one
program share their text frames (ps, mem and kdb show it), the kernel log
names the reason for each refused file, and after QEMU exits the host
checks with e2fsck and debugfs that no private write reached a file."""

import os
import re
import shutil

import ferry
from cases.fs import dump, extract_fs, fs_case, fsck, make_disk
from cases.kdb import enter, example_mismatch, kdb, leave, readme_example, wait_for_swap
from cases.registry import case
from cases.user import shell_command, user_results

UTEST_ELF = os.path.join(ferry.BUILD, "user", "utest.elf")
DISK_ROOT = os.path.join(ferry.BUILD, "diskroot")
BAD_DIR = os.path.join(ferry.BUILD, "bad")

# Why the kernel refuses each file of /bad (kernel/proc/elf.c, spawn.c).
REASONS = {
    "bad_magic": "bad magic", "bad_class": "not 64-bit", "bad_machine": "not x86-64",
    "truncated": "program headers outside file",
    "phdr_out_of_bounds": "program headers outside file",
    "kernel_address": "segment beyond user space",
    "entry_outside": "entry point outside executable segment",
    "overlapping": "overlapping segments",
    "filesz_gt_memsz": "file size larger than memory size",
    "writable_exec": "writable and executable segment",
    "truncated_after_headers": "segment data outside file",
    "segment_past_eof": "segment data outside file",
    "not_elf": "bad magic", "empty": "file smaller than ELF header",
}


def exec_disk(tmp):
    """build/diskroot (disk/files and /bin) plus /bin/utest and /bad."""
    files = os.path.join(tmp, "files")
    shutil.copytree(DISK_ROOT, files)
    shutil.copyfile(UTEST_ELF, os.path.join(files, "bin", "utest"))
    bad = os.path.join(files, "bad")
    os.makedirs(bad)
    for name in os.listdir(BAD_DIR):
        shutil.copyfile(os.path.join(BAD_DIR, name), os.path.join(bad, name))
    shutil.copyfile(os.path.join(files, "docs", "lines.txt"), os.path.join(bad, "not_elf"))
    open(os.path.join(bad, "empty"), "wb").close()
    return make_disk(tmp, files)


def run_suite(g):
    """`utest exec` from the shell: its results, and whether it finished."""
    out = shell_command(g, "utest exec", timeout=240)
    results = user_results(type("Transcript", (), {"buf": out})())
    results.append(("qemu/exec_suite/done", "utest: done" in out and bool(results),
                    out[-2000:]))
    return results


def run_in_modes(g):
    results = []
    for mode in ("copy", "grant", "dma"):
        out = shell_command(g, "mode " + mode) + shell_command(g, "hello 3 by path search")
        ok = bool(re.search(r"^hello, world from /bin/hello \(pid \d+\)$", out, re.M)) and \
            "[hello exited with status 3]" in out
        out2 = shell_command(g, "/bin/pagetest 8 " + mode, timeout=60)
        ok2 = "pagetest: 8 pages read back, 8 resident, 0 mismatches: ok" in out2 and \
            "[pagetest exited with status 0]" in out2
        results += [("qemu/exec_suite/hello/" + mode, ok, out),
                    ("qemu/exec_suite/pagetest/" + mode, ok2, out2)]
    out = shell_command(g, "ls /bin")
    results.append(("qemu/exec_suite/ls_bin", all(re.search(r"^-\s+\d+ %s$" % p, out, re.M)
                                                 for p in ("bench", "hello", "pagetest", "utest")),
                    out))
    return results


def program_text(mem):
    """(start, shared, others) of the r-x program region in `mem PID`'s table."""
    m = re.search(r"^(0x[0-9a-f]+)\s+0x[0-9a-f]+\s+r-xs\s+program\s+\d+\s+(\d+)\s+(\d+)\s",
                  mem, re.M)
    return (int(m.group(1), 16), int(m.group(2)), int(m.group(3))) if m else (0, 0, 0)


def wait_sleeping(g, pids, name="utest", tries=50):
    out = ""
    for _ in range(tries):
        out = shell_command(g, "ps")
        if all(re.search(r"^\s*%s\s+\d+\s+%s\s+sleep\s+\d+\s+\d+\s+/bin/%s\s" % (p, name, name),
                         out, re.M) for p in pids):
            return True, out
    return False, out


def two_instances(g):
    """Two background instances of /bin/utest: one text object, shared frames."""
    pids = []
    for tag in ("A", "B"):
        out = shell_command(g, "/bin/utest exec_idle %s 120 &" % tag)
        m = re.search(r"^\[utest: pid (\d+)\]$", out, re.M)
        if not m:
            return [("qemu/exec_suite/background", False, out)]
        pids.append(m.group(1))
    asleep, ps = wait_sleeping(g, pids)
    results = [("qemu/exec_suite/ps_from_disk", asleep, ps)]
    mems = [shell_command(g, "mem " + p) for p in pids]
    texts = [program_text(m) for m in mems]
    results.append(("qemu/exec_suite/mem_shared",
                    all(t[0] and t[1] > 0 and t[2] > 0 for t in texts), "\n".join(mems)))
    enter(g)
    frames = []
    for p in pids:
        as_out = kdb(g, "as " + p)
        pte = kdb(g, "pte %s %#x 64" % (p, texts[0][0] or 0x401000))
        frames.append(dict(re.findall(r"^pid \d+\s+(0x[0-9a-f]+) present frame (0x[0-9a-f]+) r-x",
                                      pte, re.M)))
        results.append(("qemu/exec_suite/kdb_as/" + p,
                        bool(re.search(r"r-xs program\s+\d+\s+\d+\s+[1-9]\d*\s", as_out)) and
                        "from /bin/utest" in as_out, as_out))
    both = set(frames[0]) & set(frames[1])
    results.append(("qemu/exec_suite/kdb_same_frame",
                    both and all(frames[0][va] == frames[1][va] for va in both),
                    "text pages mapped by both: %s" % frames))
    objects = kdb(g, "objects")
    results.append(("qemu/exec_suite/kdb_objects",
                    bool(re.search(r"^0x[0-9a-f]+\s+\S+\s+0x[0-9a-f]+\s+\d+\s+\d+\s+6\s+6\s",
                                   objects, re.M)), objects))
    leave(g)
    out = "".join(shell_command(g, "kill " + p) for p in pids)
    out += shell_command(g, "echo reaped")
    results.append(("qemu/exec_suite/reaped", all("[pid %s exited with status killed]" % p
                                                   in out for p in pids), out))
    return results


def refusals(g):
    return [("qemu/exec_suite/reason/" + name,
             "spawn: /bad/%s refused: %s" % (name, why) in g.buf, "want 'spawn: /bad/%s refused:"
             " %s' in the kernel log" % (name, why)) for name, why in sorted(REASONS.items())] + [
        ("qemu/exec_suite/busy_logged", bool(re.search(
            r"^fs: write of inode \d+ for pid \d+ refused: a program runs from it$", g.buf,
            re.M)), "no fs refusal line")]


# What user/utest/mapkill.c's killed writer leaves in a file: pages 0..4
# utest_fill(MAPKILL_SEED + i) through its shared mapping, page 5 only
# written privately, so zeros on the disk.
MAPKILL_PAGES, MAPKILL_SEED = 6, 40


def utest_page(seed):
    """utest_fill(page, seed) (user/utest/main.c)."""
    return bytes((seed * 131 + i * 7 + (i >> 8)) & 0xFF for i in range(4096))


def mapkill_written(got):
    """Whether a file holds what mapkill.c's killed writer wrote, and why not."""
    want = b"".join(utest_page(MAPKILL_SEED + i) for i in range(MAPKILL_PAGES - 1))
    want += bytes(4096)
    if got == want:
        return True, ""
    wrong = [i for i in range(MAPKILL_PAGES) if got[i * 4096:(i + 1) * 4096] !=
             want[i * 4096:(i + 1) * 4096]]
    return False, "%d bytes on the disk, %d wanted; pages not as written: %s" % (
        len(got), len(want), wrong)


def host_checks(g, disk):
    shell_command(g, "echo done")
    g.send("poweroff\r")
    code = g.wait_exit(timeout=60)
    tmp = os.path.dirname(disk)
    part = extract_fs(disk, tmp)
    clean, report = fsck(part)
    results = [("qemu/exec_suite/exit", code == ferry.EXIT_PASS, "QEMU exit status %s" % code),
               ("qemu/exec_suite/e2fsck", clean, report)]
    for path, host in (("/bin/utest", UTEST_ELF),
                       ("/bin/hello", os.path.join(DISK_ROOT, "bin", "hello"))):
        with open(host, "rb") as f:
            want = f.read()
        got = dump(part, path, tmp)
        results.append(("qemu/exec_suite/unchanged" + path.replace("/", "_"), got == want,
                        "%s: %d bytes on the disk, %d built; a private write reached the file?"
                        % (path, len(got), len(want))))
    ok, why = mapkill_written(dump(part, "/mapkill.bin", tmp))
    results.append(("qemu/exec_suite/killed_writer_on_disk", ok, "/mapkill.bin: " + why))
    return results


@fs_case("exec_suite", exec_disk, mem="64M", timeout=300)
def exec_suite(g, disk):
    """utest's exec cases (each in a leak check), /bin programs in every fill mode, two
    instances sharing text frames (ps, mem, kdb), refusal reasons, files unchanged on the host."""
    results = run_suite(g)
    results += run_in_modes(g)
    results += two_instances(g)
    results += refusals(g)
    results += host_checks(g, disk)
    return results


@case("programs_readme", mem="64M", timeout=120)
def programs_readme(g):
    """README's session of programs from the disk is a real run's transcript: ls /bin, hello by
    the search path, two instances in the background (ps, mem), pagetest from /bin."""
    wait_for_swap(g)
    g.expect(r"^fs: pager of file system", timeout=60)
    shell_command(g, "echo ready")	# a prompt of its own, after the servers' lines
    session = g.buf.rindex("ferry> ")
    shell_command(g, "ls /bin")
    shell_command(g, "hello 3 a b")
    pids = []
    for _ in range(2):
        m = re.search(r"^\[hello: pid (\d+)\]$", shell_command(g, "hello -w 60 0 &"), re.M)
        pids.append(m.group(1) if m else "0")
    asleep, ps = wait_sleeping(g, pids, "hello")
    shell_command(g, "ps")	# its prompt no longer shared with the programs' output
    shell_command(g, "mem " + pids[1])
    shell_command(g, "/bin/pagetest 16 dma", timeout=60)
    transcript = g.buf[session:]
    for p in pids:
        shell_command(g, "kill " + p)
    example = readme_example("programs")
    lacking = example_mismatch(example, transcript) if example else ["no example found"]
    return [("qemu/programs_readme/asleep", asleep, ps),
            ("qemu/programs_readme/example", not lacking,
             "README.md's programs example is not this run's transcript (serial log); these"
             " lines, as compared, are not in it:\n" + "\n".join(lacking or []))]
