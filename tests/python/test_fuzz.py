"""The fuzzer of issue 7 as a permanent test: a hypothesis state machine over the public Python API.

Every design of bs.DESIGNS, small guests (16-64 MiB; 128 MiB for v6.1 with free page reporting), valid calls and
invalid ones mixed. An invalid call raises ValueError naming its argument and leaves the simulation as it was (page
map, vmstat, balloon pages, host ledger and memory, history length, reports). After every step the invariants hold: free
blocks add up to nr_free_pages, the host's ledger is the guest's balloon, the pages tagged balloon are the balloon, the
host backs no more frames than it faulted in, the history has a row per operation and one per OOM kill, and no design reports anything but legacy's balloon_unmovable
(defect 2: run to completion, without a second CPU interleaving, the other defects cannot happen).

Budget: BALLOONSCRIPT_FUZZ_EXAMPLES state machines of BALLOONSCRIPT_FUZZ_STEPS steps (small by default, for
``make test``; ``make soak`` raises them). Derandomized and without an example database: the same run every time.
For a campaign of other runs, BALLOONSCRIPT_FUZZ_RANDOM=1 lets pytest's ``--hypothesis-seed=N`` choose the run
(hypothesis prints how to reproduce a failure).
"""
import fractions
import math
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

import balloonscript as bs

EXAMPLES = int(os.environ.get("BALLOONSCRIPT_FUZZ_EXAMPLES", "25"))
STEPS = int(os.environ.get("BALLOONSCRIPT_FUZZ_STEPS", "30"))
DERANDOMIZE = os.environ.get("BALLOONSCRIPT_FUZZ_RANDOM", "") in ("", "0")

# What each design may report when every kernel path runs to completion (docs/model.md, README).
EXPECTED_KINDS = {design: ({"balloon_unmovable"} if design == "legacy" else set()) for design in bs.DESIGNS}

amounts = st.floats(0, 24, allow_nan=False).map(lambda x: round(x * x / 24, 3))   # MiB, mostly small
fractions_ = st.floats(0, 1, allow_nan=False)
seeds = st.integers(-2**63, 2**63 - 1)
# Text that is no valid name: anything, lone surrogates included.
any_text = st.text(st.characters(blacklist_categories=()), max_size=12)


def not_one_of(names):
    return any_text.filter(lambda s: s not in names)


# Values no numeric argument takes: wrong types, NaN, infinities, numbers too big for a float.
not_a_number = st.sampled_from(["1", None, True, [1], 1j, b"1"])
bad_real = st.one_of(not_a_number, st.sampled_from([math.nan, math.inf, -math.inf, 10**400, -10**400,
                                                    fractions.Fraction(10**400, 3)]))
bad_mib = st.one_of(bad_real, st.floats(max_value=-1e-9, allow_nan=False), st.floats(min_value=65537, allow_nan=False))
bad_fraction = st.one_of(bad_real, st.floats(max_value=-1e-9, allow_nan=False), st.floats(min_value=1 + 1e-9, allow_nan=False))
bad_int = st.one_of(not_a_number, st.sampled_from([1.5, 2**64, -2**64, 10**400]))
bad_order = st.one_of(bad_int, st.integers(max_value=-1), st.integers(min_value=bs.MAX_ORDER))
bad_count = st.one_of(bad_int, st.integers(max_value=-1), st.integers(min_value=10**7 + 1, max_value=2**63 - 1))
bad_seed = bad_int.filter(lambda s: s is not None)   # seed=None draws from the simulation's seed stream


def state(sim):
    """What an invalid call must leave as it was."""
    return (sim.page_map().tobytes(), sim.vmstat(), sim.balloon.pages, sim.host.ballooned_pages, len(sim.history()),
            sim.reports(), sim.host.resident_pages, sim.host.faults, sim.host.refaults)


