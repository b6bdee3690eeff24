# BalloonScript: build the C# engine and bindings, test everything, run the demo.
# Python is Debian's /usr/bin/python3 with Debian packages (no PyPI); .NET from the .NET 10 SDK + NuGet.

PY        ?= /usr/bin/python3
DOTNET    ?= dotnet
SLN       := BalloonScript.sln
CONFIG    := Release
RESULTS   := TestResults
PY_IMPORTS := numpy, pandas, matplotlib, matplotlib_inline, nbclient, nbformat, ipykernel, jupyter_client, pytest, \
              hypothesis, tqdm, cloudpickle, distributed, notebook, nbconvert
# Found, not imported (setuptools must not be imported after distutils): `pip install -e .` and `python3 -m venv`
# (ensurepip's __main__ is in python3-venv). jupyter-notebook is Debian 12's Jupyter (notebook 6).
PY_TOOLS := pip setuptools wheel ensurepip.__main__
# Looked up, not imported (importing them all takes seconds, on every make demo and make test).
PY_CHECK := import importlib.util; assert all(map(importlib.util.find_spec, "$(PY_IMPORTS) $(PY_TOOLS)".replace(",", " ").split()))
DEB_PACKAGES := python3 python3-numpy python3-pandas python3-matplotlib python3-nbclient python3-nbformat \
                python3-ipykernel python3-jupyter-client python3-matplotlib-inline python3-pytest \
                python3-hypothesis python3-tqdm python3-cloudpickle python3-distributed jupyter-notebook \
                python3-nbconvert python3-pip python3-setuptools python3-wheel python3-venv
NOTEBOOK_PORT ?= 8888

export PYTHONPATH := $(CURDIR)/python$(if $(PYTHONPATH),:$(PYTHONPATH))
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1
export MPLBACKEND ?= Agg

.PHONY: all deps build test demo soak bench bench-quick notebook notebooks-outputs clean

all: build

# Installs only what is missing (run as root; no sudo).
deps:
	@if ! $(PY) -c '$(PY_CHECK)' >/dev/null 2>&1; then \
	  echo "deps: installing Debian packages: $(DEB_PACKAGES)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(DEB_PACKAGES) >/dev/null \
	    || { echo "deps: apt-get install failed" >&2; exit 1; }; \
	  $(PY) -c '$(PY_CHECK)' || { echo "deps: still missing Python modules" >&2; exit 1; }; \
	fi
	@command -v $(DOTNET) >/dev/null 2>&1 || { echo "deps: '$(DOTNET)' not found: install the .NET 10 SDK" >&2; exit 1; }

# dotnet build takes seconds even when nothing changed: build only when a source of a .NET project did.
BUILD_INPUTS := $(SLN) $(wildcard *.props *.targets) $(shell find engine generators bindings bench tests/Engine.Tests \( -name bin -o -name obj \) -prune \
                  -o -type f \( -name '*.cs' -o -name '*.csproj' -o -name '*.json' -o -name '*.props' \) -print)
BUILD_STAMP  := bindings/bin/$(CONFIG)/.built

build: $(BUILD_STAMP)

$(BUILD_STAMP): $(BUILD_INPUTS)
	$(DOTNET) build $(SLN) -c $(CONFIG) -nologo -v:minimal
	@touch $@

