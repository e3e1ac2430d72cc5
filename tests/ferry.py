#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Booting Ferry in QEMU: one place for the QEMU command line, the choice of
accelerator, per-test ISOs and a serial-line client.  Used by `make run`,
`make debug`, the test runner and the benchmark.  Standard library only."""

import os
import re
import shutil
import signal
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
    master, is the CD-ROM on `pc`).  snapshot=on sends writes to a temporary
    overlay: the image never changes and any number of QEMUs may share it.
    qemu_base_args() places it on the machine's PIIX IDE controller."""
    return "file=%s,format=%s,if=ide,index=%d,media=disk%s" % (
        path, fmt, index, ",snapshot=on" if snapshot else "")


def nvme_drive(path, fmt="raw", snapshot=False, serial="ferry0", ident="nv0"):
    """QEMU options attaching the image `path` as the one namespace of an
    NVMe controller of its own (serial `serial`): `-drive ...,if=none
    -device nvme`.  snapshot=on as for ide_drive()."""
    return ["-drive", "file=%s,format=%s,if=none,id=%s%s" % (
        path, fmt, ident, ",snapshot=on" if snapshot else ""),
        "-device", "nvme,serial=%s,drive=%s" % (serial, ident)]


def nvme_namespaces(bodies, serial="ferry0", ident="nvme0"):
    """QEMU options for one NVMe controller whose namespaces 1, 2, ... are
    the -drive bodies in `bodies` (e.g. "file=X,format=raw", or a null-co
    drive), each attached with -device nvme-ns."""
    args = ["-device", "nvme,id=%s,serial=%s" % (ident, serial)]
    for n, body in enumerate(bodies, 1):
        args += ["-drive", "%s,if=none,id=%sn%d" % (body, ident, n),
                 "-device", "nvme-ns,drive=%sn%d,bus=%s,nsid=%d" % (ident, n, ident, n)]
    return args


def disk_drive(path, bus="nvme", snapshot=False):
    """The image `path` as the machine's disk on `bus`: "nvme" (an NVMe
    controller of its own: nvme's disk 0) or "ide" (the primary master:
    ata's disk 0)."""
    if bus == "ide":
        return ide_drive(path, snapshot=snapshot)
    if bus == "nvme":
        return nvme_drive(path, snapshot=snapshot)
    raise ValueError("disk bus %r: want nvme or ide" % bus)


def default_drives(bus="nvme"):
    """build/disk.img as the disk on `bus` (NVMe unless told otherwise),
    unchanged by the boot."""
    return [disk_drive(DISK, bus, snapshot=True)] if os.path.exists(DISK) else []


# The machine every boot uses: q35 with an Intel IOMMU (VT-d) by default,
# FERRY_MACHINE=pc for the old i440FX machine without one.
MACHINES = ("q35", "pc")


def machine():
    m = os.environ.get("FERRY_MACHINE", "q35")
    if m not in MACHINES:
        raise SystemExit("FERRY_MACHINE=%s: want one of %s" % (m, ", ".join(MACHINES)))
    return m


