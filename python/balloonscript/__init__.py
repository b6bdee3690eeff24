"""BalloonScript: a simulator of Linux physical-memory management and balloon compaction.

    import balloonscript as bs
    sim = bs.Simulation(memory_mib=1024, design="legacy", seed=1)
    sim.workload.anon(mib=512)
    sim.workload.free(fraction=0.5, pattern="interleave", seed=3)
    print(sim.buddyinfo(), sim.extfrag_index(order=9))

Importing loads .NET into this process (see ``balloonscript._clr``); the C# engine does the work.
"""
__version__ = "0.1.0"   # the one place the version is written: pyproject.toml reads it, CITATION.cff must match

from .simulation import (DESIGNS, FREE_PATTERNS, HOST_MAP_STATES, MAX_ORDER, PAGE_SIZE, PAGEBLOCK_ORDER, PAGES_PER_MIB,
                         REPORT_KINDS, CompactResult, Design, PageKind, PsiTrigger, Report, Simulation, Snapshot,
                         designs)
from . import op
from .explore import (STRATEGIES, ExploreResult, Race, ScheduleRun, enable_partial_order_reduction, explore, preset,
                      run_scenario, scenarios)

__all__ = ["__version__", "Simulation", "Snapshot", "PsiTrigger", "PageKind", "CompactResult", "Report", "Design", "designs",
           "DESIGNS", "FREE_PATTERNS", "HOST_MAP_STATES", "MAX_ORDER", "PAGEBLOCK_ORDER", "PAGE_SIZE", "PAGES_PER_MIB",
           "REPORT_KINDS",
           "explore", "enable_partial_order_reduction", "preset", "run_scenario", "scenarios", "op", "Race", "ExploreResult", "ScheduleRun", "STRATEGIES"]
