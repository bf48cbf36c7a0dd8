"""``python -m layerplan.experiments.mlflow_report``: Table 6.2 rebuilt from the runs recorded
in MLflow equals the report built from the sweep folder, with no solving."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from layerplan.experiments import mlflow_report

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def run_sweep(tmp: Path, sweep: Path, db: Path, *overrides: str) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "experiment=table6_2", f"tracking.uri=sqlite:///{db}",
         f"hydra.sweep.dir={sweep}", *overrides],
        cwd=tmp, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def rows(path: Path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mlrep")
    db = tmp / "store.db"
    # an older, smaller sweep first: the reader must pick the latest sweep by default
    run_sweep(tmp, tmp / "old", db, "dnn=alexnet", "+formulation=[preload]", "hydra/launcher=basic")
    run_sweep(tmp, tmp / "sweep", db)
    return tmp, f"sqlite:///{db}"


def test_report_from_mlflow_equals_report_from_the_sweep_folder(recorded, capsys):
    tmp, uri = recorded
    out = tmp / "from_mlflow"
    assert mlflow_report.main(["table6_2", "--tracking-uri", uri, "--out", str(out), "--keep-sweep",
                               str(tmp / "kept")]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("# Table 6.2") and "(8 runs)" in printed
    ours, theirs = rows(out / "table6_2.csv"), rows(tmp / "sweep" / "report" / "table6_2.csv")
    assert len(ours) == 8 and ours == theirs
    assert (out / "report.md").read_text() == (tmp / "sweep" / "report" / "report.md").read_text()
    # laid out like the sweep folder: one folder per job, named after the job
    assert sorted(p.name for p in (tmp / "kept").iterdir()) == [str(i) for i in range(8)]
    assert all((tmp / "kept" / str(i) / "config.yaml").is_file() for i in range(8))


def test_sweep_all_and_one_sweep_folder(recorded):
    tmp, uri = recorded
    every = mlflow_report.build_report_from_mlflow("table6_2", uri, tmp / "all", sweep="all")
    assert every["n_records"] == 9
    old = mlflow_report.build_report_from_mlflow("table6_2", uri, tmp / "old_rep", sweep=str(tmp / "old"))
    assert old["n_records"] == 1 and [r["dnn"] for r in rows(tmp / "old_rep" / "table6_2.csv")] == ["alexnet"]


def test_unknown_mlflow_experiment_is_one_error_line(recorded, capsys):
    tmp, uri = recorded
    assert mlflow_report.main(["table6_2", "--tracking-uri", uri, "--mlflow-experiment", "nope",
                               "--out", str(tmp / "x")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("layerplan: error: no MLflow experiment 'nope'") and len(err.strip().splitlines()) == 1
