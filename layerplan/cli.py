"""Command-line entry point (``python run.py`` or ``layerplan``), driven by Hydra.

One job: build the scenario from the config, compose and solve the model, print the
plan, write ``result.json`` in the Hydra output folder and record the run in MLflow. A
user error ends the job with one line ``layerplan: error: ...`` and a non-zero exit (in
a multirun the failing job is recorded and the sweep goes on).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig, OmegaConf

from layerplan.errors import LayerplanError


# The assembly from a config to a solved problem lives in layerplan.api (one path for the
# CLI, the Python API, sweeps and experiments); these names stay importable from here.
from layerplan.api import (  # noqa: E402,F401
    baseline_from_cfg,
    carbon_from_cfg,
    formulation_from_cfg,
    load_plugins,
    profiles_from_cfg,
    scenario_from_cfg,
    solve_config,
    to_dict,
)


def _register_resolvers() -> None:
    """``${layerplan_pid:}`` (the process id) for unique output folders (conf/config.yaml).
    Cached, so that a sweep's workers see the folder the launcher resolved."""
    import os

    if not OmegaConf.has_resolver("layerplan_pid"):
        OmegaConf.register_new_resolver("layerplan_pid", lambda: os.getpid(), use_cache=True)


_register_resolvers()


def run_job(cfg, output_dir: Path, *, multirun: bool = False, notes: list[str] | None = None) -> dict[str, Any]:
    """Solve one configured scenario; always writes result.json; returns the record.
    ``notes``: defaults the config chose for the user (printed before the plan, recorded)."""
    from layerplan.results import format_plan, to_jsonable, write_json

    started_ms = int(time.time() * 1000)  # a multirun job's MLflow start (a single run's: its process start)
    output_dir = Path(output_dir).absolute()  # printed and recorded: usable from any folder
    output_dir.mkdir(parents=True, exist_ok=True)
    config = to_dict(cfg) if cfg is not None else {}
    (output_dir / "config.yaml").write_text(OmegaConf.to_yaml(OmegaConf.create(config)))
    if (config.get("dynasplit") or {}).get("task"):  # DynaSplit data jobs (docs/dynasplit.md)
        from layerplan.dynasplit.runner import run_job as dynasplit_job; return dynasplit_job(config, output_dir, multirun=multirun)  # noqa: E702
    try:
        if config.get("runner"):  # an experiment with its own job, e.g. conf/experiment/dag_workloads.yaml
            load_plugins(config.get("plugins"))
            return _run_runner(config, cfg, output_dir)
        result = solve_config(cfg if cfg is not None else {})
        error = None
    except LayerplanError as exc:
        error = exc
        result = {"status": "error", "error": exc.one_line(), "error_type": type(exc).__name__}
    notes = list(notes or []) + list(result.get("defaults_chosen") or [])  # + those solve_config chose
    if notes:
        result["defaults_chosen"] = notes
    result["experiment"] = config.get("experiment_name")
    result["output_dir"] = str(output_dir)
    result_path = output_dir / "result.json"
    write_json(result_path, to_jsonable(result), indent=2)
    if error is None and cfg.get("print_plan", True):
        if notes:
            from layerplan.config_check import describe_defaults

            print(describe_defaults(notes))
        print(format_plan(result))
        print(f"\nresult: {result_path}")
    tags = {"dnn": str(config.get("dnn", {}).get("name")), "devices": str(config.get("devices", {}).get("name")),
            "experiment": str(config.get("experiment_name"))}
    try:
        # a Hydra multirun job records in its own process; a single run hands it to the background
        run_id = log_run_safe({**config, "tracking": {**(config.get("tracking") or {}), "mode": "sync"}} if multirun
                              else config, result, [result_path, output_dir / "config.yaml"], tags,
                              started_ms=started_ms if multirun else None)
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

    from layerplan.results import to_jsonable, write_json

    mod, _, fn = str(config["runner"]).rpartition(".")
    result = getattr(importlib.import_module(mod), fn)(cfg, output_dir)
    result["experiment"] = config.get("experiment_name")
    write_json(output_dir / "result.json", to_jsonable(result), indent=2)
    return result


def log_run_safe(config, result, artifacts, tags, started_ms: int | None = None):
    from layerplan.tracking import log_run, process_start_ms

    tracking = config.get("tracking") or {}
    times_ms = (started_ms if started_ms is not None else process_start_ms(), int(time.time() * 1000))
    try:
        return log_run(tracking, config, result, artifacts, tags=tags, times_ms=times_ms)
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

    from layerplan.config_check import chosen_defaults

    hc = HydraConfig.get()
    notes = chosen_defaults(cfg, list(hc.overrides.task), dict(hc.runtime.choices))
    run_job(cfg, Path(hc.runtime.output_dir), multirun=hc.mode == RunMode.MULTIRUN, notes=notes)


def _one_line_errors(run_and_report):
    """Hydra's run_and_report, but an error Hydra would print over many lines (unknown
    option, unknown key, bad override, unwritable output folder) ends in one line
    ``layerplan: error: ...`` and exit 2. HYDRA_FULL_ERROR=1 keeps Hydra's own report."""
    import os

    def wrapped(func):
        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            return run_and_report(func)
        try:
            return func()
        except LayerplanError as exc:
            print(f"layerplan: error: {exc.one_line()}", file=sys.stderr)
            sys.exit(exc.exit_code)
        except Exception as exc:
            from layerplan.config_check import hydra_error_line

            line, code = hydra_error_line(exc)
            if not line:  # not a user error: Hydra's report (a stack trace) helps more
                return run_and_report(lambda: (_ for _ in ()).throw(exc))
            print(f"layerplan: error: {line}", file=sys.stderr)
            sys.exit(code)

    return wrapped


def main() -> None:
    from layerplan.help import maybe_print_help

    if maybe_print_help(sys.argv[1:]):
        return
    from layerplan.launch import main as launch

    try:
        code = launch()
    except LayerplanError as exc:
        print(f"layerplan: error: {exc.one_line()}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except Exception as exc:  # Hydra's compose errors (unknown option, bad override, ...) in one line
        from layerplan.config_check import hydra_error_line

        line, err = hydra_error_line(exc)
        if not line or os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        print(f"layerplan: error: {line}", file=sys.stderr)
        sys.exit(err)
    if code is None:  # a command line that needs Hydra's own machinery
        _run_hydra_one_line()
    elif code:
        sys.exit(code)


def _run_hydra_one_line() -> None:
    import hydra._internal.utils as hydra_utils

    original = hydra_utils.run_and_report
    hydra_utils.run_and_report = _one_line_errors(original)
    try:
        _hydra_main()
    finally:
        hydra_utils.run_and_report = original


if __name__ == "__main__":
    main()
