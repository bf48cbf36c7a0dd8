"""Issue 10: the malformed-input generator over the 11 user formats reports 0 tracebacks and
0 silent acceptances, and every valid variant loads as the unchanged file.

The default run loads 1100 generated files (load only, no solving: a few seconds); the
campaign script (tests/fuzz/campaign.py, docs/fuzzing.md) runs more."""

from __future__ import annotations

import collections
import functools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fuzz_inputs as F

pytestmark = pytest.mark.unit


@functools.lru_cache(maxsize=1)
def _default_cases():
    return tuple(F.generate(1100, seed=0))


def _report(failures) -> str:
    return "\n".join(" | ".join(map(str, f)) for f in failures[:20])


def test_generated_files_raise_layerplan_errors_or_load_unchanged(tmp_path):
    cases = _default_cases()
    assert len(cases) >= 1000 and {c.fmt for c in cases} == set(F.FORMATS) and len(F.FORMATS) == 11
    counts = collections.Counter()
    failures = []
    for case in cases:
        outcome, detail = F.run_case(case, tmp_path)
        counts[(case.fmt, outcome)] += 1
        if outcome not in ("error", "same", "loaded"):
            failures.append((case.fmt, case.seed, case.mutation, case.expect, outcome, detail))
    assert not failures, f"{len(failures)} failures:\n{_report(failures)}"
    for fmt in F.FORMATS:  # every format had both invalid files refused and valid variants accepted
        assert counts[(fmt, "error")] > 20 and counts[(fmt, "same")] > 5, (fmt, counts)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), fmt=st.sampled_from(sorted(F.FORMATS)))
def test_any_seed(tmp_path, seed, fmt):
    failures = []
    for case in F.generate(12, seed=seed, formats=[fmt]):
        outcome, detail = F.run_case(case, tmp_path)
        if outcome not in ("error", "same", "loaded"):
            failures.append((case.fmt, case.seed, case.mutation, case.expect, outcome, detail))
    assert not failures, _report(failures)


def test_every_listed_class_is_generated():
    """The classes of the issue appear among the mutations of a default run."""
    muts = " ".join(c.mutation for c in _default_cases())
    for needle in ("non-UTF-8", "byte-order mark", "10000000000", "empty catalogue entry", "rename", "add unknown key",
                   "'false'", "= True", "nan", "1e+308", "1e-308", "truncated", "given twice", "drop column",
                   "= [", "reorder", "converted", "CRLF", "flow style"):
        assert needle in muts, needle


def test_the_generator_finds_a_lenient_loader(tmp_path, monkeypatch):
    """The test can fail: with the unknown-key check switched off, misspelt keys are
    accepted silently and the generator says so."""
    import layerplan.io

    monkeypatch.setattr(layerplan.io, "check_keys", lambda *a, **k: None)
    outcomes = collections.Counter(F.run_case(c, tmp_path)[0] for c in F.generate(300, seed=3, formats=["catalogue",
                                                                                                          "network"]))
    assert outcomes["silent"] > 0, outcomes


@pytest.mark.integration
@pytest.mark.slow
def test_valid_variants_solve_to_the_same_plan(tmp_path):
    """A handful end to end: device-set and network variants the generator calls "same"
    (units converted, keys reordered, BOM, CRLF, flow style, ...) give the plan and latency of
    the unchanged files."""
    import math

    from layerplan.api import solve_scenario
    from layerplan.io import load_device_set, load_dnn, load_network
    from layerplan.scenario import build_scenario

    dnn = load_dnn("alexnet", "major")
    files = {"set.yaml": next(s for s in F.seeds("device_set") if s.name == "c3").files["set.yaml"],
             "net.yaml": next(s for s in F.seeds("network") if s.name == "default").files["net.yaml"]}

    def solve(folder, changed):
        folder.mkdir()
        for name, data in {**files, **changed}.items():
            (folder / name).write_bytes(data)
        devs, src, dst, _ = load_device_set({"file": str(folder / "set.yaml")})
        net = load_network({"file": str(folder / "net.yaml")}, [d.name for d in devs], devs)
        res = solve_scenario(build_scenario(dnn, devs, net, source_device=src, destination_device=dst))
        assert res["status"] == "optimal"
        return res["assignment"], res["objective"]

    plan, objective = solve(tmp_path / "seed", {})
    same = [c for c in F.generate(1000, seed=5, formats=["device_set", "network"])
            if c.expect == F.SAME and c.seed in ("c3", "default")]
    cases = []
    for word in ("converted", "reorder", "as a string", "upper-case", "byte-order mark", "flow style", "CRLF"):
        cases += [c for c in same if word in c.mutation][:1]
    assert len(cases) >= 5, [c.mutation for c in same]
    for k, case in enumerate(cases):
        got_plan, got_objective = solve(tmp_path / f"case{k}", {case.main: case.files[case.main]})
        assert got_plan == plan and math.isclose(got_objective, objective, rel_tol=1e-9), case.mutation