# NUnit (TRX, in two processes) + pytest (package tests, then notebook execution as a second pytest run), then one
# line: N passed, N failed. The runs are independent and each mostly single-threaded, waiting on the child processes it
# starts (notebook kernels, CLI runs, sweep workers) or on thread hand-offs part of the time, so they run side by side
# on the two cores. NUnit is split in two by namespace (the race explorations, three quarters of its time, and the
# rest; the two filters are each other's complement, so every test runs once): as one process it was the last to end,
# alone on the machine for its last 25 s (92.7 s wall against 82.9 s split, 4 December, one run each). The package
# tests print as they go, the notebooks' and NUnit's output follows.
# Its processes are many and mostly short (CLI runs, notebook kernels, sweep and dask workers): without tiered PGO (an
# instrumented compilation of each hot method before the optimised one) they JIT-compile less, about 15 % less CPU
# for make test. Not in the runtimeconfig: it slows long runs (the 64 GiB row: 5.4 -> 6.9 s). For the same reason a
# method is compiled again, optimised, after 1,000 calls rather than 30: most of a test process's methods are called
# a few dozen times and then never again, and the background compiler's work on them (about a fifth of make test's CPU
# time, perf) is mostly wasted; the per-page and per-decision paths pass 1,000 calls at once, and long loops go
# optimised by on-stack replacement as before (suites alone, CPU: package tests 48 -> 39-40 s, notebooks 41 -> 38 s,
# NUnit 23 -> 21 s and 27 -> 24 s).
# The NUnit tests run as two processes side by side: the explorations (partial-order reduction's recording compiled in,
# as the test project's runtimeconfig has it) and the rest without it (BALLOONSCRIPT_TEST_REDUCTION=off, as simulations
# from Python run), which makes their page accesses about a fifth cheaper (tests/Engine.Tests/ReductionSwitch.cs).
NUNIT_SPLIT := FullyQualifiedName~BalloonScript.Engine.Tests.Explore.
# The package tests run as two pytest processes too, these files in the second (half of the suite's CPU time, the dask
# cluster's tests among them): one process was the last suite to end, on one core while the others had finished. The
# first holds no test that explores with reduction="sleep-sets", so it runs without reduction's recording, as the NUnit
# tests that never explore do (tests/python/conftest.py; 14.4-15.1 against 15.5 s, 17.7-18.4 against 18.4 CPU-s, alone).
PYTEST_SECOND := test_cli.py test_sweep.py test_results.py test_v61.py test_pressure.py test_explore.py test_readme.py
# The Python suites run at a lower priority (nice 10) than the NUnit processes. Many NUnit tests hand the baton between
# two threads thousands of times, and each hand-off waits for the woken thread to get a CPU: beside three Python suites
# at the same priority those tests took ten times as long as alone (continuations against threads 0.7 -> 6.5 s), the
# NUnit suites ended last, and the machine idled at their end. Niced, the Python suites take the CPU the hand-offs leave
# (5 December: make test 60.3-65.0 s in five runs against 64.4-67.5 s in four, 13:07-13:32; 60.6 s in make bench).
PYTEST       = nice -n 10 $(PY) -m pytest
NUNIT_RUN    = $(DOTNET) test tests/Engine.Tests -c $(CONFIG) --no-build --nologo --filter "$(2)" \
	  --logger "trx;LogFileName=$(1).trx" --logger "console;verbosity=minimal" \
	  --results-directory $(RESULTS)/$(1) > $(RESULTS)/$(1).log 2>&1
# And without W^X for the JIT's code (each method compiled is written through a second mapping, then the mappings'
# protections are changed, and other CPUs' TLBs flushed): a protection against code injected into a process's JIT code,
# which its tests do not need here (5 December, alternated: 59.3-60.7 s, 116-119 CPU-s against 59.0-62.7 s, 116-123
# CPU-s, four runs each; the same 64 GiB run from Python either way, so not in the runtimeconfig).
test: export DOTNET_TieredPGO := 0
test: export DOTNET_TC_CallCountThreshold := 1000
test: export DOTNET_EnableWriteXorExecute := 0
test: deps build
	@rm -rf $(RESULTS); mkdir -p $(RESULTS); \
	$(call NUNIT_RUN,explore,$(NUNIT_SPLIT)) & explore_pid=$$!; \
	BALLOONSCRIPT_TEST_REDUCTION=off $(call NUNIT_RUN,engine,$(subst ~,!~,$(NUNIT_SPLIT))) & engine_pid=$$!; \
	$(PYTEST) tests/notebooks -p no:cacheprovider -q -rfEs \
	  --junitxml=$(RESULTS)/notebooks.xml > $(RESULTS)/notebooks.log 2>&1 & notebooks_pid=$$!; \
	BALLOONSCRIPT_TEST_REDUCTION=off $(PYTEST) tests/python $(addprefix --ignore=tests/python/,$(PYTEST_SECOND)) -p no:cacheprovider -q -rfEs \
	  --junitxml=$(RESULTS)/pytest-first.xml > $(RESULTS)/pytest-first.log 2>&1 & pytest_first_pid=$$!; \
	$(PYTEST) $(addprefix tests/python/,$(PYTEST_SECOND)) -p no:cacheprovider -q -rfEs \
	  --junitxml=$(RESULTS)/pytest.xml; pytest_rc=$$?; \
	wait $$pytest_first_pid; pytest_first_rc=$$?; \
	wait $$notebooks_pid; notebooks_rc=$$?; \
	wait $$engine_pid; engine_rc=$$?; \
	wait $$explore_pid; explore_rc=$$?; \
	echo; cat $(RESULTS)/pytest-first.log; \
	echo; cat $(RESULTS)/notebooks.log; \
	echo; cat $(RESULTS)/engine.log; \
	echo; cat $(RESULTS)/explore.log; \
	echo; \
	$(PY) tests/summarize.py --trx $(RESULTS)/engine/engine.trx --trx-rc $$engine_rc \
	  --trx $(RESULTS)/explore/explore.trx --trx-rc $$explore_rc \
	  --junit $(RESULTS)/pytest-first.xml --junit-rc $$pytest_first_rc --junit $(RESULTS)/pytest.xml --junit-rc $$pytest_rc \
	  --junit $(RESULTS)/notebooks.xml --junit-rc $$notebooks_rc \
	  --out $(RESULTS)/summary.txt

