"""Plugins (the README example, entry points) and the installed package."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hydra import compose, initialize_config_module

from layerplan import registry
from layerplan.cli import run_job
from layerplan.errors import SolverError
from layerplan.latency import analytic_params
from layerplan.oracle import enumerate_plans

from conftest import random_scenario

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def _readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- example:constraint -->\s*```python\n(.*?)```", text, re.S)
    assert block, "README lost its constraint example"
    return block.group(1)


@pytest.fixture
def plugin_dir(tmp_path, monkeypatch):
    (tmp_path / "my_constraints.py").write_text(_readme_example())
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    registry.constraints._entries.pop("max_devices", None)
    sys.modules.pop("my_constraints", None)


def test_readme_constraint_example_works_and_is_exact(plugin_dir):
    with initialize_config_module(config_module="layerplan.conf", version_base="1.3"):
        cfg = compose(config_name="config", overrides=["tracking=none", "print_plan=false", "plugins=[my_constraints]",
                                                       "+constraints.max_devices.max_devices=1", "devices=c3"])
    res = run_job(cfg, plugin_dir / "out")
    assert res["status"] == "optimal" and len({a["device"] for a in res["assignment"]}) == 1
    # against brute force on random instances: best plan using at most 2 devices
    from layerplan.api import solve_scenario

    for seed in range(4):
        sc = random_scenario(seed, 3, 3, memory="off")
        params = analytic_params(sc)
        best, _ = enumerate_plans(params, preload=True, score=lambda p, a: (
            float("inf") if len(set(a)) > 2 else __import__("layerplan.latency").latency.plan_latency_s(p, a, preload=True)["total"]))
        got = solve_scenario(sc, formulation=["preload"], constraints={"max_devices": {"max_devices": 2}})
        assert got["objective"] == pytest.approx(best, rel=1e-6)


def test_unknown_plugin_module_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with initialize_config_module(config_module="layerplan.conf", version_base="1.3"):
        cfg = compose(config_name="config", overrides=["tracking=none", "plugins=[no_such_module]"])
    with pytest.raises(SystemExit):
        run_job(cfg, tmp_path / "out")
    assert "config: plugins: cannot import plugin module 'no_such_module'" in capsys.readouterr().err


def test_entry_point_plugins_are_loaded(tmp_path, monkeypatch):
    pkg = tmp_path / "site"
    pkg.mkdir()
    (pkg / "ep_plugin.py").write_text(_readme_example().replace('"max_devices"', '"max_devices_ep"')
                                      .replace('name="MaxDevices"', 'name="MaxDevicesEP"'))
    dist = pkg / "ep_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: ep-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[layerplan.constraints]\nmax_devices_ep = ep_plugin\n")
    monkeypatch.syspath_prepend(str(pkg))
    reg = registry.Registry("constraint", "layerplan.constraints", "layerplan.constraints")
    monkeypatch.setattr(registry, "constraints", reg)
    try:
        assert "max_devices_ep" in reg.names()
    finally:
        sys.modules.pop("ep_plugin", None)


def test_absent_solver_is_a_clear_error(monkeypatch):
    import pyomo.contrib.solver.solvers.highs as highs_module

    class Absent:
        def available(self):
            return False

    monkeypatch.setattr(highs_module, "Highs", Absent)  # what layerplan.solve instantiates for solver=highs
    from layerplan.api import solve_scenario

    with pytest.raises(SolverError, match="solver 'highs' is not available; pip install highspy"):
        solve_scenario(random_scenario(0, 2, 2), solver={"name": "highs"})


def _clean_env():
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def _installed_dist():
    """Files of the installed distribution, seen from outside the clone (None if absent)."""
    import tempfile

    code = "import importlib.metadata as m; print(chr(10).join(str(f) for f in m.distribution('layerplan').files or []))"
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([sys.executable, "-c", code], cwd=tmp, capture_output=True, text=True, env=_clean_env())
    files = set(out.stdout.split()) if out.returncode == 0 else set()
    return files if "layerplan/__init__.py" in files else None


@pytest.mark.skipif(_installed_dist() is None, reason="layerplan is not pip-installed (non-editable) here")
def test_installed_package_works_outside_the_clone(tmp_path):
    files = _installed_dist()
    for f in ("layerplan/formulations/base.py", "layerplan/profiling/core.py", "layerplan/tools/dvfs_profiles.py",
              "layerplan/data/profiles/synthetic/alexnet_lepotato.csv", "layerplan/conf/config.yaml", "layerplan/conf/devices/c3.yaml",
              "layerplan/data/dnn/alexnet_module.csv", "layerplan/data/devices/catalogue.yaml",
              "layerplan/experiments/published/table6_2.csv"):
        assert f in files, f
    env = _clean_env()
    code = textwrap.dedent("""
        import layerplan, layerplan.formulations.base as b
        from layerplan.io import data_root
        print(layerplan.__file__); print(b.__file__); print(data_root())
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert all("site-packages" in line for line in out.stdout.splitlines()), out.stdout
    run = subprocess.run([sys.executable, "-m", "layerplan.cli", "tracking=none", "print_plan=false"], cwd=tmp_path,
                         capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr
