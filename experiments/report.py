"""Rebuild an experiment's report from a finished sweep, without solving again.

    python -m layerplan.experiments.report table6_2 multirun/table6_2/<stamp> [--out DIR]
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from layerplan.experiments import EXPERIMENTS
from layerplan.experiments.records import load_records


def build_report(name: str, sweep_dir: str | Path, out_dir: str | Path | None = None) -> dict:
    if name not in EXPERIMENTS:
        raise SystemExit(f"layerplan: error: unknown experiment {name!r} (known: {', '.join(EXPERIMENTS)})")
    module = importlib.import_module(f"layerplan.experiments.{name}")
    records = load_records(sweep_dir)
    out = Path(out_dir) if out_dir else Path(sweep_dir) / "report"
    summary = module.build(records, out)
    summary["out_dir"] = str(out)
    summary["n_records"] = len(records)
    return summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m layerplan.experiments.report", description=__doc__)
    ap.add_argument("experiment", choices=EXPERIMENTS)
    ap.add_argument("sweep_dir")
    ap.add_argument("--out", default=None, help="report folder (default: <sweep_dir>/report)")
    args = ap.parse_args(argv)
    if not Path(args.sweep_dir).is_dir():
        print(f"layerplan: error: {args.sweep_dir}: no such sweep folder", file=sys.stderr)
        return 2
    summary = build_report(args.experiment, args.sweep_dir, args.out)
    print(Path(summary["out_dir"], "report.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