# The long robustness run (issue 7): SOAK_OPS random operations over every design with the checks after each,
# every scenario explored under every design (SOAK_SCHEDULES per strategy), races of a free page reporting pass against
# every operation (a third of SOAK_SCHEDULES each), the exploration that once hung, 1,800
# random races of the operations (the engine's property test, 30 times its make test share), 60 random races searched
# with and without reduction and 60 with reduction on one host thread and two, and the API fuzzer with a long budget. Prints ops/s, schedules/s and findings; fails on a finding no design documents.
SOAK_OPS       ?= 10000000
SOAK_SCHEDULES ?= 3000
SOAK_SEED      ?= 1
soak: deps build
	$(PY) tests/soak.py --ops $(SOAK_OPS) --schedules $(SOAK_SCHEDULES) --seed $(SOAK_SEED) --issue-exploration
	BALLOONSCRIPT_PROPERTY_SCALE=30 $(DOTNET) test tests/Engine.Tests -c $(CONFIG) --no-build --nologo -v q \
	  --filter "AnyRaceOfTheOperations_NeverBreaksTheEngine_ReplaysItsFailures_AndFindsOnlyDocumentedDefects|AnyRandomRace_SleepSetsReachEveryFinalStatePlainDfsReaches|AnyRandomRace_ReducedSearchOnTwoHostThreads_IsTheSerialOne"
	BALLOONSCRIPT_FUZZ_EXAMPLES=1000 BALLOONSCRIPT_FUZZ_STEPS=60 $(PY) -m pytest tests/python/test_fuzz.py -p no:cacheprovider -q

# Issue 13's benchmark table (bench/bench.py: BenchmarkDotNet's rows and the Python ones; BENCHMARKS.md says how
# each is measured). bench-quick: BenchmarkDotNet's short job, one run of each Python row, no make timings.
bench: deps build
	$(PY) bench/bench.py

bench-quick: deps build
	$(PY) bench/bench.py --quick

demo: deps build
	$(PY) -m balloonscript demo --out out --readme-image docs/img/page-map.png

# Jupyter on notebooks/ (PYTHONPATH above makes `import balloonscript` work); Ctrl-C stops it.
notebook: deps build
	@echo "notebook: Jupyter on $(CURDIR)/notebooks at http://127.0.0.1:$(NOTEBOOK_PORT)/ (open the URL with ?token= that Jupyter prints below)"
	$(PY) -m notebook --notebook-dir=notebooks --no-browser --ip=127.0.0.1 --port=$(NOTEBOOK_PORT) --port-retries=0 \
	  $(if $(filter 0,$(shell id -u)),--allow-root)

# Re-run every notebook and save it with its outputs (figures visible on a repository page); `make test` runs them
# again without saving.
notebooks-outputs: deps build
	cd notebooks && for nb in *.ipynb; do \
	  MPLBACKEND=module://matplotlib_inline.backend_inline $(PY) -m nbconvert --to notebook --execute --inplace \
	    --ExecutePreprocessor.timeout=900 "$$nb" || exit 1; done

clean:
	-$(DOTNET) clean $(SLN) -c $(CONFIG) -nologo -v:quiet
	rm -rf out $(RESULTS) .pytest_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	find . \( -path ./.git -prune \) -o \( -type d \( -name bin -o -name obj \) -prune -exec rm -rf {} + \)
