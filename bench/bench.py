"""Issue 13's benchmark table in one run: the C# rows from BenchmarkDotNet (bench/*.cs), the Python rows measured
here, each with its median, spread, number of runs, target and anchor. Prints a Markdown table (BENCHMARKS.md's)
and writes the same numbers as JSON. The full run, as root, also measures this machine's own kernel faulting in,
freeing and migrating pages (bench/kernel_anchor.py) for the anchors of the compaction and 64 GiB rows.

    /usr/bin/python3 bench/bench.py [--quick] [--runs N] [--no-dotnet] [--no-make] [--json out/bench.json]

--quick: BenchmarkDotNet's short job and fewer runs here (``make bench-quick``); the full run is ``make bench``.
The Python rows run in child processes where the process's own memory is measured (peak RSS, RSS growth).
Run it after ``make build``; it states the machine and its load, since timings on a shared machine are noisy.
"""
from __future__ import annotations

import argparse
import glob
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
import kernel_anchor  # noqa: E402  (bench/kernel_anchor.py, beside this file)
PY = sys.executable
ENV = {**os.environ, "PYTHONPATH": str(REPO / "python"), "MPLBACKEND": "Agg"}

# key: (what, target, anchor). Units: seconds for times, bytes for memory.
ROWS = {
    "order0_pair": ("order-0 allocate + free pair, warm zone (BuddyBenchmarks, the v3.16 allocator)", "≤ 40 ns",
                    "kernel ~94 ns for the allocation alone (LLFree, ATC'23); user-space allocator ~45 ns"),
    "order9_pair": ("order-9 allocate + free pair (BuddyBenchmarks, the v3.16 allocator)", "≤ 250 ns", "kernel ~2.6 µs for the allocation alone"),
    "order0_pair_v61": ("the order-0 pair with the v6.1 page allocator (for information)", "", ""),
    "order9_pair_v61": ("the order-9 pair with the v6.1 page allocator (for information)", "", ""),
    "compact_16g": ("full sync compaction, 16 GiB guest, 50 % of 15 GiB anon freed interleaved (CompactionBenchmarks)",
                    "≤ 0.25 s", ""),
    "compact_16g_v61": ("the same compaction with v6.1's compaction (for information)", "", ""),
    "page_map_first": ("page_map() of 4 Mi pages into numpy, first call (16 GiB guest)", "≤ 2 ms",
                       "a 4 MiB memcpy: well under 1 ms"),
    "page_map_first_sys": ("the same first call: the calling thread's time in the kernel (for information; about 10 ms "
                           "where the host backs the array's 2 MiB pages again: free page reporting)", "", ""),
    "page_map_later": ("page_map() of 4 Mi pages into numpy, later calls", "≤ 1 ms", "a 4 MiB memcpy: well under 1 ms"),
    "inflate_512m": ("inflate 512 MiB, 2 GiB guest, default options (BalloonBenchmarks)", "≤ 10 ms",
                     "6.1 guest under QEMU emulation: 0.37–0.43 s"),
    "deflate_512m": ("deflate 512 MiB, 2 GiB guest, default options (BalloonBenchmarks)", "≤ 10 ms",
                     "6.1 guest under QEMU emulation: 0.18–0.23 s"),
    "inflate_512m_v61": ("the same inflation in the v6.1 design (for information)", "", ""),
    "deflate_512m_v61": ("the same deflation in the v6.1 design (for information)", "", ""),
    "run_64g": ("64 GiB guest: populate 32 GiB, fragment, inflate 16 GiB, compact (wall, from boot)", "≤ 1.5 s", ""),
    "run_64g_rss": ("the same run: peak RSS of the whole process", "≤ 800 MiB", ""),
    "small_op_64g": ("then a one-page operation (anon, inflate, deflate in turn) with the checks after it (the default), "
                     "from Python, median of 21", "cost follows the change", "0.2 s per operation before issue 13"),
    "small_op_swap": ("a one-page operation (anon, inflate, deflate in turn) on a 16 GiB guest with 16 GiB of swap, checks on, "
                      "from Python, median of 21", "cost follows the change",
                      "2.8 ms per one-page inflate while the checks read every swap slot (2 December)"),
    "bytes_per_page": ("memory per simulated page: RSS growth of building a 16 GiB guest / 4 Mi pages", "≤ 16 B",
                       "the kernel's struct page: 64 B"),
    "bytes_per_page_used": ("the same after populating 12 GiB and freeing half (for information)", "", ""),
    "canonical_8g": ("the canonical experiment (make demo's) on an 8 GiB guest, legacy: the guest, compact_memory, then an "
                     "order-9 fault per pageblock with direct compaction (wall, engine warm; for information)", "", ""),
    "sweep_2w": ("a sweep of the canonical experiment, the five designs × 4 seeds on 128 MiB guests, on 2 worker processes "
                 "(wall, in a fresh process after its import, the workers' start included; for information)", "", ""),
    "explore_schedule": ("one explored random schedule of `deflate-vs-isolate` (legacy), one host thread, its CPUs as continuations (ExploreBenchmarks)",
                         "≤ 50 µs (20,000 /s)", ""),
    "explore_schedule_all": ("the same on every host CPU (one search per CPU), per schedule (ExploreBenchmarks; for information)", "", ""),
    "explore_schedule_threads": ("the same schedules on OS threads passing a baton, one host thread (ExploreBenchmarks; for information)", "", ""),
    "explore_random_one": ("random schedules of `deflate-vs-isolate` (legacy), `race.explore`, one host thread",
                           "≥ 20,000 /s", "about 2,000 /s before issue 11"),
    "explore_random_all": ("the same on every host CPU (`threads=None`, the default: one search per CPU; for information)", "", ""),
    "explore_dfs3": ("exhaustive depth-3 DFS of `deflate-vs-migrate` in `fixed` (307,076 schedules), every host CPU",
                     "≤ 10 s", "166 s before issue 11"),
    "explore_dfs3_one": ("the same on one host thread (for information)", "", ""),
    "handoff_thread": ("one switch between two simulated CPUs in a run on threads: two OS threads on one host CPU "
                       "passing a baton (HandOffBenchmarks; for information: a random schedule makes 28)", "", ""),
    "handoff_continuation": ("the same switch between two continuations on one thread, as a run as continuations makes it "
                             "(HandOffBenchmarks; for information)", "", ""),
    "async_call": ("an async call that does not switch, less a plain call (HandOffBenchmarks; for information: what each call "
                   "of a kernel path's async twin pays)", "", ""),
    "make_demo": ("`make demo` after the build", "≤ 8 s", ""),
    "make_test": ("`make test` after the build", "≤ 60 s", ""),
}

