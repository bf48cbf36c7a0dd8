"""Shared helpers of the DynaSplit tests: the data folder (skip when absent) and hand-made pools."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("LAYERPLAN_DYNASPLIT_DIR", ROOT.parent / "shared" / "data" / "dynasplit"))
needs_data = pytest.mark.skipif(not (DATA / "simulation_pool").is_dir(),
                                reason=f"DynaSplit data not found at {DATA} (set LAYERPLAN_DYNASPLIT_DIR)")

HEADER = ("accuracy,latency,energy,avg energy edge (J),avg latency edge (ms),avg latency cloud (ms),"
          "avg latency transfer (ms),avg energy cloud (J),avg energy cloud gpu (J),utilization cloud cpu (%),"
          "utilization cloud gpu (%),utilization edge cpu (%),tensor size (KB),cpu-freq,layer,edge-accelerator,"
          "server-accelerator")


def row(freq, layer, tpu, gpu, edge_ms, xfer_ms, cloud_ms, edge_J, cloud_J, acc=0.6, tensor_KB=4.0) -> str:
    lat = edge_ms + xfer_ms + cloud_ms
    return (f"{acc},{lat},{edge_J + cloud_J},{edge_J},{edge_ms},{cloud_ms},{xfer_ms},{cloud_J},0.0,0,0,0,{tensor_KB},"
            f"{freq},{layer},{tpu},{gpu}")


def write_pool(root: Path, network: str, rows: list[str], *, workloads: dict | None = None,
               reconfig_ms=(100.0, 200.0)) -> Path:
    (root / "simulation_pool").mkdir(parents=True, exist_ok=True)
    (root / "simulation_pool" / f"simulation_pool_{network}.csv").write_text("\n".join([HEADER, *rows]) + "\n")
    (root / "overhead").mkdir(exist_ok=True)
    name = {"vgg16": "splinter_overhead_metrics_vgg16_exhaustive.csv", "vit": "splinter_overhead_metrics_vit.csv"}[network]
    lines = ["Phase,Duration (ms),CPU Usage (%),Additional RAM Usage (MB)", "Pareto Load & Sort,4000,20,10"]
    lines += [f"Hardware Configuration Change,{v},0.5,0" for v in reconfig_ms]
    (root / "overhead" / name).write_text("\n".join(lines) + "\n")
    if workloads:
        (root / "workload").mkdir(exist_ok=True)
        for n, qs in workloads.items():
            body = ["Index,Network,Latency"] + [f"{i},{network},{q}" for i, q in enumerate(qs)]
            (root / "workload" / f"network_latency_{n}_samples.csv").write_text("\n".join(body) + "\n")
    return root
