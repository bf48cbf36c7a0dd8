"""Synthetic bundle profiles t^c[i, j, d] from the analytic model plus a bundle bias.

For devices nobody can measure here (the thesis' LePotato, Jetson Nano, RTX 2080 Ti),
this writes profile tables in the format of :mod:`layerplan.profiling.core` (read by
:mod:`layerplan.profiles`) that show the effect DIME is about (thesis Sec. 7.1):

* per-layer base latency, analytic model of Sec. 4.2 with weight loading folded in (as a
  profile does, Sec. 4.4)::

      b_l = flop_l / (FLOP/s) + 4 * weights_l / (internal bandwidth in B/s)

* bundle latency for layers i..j (n = j - i + 1 layers, L layers in the table)::

      t[i, j] = (b_i + ... + b_j) * g(n),   g(n) = 1 + B * (n - 1) / (L - 1)

  so g(1) = 1 and g(L) = 1 + B (g = 1 when L = 1). B > 0: an UNDER-estimating device
  (a sum of smaller bundles is less than the bundle that covers them, like the LePotato);
  B < 0: an OVER-estimating device (like the 2080 Ti). B must be > -1.
* noise: each bundle gets a multiplicative log-normal factor exp(sigma * Z_b)
  (median 1); then ``--runs`` simulated runs, each times exp(sigma * Z_r), are reduced with
  the same 10 % trimmed mean as real measurements, which gives ``samples``,
  ``statistic`` and ``spread_s`` the meaning they have in measured tables. Everything is
  drawn from one numpy Generator seeded with ``--seed``, bundles in (i, j) order. With
  ``--noise 0`` the table is exactly the formula above.

Usage::

    python -m layerplan.tools.synthetic_profiles --dnn alexnet --granularity major \\
        --device lepotato --gflops-per-s 24.2 --internal-bandwidth-Bps 4e9 --bias 0.6 \\
        --noise 0.02 --seed 0 --out data/profiles/synthetic/alexnet_lepotato.csv

``--catalogue-device NAME`` takes the FLOP/s and bandwidth from
``data/devices/catalogue.yaml`` (explicit options win). numpy only, no torch.
"""

from __future__ import annotations

import argparse
import csv
import math
import shlex
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from layerplan.errors import LayerplanError
from layerplan.profiling import core

ALPHA_B = 4  # bytes per weight (float32), as in the layer tables' alpha_B


def base_latencies(table: Sequence[dict[str, Any]], flops_per_s: float, internal_bandwidth_Bps: float) -> list[float]:
    """``b_l = flop_l / flops_per_s + ALPHA_B * weights_l / internal_bandwidth_Bps`` per layer."""
    if flops_per_s <= 0 or internal_bandwidth_Bps <= 0:
        raise ValueError("FLOP/s and internal bandwidth must be > 0")
    return [float(r["flop"]) / flops_per_s + ALPHA_B * float(r["weights"]) / internal_bandwidth_Bps for r in table]


def bundle_factor(n: int, n_layers: int, bias: float) -> float:
    """g(n) = 1 + B (n - 1) / (L - 1); g(1) = 1, g(L) = 1 + B."""
    if not 1 <= n <= n_layers:
        raise ValueError(f"bundle size {n} outside 1..{n_layers}")
    if n_layers == 1:
        return 1.0
    return 1.0 + bias * (n - 1) / (n_layers - 1)


