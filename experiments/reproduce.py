"""Regenerate the thesis tables and figures: every experiment, or the ones named.

    python -m layerplan.experiments.reproduce                  # the thesis' tables, reports under reports/
    python -m layerplan.experiments.reproduce --all            # + DONNA/HiDist throughput experiments
    python -m layerplan.experiments.reproduce table6_2 --out my_reports -- tracking=none

Each experiment is a sweep of layerplan's in-process engine (layerplan/engine.py: one
compose per config-group combination, duplicate solves skipped, warm worker processes,
one MLflow batch per experiment) with its folder under ``<out>/<name>/``; a rerun resumes
(jobs already finished there are kept; ``--fresh`` solves everything again); its report (Markdown, CSV, PNG) lands in
``<out>/<name>/report/`` and ``<out>/README.md`` indexes them with the elapsed times and
the claims that do not hold. Extra Hydra overrides after ``--`` go to every experiment.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from layerplan.experiments import EXPERIMENTS, THESIS_EXPERIMENTS


def spec_for(name: str, out: Path, overrides: list[str]):
    """The sweep of experiment ``name`` (its grid from conf/experiment/<name>.yaml), in ``out/<name>``."""
    from omegaconf import OmegaConf

    from layerplan.engine import SweepSpec
    from layerplan.launch import compose, split_hydra

    task, hyd = split_hydra([f"experiment={name}", *overrides])
    cfg = compose(task + hyd, hydra_node=True)
    params = OmegaConf.to_container(cfg.hydra.sweeper.params, resolve=False) if cfg.hydra.sweeper.get("params") else {}
    tracking = OmegaConf.to_container(cfg.tracking, resolve=True) if cfg.get("tracking") else {}
    report = OmegaConf.select(cfg, "hydra.callbacks.report.experiment", default=None)
    sweep = OmegaConf.to_container(cfg.sweep, resolve=True) if cfg.get("sweep") else {}
    return SweepSpec(name, out / name, {str(k): str(v) for k, v in (params or {}).items()}, task, report=report,
                     tracking=tracking, resume=bool(sweep.get("resume", True)))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1:]
    ap = argparse.ArgumentParser(prog="python -m layerplan.experiments.reproduce", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("experiments", nargs="*", help=f"default: the thesis' {', '.join(THESIS_EXPERIMENTS)}")
    ap.add_argument("--all", action="store_true", help=f"every experiment: {', '.join(EXPERIMENTS)}")
    ap.add_argument("--out", default="reports", help="report folder (default: reports)")
    ap.add_argument("--workers", type=int, default=None, help="worker processes (default: one per core)")
    ap.add_argument("--fresh", action="store_true", help="solve every job again (default: resume: jobs already "
                    "finished in <out>/<name> with the same config are kept)")
    args = ap.parse_args(argv)
    names = args.experiments or list(EXPERIMENTS if args.all else THESIS_EXPERIMENTS)
    unknown = [n for n in names if n not in EXPERIMENTS]
    if unknown:
        print(f"layerplan: error: unknown experiment(s) {', '.join(unknown)} (known: {', '.join(EXPERIMENTS)})",
              file=sys.stderr)
        return 2
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    from layerplan.engine import run_sweeps
    from layerplan.errors import LayerplanError

    t0 = time.perf_counter()
    overrides = extra + (["sweep.resume=false"] if args.fresh else [])
    try:
        specs = [spec_for(name, out, overrides) for name in names]
    except LayerplanError as exc:
        print(f"layerplan: error: {exc.one_line()}", file=sys.stderr)
        return 2
    code = run_sweeps(specs, workers=args.workers, label="reproduce: ")
    total = time.perf_counter() - t0
    lines = ["# layerplan: reproduced thesis tables and figures", "",
             "Solve and report times are CPU seconds in the worker processes (the experiments share one pool,",
             "so they overlap in time); the total is wall time.", "",
             "| experiment | status | jobs | distinct solves | solve (s) | report (s) | report | claims not holding |",
             "|---|---|---|---|---|---|---|---|"]
    for spec in specs:
        n_failed = sum(1 for j in spec.jobs if (j.record or {}).get("status") == "error")
        unique = len({j.key for j in spec.jobs if j.key})
        report = spec.report_path
        misses = []
        if report is not None and report.is_file():
            misses = [ln for ln in report.read_text().splitlines() if ln.startswith("- **does not hold**")]
        rel = report.relative_to(out) if report is not None and report.is_file() else "(none)"
        status = "ok" if not n_failed and not spec.report_error and not spec.tracking_error else (
            f"{n_failed} failed" if n_failed else "report/tracking failed")
        lines.append(f"| {spec.name} | {status} | {len(spec.jobs)} | {unique} | {spec.solve_s:.1f} | "
                     f"{spec.report_s:.1f} | {rel} | {len(misses)} |")
    lines += ["", f"total: {total:.1f} s wall, {len(specs)} experiments, "
              f"{sum(len(s.jobs) for s in specs)} jobs"]
    (out / "README.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return code


if __name__ == "__main__":
    sys.exit(main())
