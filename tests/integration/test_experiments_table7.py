"""Tables 7.1-7.3 end to end: each experiment's Hydra multirun on a shrunken sweep (plain
``X=a,b`` overrides replace that sweep dimension of the experiment config), its report files,
the #profiles column against the thesis and DIME (MBS = L) against the exhaustive Optimal."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from conftest import run_experiment

from layerplan.experiments import table7_1, table7_3
from layerplan.experiments.records import load_records

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
CLAIM_LINE = re.compile(r"^- \*\*(holds|does not hold)\*\*: .+\(.+\)$")
PNG = b"\x89PNG\r\n\x1a\n"
#: thesis #profiles (both devices): DIME per MBS, JointDNN and Optimal (Tables 7.1, 7.2)
THESIS_PROFILES = {
    "table7_1": {1: 16, 2: 30, 3: 42, 4: 52, 5: 60, 6: 66, 7: 70, 8: 72, None: 72},
    "table7_2": {1: 22, 2: 42, 3: 60, 4: 76, 5: 90, 6: 102, 7: 112, 8: 120, 9: 126, 10: 130, 11: 132, None: 132},
}


def run_sweep(tmp: Path, name: str, *overrides: str) -> Path:
    return run_experiment(tmp, name, *overrides)


def report_rows(sweep: Path, name: str) -> tuple[list[dict], str]:
    report = sweep / "report"
    for f in ("report.md", f"{name}.csv", f"{name}_latency.png"):
        assert (report / f).is_file() and (report / f).stat().st_size > 0, f
    assert (report / f"{name}_latency.png").read_bytes()[:8] == PNG
    with open(report / f"{name}.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    text = (report / "report.md").read_text()
    claims = [ln for ln in text.splitlines() if ln.startswith("- **")]
    assert claims and all(CLAIM_LINE.match(ln) for ln in claims), claims
    return rows, text


def check_sweep(sweep: Path, name: str, L: int, mbs: list[int], bws: list[float], sets: list[str]) -> list[dict]:
    rows, text = report_rows(sweep, name)
    assert "not expected to match" in text
    # one row per (profile set, method, MBS, bandwidth), JointDNN and Optimal deduplicated
    assert len(rows) == len(sets) * len(bws) * (len(mbs) + 2)
    # #profiles equals the thesis' numbers
    for r in rows:
        key = int(r["mbs"]) if r["mbs"] else None
        assert int(r["profiles"]) == THESIS_PROFILES[name][key], r
        assert int(r["thesis_profiles"]) == THESIS_PROFILES[name][key], r
    # DIME with MBS = L equals Optimal (transition and actual latency) in every bandwidth, estimate exact
    at = {(r["profiles_set"], r["method"], r["mbs"], float(r["bandwidth_Bps"])): r for r in rows}
    for s in sets:
        for bw in bws:
            dime, opt = at[(s, "DIME", str(L), bw)], at[(s, "Optimal", "", bw)]
            assert dime["transition"] == opt["transition"], (s, bw)
            assert float(dime["act_s"]) == pytest.approx(float(opt["act_s"]), abs=1e-9), (s, bw)
            assert float(dime["est_s"]) == pytest.approx(float(dime["act_s"]), abs=1e-9), (s, bw)
            assert dime["same_as_optimal"] == "True"
            # Optimal is never beaten by the actual latency of any other plan
            for m in mbs:
                assert float(at[(s, "DIME", str(m), bw)]["act_s"]) >= float(opt["act_s"]) - 1e-9
            assert float(at[(s, "JointDNN", "", bw)]["act_s"]) >= float(opt["act_s"]) - 1e-9
    return rows


@pytest.fixture(scope="module")
def t71(tmp_path_factory):
    return run_sweep(tmp_path_factory.mktemp("t71"), "table7_1", "mbs=1,8", "network.bandwidth_Bps=1e5,2.36e6")


@pytest.fixture(scope="module")
def t72(tmp_path_factory):
    return run_sweep(tmp_path_factory.mktemp("t72"), "table7_2", "mbs=1,11", "network.bandwidth_Bps=1e5,1e6",
                     "profiles=synthetic")


@pytest.fixture(scope="module")
def t73(tmp_path_factory):
    return run_sweep(tmp_path_factory.mktemp("t73"), "table7_3")


def test_table7_1_report(t71):
    rows = check_sweep(t71, "table7_1", 8, [1, 8], [1e5, 2.36e6], ["synthetic", "cpu"])
    # the real layer names of our AlexNet table; the thesis' fc1 is our fc6
    assert {r["transition"] for r in rows} <= {"none", "conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"}


def test_table7_1_build(t71, tmp_path):
    records = load_records(t71)
    assert len(records) == 3 * 2 * 2 * 2  # methods x MBS x bandwidths x profile sets
    out = table7_1.build(records, tmp_path / "report")
    assert out["duplicates"] == 2 * 2 * 2 and out["failed"] == 0
    held = {c["claim"]: c["holds"] for c in out["claims"]}
    assert held["#profiles of every row equals the thesis' (DIME per MBS, JointDNN, Optimal)"] is True
    for s in ("synthetic", "cpu"):
        assert held[f"[{s}] DIME with MBS = L = 8 finds the Optimal solution (transition and latency) at every bandwidth"]
        assert held[f"[{s}] with MBS = L the estimated latency equals the actual latency"]
    # synthetic profiles: JointDNN under-estimates the edge and misses the optimum at 2.36e6 B/s
    jd = next(c for c in out["claims"] if c["claim"].startswith("[synthetic] JointDNN fails"))
    assert jd["holds"] and "misses at 2.36e6" in jd["evidence"]


def test_table7_2_report(t72):
    check_sweep(t72, "table7_2", 11, [1, 11], [1e5, 1e6], ["synthetic"])


def test_table7_3_report(t73, tmp_path):
    rows, text = report_rows(t73, "table7_3")
    by = {r["method"]: r for r in rows}
    assert set(by) == {"DIME", "JointDNN", "Optimal"}
    assert by["DIME"]["mbs"] == "11" and by["DIME"]["thesis_transition"] == "fc2 → Hub"
    assert by["DIME"]["transition"] == by["Optimal"]["transition"]
    assert float(by["DIME"]["act_s"]) == pytest.approx(float(by["Optimal"]["act_s"]), abs=1e-9)
    assert float(by["DIME"]["est_s"]) == pytest.approx(float(by["DIME"]["act_s"]), abs=1e-9)
    assert by["JointDNN"]["transition"] == "none"
    assert float(by["JointDNN"]["est_s"]) < float(by["JointDNN"]["act_s"])  # under-estimating edge
    assert int(by["Optimal"]["profiles"]) == 66 * 3
    out = table7_3.build(load_records(t73), tmp_path / "report")
    held = {c["claim"].split("] ", 1)[1]: c["holds"] for c in out["claims"]}
    assert held["DIME (MBS = 11) equals Optimal (transition and latency), with an exact estimate"] is True
    assert held["JointDNN keeps every layer on the edge"] is True