# BenchmarkDotNet benchmark (class.method, parameters) -> row.
DOTNET_ROWS = {
    ("BuddyBenchmarks.AllocFree", "Order=0&Design=legacy"): "order0_pair",   # the v3.16 allocator (legacy to movable)
    ("BuddyBenchmarks.AllocFree", "Order=9&Design=legacy"): "order9_pair",
    ("BuddyBenchmarks.AllocFree", "Order=0&Design=v6.1"): "order0_pair_v61",
    ("BuddyBenchmarks.AllocFree", "Order=9&Design=v6.1"): "order9_pair_v61",
    ("CompactionBenchmarks.CompactMemory16GiB", "Design=legacy"): "compact_16g",
    ("CompactionBenchmarks.CompactMemory16GiB", "Design=v6.1"): "compact_16g_v61",
    ("BalloonBenchmarks.Inflate512MiB", "Design=legacy"): "inflate_512m",
    ("BalloonBenchmarks.Deflate512MiB", "Design=legacy"): "deflate_512m",
    ("BalloonBenchmarks.Inflate512MiB", "Design=v6.1"): "inflate_512m_v61",
    ("BalloonBenchmarks.Deflate512MiB", "Design=v6.1"): "deflate_512m_v61",
    ("ExploreBenchmarks.RandomSchedule", "Scenario=deflate-vs-isolate"): "explore_schedule",
    ("ExploreBenchmarks.RandomScheduleAllCpus", "Scenario=deflate-vs-isolate"): "explore_schedule_all",
    ("ExploreBenchmarks.RandomScheduleOnThreads", "Scenario=deflate-vs-isolate"): "explore_schedule_threads",
    ("HandOffBenchmarks.ThreadBatonOneCpu", ""): "handoff_thread",
    ("HandOffBenchmarks.ContinuationOneThread", ""): "handoff_continuation",
    ("HandOffBenchmarks.AsyncCallNotSwitching", ""): "async_call_raw",
    ("HandOffBenchmarks.SyncCall", ""): "sync_call_raw",
}
DOTNET_FILTERS = ["*BuddyBenchmarks*", "*CompactMemory16GiB*", "*BalloonBenchmarks*", "*ExploreBenchmarks*", "*HandOffBenchmarks*"]


