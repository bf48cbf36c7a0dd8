"""Command-line entry point (``python run.py`` or ``layerplan``), driven by Hydra.

One job: build the scenario from the config, compose and solve the model, print the
plan, write ``result.json`` in the Hydra output folder and record the run in MLflow. A
user error ends the job with one line ``layerplan: error: ...`` and a non-zero exit (in
a multirun the failing job is recorded and the sweep goes on).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig, OmegaConf

from layerplan.errors import LayerplanError


def to_dict(cfg) -> dict:
    if cfg is None:
        return {}
    if isinstance(cfg, DictConfig):
        return OmegaConf.to_container(cfg, resolve=True)
    return dict(cfg)


def scenario_from_cfg(cfg) -> Any:
    """Load DNN, devices and network from the config and build the scenario."""
    from layerplan.io import load_device_set, load_dnn, load_network
    from layerplan.scenario import build_scenario

    dnn_cfg = to_dict(cfg.dnn)
    if not dnn_cfg.get("file"):
        raise LayerplanError("missing", source="config", field="dnn.file")
    dnn = load_dnn(dnn_cfg["file"], dnn_cfg.get("granularity", "module"), input_shape=dnn_cfg.get("input_shape"))
    devices, source, destination, where = load_device_set(to_dict(cfg.devices))
    network = load_network(to_dict(cfg.network), [d.name for d in devices], devices)
    sc = to_dict(cfg.get("scenario"))
    capture = sc.get("capture_shape")
    name = sc.get("name") or f"{dnn.name}-{to_dict(cfg.devices).get('name', 'devices')}"
    return build_scenario(
        dnn,
        devices,
        network,
        name=name,
        source_device=source,
        destination_device=destination,
        capture_shape=tuple(capture) if capture else None,
        preprocess=bool(sc.get("preprocess", True)),
        preassign=sc.get("preassign") or {},
        where=where,
    )


def profiles_from_cfg(cfg, scenario):
    """Bundle profiles named by ``profiles.source`` for this DNN and granularity (Ch. 7)."""
    from layerplan.profiles import load_profiles

    prof = to_dict(cfg.get("profiles"))
    if not prof.get("source"):
        return None, None
    return load_profiles(prof["source"], scenario.dnn.name, scenario.dnn.granularity), prof


def baseline_from_cfg(cfg, scenario, profiles, profile_map, baseline):
    from layerplan.baselines import run_baseline
    from layerplan.latency import analytic_params
    from layerplan.profiles import bundle_latency

    params = analytic_params(scenario)
    if profiles is not None:
        params.bundles = bundle_latency(params, profiles, profile_map.get("map") or {},
                                        {d.name: d.spec for d in scenario.devices if d.spec}, profile_map.get("frequency") or {})
    return run_baseline(scenario, params, baseline, list(formulation_from_cfg(cfg)))


def formulation_from_cfg(cfg) -> dict:
    if cfg.get("formulation") is not None:
        return to_dict(cfg.formulation)
    return {name: {} for name in (cfg.get("default_formulation") or [])}


def carbon_from_cfg(cfg, scenario, formulation: dict) -> tuple[dict, dict]:
    """With the ``cadi`` mixin, resolve ``carbon.devices`` (device -> grid) to C_d in
    mgCO2/J (constants or traces at ``carbon.time``) and pass them to the block, unless
    ``formulation.cadi.carbon_intensity_mg_per_J`` is given. Returns (formulation, record)."""
    from layerplan.carbon import device_intensities

    if "cadi" not in formulation:
        return formulation, {}
    carbon = to_dict(cfg.get("carbon"))
    opts = dict(formulation.get("cadi") or {})
    if opts.get("carbon_intensity_mg_per_J") or not carbon.get("devices"):
        return formulation, {}
    values, info = device_intensities(carbon, [d.name for d in scenario.devices])
    return {**formulation, "cadi": {**opts, "carbon_intensity_mg_per_J": values}}, info


def load_plugins(modules) -> None:
    """Import plugin modules named in the config (``plugins=[my_constraints]``); the
    working directory is importable so a single file next to the user's data works."""
    import importlib
    import os

    if os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())
    for name in modules or []:
        try:
            importlib.import_module(str(name))
        except Exception as exc:
            raise LayerplanError(f"cannot import plugin module {name!r} ({type(exc).__name__}: {exc})",
                                 source="config", field="plugins") from None