def drive_args(drive, mach):
    """QEMU options for one -drive value written for `if=ide,index=N`.  On
    `pc` it stays as it is (the PIIX3 IDE of the i440FX).  On q35, if=ide
    would mean ICH9 AHCI, which ata cannot drive: the drive goes to a
    piix3-ide controller instead (bus `pide.N/2`, unit N%2), whose DMA the
    IOMMU translates like any PCI device's."""
    m = re.search(r"(?:^|,)if=ide,index=(\d)(?=,|$)", drive)
    if mach == "pc" or not m:
        return ["-drive", drive]
    index = int(m.group(1))
    plain = drive[:m.start()] + drive[m.end():]
    plain = re.sub(r",media=disk(?=,|$)", "", plain).lstrip(",")
    ident = "ide%d" % index
    return ["-drive", "%s,if=none,id=%s" % (plain, ident),
            "-device", "ide-hd,drive=%s,bus=pide.%d,unit=%d" % (ident, index // 2, index % 2)]


def smp_cpus(cpus=None):
    """CPUs a boot gets: `cpus` when given, else $FERRY_SMP (default 1: the
    benchmark's; `make run` and `make test` make it 2 unless it is set)."""
    if cpus is None:
        cpus = os.environ.get("FERRY_SMP", "1")
    n = int(cpus)
    if not 1 <= n <= 8:
        raise ValueError("FERRY_SMP=%s: Ferry runs on 1 to 8 CPUs" % cpus)
    return n


def qemu_base_args(iso, mem="64M", accel="tcg", icount=False, drives=None, mach=None,
                   cpus=None):
    """drives: -drive values for IDE disks (ide_drive()), or lists of QEMU
    options (nvme_drive(), nvme_namespaces()); None: default_drives().  On
    `pc`, -cdrom takes IDE index 2, the secondary master, so the primary
    master stays the disk's; on q35 the CD-ROM is on the ICH9 AHCI
    controller, where SeaBIOS boots it, and the IDE disks on a piix3-ide
    (drive_args()).
    cpus: None for $FERRY_SMP.  Several CPUs run on multi-threaded TCG, one
    host thread each, except under -icount, which runs every vCPU in turn
    on one thread (and serialises them: SMP figures are counts, not icount
    instruction totals)."""
    mach = mach or machine()
    n = smp_cpus(cpus)
    args = [QEMU, "-machine", mach, "-m", mem, "-cdrom", iso, "-boot", "d",
            "-display", "none", "-no-reboot",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
    if n > 1:
        args += ["-smp", str(n)]
    if mach == "q35":
        # intel-iommu first: devices created after it are behind it.
        args += ["-device", "intel-iommu", "-device", "piix3-ide,id=pide"]

    for d in default_drives() if drives is None else drives:
        args += drive_args(d, mach) if isinstance(d, str) else list(d)
    if accel == "kvm":
        args += ["-accel", "kvm", "-cpu", "host"]
    elif icount:
        args += ["-accel", "tcg", "-icount", "shift=0"]
    else:
        args += ["-accel", "tcg,thread=multi" if n > 1 else "tcg"]
    return args


def make_iso(out, cmdline, modules, kernel=None, acpi=()):
    """modules: list of (file, module args) pairs.  acpi: (signature, file)
    pairs, ACPI tables GRUB puts in place of the firmware's (mkiso.sh).
    Rebuilt only when stale."""
    kernel = kernel or os.path.join(BUILD, "ferry.elf")
    spec = os.path.join(os.path.dirname(out), os.path.basename(out) + ".spec")
    want = repr((cmdline, modules, list(acpi)))
    inputs = [kernel] + [f for f, _ in modules] + [f for _, f in acpi]
    if (os.path.exists(out) and os.path.exists(spec) and open(spec).read() == want
            and all(os.path.getmtime(f) <= os.path.getmtime(out) for f in inputs)):
        return out
    os.makedirs(os.path.dirname(out), exist_ok=True)
    env = dict(os.environ, FERRY_ISO_ACPI=" ".join("%s:%s" % t for t in acpi))
    subprocess.run(["sh", os.path.join(ROOT, "scripts", "mkiso.sh"), out, kernel, cmdline]
                   + ["%s:%s" % (f, a) for f, a in modules], check=True, env=env)
    with open(spec, "w") as f:
        f.write(want)
    return out


def module_list(name):
    """The (file, module args) pairs `make` wrote to build/NAME, one "FILE ARGS" a line."""
    mods = []
    listing = os.path.join(BUILD, name)
    if os.path.exists(listing):
        for line in open(listing):
            line = line.strip()
            if line:
                path, _, args = line.partition(" ")
                mods.append((os.path.join(ROOT, path), args))
    return mods


def default_modules():
    """Every boot module build/ferry.iso has, in the order init expects them."""
    return [(os.path.join(BUILD, "ferry.sym"), "symbols")] + module_list("modules.txt")


def test_modules():
    """default_modules() and then the modules only tests use (the bad ELFs
    utest's malformed_elf case spawns): for the cases that need them."""
    return default_modules() + module_list("test-modules.txt")


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


class Console:
    """A serial line we read and type on: everything it prints lands in
    `buf` (and the log), expect() waits for a pattern there.  Subclasses
    say how bytes come and go (_recv, send)."""

    def __init__(self, name, log_path):
        self.name, self.log_path = name, log_path
        self.log = None
        self.buf = ""
        self.cond = threading.Condition()
        self.proc = None
        self.closed = False
        self.exit_code = None
        self.start_time = None

    def _recv(self):
        raise NotImplementedError

    def _start_reader(self):
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self):
        while True:
            try:
                data = self._recv()
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

    def expect_line(self, pattern, timeout=30, start=0):
        """Like expect(), but `pattern` matches only a whole line, its '\n'
        arrived: the serial line delivers a line in pieces, and `^x=\S+$`
        would match `x=6` of a `x=6/10` still on its way."""
        return self.expect(r"^(?:%s)(?=\n)" % pattern, timeout=timeout, start=start)

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
        if self.log and not self.log.closed:
            self.log.close()


class Guest(Console):
    """One QEMU process whose COM1 is a Unix socket we connect to: the
    harness talks to the serial line exactly as a terminal client would."""

    def __init__(self, iso, mem="64M", accel=None, name="guest", log_path=None,
                 icount=False, extra=(), drives=None, mach=None, cpus=None):
        super().__init__(name, log_path)
        self.iso, self.mem = iso, mem
        self.drives = drives
        self.mach = mach or machine()
        self.cpus = cpus
        self.accel = accel or choose_accel()
        self.icount = icount
        self.extra = list(extra)
        self.sock = None
        self.tmp = tempfile.mkdtemp(prefix="ferry-")

    def start(self):
        path = os.path.join(self.tmp, "serial")
        args = qemu_base_args(self.iso, self.mem, self.accel, self.icount, self.drives,
                              self.mach, self.cpus) + [
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
        self._start_reader()
        return self

    def gdb_stub_args(self):
        """QEMU options for a gdb stub on a Unix socket in this guest's
        directory (no TCP port to collide with parallel boots), halted
        before the first instruction; => (options, gdb's `target remote` argument)."""
        path = os.path.join(self.tmp, "gdb")
        return (["-chardev", "socket,id=gdb0,path=%s,server=on,wait=off" % path,
                 "-gdb", "chardev:gdb0", "-S"], path)

    def _recv(self):
        return self.sock.recv(4096)

    def send(self, text):
        self.sock.sendall(text.encode())

    def kill(self):
        super().kill()
        if self.sock:
            self.sock.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


class RunSession(Console):
    """`tests/ferry.py run` (what `make run` runs) with pipes for its
    terminal: the serial console is its stdin and stdout, and its exit
    status is what `make run` would end with.  env: extra environment
    (FERRY_CMDLINE, ...); args: extra options to `tests/ferry.py run`."""

    def __init__(self, name="run", log_path=None, env=None, args=()):
        super().__init__(name, log_path)
        self.env = dict(os.environ, **(env or {}))
        self.args = list(args)

    def start(self):
        cmd = [sys.executable, os.path.abspath(__file__), "run"] + self.args
        self.log = open(self.log_path, "w") if self.log_path else None
        if self.log:
            self.log.write("# " + " ".join(cmd) + "\n")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=self.env)
        self.start_time = time.monotonic()
        self._start_reader()
        return self

    def _recv(self):
        return os.read(self.proc.stdout.fileno(), 4096)

    def send(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()


GDB_PORT = int(os.environ.get("FERRY_GDB_PORT", "1234"))
RUN_LOG = os.path.join(BUILD, "run.log")
PANIC_BANNER = "==================== PANIC ===================="


def gdb_script(target):
    """The commands `make debug` leaves in build/ferry.gdb: the kernel's
    symbols, the connection to QEMU's stub at `target` (host:port or a Unix
    socket), and a first stop at kmain instead of the BIOS reset vector."""
    return "\n".join([
        "# gdb -x build/ferry.gdb: written by `make debug` (tests/ferry.py)",
        "file %s" % os.path.join(BUILD, "ferry.elf"),
        "target remote %s" % target,
        "# Hardware, so it fires although it is set in real mode, before the",
        "# kernel's higher half is mapped (a software breakpoint would be",
        "# written to memory that is not there yet under KVM).",
        "thbreak kmain",
        "continue",
        ""])


def panic_reason(serial):
    """The reason line of the kernel's panic report in `serial`, or None."""
    at = serial.find(PANIC_BANNER)
    if at < 0:
        return None
    m = re.search(r"^PANIC: (.*)$", serial[at:], re.M)
    return m.group(1).strip() if m else "(no reason printed)"


def run_verdict(code, serial):
    """=> (exit status, message or None) for QEMU's exit `code` and the
    console's text: 0 for a power-off (the kernel's pass code, or QEMU's own
    quit); non-zero with the reason for a panic, even one the user then
    powered off from kdb, and for the kernel's failure code."""
    reason = panic_reason(serial)
    if reason:
        return 1, "ferry: kernel panic: %s" % reason
    if code in (0, EXIT_PASS):
        return 0, None
    if code == EXIT_FAIL:
        return 1, "ferry: Ferry ended with its failure code: a self-test or the first program failed"
    if code < 0:
        return 128 - code, "ferry: QEMU ended by signal %d" % -code
    return code, "ferry: QEMU exited with status %d" % code


def shown_path(path):
    """path as the user can type it: relative when below the working directory."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def _default_sigint():
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_interactive(iso, gdb=False, mem="128M", cmdline="", log_path=RUN_LOG):
    """`make run` / `make debug`: serial and QEMU monitor on this terminal,
    everything the console prints also kept in log_path.  cmdline: the
    kernel command line (FERRY_CMDLINE), for which a copy of the ISO is made
    for this run.  The disk is build/disk.img, unchanged by the boot;
    FERRY_DISK=IMAGE attaches another image instead, writable (writes stay
    in it).  The disk is an NVMe one; FERRY_DISK_BUS=ide attaches it as the
    primary IDE disk instead.  => the exit status run_verdict() gives."""
    own = os.environ.get("FERRY_DISK")
    bus = os.environ.get("FERRY_DISK_BUS", "nvme")
    drives = [disk_drive(own, bus)] if own else default_drives(bus)
    tmp = tempfile.mkdtemp(prefix="run-", dir=BUILD)
    try:
        if cmdline:
            iso = make_iso(os.path.join(tmp, "ferry.iso"), cmdline, default_modules())
        args = qemu_base_args(iso, mem, choose_accel(), drives=drives) + [
            "-chardev", "stdio,id=con0,mux=on,logfile=%s" % log_path,
            "-serial", "chardev:con0", "-mon", "chardev=con0"]
        if gdb:
            script = os.path.join(BUILD, "ferry.gdb")
            with open(script, "w") as f:
                f.write(gdb_script("localhost:%d" % GDB_PORT))
            args += ["-gdb", "tcp:localhost:%d" % GDB_PORT, "-S"]
            print("QEMU waits for gdb on port %d (FERRY_GDB_PORT).  In another terminal:\n"
                  "  gdb -x build/ferry.gdb        (connects, stops at kmain)" % GDB_PORT)
        print("Booting Ferry (%s%s).  Leave QEMU with Ctrl-A then X; serial log in %s."
              % (choose_accel(), ", kernel command line: " + cmdline if cmdline else "",
                 shown_path(log_path)))
        sys.stdout.flush()
        # Ctrl-C reaches QEMU and us alike; QEMU decides, we report.
        old = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            code = subprocess.call(args, preexec_fn=_default_sigint)
        finally:
            signal.signal(signal.SIGINT, old)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    with open(log_path, errors="replace") as f:
        serial = f.read().replace("\r", "")
    status, message = run_verdict(code, serial)
    if message:
        sys.stdout.flush()
        sys.stderr.write("\n%s (serial log: %s)\n" % (message, shown_path(log_path)))
    return status


def main(argv):
    import argparse
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("command", choices=["run", "accel"])
    p.add_argument("--iso", default=os.path.join(BUILD, "ferry.iso"))
    p.add_argument("--gdb", action="store_true")
    p.add_argument("--mem", default=os.environ.get("FERRY_MEM", "128M"))
    p.add_argument("--cmdline", default=os.environ.get("FERRY_CMDLINE", ""),
                   help="kernel command line (default: $FERRY_CMDLINE)")
    p.add_argument("--log", default=RUN_LOG, help="where the console's output is kept")
    a = p.parse_args(argv)
    os.environ.setdefault("FERRY_SMP", "2")
    if a.command == "accel":
        print(choose_accel())
        return 0
    return run_interactive(a.iso, a.gdb, a.mem, a.cmdline, a.log)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
