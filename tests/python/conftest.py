"""pytest setup for the Python package: make python/ importable without PYTHONPATH."""
import os
import signal
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PYTHON_DIR = REPO / "python"
if str(PYTHON_DIR) not in sys.path:
    sys.path.insert(0, str(PYTHON_DIR))


# A background job of a shell without job control (`pytest tests/python &` in a script or a make recipe) starts with
# Ctrl-C ignored, and Python then installs no KeyboardInterrupt handler: the Ctrl-C tests need Python's handler, as in
# a terminal, and their child processes SIGINT's default action (a handler, unlike "ignored", is not inherited).
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


# The tests of reduction="sleep-sets" need it on before the session's first simulation (this loads .NET). Its recording
# makes every page access dearer, so a process started with BALLOONSCRIPT_TEST_REDUCTION=off (as the NUnit tests'
# switch) runs without it, as simulations from Python do by default: `make test` runs its first pytest process, which
# holds none of those tests, that way.
import balloonscript  # noqa: E402

if os.environ.get("BALLOONSCRIPT_TEST_REDUCTION") != "off":
    assert balloonscript.enable_partial_order_reduction()


@pytest.fixture(scope="session")
def bs():
    return balloonscript


@pytest.fixture(scope="session")
def dask_client():
    """A dask.distributed cluster of two worker processes (one thread each) and its client, started once for the
    session: each worker process loads Python, distributed and then .NET, seconds of CPU per cluster."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def subprocess_env(**extra) -> dict:
    """The environment for a child Python: only python/ on PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(PYTHON_DIR)
    env.setdefault("MPLBACKEND", "Agg")
    env.update(extra)
    return env


# The options the race scenarios' guests are built with (engine: ScenarioSpec.Options): the v3.16 model without
# per-cpu lists, pagevecs, reclaim, the scheduler tick or the host's per-page time, so pages land where they say.
SCENARIO_GUEST = dict(per_cpu_lists=False, pagevecs=False, reclaim=False, timeslice_ms=0, host_us_per_page=0)