def run_job(cfg, output_dir: Path, *, multirun: bool = False) -> dict[str, Any]:
    """Solve one configured scenario; always writes result.json; returns the record."""
    from layerplan.api import solve_scenario
    from layerplan.results import format_plan, to_jsonable

    output_dir.mkdir(parents=True, exist_ok=True)
    config = to_dict(cfg) if cfg is not None else {}
    (output_dir / "config.yaml").write_text(OmegaConf.to_yaml(OmegaConf.create(config)))
    if (config.get("dynasplit") or {}).get("task"):  # DynaSplit data jobs (docs/dynasplit.md)
        from layerplan.dynasplit.runner import run_job as dynasplit_job; return dynasplit_job(config, output_dir, multirun=multirun)  # noqa: E702
    try:
        load_plugins(config.get("plugins"))
        if config.get("runner"):  # an experiment with its own job, e.g. conf/experiment/dag_workloads.yaml
            return _run_runner(config, cfg, output_dir)
        scenario = scenario_from_cfg(cfg)
        profiles, profile_map = profiles_from_cfg(cfg, scenario)
        obj = to_dict(cfg.objective)
        baseline = to_dict(cfg.get("baseline"))
        if baseline.get("name"):
            result = baseline_from_cfg(cfg, scenario, profiles, profile_map, baseline)
        else:
            formulation, carbon_info = carbon_from_cfg(cfg, scenario, formulation_from_cfg(cfg))
            result = solve_scenario(
                scenario,
                formulation=formulation,
                constraints=to_dict(cfg.get("constraints")),
                objective=obj if len(obj) > 1 else obj.get("name", "latency"),
                model=to_dict(cfg.get("model")),
                solver=to_dict(cfg.solver),
                profiles=profiles,
                profile_map=(profile_map or {}).get("map") or {},
                profile_frequency=(profile_map or {}).get("frequency") or {},
            )
            if carbon_info:
                result["carbon_grids"] = carbon_info
        error = None
    except LayerplanError as exc:
        error = exc
        result = {"status": "error", "error": exc.one_line(), "error_type": type(exc).__name__}
    result["experiment"] = config.get("experiment_name")
    result["output_dir"] = str(output_dir)
    result_path = output_dir / "result.json"
    result_path.write_text(json.dumps(to_jsonable(result), indent=2))
    if error is None and cfg.get("print_plan", True):
        print(format_plan(result))
        print(f"\nresult: {result_path}")
    tags = {"dnn": str(config.get("dnn", {}).get("name")), "devices": str(config.get("devices", {}).get("name")),
            "experiment": str(config.get("experiment_name"))}
    try:
        # a Hydra multirun job records in its own process; a single run hands it to the background
        run_id = log_run_safe({**config, "tracking": {**(config.get("tracking") or {}), "mode": "sync"}} if multirun
                              else config, result, [result_path, output_dir / "config.yaml"], tags)
        if run_id:
            result["mlflow_run_id"] = run_id
    except LayerplanError as exc:
        if error is None:
            error = exc
    if error is not None:
        print(f"layerplan: error: {error.one_line()}", file=sys.stderr)
        if not multirun:
            sys.exit(error.exit_code)
    return result


def _run_runner(config, cfg, output_dir: Path) -> dict[str, Any]:
    """Call ``runner`` (``module.function(cfg, output_dir)``) and write its result.json."""
    import importlib

    from layerplan.results import to_jsonable

    mod, _, fn = str(config["runner"]).rpartition(".")
    result = getattr(importlib.import_module(mod), fn)(cfg, output_dir)
    result["experiment"] = config.get("experiment_name")
    (output_dir / "result.json").write_text(json.dumps(to_jsonable(result), indent=2))
    return result


def log_run_safe(config, result, artifacts, tags):
    from layerplan.tracking import log_run

    tracking = config.get("tracking") or {}
    try:
        return log_run(tracking, config, result, artifacts, tags=tags)
    except Exception as exc:  # tracking must never lose the result already written
        raise LayerplanError(
            f"could not record the run in MLflow ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
            f"result.json is kept",
            source="tracking",
            field="uri",
        ) from None


@hydra.main(config_path="pkg://layerplan.conf", config_name="config", version_base="1.3")
def _hydra_main(cfg: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    hc = HydraConfig.get()
    run_job(cfg, Path(hc.runtime.output_dir), multirun=hc.mode == RunMode.MULTIRUN)


def main() -> None:
    from layerplan.launch import main as launch

    code = launch()
    if code is None:  # a command line that needs Hydra's own machinery
        _hydra_main()
    elif code:
        sys.exit(code)


if __name__ == "__main__":
    main()