class PublicApi(RuleBasedStateMachine):
    sim = None

    @initialize(design=st.sampled_from(bs.DESIGNS), memory_mib=st.integers(16, 64), cpus=st.integers(1, 4),
                seed=st.integers(0, 2**32), per_cpu_lists=st.booleans(), pagevecs=st.booleans(), reclaim=st.booleans(),
                swap_mib=st.sampled_from([0, 0, 8, 32]), hz=st.sampled_from([100, 250, 1000]), reporting=st.booleans(),
                host_thp=st.booleans(), hint=st.booleans(),
                khugepaged=st.sampled_from([(None, None, None), (None, 1, None), (0, 5, 1), (64, 100, 100_000)]),
                memory_max=st.sampled_from([None, 0, 1]))
    def build(self, design, memory_mib, cpus, seed, per_cpu_lists, pagevecs, reclaim, swap_mib, hz, reporting, host_thp,
              hint, khugepaged, memory_max):
        self.design = design
        # Free page reporting only where the kernel has it (v6.1), and on a guest big enough to report (DMA32 needs
        # 64 MiB free above its low watermark).
        reporting = reporting and design == "v6.1"
        # The host's khugepaged settings (max_ptes_none, scan_sleep_ms, pages_to_scan) only with host THP; a short sleep lets it collapse
        # split regions within the runs drawn below.
        max_ptes_none, scan_sleep_ms, pages_to_scan = khugepaged if host_thp else (None, None, None)
        memory_mib = 128 if reporting else memory_mib
        # QEMU's memory cgroup at the guest's RAM or 1 MiB above it, or no limit
        self.sim = bs.Simulation(memory_mib=memory_mib, design=design, cpus=cpus, seed=seed,
                                 per_cpu_lists=per_cpu_lists, pagevecs=pagevecs, reclaim=reclaim, swap_mib=swap_mib, hz=hz,
                                 free_page_reporting=reporting, host_thp=host_thp,
                                 host_khugepaged_max_ptes_none=max_ptes_none, host_khugepaged_scan_sleep_ms=scan_sleep_ms,
                                 host_khugepaged_pages_to_scan=pages_to_scan, host_memory_max_mib=None if memory_max is None else memory_mib + memory_max,
                                 free_page_hint=hint and design == "v6.1")
        self.operations = 1   # boot is the first history row
        self.psi_some = 0
        self.triggers = []   # [PsiTrigger, window in ms, events its polls have seen] of the triggers still open

    def refused(self, name, call):
        """``call()`` raises ValueError naming ``name`` and changes nothing."""
        before = state(self.sim)
        with pytest.raises(ValueError, match=name):
            call()
        assert state(self.sim) == before

    def operation(self, call, amount=None):
        """A valid operation; asking for more ``amount`` than the guest has is refused like an invalid call."""
        before = state(self.sim)
        try:
            call()
        except ValueError as e:
            assert amount is not None and amount in str(e), e
            assert state(self.sim) == before
            return
        self.operations += 1

    # ------------------------------------------------------------------ valid calls

    @rule(kind=st.sampled_from(["anon", "file", "slab"]), mib=amounts)
    def populate(self, kind, mib):
        self.operation(lambda: getattr(self.sim.workload, kind)(mib=mib), "mib")

    @rule(mib=amounts, dirty=fractions_)
    def dirty_file(self, mib, dirty):
        self.operation(lambda: self.sim.workload.file(mib=mib, dirty=dirty), "mib")

    @rule(mib=amounts)
    def reclaimable_slab(self, mib):
        self.operation(lambda: self.sim.workload.slab(mib=mib, reclaimable=True), "mib")

    @rule(fraction=fractions_, pattern=st.sampled_from(bs.FREE_PATTERNS), seed=st.one_of(st.none(), seeds),
          kind=st.sampled_from(["all", "anon", "file", "slab"]))
    def free(self, fraction, pattern, seed, kind):
        self.operation(lambda: self.sim.workload.free(fraction=fraction, pattern=pattern, seed=seed, kind=kind))

    @rule(fraction=fractions_, kind=st.sampled_from(["all", "anon", "file"]), pattern=st.sampled_from(bs.FREE_PATTERNS))
    def touch(self, fraction, kind, pattern):
        self.operation(lambda: self.sim.workload.touch(fraction=fraction, kind=kind, pattern=pattern))

    @rule(share=fractions_)
    def set_target(self, share):
        self.operation(lambda: self.sim.host.set_target(balloon_mib=round(share * self.sim.memory_mib / 2, 2)))

    @rule(ms=st.sampled_from([0, 0.5, 5, 50, 300]))
    def run(self, ms):
        self.operation(lambda: self.sim.run(ms=ms))

    @rule()
    def snapshot_restore(self):
        before = state(self.sim)
        snap = self.sim.snapshot()
        self.sim.compact()
        self.sim.restore(snap)
        assert state(self.sim) == before, "restore puts back the state of the snapshot"

    @rule(mib=amounts)
    def inflate(self, mib):
        self.operation(lambda: self.sim.balloon.inflate(mib=mib), "mib")

    @rule(mib=amounts)
    def deflate(self, mib):
        self.operation(lambda: self.sim.balloon.deflate(mib=mib), "mib")

    @rule(bandwidth=st.sampled_from([1, 16, 128, 4096]), downtime=st.sampled_from([0, 30, 300]), wait=st.booleans())
    def migrate(self, bandwidth, downtime, wait):
        self.operation(lambda: self.sim.host.migrate(bandwidth_mib_s=bandwidth, downtime_limit_ms=downtime, wait=wait),
                       "a migration is running")

    @rule()
    def migrate_cancel(self):
        self.operation(self.sim.host.migrate_cancel)

    @rule()
    def drop_caches(self):   # the host's: every split huge page frees the frames it held
        self.operation(self.sim.host.drop_caches)
        assert self.sim.host.deferred_split_pages == 0

    @rule(name=st.sampled_from(["bandwidth_mib_s", "downtime_limit_ms", "wait"]), data=st.data())
    def migrate_invalid(self, name, data):
        bad = {"bandwidth_mib_s": st.one_of(bad_real, st.floats(max_value=0, allow_nan=False),
                                            st.floats(min_value=2**20 + 1, allow_nan=False)),
               "downtime_limit_ms": st.one_of(bad_real, st.floats(max_value=-1e-9, allow_nan=False),
                                              st.floats(min_value=2e6 + 1, allow_nan=False)),
               "wait": st.sampled_from([0, 1, "yes", None])}[name]
        self.refused(name, lambda: self.sim.host.migrate(**{name: data.draw(bad)}))

    @rule()
    def compact(self):
        self.operation(self.sim.compact)

    @rule(order=st.integers(0, bs.MAX_ORDER - 1), count=st.integers(0, 4))
    def allocate(self, order, count):
        self.operation(lambda: self.sim.allocate(order=order, count=count))

    @rule(order=st.integers(0, bs.MAX_ORDER - 1))
    def read(self, order):
        before = state(self.sim)
        assert -1.0 <= self.sim.extfrag_index(order=order) <= 1.0
        assert 0.0 <= self.sim.unusable_index(order=order) <= 1.0
        assert self.sim.buddyinfo() and self.sim.pagetypeinfo() and self.sim.extfrag_text() and self.sim.unusable_text()
        meminfo = {k: int(v.split()[0]) for k, v in (line.split(":", 1) for line in self.sim.meminfo().splitlines())}
        assert meminfo["MemFree"] == self.sim.vmstat()["nr_free_pages"] * 4 <= meminfo["MemTotal"]
        assert self.sim.proc_swaps().startswith("Filename\t")
        if self.sim.design == "v6.1":   # PSI (4.20+): totals only grow, FULL within SOME within the time passed
            pressure = self.sim.pressure()
            assert self.psi_some <= pressure["some"]["total"] <= self.sim.clock_ms * 1000 + 1   # µs; clock_ms is a float
            assert pressure["full"]["total"] <= pressure["some"]["total"]
            assert all(0 <= pressure[kind][w] <= 100 for kind in pressure for w in ("avg10", "avg60", "avg300"))
            self.psi_some = pressure["some"]["total"]
            io, cpu = self.sim.pressure("io"), self.sim.pressure("cpu")
            assert io["full"]["total"] <= io["some"]["total"] <= self.sim.clock_ms * 1000 + 1
            assert cpu["full"] == {"avg10": 0, "avg60": 0, "avg300": 0, "total": 0}   # undefined at the system level
            assert cpu["some"]["total"] <= self.sim.clock_ms * 1000 + 1
            for seen in self.triggers:   # at most one event a window, none in the first after boot
                trigger, window_ms, polled = seen
                events = trigger.events_ms
                assert all(b - a >= window_ms for a, b in zip(events, events[1:])), (trigger, events)
                assert all(window_ms <= e <= self.sim.clock_ms for e in events), (trigger, events)
                assert trigger.poll() == (len(events) > polled), "a poll sees an event made since the last"
                seen[2] = len(events)
        else:
            self.refused("proc_pressure_memory", self.sim.pressure)
        assert state(self.sim) == before

    @rule(resource=st.sampled_from(["memory", "io", "cpu"]), line=st.sampled_from(["some", "full"]),
          window_ms=st.integers(500, 10_000), share=fractions_, close=st.booleans())
    def psi_trigger(self, resource, line, window_ms, share, close):
        text = f"{line} {max(1, int(window_ms * 1000 * share))} {window_ms * 1000}"
        if self.sim.design != "v6.1":
            self.refused("4.20", lambda: self.sim.psi_trigger(resource, text))
            return
        trigger = self.sim.psi_trigger(resource, text)
        if close:
            trigger.close()
            self.refused("no open trigger", trigger.poll)
        else:
            self.triggers.append([trigger, window_ms, 0])

    @rule(text=st.one_of(not_a_number, any_text.filter(lambda s: not s.startswith(("some", "full"))),
                         st.sampled_from(["some 0 500000", "some 1 499999", "full 1 10000001", "some 500001 500000",
                                          "full -1 500000", "some +1 500000", "some 1.5 500000"])))
    def psi_trigger_invalid(self, text):
        if self.sim.design == "v6.1":
            self.refused("trigger|threshold_us|window_us", lambda: self.sim.psi_trigger("memory", text))
            self.refused("resource", lambda: self.sim.psi_trigger("irq", "some 1 500000"))

    @rule(scenario=st.sampled_from(bs.scenarios()), design=st.sampled_from(bs.DESIGNS), seed=st.integers(0, 100))
    def run_scenario(self, scenario, design, seed):
        before = state(self.sim)
        run = bs.run_scenario(scenario, design, seed)
        assert {r.kind for r in run.reports} <= EXPECTED_KINDS[design]
        assert state(self.sim) == before, "a scenario runs on a guest of its own"

    # ------------------------------------------------------------------ invalid calls

    @rule(kind=st.sampled_from(["anon", "file", "slab"]), mib=bad_mib)
    def populate_invalid(self, kind, mib):
        self.refused("mib", lambda: getattr(self.sim.workload, kind)(mib=mib))

    @rule(call=st.sampled_from(["inflate", "deflate"]), mib=bad_mib)
    def balloon_invalid(self, call, mib):
        self.refused("mib", lambda: getattr(self.sim.balloon, call)(mib=mib))

    @rule(fraction=bad_fraction)
    def free_invalid_fraction(self, fraction):
        self.refused("fraction", lambda: self.sim.workload.free(fraction=fraction))

    @rule(pattern=st.one_of(not_one_of(bs.FREE_PATTERNS), not_a_number))
    def free_invalid_pattern(self, pattern):
        self.refused("pattern", lambda: self.sim.workload.free(fraction=0.5, pattern=pattern))

    @rule(seed=bad_seed)
    def free_invalid_seed(self, seed):
        self.refused("seed", lambda: self.sim.workload.free(fraction=0.5, seed=seed))

    @rule(order=bad_order, call=st.sampled_from(["allocate", "extfrag_index", "unusable_index"]))
    def order_invalid(self, order, call):
        self.refused("order", lambda: getattr(self.sim, call)(order=order))

    @rule(ms=st.one_of(bad_real, st.floats(max_value=-1e-9, allow_nan=False), st.floats(min_value=1e9, allow_nan=False)))
    def run_invalid(self, ms):
        self.refused("ms", lambda: self.sim.run(ms=ms))

    @rule(mib=bad_mib)
    def set_target_invalid(self, mib):
        self.refused("balloon_mib", lambda: self.sim.host.set_target(balloon_mib=mib))

    @rule(kind=st.one_of(not_one_of(["all", "anon", "file"]), not_a_number))
    def touch_invalid_kind(self, kind):
        self.refused("kind", lambda: self.sim.workload.touch(fraction=0.5, kind=kind))

    @rule(count=bad_count)
    def allocate_invalid_count(self, count):
        self.refused("count", lambda: self.sim.allocate(order=0, count=count))

    @rule(name=st.sampled_from(["memory_mib", "design", "cpus", "seed", "per_cpu_lists", "swap_mib", "hz", "reclaim",
                                "timeslice_ms", "io_latency_ms", "host_us_per_page", "max_reports_per_kind",
                                "free_page_reporting", "page_reporting_order", "host_thp", "free_page_hint",
                                "host_khugepaged_max_ptes_none", "host_khugepaged_scan_sleep_ms", "host_khugepaged_pages_to_scan",
                                "host_memory_max_mib"]),
          data=st.data())
    def construct_invalid(self, name, data):
        bad = {"memory_mib": st.one_of(bad_int, st.integers(max_value=15), st.integers(min_value=65537)),
               "design": st.one_of(not_one_of(bs.DESIGNS), not_a_number),
               "cpus": st.one_of(bad_int, st.integers(max_value=0), st.integers(min_value=65)),
               "seed": bad_int,
               "per_cpu_lists": st.sampled_from([0, 1, "yes", None]),
               "reclaim": st.sampled_from([0, 1, "yes", None]),
               "swap_mib": st.one_of(bad_int, st.integers(max_value=-1), st.integers(min_value=65537)),
               "hz": st.one_of(bad_int, st.integers(0, 2000).filter(lambda h: h not in (100, 250, 300, 1000))),
               "timeslice_ms": st.one_of(bad_real, st.floats(max_value=-1e-9, allow_nan=False),
                                         st.floats(min_value=1000.001, allow_nan=False)),
               "io_latency_ms": st.one_of(bad_real, st.floats(max_value=-1e-9, allow_nan=False)),
               "host_us_per_page": st.one_of(bad_real, st.floats(max_value=-1e-9, allow_nan=False)),
               "max_reports_per_kind": st.one_of(bad_int, st.integers(max_value=0)),
               "free_page_reporting": st.sampled_from([0, 1, "yes", None]),
               "host_thp": st.sampled_from([0, 1, "yes", None]),
               "free_page_hint": st.sampled_from([0, 1, "yes", None]),
               # without host_thp=True any value is refused; None keeps the kernel's: not a bad value here
               "host_khugepaged_max_ptes_none": st.one_of(bad_int.filter(lambda v: v is not None), st.integers(-5, 600)),
               "host_khugepaged_scan_sleep_ms": st.one_of(bad_int.filter(lambda v: v is not None), st.integers(-5, 10**7)),
               "host_khugepaged_pages_to_scan": st.one_of(bad_int.filter(lambda v: v is not None), st.integers(-5, 0),
                                                          st.integers(min_value=2**31)),
               # below the guest's 16 MiB or above twice the largest guest; None is no limit
               "host_memory_max_mib": st.one_of(bad_int.filter(lambda v: v is not None), st.integers(max_value=15),
                                                st.integers(min_value=131_073)),
               # None keeps the device's order: not a bad value here
               "page_reporting_order": st.one_of(bad_int.filter(lambda v: v is not None), st.integers(max_value=-1),
                                                 st.integers(min_value=bs.MAX_ORDER))}[name]
        self.refused(name, lambda: bs.Simulation(**{"memory_mib": 16, name: data.draw(bad)}))

    @rule(name=st.sampled_from(["scenario", "design", "strategy", "schedules", "depth", "seed"]), data=st.data())
    def explore_invalid(self, name, data):
        bad = {"scenario": st.one_of(not_one_of(bs.scenarios()), not_a_number),
               "design": st.one_of(not_one_of(bs.DESIGNS), not_a_number),
               "strategy": st.one_of(not_one_of(bs.STRATEGIES), not_a_number),
               "schedules": st.one_of(bad_int, st.integers(max_value=0), st.integers(min_value=10**6 + 1)),
               "depth": st.one_of(bad_int, st.integers(max_value=-1), st.integers(min_value=11)),
               "seed": bad_int}[name]
        args = {"scenario": "scan-vs-migrate", "design": "fixed", "strategy": "random", "schedules": 1, "depth": 2,
                "seed": 0, name: data.draw(bad)}
        self.refused(name, lambda: bs.explore(args.pop("scenario"), progress=False, **args))

    # ------------------------------------------------------------------ invariants

    @invariant()
    def consistent(self):
        sim = self.sim
        if sim is None:
            return
        kinds = {r.kind for r in sim.reports()}
        assert not kinds & {"accounting", "data_corruption"}, sim.reports()
        assert kinds <= EXPECTED_KINDS[self.design], [str(r) for r in sim.reports()][:3]
        vm = sim.vmstat()
        assert int((sim.free_blocks() << range(bs.MAX_ORDER)).sum()) == vm["nr_free_pages"]
        tagged = np.flatnonzero(sim.page_map() == bs.PageKind.balloon)
        # A migrated balloon page's old page waits in a pagevec, still tagged balloon, until the drain frees it.
        parked = 0 if len(tagged) == sim.balloon.pages else sum(
            sim.page(int(pfn)).list.startswith("lru_add_pvec") for pfn in tagged)
        assert sim.balloon.pages == sim.host.ballooned_pages + sim.balloon.untold_pages == len(tagged) - parked
        # The host backs what the guest wrote and the host did not discard since: never more than the guest's frames,
        # never more than it faulted in; a refault is a fault on a discarded frame.
        host = sim.host
        assert 0 <= host.refaults <= host.faults and 0 <= host.resident_pages <= len(sim.page_map())
        if sim.options["host_thp"]:   # a fault maps up to 512 frames; a huge page backs all of its own
            assert host.huge_pages * 512 <= host.resident_pages <= 512 * host.faults
            # frames split huge pages still hold (a frame written again has a page of its own beside the held one)
            assert 0 <= host.deferred_split_pages <= 511 * host.thp_splits
        memcg = host.memcg()   # QEMU's cgroup never past memory.max
        assert memcg["memory_max"] is None or memcg["memory_current"] <= memcg["memory_max"]
        if not sim.options["host_thp"]:
            assert host.resident_pages <= host.faults and (host.huge_pages, host.thp_splits, host.deferred_split_pages) == (0, 0, 0)
            # A migration's destination holds what was sent whole, a frame ballooned after it was sent too.
            assert host.ballooned_resident_pages == 0 or sim.host.migration()["status"] != "none"
        # Each frame is sent, hinted or still to send (some more than once); blocks are held while a migration runs.
        migration = sim.host.migration()
        assert migration["status"] == "none" or migration["normal"] + migration["duplicate"] + migration["hinted_pages"] \
            + migration["remaining"] >= len(sim.page_map())
        # Once it ended, the guest's hint work (queued by the DONE config change) gives the blocks back as soon as it
        # runs: a fork that lets a millisecond pass holds none.
        if migration["status"] != "active" and sim.balloon.hint_blocks:
            later = sim.fork()
            later.run(1)
            assert later.balloon.hint_blocks == 0, migration
        # An OOM kill is a row of its own, between operations, named for its victim (KernelLog.Notable).
        kills = sim.history()["op"].str.startswith("oom_kill pid ")
        assert kills.sum() == vm["oom_kill"]
        assert (~kills).sum() == self.operations


PublicApi.TestCase.settings = settings(max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None, database=None,
                                       derandomize=DERANDOMIZE, suppress_health_check=list(HealthCheck))
TestPublicApi = PublicApi.TestCase