def synthetic_rows(
    table: Sequence[dict[str, Any]],
    *,
    dnn: str,
    granularity: str,
    device: str,
    flops_per_s: float,
    internal_bandwidth_Bps: float,
    bias: float,
    noise: float = 0.0,
    seed: int = 0,
    mbs: int | None = None,
    runs: int = 100,
    power_W: float | None = None,
) -> list[dict[str, Any]]:
    """All bundle rows (i, j) with j - i + 1 <= MBS (default every bundle)."""
    if bias <= -1:
        raise ValueError(f"bias must be > -1, got {bias}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    if runs < 0:
        raise ValueError("runs must be >= 0")
    base = base_latencies(table, flops_per_s, internal_bandwidth_Bps)
    L = len(base)
    rng = np.random.default_rng(seed)
    rows = []
    for i, j in core.bundles(L, mbs):
        t = math.fsum(base[i - 1 : j]) * bundle_factor(j - i + 1, L, bias)
        t *= math.exp(noise * rng.standard_normal()) if noise else 1.0
        if runs:
            samples = t * np.exp(noise * rng.standard_normal(runs)) if noise else np.full(runs, t)
            value, spread = core.trimmed_mean(samples.tolist())
            if not noise:
                value, spread = t, 0.0
        else:
            value, spread = t, None
        rows.append(
            core.make_row(
                dnn, granularity, device, i, j, value,
                energy_J=None if power_W is None else power_W * value,
                samples=runs, spread_s=spread,
                statistic=core.STATISTIC if runs else "synthetic",
            )
        )
    return rows


def _catalogue_entry(name: str, path: str | None) -> dict[str, float]:
    import yaml

    from layerplan.io import data_root
    from layerplan.units import read_quantity

    p = Path(path) if path else data_root() / "devices" / "catalogue.yaml"
    with open(p, encoding="utf-8") as fh:
        devices = (yaml.safe_load(fh) or {}).get("devices", {})
    if name not in devices:
        raise LayerplanError(f"no device {name!r} (have: {', '.join(sorted(devices))})", source=str(p),
                             field="catalogue-device")
    rec = devices[name]
    src = f"{p}: {name}"
    return {
        "flops_per_s": read_quantity(rec, "", "flops_per_s", source=src),
        "internal_bandwidth_Bps": read_quantity(rec, "internal_bandwidth", "Bps", source=src),
        "description": rec.get("description", name),
    }


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m layerplan.tools.synthetic_profiles",
                                description="Write a synthetic bundle profile table (analytic model x bundle bias x noise).")
    p.add_argument("--dnn", required=True)
    p.add_argument("--granularity", default="major")
    p.add_argument("--device", required=True, help="device label written in the table")
    p.add_argument("--gflops-per-s", type=float, help="compute throughput in GFLOP/s")
    p.add_argument("--internal-bandwidth-Bps", type=float, help="memory bandwidth in B/s (weight loading)")
    p.add_argument("--catalogue-device", help="take missing throughput/bandwidth from this catalogue entry")
    p.add_argument("--catalogue", help="device catalogue YAML (default data/devices/catalogue.yaml)")
    p.add_argument("--bias", type=float, default=0.0, help="B: g(L) = 1 + B; > 0 under-, < 0 over-estimating")
    p.add_argument("--noise", type=float, default=0.02, help="sigma of the log-normal noise (default 0.02)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--mbs", type=int, default=None, help="maximum bundle size (default: all bundles)")
    p.add_argument("--runs", type=int, default=100, help="simulated runs per bundle (0: no trimmed mean)")
    p.add_argument("--power-W", type=float, default=None, help="if given, energy_J = power_W x latency_s")
    p.add_argument("--description", default=None)
    p.add_argument("--dnn-dir", default=None, help="folder of the layer tables (default data/dnn)")
    p.add_argument("--out", required=True)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    try:
        flops, bw, desc = None, None, None
        if args.gflops_per_s is not None:
            flops = args.gflops_per_s * 1e9
        bw = args.internal_bandwidth_Bps
        if args.catalogue_device:
            entry = _catalogue_entry(args.catalogue_device, args.catalogue)
            flops = flops if flops is not None else entry["flops_per_s"]
            bw = bw if bw is not None else entry["internal_bandwidth_Bps"]
            desc = entry["description"]
        if flops is None or bw is None:
            raise LayerplanError("give --gflops-per-s and --internal-bandwidth-Bps (or --catalogue-device)",
                                 source="synthetic_profiles", field="args")
        table = core.read_layer_table(args.dnn, args.granularity, args.dnn_dir)
        rows = synthetic_rows(
            table, dnn=args.dnn, granularity=args.granularity, device=args.device, flops_per_s=flops,
            internal_bandwidth_Bps=bw, bias=args.bias, noise=args.noise, seed=args.seed, mbs=args.mbs,
            runs=args.runs, power_W=args.power_W,
        )
        kind = "under-estimating" if args.bias > 0 else "over-estimating" if args.bias < 0 else "additive"
        meta = {
            "device": args.device,
            "description": args.description or (
                f"synthetic {desc or args.device}: analytic model ({flops / 1e9:g} GFLOP/s, {bw:g} B/s) "
                f"x bundle factor g(n) = 1 + B (n-1)/(L-1), B = {args.bias:g} ({kind}), log-normal noise sigma {args.noise:g}"
            ),
            "machine": "none (synthetic, not measured)",
            "threads": "n/a",
            "synthetic": True,
            "generator": "python -m layerplan.tools.synthetic_profiles " + " ".join(shlex.quote(a) for a in argv),
            "runs": (f"{args.runs} simulated (log-normal per-run noise sigma {args.noise:g}), no measurement"
                     if args.runs else "none (formula value)"),
            "statistic": core.STATISTIC_TEXT if args.runs else "formula value",
            "loadavg_1min": "n/a",
            "created": core.utc_now(),
        }
        core.write_profile(args.out, meta, rows)
    except LayerplanError as exc:
        print(f"layerplan: error: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    except (ValueError, OSError) as exc:
        print(f"layerplan: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