# --------------------------------------------------------------------------- measurements in child processes

def child(code: str) -> dict:
    """Run ``code`` in a fresh Python with balloonscript importable; it prints one JSON object, returned here."""
    out = subprocess.run([PY, "-c", code], env=ENV, cwd=REPO, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


_RSS = """
import json, resource, time
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"): return int(line.split()[1]) * 1024
import balloonscript as bs
def small_op(sim):  # the median of 21 one-page operations (anon, inflate, deflate in turn), checks after each
    small = []
    for op in [sim.workload.anon, sim.balloon.inflate, sim.balloon.deflate] * 7:
        t = time.perf_counter(); op(mib=1 / 256); small.append(time.perf_counter() - t)
    return sorted(small)[len(small) // 2]
"""

PAGE_MAP = _RSS + """
sim = bs.Simulation(memory_mib=16384, seed=1)
sim.workload.anon(mib=4096)
sys_before = resource.getrusage(resource.RUSAGE_THREAD).ru_stime
t = time.perf_counter(); sim.page_map(); first = time.perf_counter() - t
first_sys = resource.getrusage(resource.RUSAGE_THREAD).ru_stime - sys_before
later = []
for _ in range({later}):
    t = time.perf_counter(); sim.page_map(); later.append(time.perf_counter() - t)
print(json.dumps({{"first": first, "first_sys": first_sys, "later": later}}))
"""
# The first page_map() of a process, measured in this many processes a round: its two huge pages come from the guest's
# free 2 MiB blocks, which a VM with free page reporting hands back to its host; clearing such a page then waits for
# the host to back it again (about 10 ms in a quarter of the calls on the machine of BENCHMARKS.md's "twenty-sixth
# session"). The row's median over three processes a round is about the simulator's call; the kernel time beside it
# shows the host's share.
PAGE_MAP_PROCESSES = 3

RUN_64G = _RSS + """
t = time.perf_counter()
sim = bs.Simulation(memory_mib=65536, seed=1)
sim.workload.anon(mib=32768)
sim.workload.free(fraction=0.5, pattern="interleave", seed=1)
sim.balloon.inflate(mib=16384)
r = sim.compact()
wall = time.perf_counter() - t
print(json.dumps({"wall": wall, "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                  "migrated": int(r.migrated), "small_op": small_op(sim)}))
"""

SMALL_OP_SWAP = _RSS + """
sim = bs.Simulation(memory_mib=16384, swap_mib=16384, seed=1)
sim.workload.anon(mib=4096)
print(json.dumps({"small_op": small_op(sim)}))
"""

BYTES_PER_PAGE = _RSS + """
bs.Simulation(memory_mib=16, seed=1).workload.anon(mib=1)   # the engine loaded and warm
before = rss()
sim = bs.Simulation(memory_mib=16384, seed=1)
booted = rss()
sim.workload.anon(mib=12288)
sim.workload.free(fraction=0.5, pattern="interleave", seed=1)
used = rss()
pages = 16384 * 256
print(json.dumps({"booted": (booted - before) / pages, "used": (used - before) / pages}))
"""

CANONICAL = """
import json, time
from balloonscript import experiments as ex
ex.canonical("legacy", memory_mib=128, seed=1)   # the engine loaded and its paths compiled
t = time.perf_counter()
ex.canonical("legacy", memory_mib=8192, seed=1)
print(json.dumps({"wall": time.perf_counter() - t}))
"""

# A batch user's sweep: the workers are fresh processes, so what their first guests cost (the engine's first code before
# the tiered compiler's, and the background compiler's work beside the runs on the same cores) is part of it. The parent
# has .NET loaded too, as a user's has (the sweep module is part of the package).
SWEEP = """
import json, time
import balloonscript as bs
from balloonscript import experiments as ex, sweep
t = time.perf_counter()
sweep.sweep(ex.canonical, {"design": bs.DESIGNS, "seed": range(1, 5)}, workers=2, progress=False, memory_mib=128)
print(json.dumps({"wall": time.perf_counter() - t}))
"""


EXPLORE = """
import json, time
import balloonscript as bs
out = {}
race = bs.preset("deflate-vs-isolate", "legacy", 0)
race.explore("random", schedules=20000, progress=False, threads=1)   # the engine warm (tiered compilation done)
for name, threads in (("one", 1), ("all", None)):
    t = time.perf_counter()
    race.explore("random", schedules=40000, seed=1, progress=False, threads=threads)
    out["explore_random_" + name] = 40000 / (time.perf_counter() - t)
dfs = bs.preset("deflate-vs-migrate", "fixed", 0)
for name, threads in (("", None), ("_one", 1)):
    t = time.perf_counter()
    dfs.explore("dfs", schedules=1_000_000, depth=3, progress=False, threads=threads)
    out["explore_dfs3" + name] = time.perf_counter() - t
print(json.dumps(out))
"""
EXPLORE_ROWS = ("explore_random_one", "explore_random_all", "explore_dfs3", "explore_dfs3_one")


def kernel_anchors(run_64g_migrated: float | None) -> dict:
    """Anchors measured on this machine's own kernel (bench/kernel_anchor.py, as root): row key -> text, and the figures."""
    # 4 GiB, or what a smaller machine allows (the script takes at most half of MemAvailable; a margin for its changes).
    gib = math.floor(min(4.0, 0.45 * kernel_anchor.mem_available() / 2**30) * 1000) / 1000
    if gib < 1 / 16:
        return {"text": {}, "measured": None}
    out = subprocess.run([PY, str(REPO / "bench" / "kernel_anchor.py"), "--gib", str(gib)], cwd=REPO,
                         capture_output=True, text=True, check=True)
    m = json.loads(out.stdout.strip().splitlines()[-1])
    us, where = kernel_anchor.us, f"this machine's kernel ({m['kernel']}, bench/kernel_anchor.py)"
    if not m["migrate"]:
        return {"text": {}, "measured": m}   # compact_memory found nothing to migrate: no per-page figure
    pages_64g = 65536 * 256   # RUN_64G's guest: half of it faulted in, half of that freed, then compacted
    floor = pages_64g / 2 * m["fault"] + pages_64g / 4 * m["free"] + (run_64g_migrated or 0) * m["migrate"]
    return {"measured": m, "text": {
        "compact_16g": f"{where}: {us(m['migrate'])} a page migrated by compact_memory",
        "run_64g": (f"{where}: a page faulted in {us(m['fault'])}, freed {us(m['free'])}, migrated {us(m['migrate'])}: "
                    f"{floor:.1f} s for this run's faults, frees and migrations "
                    "(its inflation not counted)")}}


def timed_make(target: str) -> float:
    """Wall time of ``make target`` (after the build, which the caller has done); fails if make fails."""
    t = time.perf_counter()
    subprocess.run(["make", "--no-print-directory", "-s", target], cwd=REPO, env=ENV, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def python_rows(runs: int, make_runs: int, with_make: bool) -> dict:
    """Samples (lists) per row key, measured here."""
    samples = {"page_map_first": [], "page_map_first_sys": [], "page_map_later": [], "run_64g": [], "run_64g_rss": [],
               "run_64g_migrated": [], "small_op_64g": [], "small_op_swap": [], "bytes_per_page": [], "bytes_per_page_used": [],
               "canonical_8g": [], "sweep_2w": [],
               **{key: [] for key in EXPLORE_ROWS}}
    for _ in range(runs):
        for _ in range(PAGE_MAP_PROCESSES):
            pm = child(PAGE_MAP.format(later=20))
            samples["page_map_first"].append(pm["first"])
            samples["page_map_first_sys"].append(pm["first_sys"])
            samples["page_map_later"].append(statistics.median(pm["later"]))
        r = child(RUN_64G)
        samples["run_64g"].append(r["wall"])
        samples["run_64g_rss"].append(r["peak_rss"])
        samples["run_64g_migrated"].append(r["migrated"])
        samples["small_op_64g"].append(r["small_op"])
        samples["small_op_swap"].append(child(SMALL_OP_SWAP)["small_op"])
        b = child(BYTES_PER_PAGE)
        samples["bytes_per_page"].append(b["booted"])
        samples["bytes_per_page_used"].append(b["used"])
        samples["canonical_8g"].append(child(CANONICAL)["wall"])
        samples["sweep_2w"].append(child(SWEEP)["wall"])
        for key, value in child(EXPLORE).items():
            samples[key].append(value)
    if with_make:
        subprocess.run(["make", "--no-print-directory", "-s", "build"], cwd=REPO, env=ENV, check=True,
                       stdout=subprocess.DEVNULL)
        samples["make_demo"] = [timed_make("demo") for _ in range(make_runs)]
        samples["make_test"] = [timed_make("test") for _ in range(1)]
    return samples


# --------------------------------------------------------------------------- BenchmarkDotNet

def dotnet_rows(quick: bool) -> dict:
    """Run the C# benchmarks; returns row key -> {median, q1, q3, n} in seconds (from the json exporter's full-compressed report)."""
    artifacts = REPO / "BenchmarkDotNet.Artifacts"
    shutil.rmtree(artifacts / "results", ignore_errors=True)
    cmd = ["dotnet", "run", "-c", "Release", "--project", "bench", "--", "--filter", *DOTNET_FILTERS,
           "--exporters", "json", "--artifacts", str(artifacts)]
    if quick:
        cmd += ["--job", "short"]
    subprocess.run(cmd, cwd=REPO, check=True, stdout=sys.stderr)
    stats = {}
    for path in glob.glob(str(artifacts / "results" / "*-report-full*.json")):
        for b in json.load(open(path))["Benchmarks"]:
            key = DOTNET_ROWS.get((f"{b['Type']}.{b['Method']}", b.get("Parameters", "")))
            s = b.get("Statistics")
            if key and s:
                stats[key] = {"median": s["Median"] / 1e9, "q1": s["Q1"] / 1e9, "q3": s["Q3"] / 1e9, "n": s["N"]}
    # An async call's own cost: the async chain's figures less the plain chain's median (both per call).
    async_, sync = stats.pop("async_call_raw", None), stats.pop("sync_call_raw", None)
    if async_ and sync:
        stats["async_call"] = {**{k: async_[k] - sync["median"] for k in ("median", "q1", "q3")}, "n": async_["n"]}
    return stats


# --------------------------------------------------------------------------- the table

def summarise(samples: list) -> dict:
    q = statistics.quantiles(samples, n=4) if len(samples) > 1 else [samples[0]] * 3
    return {"median": statistics.median(samples), "q1": q[0], "q3": q[2], "n": len(samples)}


def fmt(key: str, v: float) -> str:
    if key in ("run_64g_rss",):
        return f"{v / 2**20:.0f} MiB"
    if key.startswith("bytes_per_page"):
        return f"{v:.1f} B"
    if key.startswith("explore_random"):
        return f"{v:,.0f} /s"
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if v >= scale or unit == "ns":
            return f"{v / scale:.3g} {unit}"


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    dotnet = subprocess.run(["dotnet", "--version"], capture_output=True, text=True).stdout.strip()
    return (f"{cpu}, {os.cpu_count()} CPUs, {os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / 2**30:.0f} GiB, "
            f"{platform.system()} {platform.release()}, .NET SDK {dotnet}, Python {platform.python_version()}, "
            f"{free_page_reporting()}")


def free_page_reporting() -> str:
    """Whether this machine is a VM whose balloon device reports free memory to its host (VIRTIO_BALLOON_F_REPORTING,
    feature bit 5): the host takes the reported blocks back, and the guest's next touch of one waits for the host."""
    for features in glob.glob("/sys/bus/virtio/drivers/virtio_balloon/virtio*/features"):
        if open(features).read()[5:6] == "1":
            order = Path("/sys/module/page_reporting/parameters/page_reporting_order")
            return f"free page reporting on (blocks of order {order.read_text().strip() if order.exists() else '?'} and up)"
    return "no free page reporting"


def table(stats: dict, load: tuple, anchors: dict) -> str:
    lines = [f"Machine: {machine()}. Load average at start / end: {load[0]} / {load[1]}.", "",
             "| what | median | spread (Q1–Q3) | runs | target | anchor |", "|---|---:|---:|---:|---|---|"]
    for key, (what, target, _) in ROWS.items():
        s = stats.get(key)
        if s is None:
            continue
        lines.append(f"| {what} | {fmt(key, s['median'])} | {fmt(key, s['q1'])} – {fmt(key, s['q3'])} | {s['n']} "
                     f"| {target} | {anchors[key]} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="short BenchmarkDotNet job, one run of each Python row")
    p.add_argument("--no-dotnet", action="store_true", help="skip the BenchmarkDotNet rows")
    p.add_argument("--no-make", action="store_true", help="skip timing make demo and make test")
    p.add_argument("--runs", type=int, help="runs of each Python row (default: 1 with --quick, else 3)")
    p.add_argument("--json", default=str(REPO / "out" / "bench.json"), help="where to write the numbers")
    args = p.parse_args(argv)
    load_start = " ".join(f"{x:.2f}" for x in os.getloadavg())
    stats = {} if args.no_dotnet else dotnet_rows(args.quick)
    runs = args.runs or (1 if args.quick else 3)
    with_make = not args.no_make and not args.quick
    samples = python_rows(runs, make_runs=3, with_make=with_make)
    migrated_64g = samples.pop("run_64g_migrated")
    for key, s in samples.items():
        stats[key] = summarise(s)
    anchors = {key: anchor for key, (_, _, anchor) in ROWS.items()}
    kernel = None
    if not args.quick and kernel_anchor.can_compact():
        kernel = kernel_anchors(statistics.median(migrated_64g) if migrated_64g else None)
        anchors |= kernel["text"]
    load_end = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(table(stats, (load_start, load_end), anchors))
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump({"machine": machine(), "load": [load_start, load_end], "quick": args.quick,
                   "kernel_anchor": None if kernel is None else kernel["measured"],
                   "rows": {k: {"what": ROWS[k][0], "target": ROWS[k][1], "anchor": anchors[k], **v}
                            for k, v in stats.items()}}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
