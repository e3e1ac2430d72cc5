# SPDX-License-Identifier: MIT
"""Servers that die come back (user/init, the restart service), and
nothing is lost: swapd killed while its pages are out (and while a page-in
may be in flight) is restarted by init, takes its provider over by the
swap area's UUID, and every page comes back intact in every fill mode.
The same for the disk driver (nvme on the default NVMe disk, ata on an
IDE one).  Services get their rights only from init: copies of ata and
swapd typed at the shell run without rights, burn no swap provider, and
the shell goes on."""

import os
import re

import ferry
from cases.ata import copy_disk
from cases.exec import mapkill_written
from cases.fs import dump, extract_fs, fsck
from cases.kdb import enter, kdb, leave
from cases.swap import found, shell_ready, swap_case, swap_row
from cases.user import shell_command

MODES = (("copy", 0), ("grant", 1), ("dma", 2))


def restart_rounds(g, service, rounds=2, delay_ms=0, tag=""):
    """`utest restart SERVICE MODE ROUNDS DELAY` in every fill mode: results."""
    results = []
    for name, num in MODES:
        out = shell_command(g, "utest restart %s %d %d %d" % (service, num, rounds, delay_ms),
                            timeout=120)
        got = re.findall(r"utest: restart %s %s round \d+: (\d+) -> (\d+), (\d+) of \d+ pages "
                         r"wrong, racer (\w+)" % (service, name), out)
        results.append(("qemu/restart_%s%s_%s" % (service, tag, name),
                        "utest: restart %s %s: ok" % (service, name) in out and
                        len(got) == rounds and
                        all(r[2] == "0" and r[3] == "intact" and r[0] != r[1] for r in got),
                        out[-800:]))
    results.append(("qemu/restart_%s%s_logged" % (service, tag),
                    len(re.findall(r"init: restarting %s \(killed" % service, g.buf))
                    == rounds * len(MODES), "want %d restart lines" % (rounds * len(MODES))))
    results.append(("qemu/restart_%s%s_nobody_killed" % (service, tag),
                    not found(g, r"killed: page-in failed"), "a faulting thread was killed"))
    return results


@swap_case("restart_swapd", timeout=240)
def restart_swapd(g):
    """Kill swapd with every page of a test out in swap, in each fill mode."""
    shell_ready(g)
    results = restart_rounds(g, "swapd")
    results.append(("qemu/restart_swapd_taken_over",
                     len(re.findall(r"swap: provider 0 taken over by swapd", g.buf)) == 6,
                     "want 6 take-overs of provider 0"))
    enter(g)
    row = swap_row(g)
    leave(g)
    results.append(("qemu/restart_swapd_kdb_swap",
                    row is not None and row["state"] == "live" and row["restarts"] == 6 and
                    row["bad"] == 0, "kdb swap: %s" % row))
    return results


def restart_driver(g, driver):
    """Kill the disk driver with pages out in swap and a page-in racing the
    kill; then files are read through fs, which reconnects too."""
    shell_ready(g)
    results = restart_rounds(g, driver)
    out = shell_command(g, "sum /data/pattern.bin dma", timeout=60)
    results.append(("qemu/restart_%s_fs_reconnects" % driver,
                    "match" in out and "MISMATCH" not in out, out[-400:]))
    enter(g)
    row = swap_row(g)
    leave(g)
    results.append(("qemu/restart_%s_no_slot_bad" % driver,
                    row is not None and row["state"] == "live" and row["bad"] == 0 and
                    row["restarts"] == 0, "kdb swap: %s" % row))
    return results


@swap_case("restart_ata", timeout=240, drives=lambda tmp: ferry.default_drives("ide"))
def restart_ata(g):
    """Kill ata (an IDE disk) with pages out in swap and a page-in racing
    the kill; then files are read through fs, which reconnects too."""
    return restart_driver(g, "ata")


@swap_case("restart_nvme", timeout=240)
def restart_nvme(g):
    """Kill nvme with pages out in swap and a page-in racing the kill: the
    new nvme stops the controller its predecessor left running before it
    brings it up again; swapd and fs reconnect, every page comes back."""
    results = restart_driver(g, "nvme")
    results.append(("qemu/restart_nvme_controller_stopped",
                    len(re.findall(r"^nvme: controller found enabled \(by the firmware or a "
                                   r"predecessor\): stopping it first$", g.buf, re.M))
                    == 1 + 2 * len(MODES), "want one line per start of nvme"))
    return results


@swap_case("restart_rights")
def restart_rights(g):
    """ata, swapd and fs typed at the shell: no rights, nothing burned; ata
    serves the copies of swapd and fs no partition, although their names
    are the ones its policy knows."""
    shell_ready(g)
    results = []
    out = shell_command(g, "swapd", timeout=30)
    results.append(("qemu/restart_rights_swapd_refused",
                    found(g, r"spawn: swapd started by sh \(pid \d+\) runs without rights") and
                    found(g, r"^nvme: info of disk0 part0 .* by swapd \(pid 0x[0-9a-f]+\): not "
                             r"permitted \(it runs without its configuration's rights\)$") and
                    "swapd: no disk driver gives swapd a partition" in out and
                    "cannot register" not in out, out[-400:]))
    out = shell_command(g, "ata", timeout=30)
    results.append(("qemu/restart_rights_ata_refused",
                    found(g, r"spawn: ata started by sh \(pid \d+\) runs without rights"),
                    out[-400:]))
    out = shell_command(g, "fs", timeout=60)
    results.append(("qemu/restart_rights_fs_no_partition",
                    found(g, r"spawn: fs started by sh \(pid \d+\) runs without rights") and
                    found(g, r"^nvme: info of disk0 part0 .* by fs \(pid 0x[0-9a-f]+\): not "
                             r"permitted \(it runs without its configuration's rights\)$") and
                    "fs: no disk driver gives us a partition" in out, out[-600:]))
    out = shell_command(g, "pagetest 64 dma", timeout=60)
    results.append(("qemu/restart_rights_swap_still_works",
                    "64 pages read back, 64 resident, 0 mismatches: ok" in out, out[-400:]))
    out = kdb_swap_rows(g)
    results.append(("qemu/restart_rights_one_provider",
                    len(out) == 1 and out[0][1] == "live", "kdb swap rows: %s" % out))
    return results


def kdb_swap_rows(g):
    enter(g)
    out = kdb(g, "swap")
    leave(g)
    return re.findall(r"^(\d+)\s+(\w+)\s+\d+\s+\S+\s+\d+", out, re.M)


def throttled_drives(tmp):
    """build/disk.img on IDE, reads throttled to a few a second: ata holds
    each grant long enough for a kill to land while it does."""
    return [ferry.ide_drive(ferry.DISK, snapshot=True) + ",throttling.iops-read=4"]


def throttled_nvme(tmp):
    """The same on NVMe: nvme holds each grant long enough."""
    return [["-drive", "file=%s,format=raw,if=none,id=nv0,snapshot=on,throttling.iops-read=2"
             % ferry.DISK, "-device", "nvme,serial=ferry0,drive=nv0"]]


@swap_case("restart_ata_holding", timeout=240, drives=throttled_drives)
def restart_ata_holding(g):
    """ata killed while it holds the racer's grant (a slow disk): the grant
    goes back to swapd, which forwards it to the restarted ata."""
    shell_ready(g)
    results = restart_rounds(g, "ata", rounds=1, delay_ms=100, tag="_holding")
    back = len(re.findall(r"grant 0x[0-9a-f]+ back with swapd \(pid \d+\): holder ata", g.buf))
    results.append(("qemu/restart_ata_holding_grant_returned", back >= 2,
                    "want grants given back to swapd in the grant modes, saw %d" % back))
    return results


@swap_case("restart_nvme_holding", timeout=240, drives=throttled_nvme)
def restart_nvme_holding(g):
    """nvme killed while it holds the racer's grant (a slow disk): the grant
    goes back to swapd, which forwards it to the restarted nvme."""
    shell_ready(g)
    results = restart_rounds(g, "nvme", rounds=1, delay_ms=100, tag="_holding")
    back = len(re.findall(r"grant 0x[0-9a-f]+ back with swapd \(pid \d+\): holder nvme", g.buf))
    results.append(("qemu/restart_nvme_holding_grant_returned", back >= 2,
                    "want grants given back to swapd in the grant modes, saw %d" % back))
    return results


def writable_disk(tmp):
    return [ferry.ide_drive(copy_disk(tmp))]


@swap_case("restart_fs_dirty_mapping", timeout=180, drives=writable_disk)
def restart_fs_dirty_mapping(g):
    """A process that wrote to a shared file mapping (and to a private one
    of the same file) is killed while fs is dead: the kernel keeps its
    dirty pages and gives them to the restarted fs.  The file holds every
    shared write and no private one, read through fs and on the host
    after poweroff."""
    shell_ready(g)
    out = shell_command(g, "utest mapkill_fs_away", timeout=120)
    results = [("qemu/restart_fs_dirty_mapping_utest", "utest: mapkill fs away: ok" in out,
                out[-1500:]),
               ("qemu/restart_fs_dirty_mapping_waited",
                found(g, r"memobj: object 0x[0-9a-f]+ \(object 0x[0-9a-f]+\): nothing maps it,"
                         r" 5 dirty pages go back to its pager when it comes back\r?$"),
                "no line for dirty pages waiting for the restarted fs"),
               ("qemu/restart_fs_dirty_mapping_nothing_lost",
                not found(g, r"dirty pages lost"), "dirty pages lost")]
    shell_command(g, "echo done")
    g.send("poweroff\r")
    code = g.wait_exit(timeout=60)
    part = extract_fs(os.path.join(g.disk_dir, "disk.img"), g.disk_dir)
    ok, why = mapkill_written(dump(part, "/mapkill_fs.bin", g.disk_dir))
    clean, report = fsck(part)
    results += [("qemu/restart_fs_dirty_mapping_exit", code == ferry.EXIT_PASS,
                 "QEMU exit status %s" % code),
                ("qemu/restart_fs_dirty_mapping_on_disk", ok, "/mapkill_fs.bin: " + why),
                ("qemu/restart_fs_dirty_mapping_e2fsck", clean, report)]
    return results
