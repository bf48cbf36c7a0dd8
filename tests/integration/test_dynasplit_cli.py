"""``python run.py profiles=dynasplit_* | experiment=dynasplit_*``: configs compose, hand-made data solves,
bad input is one line."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_module

from layerplan.cli import run_job
from tests.dynasplit_helpers import DATA, needs_data, row, write_pool

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def _cfg(*overrides):
    with initialize_config_module(config_module="layerplan.conf", version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


@pytest.mark.parametrize("overrides", [["profiles=dynasplit_vgg16"], ["profiles=dynasplit_vit", "objective=energy"],
                                       ["experiment=dynasplit_offline"], ["experiment=dynasplit_sim"]])
def test_configs_compose(overrides):
    cfg = _cfg(*overrides)
    assert cfg.dynasplit.task in ("solve", "offline", "sim")


def hand_data(tmp_path):
    rows = [row(1800, 0, "off", True, 10, 12, 70, 0.4, 66), row(1800, 22, "max", False, 420, 0, 0, 2.4, 0),
            row(1800, 10, "std", True, 200, 5, 30, 1.5, 40), row(600, 10, "std", True, 500, 6, 31, 1.0, 41)]
    return write_pool(tmp_path / "data", "vgg16", rows)


def test_solve_on_hand_made_pool(tmp_path, capsys):
    root = hand_data(tmp_path)
    cfg = _cfg("profiles=dynasplit_vgg16", f"dynasplit.dir={root}", "objective=latency_cons", "objective.max_latency_s=0.3")
    res = run_job(cfg, tmp_path / "out")
    # hand-checked: under 300 ms the least energy is split 10 at 1800 MHz/std with the GPU; the segment model
    # charges edge 1.5 J + the cloud segment's mean over both split-10 rows (40 + 41) / 2 = 42.0 J, the pool
    # measured 41.5 J and 235 ms for this configuration
    assert res["configuration"] == "f1800_l10_tpu-std_gpu-on"
    assert res["model"]["energy_J"] == pytest.approx(42.0) and res["measured"]["energy_J"] == pytest.approx(41.5)
    assert res["measured"]["latency_ms"] == pytest.approx(235.0)
    assert json.loads((tmp_path / "out" / "result.json").read_text())["status"] == "ok"
    cfg = _cfg("profiles=dynasplit_vgg16", f"dynasplit.dir={root}", "objective=energy")
    assert run_job(cfg, tmp_path / "out2")["configuration"] == "f1800_l22_tpu-max_gpu-off"


def test_bad_input_is_one_line(tmp_path, capsys):
    cfg = _cfg("profiles=dynasplit_vgg16", f"dynasplit.dir={tmp_path / 'missing'}", "objective=energy")
    with pytest.raises(SystemExit) as exc:
        run_job(cfg, tmp_path / "out")
    assert exc.value.code != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("layerplan: error:") and "dynasplit.dir" in err[0]


@needs_data
@pytest.mark.slow
def test_run_py_solves_real_data(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LAYERPLAN_DYNASPLIT_DIR": str(DATA)}
    p = subprocess.run([sys.executable, str(ROOT / "run.py"), "profiles=dynasplit_vit", "objective=energy",
                        f"hydra.run.dir={tmp_path / 'o'}"], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "f1800_l19_tpu-off_gpu-off" in p.stdout  # all on the edge: 17.0 J, the least-energy ViT configuration


@needs_data
@pytest.mark.slow
def test_sim_experiment_writes_summary(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LAYERPLAN_DYNASPLIT_DIR": str(DATA)}
    p = subprocess.run([sys.executable, str(ROOT / "run.py"), "experiment=dynasplit_sim", "dynasplit.workloads=[published_50]",
                        "dynasplit.no_reconfiguration_table=false", f"hydra.run.dir={tmp_path / 'o'}"],
                       cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr
    with open(tmp_path / "o" / "report" / "summary.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["network", "workload", "strategy", "requests", "mean_energy_J", "median_energy_J",
                             "mean_latency_ms", "qos_violation_pct", "energy_vs_cloud_pct"]
    assert {r["strategy"] for r in rows} >= {"cloud", "edge", "energy", "latency", "dynasplit", "layerplan"}
    assert (tmp_path / "o" / "report" / "report.md").is_file()


@needs_data
@pytest.mark.slow
def test_offline_experiment_report(tmp_path):
    pytest.importorskip("optuna")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LAYERPLAN_DYNASPLIT_DIR": str(DATA)}
    p = subprocess.run([sys.executable, str(ROOT / "run.py"), "experiment=dynasplit_offline", "dynasplit.networks=[vit]",
                        "dynasplit.nsga_seeds=[0]", f"hydra.run.dir={tmp_path / 'o'}"],
                       cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr
    res = json.loads((tmp_path / "o" / "result.json").read_text())
    assert res["status"] == "ok" and all(s["agree"] for s in res["segment"])
    assert res["nsga3"][0]["trials"] == 55 and 0 < res["nsga3"][0]["hv_ratio"] <= 1 + 1e-12
    assert (tmp_path / "o" / "report" / "fronts.png").is_file()
