"""Hydra callback: build the experiment's report when its multirun ends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback


class ReportCallback(Callback):
    def __init__(self, experiment: str, out_dir: str | None = None) -> None:
        self.experiment = experiment
        self.out_dir = out_dir

    def on_multirun_end(self, config: Any, **kwargs: Any) -> None:
        from layerplan.experiments.report import build_report

        sweep_dir = Path(config.hydra.sweep.dir)
        summary = build_report(self.experiment, sweep_dir, self.out_dir or sweep_dir / "report")
        report = Path(summary["out_dir"]) / "report.md"
        print(report.read_text())
        print(f"report: {report}")
