"""The run path of issue 10: the card command as written, defaults printed, one error for
everything missing, one solve_config for CLI and API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_module

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def _cfg(*overrides):
    with initialize_config_module(config_module="layerplan.conf", version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


def _cli(cwd, *args, timeout=300):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, str(ROOT / "run.py"), *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=timeout)


def _result_path(stdout: str) -> Path:
    return Path([ln for ln in stdout.splitlines() if ln.startswith("result: ")][-1].split("result: ")[1])


def test_card_command_as_written(tmp_path):
    """`python run.py +formulation=[dime,freddi] objective=latency_cons` with no other key
    (tracking off only to keep the test free of MLflow's start-up)."""
    proc = _cli(tmp_path, "+formulation=[dime,freddi]", "objective=latency_cons", "tracking=none")
    assert proc.returncode == 0, proc.stderr
    first = proc.stdout.splitlines()[0]
    assert first.startswith("defaults chosen")
    for item in ("devices=nano_cloud", "profiles=dvfs", "network=wifi", "dnn.granularity=major", "objective.max_latency_s=0.1"):
        assert item in first
    res = json.loads(_result_path(proc.stdout).read_text())
    assert res["status"] == "optimal" and res["objective_name"] == "latency_cons"
    assert res["latency_s"]["total"] <= 0.1 + 1e-9
    assert res["defaults_chosen"][0] == "devices=nano_cloud"


def test_card_defaults_yield_to_the_command_line():
    cfg = _cfg("+formulation=[dime,freddi]", "objective=latency_cons", "devices=edge_cloud", "dnn.granularity=module",
               "objective.max_latency_s=0.2")
    assert cfg.devices.name == "edge_cloud" and cfg.dnn.granularity == "module"
    assert cfg.objective.max_latency_s == 0.2 and cfg.profiles.source == "profiles/dvfs"
    from layerplan.config_check import chosen_defaults

    notes = chosen_defaults(cfg, ["devices=edge_cloud", "dnn.granularity=module", "objective.max_latency_s=0.2"],
                            {"devices": "edge_cloud", "profiles": "dvfs", "network": "wifi"})
    assert notes == ["profiles=dvfs", "network=wifi"]


def test_default_run_chooses_nothing():
    from layerplan.config_check import chosen_defaults

    assert chosen_defaults(_cfg(), []) == []


def test_everything_missing_in_one_line_with_pasteable_hints(tmp_path):
    proc = _cli(tmp_path, "+formulation=[dime,freddi]", "objective=privacy", "devices=file", "dnn=file", "tracking=none")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert lines == ["layerplan: error: config: missing devices.file, dnn.file, objective.k; "
                     "add: devices.file=devs.yaml dnn.file=net.yaml objective.k=3"]


def test_solve_config_is_the_one_path():
    """The API on a composed config and on its plain dict gives the CLI's record."""
    from omegaconf import OmegaConf

    from layerplan.api import solve_config
    from layerplan.errors import LayerplanError

    cfg = _cfg("tracking=none", "devices=c1")
    a = solve_config(cfg)
    b = solve_config(OmegaConf.to_container(cfg, resolve=True))
    assert a["status"] == b["status"] == "optimal"
    assert a["objective"] == pytest.approx(b["objective"])
    with pytest.raises(LayerplanError, match="missing objective.k"):
        solve_config(_cfg("+formulation=[dime,freddi]", "objective=privacy"))


def test_api_and_cli_import_lazily():
    code = ("import sys, layerplan.api, layerplan.cli; "
            "print(sorted(m for m in ('mlflow', 'networkx', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True).stdout.strip()
    assert out == "[]"


@pytest.mark.slow
def test_four_runs_started_at_once_leave_four_folders(tmp_path):
    """Runs started in the same second used to share a Hydra folder and overwrite each
    other's result.json; each must get its own folder holding what it printed."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    bws = ["1e5", "1e6", "1e7", "1e8"]
    procs = [subprocess.Popen([sys.executable, str(ROOT / "run.py"), "tracking=none", "devices=c1",
                               f"network.bandwidth_Bps={bw}"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for bw in bws]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [e for _, e in outs]
    paths = [_result_path(o) for o, _ in outs]
    assert len({p.parent for p in paths}) == 4
    assert len(list((tmp_path / "outputs").glob("*/*/result.json"))) == 4
    objectives = []
    for (out, _), path, bw in zip(outs, paths, bws):
        res = json.loads(path.read_text())
        printed = [ln for ln in out.splitlines() if ln.startswith("solver ")][0]
        assert f"objective {res['objective']:.6g}" in printed
        objectives.append(res["objective"])
        cfg = (path.parent / "config.yaml").read_text()
        assert f"bandwidth_Bps: {float(bw)}" in cfg or f"bandwidth_Bps: {bw}" in cfg
    assert len(set(objectives)) == 4  # four different answers, so a mix-up would show


@pytest.mark.parametrize(
    "override,expected",
    [
        ("devices=c4", "layerplan: error: config: devices: unknown option 'c4' (options: c0, c1, c2, c3, "),
        ("objective=energi", "layerplan: error: config: objective: unknown option 'energi' (did you mean 'energy'? "),
        ("+formulation=[dimee]", "layerplan: error: config: formulation: unknown option 'dimee' (did you mean 'dime'? "),
        ("+solver.time_limt_s=5", "layerplan: error: config: solver.time_limt_s: unknown key (did you mean 'time_limit_s'? "),
        ("+network.bandwith_Bps=1e6", "layerplan: error: config: network.bandwith_Bps: unknown key (did you mean 'bandwidth_Bps'? "),
        ("+dnn.granularty=major", "layerplan: error: config: dnn.granularty: unknown key (did you mean 'granularity'? "),
        ("solver.time_limt_s=5", "layerplan: error: config: solver.time_limt_s: unknown key (did you mean 'time_limit_s'? "),
        ("devices=[", "layerplan: error: config: cannot parse the command-line override"),
        ("+plugin=[x]", "layerplan: error: config: plugin: unknown key (did you mean 'plugins'? "),
    ],
)
def test_config_errors_are_one_line_exit_2(tmp_path, override, expected):
    proc = _cli(tmp_path, "tracking=none", override)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(expected), lines


def test_unknown_keys_rejected_by_the_api_too():
    from layerplan.api import solve_config
    from layerplan.errors import ConfigError

    with pytest.raises(ConfigError, match=r"config: solver.time_limt_s: unknown key"):
        solve_config(_cfg("tracking=none", "+solver.time_limt_s=5"))


def test_unwritable_output_folder_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    proc = _cli(tmp_path, "tracking=none", f"hydra.run.dir={blocker}/out")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"layerplan: error: {blocker}"), lines


PLUGIN = '''
from pyomo.common.config import ConfigDict, ConfigValue, PositiveInt
from pyomo.core.base.block import declare_custom_block

from layerplan.contribution import ContributionData
from layerplan.registry import constraints


@constraints.register("help_probe_cap", doc="a plugin constraint the help must list")
@declare_custom_block(name="HelpProbeCap")
class HelpProbeCapData(ContributionData):
    CONFIG = ConfigDict()
    CONFIG.declare("limit", ConfigValue(default=4, domain=PositiveInt, description="probe limit"))

    def build(self, ctx):
        pass
'''


def test_help_lists_every_component_from_the_registries_and_plugins(tmp_path):
    (tmp_path / "probe_plugin.py").write_text(PLUGIN)
    proc = _cli(tmp_path, "--help", "plugins=[probe_plugin]")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    from layerplan.registry import constraints, formulations, objectives

    for reg in (formulations, constraints, objectives):
        for e in reg.entries():
            assert f"  {e.name} " in out and e.doc in out
    for heading in ("FORMULATIONS", "CONSTRAINTS", "OBJECTIVES", "BASELINES", "EXPERIMENTS", "METHODS"):
        assert heading in out
    assert "help_probe_cap" in out and "limit=4  (probe limit)" in out
    assert "mbs=None  (maximum bundle size MBS (default L))" in out
    for name in ("exhaustive", "single_device", "table8_2", "fig6_2"):
        assert f"  {name} " in out


def test_layerplan_console_script_has_the_same_help():
    from layerplan.help import help_text

    text = help_text([])
    proc = subprocess.run([sys.executable, "-m", "layerplan.cli", "--help"], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == text.strip()


@pytest.mark.parametrize("mixins", ["[dime]", "[jointdnn]", "[freddi,dime]"])
def test_bundle_formulations_alone_run_on_their_default_data(mixins):
    """Selecting a bundle formulation selects its data; without FreDDI each multi-frequency
    device of the default DVFS profiles runs at its highest frequency, and the record says so."""
    from layerplan.api import solve_config

    res = solve_config(_cfg(f"+formulation={mixins}", "tracking=none"))
    assert res["status"] == "optimal" and res["devices"] == ["edge", "cloud"]
    if "freddi" in mixins:
        assert "defaults_chosen" not in res  # FreDDI chooses the frequency itself
    else:
        assert res["defaults_chosen"] == ["profiles.frequency.edge=max"]
        sec = res["dime"] if "dime" in mixins else res["jointdnn"]
        assert sec["frequency"]["edge"] == 921.6e6


def test_every_device_without_profiles_in_one_line(tmp_path):
    proc = _cli(tmp_path, "+formulation=[dime]", "devices=c3", "tracking=none")
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert "no profiles for devices 'A' (label 'rpi3b'), 'C' (label 'gtx1080ti')" in line
    assert line.endswith("map them with ++profiles.map.A=<label> ++profiles.map.C=<label>")
    ok = _cli(tmp_path, "+formulation=[dime,freddi]", "devices=c3", "tracking=none", "++profiles.map.A=lepotato",
              "++profiles.map.C=rtx2080ti")  # the hints work when pasted
    assert ok.returncode == 0, ok.stderr


def test_unknown_solver_is_one_line_exit_3(tmp_path):
    proc = _cli(tmp_path, "tracking=none", "solver.name=cplex")
    assert proc.returncode == 3
    assert proc.stderr.strip().splitlines() == ["layerplan: error: solver: name: unknown solver 'cplex' (known: highs, gurobi)"]


def test_missing_formulation_hint_works_when_pasted(tmp_path):
    proc = _cli(tmp_path, "objective=latency_cons", "tracking=none")
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert line.endswith("add it: +formulation=[dime,freddi]")  # not preload, which dime replaces
    hint = line.rsplit("add it: ", 1)[1]
    ok = _cli(tmp_path, "objective=latency_cons", "tracking=none", hint)
    assert ok.returncode == 0, ok.stderr
