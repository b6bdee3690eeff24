"""Where a JIT-compiled .NET method spends its time, instruction by instruction (issue 13's profiling).

``perf annotate`` needs a jitdump to see managed code, and .NET 10's jitdump holds no method (dotnet/runtime#132935:
two startup stubs, then the writer stops). So this puts together what does work: perf's samples, the perf map
(``DOTNET_PerfMapEnabled=3``) for where the method's optimised code lies, and the JIT's own listing of that code with
its bytes (``DOTNET_JitDisasm``, ``DOTNET_JitDisasmWithCodeBytes``), from which each instruction's offset follows.

    /usr/bin/python3 bench/annotate.py MigratePages -- \\
        dotnet bench/bin/Release/net10.0/BalloonScript.Bench.dll --filter '*CompactionBenchmarks*' --job short --inProcess

runs the command under ``perf record`` and prints the method's hottest instructions, each after the one before it
(a sample lands on the instruction after one that stalled: a load waited on shows on its successor). ``--all``
prints the whole listing with each instruction's share. The listing is the JIT's: inlined callees are part of it,
without source lines, so read it beside the C#. Needs ``perf`` (Debian's linux-perf) and sampling rights (root, or
``kernel.perf_event_paranoid`` ≤ 1). The method's code is found by size: of the listings of optimised code (Tier1,
Tier1-OSR, FullOpts) the one whose bytes add up to a perf-map entry of that method.

``--calls`` runs the command without ``perf`` and prints what each optimised compilation of the method calls, with
the number of call sites of each callee: a small helper there (a list operation, a page-field accessor) is one the
JIT did not inline, most often because the method ran out of inlining budget on a cold branch that could go out of
line (put_page's high-order free, BENCHMARKS.md "seventeenth session").
"""
from __future__ import annotations

import argparse
import bisect
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

OPTIMISED = ("Tier1", "Tier1-OSR", "FullOpts")
_HEADER = re.compile(r"^; Assembly listing for method (?P<name>\S+?)\(.*\((?P<tier>[^()]+)\)\s*$")
_GROUP = re.compile(r"^G_M\d+_IG\d+:\s+;; offset=0x(?P<offset>[0-9A-F]+)")
_INSTRUCTION = re.compile(r"^\s+(?P<bytes>(?:[0-9A-F]{2})+)\s+(?P<text>\S.*?)\s*$")


@dataclass
class Listing:
    """One compilation of a method: ``Class:Method`` as the JIT names it, its tier and its instructions."""
    name: str
    tier: str
    instructions: list  # (offset, text)
    size: int


def parse_listings(text: str) -> list[Listing]:
    """Every listing in the JIT's output, each instruction at its offset (its group's offset plus the bytes before it)."""
    listings, current, offset = [], None, 0
    for line in text.splitlines():
        if m := _HEADER.match(line):
            current = Listing(m["name"], m["tier"], [], 0)
            listings.append(current)
        elif current is None:
            continue
        elif m := _GROUP.match(line):
            offset = int(m["offset"], 16)
        elif m := _INSTRUCTION.match(line):
            current.instructions.append((offset, m["text"]))
            offset += len(m["bytes"]) // 2
            current.size = max(current.size, offset)
    return listings


def callee(operand: str) -> str:
    """The method a call's operand names: ``[Ns.C:M(int):this]`` (direct), ``[r11]Ns.I:M(int):this`` (through a
    register: the name after the brackets), or a runtime helper's bare name."""
    if not operand.startswith("["):
        return operand
    depth = 0
    for i, c in enumerate(operand):   # the bracket that closes the first: generic names hold brackets of their own
        depth += {"[": 1, "]": -1}.get(c, 0)
        if depth == 0:
            return operand[1:i] if i == len(operand) - 1 else operand[i + 1:]
    return operand


def calls(listing: Listing) -> collections.Counter:
    """The methods ``listing`` calls, counted per call site."""
    return collections.Counter(callee(text.split(None, 1)[1]) for _, text in listing.instructions if text.startswith("call "))


def calls_report(listings: list[Listing]) -> str:
    """Each optimised listing's callees, most call sites first."""
    reports = []
    for listing in listings:
        if listing.tier in OPTIMISED:
            sites = calls(listing)
            reports.append("\n".join([f"{listing.name} ({listing.tier}, {listing.size} bytes): {sum(sites.values())} calls"]
                                     + [f"{n:6d}  {callee}" for callee, n in sites.most_common()]))
    return "\n\n".join(reports) or "no optimised listing of that method (did it run long enough to be optimised?)"


def perf_map_entries(text: str, name: str) -> list[tuple[int, int, str]]:
    """(start, size, symbol) of the perf map's entries for ``Class:Method`` (the map writes ``Class::Method(``)."""
    cls, _, method = name.rpartition(":")
    needle = f"{cls}::{method}("
    entries = []
    for line in text.splitlines():
        start, size, symbol = line.split(" ", 2)
        if needle in symbol:
            entries.append((int(start, 16), int(size, 16), symbol))
    return entries


def attribute(listing: Listing, start: int, ips: list[int]) -> collections.Counter:
    """Samples per instruction index: each IP inside the code counts for the instruction it falls in."""
    offsets = [o for o, _ in listing.instructions]
    per = collections.Counter()
    for ip in ips:
        if start <= ip < start + listing.size:
            per[bisect.bisect_right(offsets, ip - start) - 1] += 1
    return per


def report(listing: Listing, per: collections.Counter, total: int, top: int, everything: bool) -> str:
    n = sum(per.values())
    lines = [f"{listing.name} ({listing.tier}, {listing.size} bytes): {n} of {total} samples"
             f" ({100 * n / max(total, 1):.1f} %)"]

    def share(k):
        return f"{per[k]:6d} {100 * per[k] / max(n, 1):5.1f} %"

    if everything:
        lines += [f"{share(k)}  {o:5x}  {t}" for k, (o, t) in enumerate(listing.instructions)]
    else:
        for k, _ in per.most_common(top):
            o, t = listing.instructions[k]
            before = listing.instructions[k - 1][1] if k > 0 else ""
            lines.append(f"{share(k)}  {o:5x}  {t:<50} after: {before}")
    return "\n".join(lines)


def listing_env(method: str, listing: Path) -> dict:
    """The environment in which the JIT writes its listings of ``method``, with their code bytes, to ``listing``."""
    return {**os.environ, "DOTNET_JitDisasm": method, "DOTNET_JitDisasmWithCodeBytes": "1", "DOTNET_JitStdOutFile": str(listing)}


def record(method: str, command: list[str], workdir: Path, frequency: int) -> tuple[Path, Path]:
    """Run ``command`` under perf record with the perf map and the method's listings on; their files."""
    listing = workdir / "listing.txt"
    env = {**listing_env(method, listing), "DOTNET_PerfMapEnabled": "3", "DOTNET_EnableWriteXorExecute": "0"}
    data = workdir / "perf.data"
    subprocess.run(["perf", "record", "-F", str(frequency), "-o", str(data), "--", *command], env=env, check=True)
    return data, listing


def samples(data: Path) -> dict[int, list[int]]:
    """The sampled IPs per process."""
    out = subprocess.run(["perf", "script", "-i", str(data), "-F", "pid,ip"], capture_output=True, text=True,
                         check=True).stdout
    ips = collections.defaultdict(list)
    for line in out.splitlines():
        pid, ip = line.split()
        ips[int(pid)].append(int(ip, 16))
    return ips


def annotate(listings: list[Listing], maps: dict[int, str], ips: dict[int, list[int]], top: int, everything: bool) -> str:
    """Each optimised listing matched by size to a perf-map entry of its method, in the process that wrote that map."""
    reports = []
    for listing in listings:
        if listing.tier not in OPTIMISED:
            continue
        for pid, text in maps.items():
            for start, size, _ in perf_map_entries(text, listing.name):
                if size == listing.size:
                    per = attribute(listing, start, ips.get(pid, []))
                    reports.append((sum(per.values()), report(listing, per, len(ips.get(pid, [])), top, everything)))
    if not reports:
        return "no optimised listing of that method matches a perf-map entry (did the method run long enough to be optimised?)"
    return "\n\n".join(text for _, text in sorted(reports, key=lambda r: -r[0]))


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # The command goes after the first --, and may hold a -- of its own (dotnet run's): split here, not in argparse.
    split = argv.index("--") if "--" in argv else len(argv)
    argv, command = argv[:split], argv[split + 1:]
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                usage="%(prog)s [options] METHOD -- COMMAND [ARG ...]")
    p.add_argument("method", help="the method, as DOTNET_JitDisasm takes it: MigratePages, *Migration:MigratePages (a class needs its namespace or a *), Free*")
    p.add_argument("--top", type=int, default=30, help="how many instructions to print (default 30)")
    p.add_argument("--all", action="store_true", help="the whole listing, each instruction with its share")
    p.add_argument("--frequency", type=int, default=5000, help="perf's sampling frequency, Hz (default 5000)")
    p.add_argument("--calls", action="store_true", help="no profile: what each optimised compilation of the method calls")
    args = p.parse_args(argv)
    if not command:
        p.error("give the command to profile after --")
    if args.top < 1:
        p.error(f"--top must be at least 1, got {args.top}")
    if args.frequency < 1:
        p.error(f"--frequency must be at least 1, got {args.frequency}")
    if args.calls:
        with tempfile.TemporaryDirectory(prefix="annotate-") as tmp:
            listing = Path(tmp) / "listing.txt"
            subprocess.run(command, env=listing_env(args.method, listing), check=True)
            if not listing.exists():
                print(f"the JIT listed no method matching {args.method!r}", file=sys.stderr)
                return 1
            print(calls_report(parse_listings(listing.read_text())))
        return 0
    if shutil.which("perf") is None:
        print("perf not found: install Debian's linux-perf (apt-get install linux-perf)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="annotate-") as tmp:
        before = set(Path("/tmp").glob("perf-*.map"))
        data, listing = record(args.method, command, Path(tmp), args.frequency)
        maps = {int(m.stem.split("-")[1]): m.read_text() for m in set(Path("/tmp").glob("perf-*.map")) - before}
        if not listing.exists():
            print(f"the JIT listed no method matching {args.method!r}", file=sys.stderr)
            return 1
        print(annotate(parse_listings(listing.read_text()), maps, samples(data), args.top, args.all))
        for m in maps:
            Path(f"/tmp/perf-{m}.map").unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
