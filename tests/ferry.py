#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Booting Ferry in QEMU: one place for the QEMU command line, the choice of
accelerator, per-test ISOs and a serial-line client.  Used by `make run`,
`make debug`, the test runner and the benchmark.  Standard library only."""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")

# isa-debug-exit turns the kernel's code c into QEMU exit status (c << 1) | 1.
EXIT_PASS = (0x10 << 1) | 1     # 33
EXIT_FAIL = (0x11 << 1) | 1     # 35: failed self-test or panic with panic=exit

QEMU = "qemu-system-x86_64"
DISK = os.path.join(BUILD, "disk.img")     # scripts/mkdisk.sh, made by `make`


def ide_drive(path, index=0, fmt="raw", snapshot=False):
    """A -drive value attaching the image `path` as IDE disk `index`:
    0 primary master, 1 primary slave, 3 secondary slave (2, the secondary
    master, is the CD-ROM).  snapshot=on sends writes to a temporary
    overlay: the image never changes and any number of QEMUs may share it."""
    return "file=%s,format=%s,if=ide,index=%d,media=disk%s" % (
        path, fmt, index, ",snapshot=on" if snapshot else "")


def default_drives():
    """build/disk.img as the primary master (ata's disk 0), unchanged by the boot."""
    return [ide_drive(DISK, snapshot=True)] if os.path.exists(DISK) else []


def qemu_base_args(iso, mem="64M", accel="tcg", icount=False, drives=None):
    """drives: -drive values (None: default_drives()).  -cdrom takes IDE
    index 2, the secondary master, so the primary master stays the disk's."""
    args = [QEMU, "-machine", "pc", "-m", mem, "-cdrom", iso, "-boot", "d",
            "-display", "none", "-no-reboot",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
    for d in default_drives() if drives is None else drives:
        args += ["-drive", d]
    if accel == "kvm":
        args += ["-accel", "kvm", "-cpu", "host"]
    else:
        args += ["-accel", "tcg"]
        if icount:
            args += ["-icount", "shift=0"]
    return args


def make_iso(out, cmdline, modules, kernel=None):
    """modules: list of (file, module args) pairs.  Rebuilt only when stale."""
    kernel = kernel or os.path.join(BUILD, "ferry.elf")
    spec = os.path.join(os.path.dirname(out), os.path.basename(out) + ".spec")
    want = repr((cmdline, modules))
    inputs = [kernel] + [f for f, _ in modules]
    if (os.path.exists(out) and os.path.exists(spec) and open(spec).read() == want
            and all(os.path.getmtime(f) <= os.path.getmtime(out) for f in inputs)):
        return out
    os.makedirs(os.path.dirname(out), exist_ok=True)
    subprocess.run(["sh", os.path.join(ROOT, "scripts", "mkiso.sh"), out, kernel, cmdline]
                   + ["%s:%s" % (f, a) for f, a in modules], check=True)
    with open(spec, "w") as f:
        f.write(want)
    return out


def default_modules():
    """Every boot module `make` ships, in the order init expects them."""
    mods = [(os.path.join(BUILD, "ferry.sym"), "symbols")]
    listing = os.path.join(BUILD, "modules.txt")
    if os.path.exists(listing):
        for line in open(listing):
            line = line.strip()
            if line:
                path, _, args = line.partition(" ")
                mods.append((os.path.join(ROOT, path), args))
    return mods


_accel = None


def choose_accel():
    """KVM only where it really runs Ferry: a paravirtual /dev/kvm without
    VMX/SVM opens fine and then never boots, so probe with a smoke boot."""
    global _accel
    if _accel:
        return _accel
    forced = os.environ.get("FERRY_ACCEL")
    if forced in ("tcg", "kvm"):
        _accel = forced
        return _accel
    cache = os.path.join(BUILD, "accel")
    if os.path.exists(cache):
        _accel = open(cache).read().strip()
        return _accel
    _accel = "tcg"
    if os.access("/dev/kvm", os.R_OK | os.W_OK):
        iso = os.path.join(BUILD, "ferry.iso")
        try:
            g = Guest(iso, accel="kvm", name="kvm-probe", log_path=None)
            g.start()
            g.expect(r"Ferry \d", timeout=8)
            _accel = "kvm"
        except Exception:
            pass
        finally:
            g.kill()
    os.makedirs(BUILD, exist_ok=True)
    with open(cache, "w") as f:
        f.write(_accel + "\n")
    return _accel


class Timeout(Exception):
    pass


class Guest:
    """One QEMU process whose COM1 is a Unix socket we connect to: the
    harness talks to the serial line exactly as a terminal client would."""

    def __init__(self, iso, mem="64M", accel=None, name="guest", log_path=None,
                 icount=False, extra=(), drives=None):
        self.iso, self.mem, self.name = iso, mem, name
        self.drives = drives
        self.accel = accel or choose_accel()
        self.icount = icount
        self.extra = list(extra)
        self.log_path = log_path
        self.buf = ""
        self.cond = threading.Condition()
        self.proc = None
        self.sock = None
        self.closed = False
        self.exit_code = None
        self.start_time = None

    def start(self):
        self.tmp = tempfile.mkdtemp(prefix="ferry-")
        path = os.path.join(self.tmp, "serial")
        args = qemu_base_args(self.iso, self.mem, self.accel, self.icount, self.drives) + [
            "-chardev", "socket,id=ser0,path=%s,server=on,wait=on" % path,
            "-serial", "chardev:ser0", "-monitor", "none"] + self.extra
        self.log = open(self.log_path, "w") if self.log_path else None
        if self.log:
            self.log.write("# " + " ".join(args) + "\n")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.start_time = time.monotonic()
        deadline = time.monotonic() + 20
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    out = self.proc.stdout.read().decode(errors="replace")
                    raise RuntimeError("QEMU did not start: " + out)
                time.sleep(0.02)
        threading.Thread(target=self._reader, daemon=True).start()
        return self

    def _reader(self):
        while True:
            try:
                data = self.sock.recv(4096)
            except OSError:
                data = b""
            # The kernel ends lines with \r\n; a \r may arrive alone at the end
            # of one read, so drop every \r rather than pairs.
            text = data.decode(errors="replace").replace("\r", "")
            with self.cond:
                if not data:
                    self.closed = True
                    self.cond.notify_all()
                    return
                self.buf += text
                if self.log:
                    self.log.write(text)
                    self.log.flush()
                self.cond.notify_all()

    def expect(self, pattern, timeout=30, start=0):
        """Waits until `pattern` matches the output after offset `start`."""
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                m = rx.search(self.buf, start)
                if m:
                    return m
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Timeout("%s: no %r within %ss" % (self.name, pattern, timeout))
                if self.closed:
                    raise Timeout("%s: QEMU ended before %r" % (self.name, pattern))
                self.cond.wait(min(left, 0.5))

    def send(self, text):
        self.sock.sendall(text.encode())

    def wait_exit(self, timeout=60):
        try:
            self.exit_code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise Timeout("%s: QEMU still running after %ss" % (self.name, timeout))
        with self.cond:
            self.cond.wait_for(lambda: self.closed, timeout=5)
        return self.exit_code

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.sock:
            self.sock.close()
        if self.log and not self.log.closed:
            self.log.close()
        if getattr(self, "tmp", None):
            shutil.rmtree(self.tmp, ignore_errors=True)


def run_interactive(iso, gdb=False, mem="128M"):
    """`make run` / `make debug`: serial and QEMU monitor on this terminal.
    The disk is build/disk.img, unchanged by the boot; FERRY_DISK=IMAGE
    attaches another image instead, writable (writes stay in it)."""
    own = os.environ.get("FERRY_DISK")
    drives = [ide_drive(own)] if own else None
    args = qemu_base_args(iso, mem, choose_accel(), drives=drives) + ["-serial", "mon:stdio"]
    if gdb:
        args += ["-s", "-S"]
        print("QEMU waits for gdb on :1234.  In another terminal:\n"
              "  gdb build/ferry.elf -ex 'target remote :1234'")
    print("Booting Ferry (%s).  Leave QEMU with Ctrl-A then X." % choose_accel())
    sys.stdout.flush()
    os.execvp(args[0], args)


def main(argv):
    import argparse
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("command", choices=["run", "accel"])
    p.add_argument("--iso", default=os.path.join(BUILD, "ferry.iso"))
    p.add_argument("--gdb", action="store_true")
    p.add_argument("--mem", default=os.environ.get("FERRY_MEM", "128M"))
    a = p.parse_args(argv)
    if a.command == "accel":
        print(choose_accel())
        return 0
    run_interactive(a.iso, a.gdb, a.mem)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
