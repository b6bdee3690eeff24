#!/usr/bin/python3
"""Add up NUnit (TRX) and pytest (JUnit XML) results; print `N passed, N failed` as the last line.

usage: summarize.py --trx FILE --trx-rc RC [--trx FILE --trx-rc RC ...] --junit FILE --junit-rc RC
                    [--junit FILE --junit-rc RC ...] [--out FILE]
Exit status: 0 when nothing failed and at least one test passed, 1 otherwise. A runner that exited with
an error but left no failed test in its report (crash, build or collection error) counts as one failure.
"""
import argparse
import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def trx_counts(path: Path):
    root = ET.parse(path).getroot()
    counters = next((e for e in root.iter() if e.tag.endswith("Counters")), None)
    if counters is None:
        return 0, 0, 0
    n = lambda k: int(counters.get(k, 0))   # noqa: E731
    failed = n("failed") + n("error") + n("timeout") + n("aborted")
    return n("passed"), failed, n("notExecuted")


def junit_counts(path: Path):
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    passed = failed = skipped = 0
    for s in suites:
        tests, fail = int(s.get("tests", 0)), int(s.get("failures", 0)) + int(s.get("errors", 0))
        skip = int(s.get("skipped", 0))
        passed += tests - fail - skip
        failed += fail
        skipped += skip
    return passed, failed, skipped


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--trx", type=Path, action="append", required=True, help="one per NUnit run, with its --trx-rc")
    p.add_argument("--trx-rc", type=int, action="append", required=True)
    p.add_argument("--junit", type=Path, action="append", required=True, help="one per pytest run, with its --junit-rc")
    p.add_argument("--junit-rc", type=int, action="append", required=True)
    p.add_argument("--out", type=Path)
    a = p.parse_args()
    if len(a.junit) != len(a.junit_rc):
        p.error("one --junit-rc for each --junit")
    if len(a.trx) != len(a.trx_rc):
        p.error("one --trx-rc for each --trx")

    total_p = total_f = 0
    runs = [(f"NUnit ({path.name})" if len(a.trx) > 1 else "NUnit", path, rc, trx_counts, (0,))
            for path, rc in zip(a.trx, a.trx_rc)]
    runs += [(f"pytest ({path.name})" if len(a.junit) > 1 else "pytest", path, rc, junit_counts, (0, 5))
             for path, rc in zip(a.junit, a.junit_rc)]
    for name, path, rc, parse, ok_rcs in runs:
        passed = failed = skipped = 0
        note = ""
        if path.is_file():
            try:
                passed, failed, skipped = parse(path)
            except (ET.ParseError, ValueError) as e:
                note = f" (unreadable report {path}: {e})"
        else:
            note = f" (no report at {path})"
        if rc not in ok_rcs and failed == 0:
            failed = 1
            note += f" (runner exited with {rc})"
        print(f"{name}: {passed} passed, {failed} failed, {skipped} skipped{note}")
        total_p += passed
        total_f += failed
    line = f"{total_p} passed, {total_f} failed"
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(line + "\n")
    print(line, flush=True)
    return 0 if total_f == 0 and total_p > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
