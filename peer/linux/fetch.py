#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Fetches what the Linux peer boots into its cache, trimmed to what it uses.

With `apt-get download` (no installation, no root needed) it fetches
Debian's Linux 6.12 kernel package (linux-image-6.12.*-amd64-unsigned: the
same vmlinuz as the signed one) and busybox-static, extracts them in a
scratch directory, keeps the kernel, the modules the PIIX IDE disk needs
(decompressed, in load order) and busybox, and deletes the rest, packages
included (about 110 MB downloaded, 15 MB kept).  Prints the cache's
location and size.

The cache: $FERRY_PEER_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/ferry-peer.
The package: $FERRY_PEER_KERNEL (a package name), else the one the
recorded results used if apt still offers it, else the newest 6.12.

  python3 peer/linux/fetch.py            fetch unless already cached
  python3 peer/linux/fetch.py --force    fetch again"""

import glob
import json
import lzma
import os
import re
import shutil
import subprocess
import sys

PINNED = "linux-image-6.12.117+deb12-amd64-unsigned"
NEWEST = r"^linux-image-6\.12\.[0-9.]+\+deb[0-9]+-amd64-unsigned$"
# The i440fx PIIX IDE disk as a SCSI disk: the drivers Ferry's disk needs.
# The disks' drivers: PIIX IDE (and SCSI disks over it), and NVMe.
MODULES = ["ata_piix", "sd_mod", "nvme"]


def cache_dir():
    own = os.environ.get("FERRY_PEER_CACHE")
    if own:
        return own
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "ferry-peer")


def kernel_dir(cache=None):
    return os.path.join(cache or cache_dir(), "linux")


def manifest(cache=None):
    """What fetch() kept, or None when nothing (complete) is cached."""
    path = os.path.join(kernel_dir(cache), "manifest.json")
    try:
        with open(path) as f:
            m = json.load(f)
    except (OSError, ValueError):
        return None
    files = [m.get("vmlinuz"), m.get("busybox")] + ["modules/%s.ko" % x for x in m.get("modules", [])]
    if not all(f and os.path.exists(os.path.join(kernel_dir(cache), f)) for f in files):
        return None
    if not set(MODULES) <= set(m.get("modules", [])):
        return None	# kept before a disk driver was added: fetched again
    return m


def size_of(path):
    total = 0
    for root, _, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files
                     if not os.path.islink(os.path.join(root, f)))
    return total


def apt_has(pkg):
    return subprocess.run(["apt-cache", "show", pkg], capture_output=True).returncode == 0


def choose_package():
    pkg = os.environ.get("FERRY_PEER_KERNEL")
    if pkg:
        return pkg
    if apt_has(PINNED):
        return PINNED
    out = subprocess.run(["apt-cache", "search", "--names-only", NEWEST],
                         capture_output=True, text=True).stdout
    names = [line.split()[0] for line in out.splitlines() if line.strip()]
    if not names:
        sys.exit("fetch: apt knows no linux-image-6.12.*-amd64-unsigned package; "
                 "run apt-get update (as root) first")
    return max(names, key=lambda n: [int(x) for x in re.findall(r"\d+", n)])


def download(pkg, into):
    """apt-get download PKG into `into`; => the .deb's path."""
    p = subprocess.run(["apt-get", "download", pkg], cwd=into, capture_output=True, text=True)
    debs = glob.glob(os.path.join(into, glob.escape(pkg) + "_*.deb"))
    if p.returncode != 0 or not debs:
        sys.exit("fetch: apt-get download %s failed:\n%s" % (pkg, p.stderr.strip()))
    return debs[0]


def deb_field(deb, field):
    return subprocess.run(["dpkg-deb", "-f", deb, field], capture_output=True,
                          text=True, check=True).stdout.strip()


def module_index(moddir):
    """Module name (dashes as underscores, as depends= spells them) -> file."""
    index = {}
    for root, _, files in os.walk(moddir):
        for f in files:
            m = re.match(r"(.+)\.ko(\.xz)?$", f)
            if m:
                index[m.group(1).replace("-", "_")] = os.path.join(root, f)
    return index


def module_bytes(path):
    with open(path, "rb") as f:
        data = f.read()
    return lzma.decompress(data) if path.endswith(".xz") else data


def depends(ko):
    """The `depends=` entry of a module's .modinfo section."""
    m = re.search(rb"\0depends=([^\0]*)\0", ko)
    return [d for d in m.group(1).decode().split(",") if d] if m else []


def resolve(names, index, builtin, out_dir):
    """Writes each module and what it depends on to out_dir; => load order."""
    order, seen = [], set()

    def visit(name):
        if name in seen:
            return
        seen.add(name)
        if name not in index:
            if name in builtin:
                return
            sys.exit("fetch: module %s is neither in the package nor built in" % name)
        ko = module_bytes(index[name])
        for dep in depends(ko):
            visit(dep.replace("-", "_"))
        with open(os.path.join(out_dir, name + ".ko"), "wb") as f:
            f.write(ko)
        order.append(name)

    for n in names:
        visit(n)
    return order


def builtin_modules(moddir):
    path = os.path.join(moddir, "modules.builtin")
    if not os.path.exists(path):
        return set()
    return {os.path.basename(line.strip())[:-3].replace("-", "_") for line in open(path)}


def fetch(force=False, quiet=False):
    """=> the manifest of the cached kernel, fetching it first if needed."""
    cache = cache_dir()
    have = manifest(cache)
    if have and not force:
        return have
    pkg = choose_package()
    print("peer: fetching %s and busybox-static with apt-get download into %s" % (pkg, cache),
          flush=True)
    scratch = os.path.join(cache, "download")
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.rmtree(kernel_dir(cache), ignore_errors=True)
    os.makedirs(scratch)
    os.makedirs(os.path.join(kernel_dir(cache), "modules"))
    try:
        kdeb, bdeb = download(pkg, scratch), download("busybox-static", scratch)
        tree = os.path.join(scratch, "tree")
        for deb in (kdeb, bdeb):
            subprocess.run(["dpkg-deb", "-x", deb, tree], check=True)
        release = sorted(os.listdir(os.path.join(tree, "lib", "modules")))[0]
        moddir = os.path.join(tree, "lib", "modules", release)
        shutil.copy(os.path.join(tree, "boot", "vmlinuz-" + release),
                    os.path.join(kernel_dir(cache), "vmlinuz"))
        shutil.copy(os.path.join(tree, "bin", "busybox"), os.path.join(kernel_dir(cache), "busybox"))
        order = resolve(MODULES, module_index(moddir), builtin_modules(moddir),
                        os.path.join(kernel_dir(cache), "modules"))
        m = {"kernel_package": "%s %s" % (pkg, deb_field(kdeb, "Version")),
             "kernel_release": release,
             "busybox_package": "busybox-static %s" % deb_field(bdeb, "Version"),
             "vmlinuz": "vmlinuz", "busybox": "busybox", "modules": order}
        with open(os.path.join(kernel_dir(cache), "manifest.json"), "w") as f:
            json.dump(m, f, indent=1)
    finally:
        # The extracted tree is ~450 MB and the packages ~110 MB: keep neither.
        shutil.rmtree(scratch, ignore_errors=True)
    print("peer: kept %s (Linux %s; modules %s): %.1f MB in %s" % (
        m["kernel_package"], release, " ".join(order), size_of(cache) / 1e6, cache), flush=True)
    return m


def main(argv):
    force = "--force" in argv
    m = fetch(force=force)
    if not force:
        print("peer: cache %s (%.1f MB): %s" % (cache_dir(), size_of(cache_dir()) / 1e6,
                                                m["kernel_package"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
