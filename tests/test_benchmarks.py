"""Benchmark verdicts that cannot pass while ignoring failures, and README figures tied to their script."""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench(request):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    request.addfinalizer(lambda: sys.path.remove(str(ROOT / "benchmarks")))
    return importlib.import_module("throughput"), importlib.import_module("_harness")


@pytest.mark.parametrize("wall, bound, errors, limited, expected", [
    (30.5, 30, 0, 0, "PASS"),
    (30.5, 30, 2, 0, "MISS: 2 calls failed"),
    (30.5, 30, 0, 7, "MISS: 7 requests answered 429"),
    (40.0, 30, 1, 1, "MISS: 40.0 s is over 33.0 s; 1 calls failed; 1 requests answered 429"),
])
def test_throughput_passes_only_within_the_floor_with_no_error_and_no_429(bench, wall, bound, errors, limited,
                                                                         expected):
    throughput, _ = bench
    assert throughput.verdict(wall, bound, errors, limited) == expected


def test_a_target_below_the_floor_says_why_instead_of_a_bare_miss(bench):
    _, harness = bench
    assert harness.verdict(False, "the floor is 2.20x") == "MISS, cannot be met here: the floor is 2.20x"
    assert harness.verdict(True, "the floor is 2.20x") == "PASS"
    assert harness.verdict(False) == "MISS"


def test_the_readme_headline_context_figure_is_the_measured_one():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    measured = int(re.search(r"\| `all tools` \| \d+ \| ([\d,]+) \|", readme).group(1).replace(",", ""))
    claimed = re.search(r"All \d+ tools cost about ([\d,]+) bytes", readme)
    assert claimed, "the headline figure is gone or reworded: keep it tied to the cost table"
    assert int(claimed.group(1).replace(",", "")) == round(measured, -2)
