"""A short run of the soak (tests/soak.py; ``make soak`` runs the long one): random operations on every design and
every scenario explored under every design find nothing the designs are not documented to have."""
import importlib.util

import pytest

from conftest import REPO


@pytest.fixture(scope="module")
def soak():
    spec = importlib.util.spec_from_file_location("soak", REPO / "tests" / "soak.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_short_soak_finds_nothing_unexpected(soak, capsys):
    rc = soak.main(["--ops", "3000", "--schedules", "30", "--seed", "7"])

    out = capsys.readouterr().out
    assert rc == 0, out
    assert "soak: PASS" in out
    assert "3,000 ops in" in out and "ops/s" in out and "schedules at" in out


class Report:
    def __init__(self, kind):
        self.kind = kind


@pytest.mark.parametrize("design, scenario, kinds, allowed", [
    ("legacy", "scan-vs-migrate", ["kasan"], True),
    ("redesign", "deflate-vs-isolate", ["list_corruption", "list_corruption"], True),
    ("redesign", "deflate-vs-isolate", ["list_corruption", "page_leak"], False),
    ("redesign", "deflate-vs-migrate", ["bad_page", "accounting"], True),
    ("redesign", "deflate-vs-migrate", ["list_corruption", "page_leak"], True),
    ("redesign", "deflate-vs-migrate", ["page_leak"], False),
    ("redesign", "scan-vs-migrate", ["kasan"], False),
    ("fixed", "deflate-vs-isolate", ["list_corruption"], False),
])
def test_the_soak_allows_only_the_documented_races(soak, design, scenario, kinds, allowed):
    assert soak.exploration_allowed(design, scenario, [Report(k) for k in kinds]) is allowed
