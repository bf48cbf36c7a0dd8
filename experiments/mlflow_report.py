"""Rebuild an experiment's report from the runs recorded in MLflow, without solving again.

    python -m layerplan.experiments.mlflow_report table6_2 --tracking-uri http://127.0.0.1:5000
    python -m layerplan.experiments.mlflow_report fig6_2 --tracking-uri sqlite:///mlflow.db --out rep

Every run of the MLflow experiment (default: the experiment's own name, which is what
``conf/experiment/*.yaml`` sets as ``tracking.experiment``) whose ``experiment`` tag names
this experiment has its ``result.json`` and ``config.yaml`` artifacts downloaded into a
temporary folder laid out like a sweep folder (one sub-folder per job, named after the
job's own output folder), and the report is built from it by the same code as
``python -m layerplan.experiments.report``. By default only the latest sweep is used (the
runs whose jobs shared the sweep folder of the most recent run); ``--sweep all`` takes
every recorded run, ``--sweep <folder>`` the runs of one sweep folder.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from layerplan.experiments import EXPERIMENTS


def fetch_runs(name: str, tracking_uri: str, mlflow_experiment: str | None = None) -> list:
    """The MLflow runs recorded for experiment ``name`` (newest first)."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    import mlflow

    client = mlflow.MlflowClient(tracking_uri)
    exp_name = mlflow_experiment or name
    exp = client.get_experiment_by_name(exp_name)
    if exp is None:
        raise LookupError(f"no MLflow experiment {exp_name!r} at {tracking_uri}")
    runs = client.search_runs([exp.experiment_id], filter_string=f"tags.experiment = '{name}'",
                              order_by=["attributes.start_time DESC"], max_results=50000)
    if not runs:
        raise LookupError(f"MLflow experiment {exp_name!r} at {tracking_uri} has no runs of {name!r}")
    return runs


def download_sweep(runs: list, tracking_uri: str, dest: Path, sweep: str = "latest") -> Path:
    """Lay the runs' result.json/config.yaml out under ``dest`` like a Hydra sweep folder."""
    import mlflow

    client = mlflow.MlflowClient(tracking_uri)
    staged = []  # (run, result, folder holding the downloaded artifacts)
    for i, run in enumerate(runs):
        tmp = dest / ".download" / str(i)
        tmp.mkdir(parents=True, exist_ok=True)
        names = {a.path for a in client.list_artifacts(run.info.run_id)}
        if "result.json" not in names:
            continue
        for art in ("result.json", "config.yaml"):
            if art in names:
                client.download_artifacts(run.info.run_id, art, str(tmp))
        staged.append((run, json.loads((tmp / "result.json").read_text()), tmp))
    if not staged:
        raise LookupError("none of the runs has a result.json artifact")

    def sweep_of(result: dict) -> str:
        return str(Path(result.get("output_dir") or "").parent)

    if sweep == "latest":
        chosen = sweep_of(staged[0][1])  # runs come newest first
        staged = [s for s in staged if sweep_of(s[1]) == chosen]
    elif sweep != "all":
        chosen = str(Path(sweep))
        staged = [s for s in staged if sweep_of(s[1]) in (chosen, str(Path(sweep).resolve()))]
        if not staged:
            raise LookupError(f"no recorded run belongs to the sweep folder {sweep}")
    used: set[str] = set()
    for i, (run, result, tmp) in enumerate(reversed(staged)):
        job = Path(result.get("output_dir") or "").name or run.info.run_id
        if job in used:  # --sweep all: job numbers repeat across sweeps
            job = f"{job}_{run.info.run_id[:8]}"
        used.add(job)
        shutil.move(str(tmp), dest / job)
    shutil.rmtree(dest / ".download", ignore_errors=True)
    return dest


def build_report_from_mlflow(name: str, tracking_uri: str, out_dir: str | Path, *,
                             mlflow_experiment: str | None = None, sweep: str = "latest",
                             keep_sweep: str | Path | None = None) -> dict:
    """Download the recorded runs and build the report with ``report.build_report``."""
    from layerplan.experiments.report import build_report

    if name not in EXPERIMENTS:
        raise LookupError(f"unknown experiment {name!r} (known: {', '.join(EXPERIMENTS)})")
    runs = fetch_runs(name, tracking_uri, mlflow_experiment)
    with tempfile.TemporaryDirectory(prefix=f"layerplan-{name}-") as tmp:
        sweep_dir = download_sweep(runs, tracking_uri, Path(tmp) / "sweep", sweep)
        summary = build_report(name, sweep_dir, out_dir)
        if keep_sweep:
            shutil.copytree(sweep_dir, keep_sweep, dirs_exist_ok=True)
    summary["tracking_uri"] = tracking_uri
    summary["n_runs"] = len(runs)
    return summary


def main(argv: list[str] | None = None) -> int:
    from layerplan.tracking import resolve_uri

    ap = argparse.ArgumentParser(prog="python -m layerplan.experiments.mlflow_report", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("experiment", choices=EXPERIMENTS)
    ap.add_argument("--tracking-uri", default=None,
                    help="MLflow tracking URI (default: the embedded store sqlite:///<cwd>/mlflow.db)")
    ap.add_argument("--mlflow-experiment", default=None, help="MLflow experiment name (default: the experiment)")
    ap.add_argument("--sweep", default="latest", help="latest (default), all, or a sweep folder as recorded")
    ap.add_argument("--out", default=None, help="report folder (default: mlflow_reports/<experiment>)")
    ap.add_argument("--keep-sweep", default=None, help="also copy the downloaded sweep folder here")
    args = ap.parse_args(argv)
    uri = resolve_uri(args.tracking_uri)
    out = Path(args.out or Path("mlflow_reports") / args.experiment)
    try:
        summary = build_report_from_mlflow(args.experiment, uri, out, mlflow_experiment=args.mlflow_experiment,
                                           sweep=args.sweep, keep_sweep=args.keep_sweep)
    except LookupError as exc:
        print(f"layerplan: error: {exc.args[0]}", file=sys.stderr)
        return 2
    print(Path(summary["out_dir"], "report.md").read_text())
    print(f"report: {Path(summary['out_dir']) / 'report.md'} ({summary['n_records']} runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
