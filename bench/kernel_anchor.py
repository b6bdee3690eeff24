"""The machine the simulator imitates, measured: this machine's own kernel doing what the benchmark rows make the
simulated kernel do (issue 13's anchors for the rows no paper gives one for).

    /usr/bin/python3 bench/kernel_anchor.py [--gib 4] [--no-compact] [--json FILE]

One process maps ``--gib`` of anonymous memory in 4 KiB pages (MADV_NOHUGEPAGE, as the simulated guests' pages) and
times, per page:

- **fault**: the first write to each page (do_anonymous_page: a page allocated, zeroed and mapped), twice: into
  memory the process never had (``fault_first``; on a virtual machine this includes the host backing guest memory
  touched for the first time) and again after dropping it all (``fault``: pages the kernel had just freed);
- **free**: madvise(MADV_DONTNEED) of every other page, one call each (zap_pte_range, the TLB flush, the page freed to
  the per-cpu lists), less what calling a C function from here costs (a call of memchr that does nothing, the least
  of three runs);
- **migrate** (as root, without ``--no-compact``): ``echo 1 > /proc/sys/vm/compact_memory`` on the memory so
  fragmented, its wall time over the pages /proc/vmstat says it migrated (pgmigrate_success). That compacts the whole
  machine, not only these pages; the pages here are most of what there is to migrate.

Prints what it measured, then one line of JSON (seconds). ``bench/bench.py`` runs it in ``make bench`` and puts the
figures beside the compaction and 64 GiB rows.
"""
from __future__ import annotations

import argparse
import ctypes
import errno
import json
import math
import mmap
import os
import platform
import sys
import time

PAGE = 4096
MADV_DONTNEED = 4
MADV_NOHUGEPAGE = 15
COMPACT_MEMORY = "/proc/sys/vm/compact_memory"


def vmstat() -> dict[str, int]:
    """/proc/vmstat as numbers."""
    with open("/proc/vmstat") as f:
        return {name: int(value) for name, value in (line.split() for line in f)}


def mem_available() -> int:
    """MemAvailable of /proc/meminfo, in bytes."""
    with open("/proc/meminfo") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("MemAvailable:"))


def can_compact() -> bool:
    """Whether this process may ask the kernel to compact all memory (root, and the sysctl exists)."""
    return os.geteuid() == 0 and os.path.exists(COMPACT_MEMORY)


def check_size(gib: float) -> int:
    """The bytes to map: ``gib``, at least 64 MiB and at most half of what the machine has available."""
    limit = mem_available() // 2
    size = int(gib * 2**30) // (2 * PAGE) * (2 * PAGE) if math.isfinite(gib) else -1
    if not 64 * 2**20 <= size <= limit:
        raise ValueError(f"gib must be between 0.0625 and {limit / 2**30:.2f} (half of MemAvailable), got {gib}")
    return size


def _fault_all(pages) -> float:
    """Write one byte to every page of ``pages`` (a numpy view); seconds."""
    t = time.perf_counter()
    pages[::PAGE] = 1
    return time.perf_counter() - t


# What a call costs is the least of three runs: the call loop is the smaller of the two subtracted, so a time slice
# another process takes from it (make test runs five suites on two cores) could leave "free" below nothing.
CALL_RUNS = 3


def _call_all(memchr, odd: range) -> float:
    """Seconds to call memchr(page, 0, 0), which does nothing, once for each page of ``odd``."""
    t = time.perf_counter()
    for page in odd:
        memchr(page, 0, 0)
    return time.perf_counter() - t


def measure(gib: float, compact: bool) -> dict:
    """The per-page costs, in seconds (see the module's text)."""
    import numpy as np
    size = check_size(gib)
    if compact and not can_compact():
        raise PermissionError(f"compacting needs root and {COMPACT_MEMORY}: run as root or pass --no-compact")
    n = size // PAGE
    libc = ctypes.CDLL(None, use_errno=True)
    madvise = libc.madvise
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    memchr = libc.memchr
    memchr.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
    memory = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    address = ctypes.addressof(ctypes.c_char.from_buffer(memory))
    # EINVAL: a kernel built without transparent huge pages, whose pages are all 4 KiB anyway.
    if madvise(address, size, MADV_NOHUGEPAGE) != 0 and ctypes.get_errno() != errno.EINVAL:
        raise OSError(ctypes.get_errno(), "madvise(MADV_NOHUGEPAGE) failed")
    pages = np.frombuffer(memory, dtype=np.uint8)
    faults_before = vmstat()["pgfault"]
    fault_first = _fault_all(pages)
    madvise(address, size, MADV_DONTNEED)
    fault = _fault_all(pages)
    faults = vmstat()["pgfault"] - faults_before
    odd = range(address + PAGE, address + size, 2 * PAGE)
    t = time.perf_counter()
    for page in odd:
        madvise(page, PAGE, MADV_DONTNEED)
    freeing = time.perf_counter() - t
    calling = min(_call_all(memchr, odd) for _ in range(CALL_RUNS))
    out = {"kernel": platform.release(), "pages": n, "faults_counted": faults,
           "fault_first": fault_first / n, "fault": fault / n, "free": (freeing - calling) / len(odd),
           "call": calling / len(odd)}
    if compact:
        before = vmstat()
        t = time.perf_counter()
        with open(COMPACT_MEMORY, "w") as f:
            f.write("1")
        wall = time.perf_counter() - t
        after = vmstat()
        migrated = after["pgmigrate_success"] - before["pgmigrate_success"]
        out |= {"compact_wall": wall, "migrated": migrated, "migrate": wall / migrated if migrated else None,
                "compact_migrate_scanned": after["compact_migrate_scanned"] - before["compact_migrate_scanned"],
                "compact_free_scanned": after["compact_free_scanned"] - before["compact_free_scanned"]}
    del pages
    return out


def us(seconds: float) -> str:
    """Seconds as microseconds, two decimals: how this script and bench.py print a per-page cost."""
    return f"{seconds * 1e6:.2f} µs"


def describe(m: dict) -> str:
    """What ``measure`` found, as lines of text."""
    lines = [f"kernel {m['kernel']}, {m['pages']:,} pages of 4 KiB ({m['faults_counted']:,} faults counted):",
             f"  fault a page in: {us(m['fault'])} (into memory the process never had: {us(m['fault_first'])})",
             f"  free every other page: {us(m['free'])} a page (the call itself, {us(m['call'])}, left out)"]
    if "migrated" in m:
        per = f"{us(m['migrate'])} a migrated page" if m["migrate"] else "nothing migrated"
        lines.append(f"  compact_memory: {m['compact_wall']:.3f} s for {m['migrated']:,} pages migrated: {per}")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--gib", type=float, default=4.0,
                   help="anonymous memory to map (default 4; at most half of MemAvailable)")
    p.add_argument("--no-compact", action="store_true", help="skip compact_memory (which needs root)")
    p.add_argument("--json", help="also write the numbers to this file")
    args = p.parse_args(argv)
    if not sys.platform.startswith("linux"):
        p.error("this measures the Linux kernel it runs on: run it on Linux")
    try:
        m = measure(args.gib, compact=not args.no_compact)
    except (ValueError, PermissionError) as e:
        p.error(str(e))
    print(describe(m))
    print(json.dumps(m))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(m, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
