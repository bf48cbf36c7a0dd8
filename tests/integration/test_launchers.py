"""Hydra launchers for the experiment multiruns: joblib (the default), Ray on this machine
(skipped unless the ``ray`` extra is installed) and Slurm through submitit (composition only;
there is no Slurm here). See docs/sweeps.md."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_module

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def hydra_cfg(*overrides: str):
    with initialize_config_module(config_module="layerplan.conf", version_base="1.3"):
        return compose("config", overrides=list(overrides), return_hydra_config=True)


def run(tmp: Path, *overrides: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, str(ROOT / "run.py"), *overrides], cwd=tmp, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def results(sweep: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(sweep.glob("*/result.json"))]


def test_joblib_is_the_default_launcher_of_every_experiment():
    from layerplan.experiments import EXPERIMENTS

    for name in ("table6_2", "fig8_5"):
        assert name in EXPERIMENTS
        cfg = hydra_cfg(f"experiment={name}")
        assert cfg.hydra.runtime.choices["hydra/launcher"] == "joblib"
        assert cfg.hydra.launcher._target_.endswith("JoblibLauncher")
    assert hydra_cfg("experiment=table6_2", "hydra/launcher=basic").hydra.launcher._target_.endswith("BasicLauncher")


def test_table6_2_with_joblib_records_every_job_in_a_sqlite_store(tmp_path):
    """Hydra's own joblib launcher (asked for explicitly; the default is layerplan's engine)."""
    sweep, db = tmp_path / "sweep", tmp_path / "store.db"
    proc = run(tmp_path, "experiment=table6_2", "hydra/launcher=joblib", f"tracking.uri=sqlite:///{db}",
               f"hydra.sweep.dir={sweep}")
    assert "Joblib.Parallel" in proc.stdout + proc.stderr
    res = results(sweep)
    assert len(res) == 8 and all(r["status"] == "optimal" for r in res)
    assert sorted(Path(r["output_dir"]).name for r in res) == [str(i) for i in range(8)]
    assert (sweep / "report" / "report.md").is_file()
    import mlflow

    client = mlflow.MlflowClient(f"sqlite:///{db}")
    runs = client.search_runs([client.get_experiment_by_name("table6_2").experiment_id])
    assert len(runs) == 8 and {r.info.status for r in runs} == {"FINISHED"}
    assert sorted(r.data.tags["dnn"] for r in runs) == sorted(2 * ["alexnet", "vgg11", "ssd300", "vgg16"])
    assert sorted(r.data.metrics["objective"] for r in runs) == pytest.approx(sorted(r["objective"] for r in res))
    assert all({a.path for a in client.list_artifacts(r.info.run_id)} >= {"result.json", "config.yaml"} for r in runs)


@pytest.mark.skipif(importlib.util.find_spec("hydra_plugins.hydra_submitit_launcher") is None,
                    reason="hydra-submitit-launcher is not installed")
def test_slurm_launcher_config_composes():
    cfg = hydra_cfg("experiment=table7_2", "hydra/launcher=slurm", "hydra.launcher.partition=cpu",
                    "hydra.launcher.timeout_min=20", "hydra.sweep.dir=/shared/sweeps/t72")
    launcher = cfg.hydra.launcher
    assert cfg.hydra.runtime.choices["hydra/launcher"] == "slurm"
    assert launcher._target_ == "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher"
    assert (launcher.partition, launcher.timeout_min, launcher.cpus_per_task, launcher.mem_gb) == ("cpu", 20, 2, 4)
    assert launcher.array_parallelism == 64 and launcher.gpus_per_node is None
    assert launcher.submitit_folder == "/shared/sweeps/t72/.submitit/%j"
    # the experiment's own sweep, callback and tracking settings are untouched
    assert cfg.hydra.callbacks.report.experiment == "table7_2" and cfg.tracking.experiment == "table7_2"


def test_slurm_dry_run_prints_the_launcher_config(tmp_path):
    if importlib.util.find_spec("hydra_plugins.hydra_submitit_launcher") is None:
        pytest.skip("hydra-submitit-launcher is not installed")
    proc = run(tmp_path, "experiment=table6_2", "hydra/launcher=slurm", "hydra.launcher.mem_gb=8",
               "--cfg", "hydra", "--package", "hydra.launcher", timeout=60)
    assert "SlurmLauncher" in proc.stdout and "mem_gb: 8" in proc.stdout
    assert not (tmp_path / "multirun").exists()  # nothing ran


@pytest.mark.slow
def test_ray_local_runs_a_two_job_sweep(tmp_path):
    pytest.importorskip("ray", reason="ray is not installed (pip install 'layerplan[ray]')")
    if importlib.util.find_spec("hydra_plugins.hydra_ray_launcher") is None:
        pytest.skip("hydra-ray-launcher is not installed (pip install 'layerplan[ray]')")
    sweep = tmp_path / "sweep"
    proc = run(tmp_path, "experiment=table6_2", "hydra/launcher=ray_local", "hydra.launcher.ray.init.num_cpus=2",
               "dnn=alexnet,vgg11", "+formulation=[preload]", "tracking=none", f"hydra.sweep.dir={sweep}",
               timeout=240)
    assert "Ray Launcher is launching 2 jobs" in proc.stdout + proc.stderr
    res = results(sweep)
    assert len(res) == 2 and sorted(r["dnn"] for r in res) == ["alexnet", "vgg11"]
    assert all(r["status"] == "optimal" and r["formulations"] == ["base", "preload"] for r in res)
    report = (sweep / "report" / "table6_2.csv").read_text().splitlines()
    assert len(report) == 3 and {ln.split(",")[0] for ln in report[1:]} == {"alexnet", "vgg11"}
