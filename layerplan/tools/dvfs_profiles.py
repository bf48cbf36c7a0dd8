"""Calibrated DVFS bundle profiles (latency AND energy per frequency) for FreDDI, Ch. 8.

**Synthetic, not measured.** Stand-ins for the thesis' profiled Jetson Nano (GPU DVFS),
LePotato (CPU DVFS) and RTX 2080 Ti server (Sec. 8.1, 8.4), built from the analytic model
of Sec. 4.2 (FLOP / FLOP/s and weights / memory bandwidth, ``data/devices/catalogue.yaml``)
and a frequency model calibrated to the facts the thesis documents for whole-network
AlexNet (Sec. 8.1 and Fig. 8.1, and Sec. 7.4 for the LePotato's absolute latency).

Model, per edge device (``docs/freddi.md``)::

    per layer, at f_max:  c_l = eta_c * flop_l / (FLOP/s)      (compute, scales with 1/f)
                          m_l = eta_m * 4 * weights_l / (B/s)  (memory, does not scale)
    bundle i..j at f:     t[i,j,f] = (sum c_l * f_max / f + sum m_l) * g(n) * exp(sigma Z_b)
                          g(n) = 1 + B (n - 1) / (L - 1)       (as layerplan.tools.synthetic_profiles)
    power at f:           P(f) = P_static + k * f * V(f)^2,  V(f) = V_max * (v0 + (1 - v0) (f - f_min) / (f_max - f_min))
    energy:               e[i,j,f] = P(f) * t[i,j,f]

The compute fraction phi = sum c / (sum c + sum m) of whole-network AlexNet follows from
the speed-up fact, t(f_min) / t(f_max) = (1 - phi) + phi f_max / f_min = S, and the two
efficiencies eta_c, eta_m from phi and the absolute AlexNet latency at f_max. The power
constants follow from the energy fact E(f_max) / E(f_min) = (1 + x): P(f_max) / P(f_min) =
(1 + x) S with the voltage ratio v0 fixed (documented below), which gives P_static / k;
the absolute power level P(f_max) is a documented assumption. The bundle noise Z_b is
drawn once per bundle and shared by every frequency; so are the ``--runs``-style simulated
runs (100 per-run factors exp(0.02 Z), reduced with the 10 % trimmed mean, which gives
``samples``, ``statistic`` and ``spread_s`` their measured meaning), so the calibration ratios
hold on every bundle exactly (up to the 6 significant digits written).

Facts used (whole-network AlexNet, bundle (1, L)):

* Jetson Nano (GPU, 537.6 ... 921.6 MHz): 921.6 MHz is "25 % faster" than 537.6 MHz
  (read as t(537.6) / t(921.6) = 1.25) "with a 12 % energy overhead" (E ratio 1.12);
  "about 30 ms" at the fastest frequency (Fig. 8.1).
* LePotato (CPU, 500 ... 1200 MHz): 1200 MHz is 1.95x faster than 500 MHz (t ratio 1.95)
  for 38.9 % more energy (E ratio 1.389); about 0.46 s for AlexNet (Ch. 7's measured
  profiles, data/profiles/synthetic/README.md).

The Nano also gets profiles labelled ``governor`` (JointDNN-DVFS, Sec. 8.4: profiles taken
under the stock DVFS governor), written to the subfolder ``governor/`` so that a plain
``profiles=dvfs`` (frequency policy ``all``) never offers FreDDI the governor as a choice.
Governor model: the governor ramps the clock up while a bundle runs, so a bundle of
nominal duration t (at f_max) runs at an effective frequency
``f_eff = f_min + (f_max - f_min) * (1 - exp(-t / tau))`` (tau = 15 ms), with an extra
log-normal latency variance (sigma 0.08, drawn per bundle, Band [53]) and power
``P(f_eff) * (1 + 0.05)`` (the governor's own polling/transition overhead, 5 %).

Usage::

    python -m layerplan.tools.dvfs_profiles --out data/profiles/dvfs

numpy only, no torch. Deterministic: seeded, and no time stamp is written.
"""

from __future__ import annotations

import argparse
import math
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from layerplan.errors import LayerplanError
from layerplan.profiling import core
from layerplan.tools.synthetic_profiles import ALPHA_B, _catalogue_entry, bundle_factor

DNNS = ("alexnet", "vgg11", "vit_b_16")
GRANULARITY = "major"
CALIBRATION_DNN = "alexnet"
NOISE = 0.02
RUNS = 100
GOVERNOR_TAU_S = 0.015
GOVERNOR_SIGMA = 0.08
GOVERNOR_OVERHEAD = 0.05


@dataclass(frozen=True)
class EdgeModel:
    label: str
    kind: str  # gpu | cpu
    freqs_MHz: tuple[float, ...]
    speedup: float  # t(f_min) / t(f_max), whole AlexNet
    energy_ratio: float  # E(f_max) / E(f_min), whole AlexNet
    alexnet_s: float  # whole AlexNet latency at f_max
    p_max_W: float  # board power at f_max (assumption)
    v0: float  # V(f_min) / V(f_max) (assumption)
    bias: float  # bundle factor B (under-estimating > 0)
    seed: int
    facts: str


NANO = EdgeModel(
    "jetson_nano", "gpu", (537.6, 614.4, 691.2, 768.0, 844.8, 921.6), 1.25, 1.12, 0.030, 3.3, 0.80, 0.2, 12,
    "Sec. 8.1/Fig. 8.1: AlexNet 921.6 MHz 25% faster than 537.6 MHz (t ratio 1.25) for 12% more energy; ~30 ms at 921.6 MHz",
)
# 500, 667, 1000, 1200 MHz are operating points of the LePotato's Amlogic S905X cpufreq table.
LEPOTATO = EdgeModel(
    "lepotato", "cpu", (500.0, 667.0, 1000.0, 1200.0), 1.95, 1.389, 0.46, 2.6, 0.78, 0.6, 11,
    "Sec. 8.1: AlexNet 1200 MHz 1.95x faster than 500 MHz for 38.9% more energy; ~0.46 s at 1200 MHz (Ch. 7)",
)
EDGES = (NANO, LEPOTATO)
CLOUD = ("rtx2080ti", -0.3, 13)


def compute_fraction(m: EdgeModel) -> float:
    """phi with (1 - phi) + phi * f_max / f_min = speedup."""
    r = m.freqs_MHz[-1] / m.freqs_MHz[0]
    phi = (m.speedup - 1.0) / (r - 1.0)
    if not 0 < phi <= 1:
        raise ValueError(f"{m.label}: speed-up {m.speedup} impossible with f_max/f_min = {r:.3f}")
    return phi


def power_constants(m: EdgeModel) -> tuple[float, float]:
    """(P_static W, k) with P(f) = P_static + k f V(f)^2 (f in MHz, V relative to V_max),
    P(f_max)/P(f_min) = energy_ratio * speedup and P(f_max) = p_max_W."""
    fmin, fmax = m.freqs_MHz[0], m.freqs_MHz[-1]
    d_max, d_min = fmax * 1.0, fmin * m.v0 ** 2  # dynamic power per unit k
    ratio = m.energy_ratio * m.speedup
    # (Ps + k d_max) = ratio (Ps + k d_min), Ps + k d_max = p_max
    # -> Ps (ratio - 1) = k (d_max - ratio d_min)
    a = (d_max - ratio * d_min) / (ratio - 1.0)  # Ps = a k
    if a < 0:
        raise ValueError(f"{m.label}: power ratio {ratio:.3f} needs negative static power with v0 = {m.v0}")
    k = m.p_max_W / (a + d_max)
    return a * k, k


def voltage(m: EdgeModel, f: float) -> float:
    fmin, fmax = m.freqs_MHz[0], m.freqs_MHz[-1]
    return m.v0 + (1.0 - m.v0) * (f - fmin) / (fmax - fmin)


def power_W(m: EdgeModel, f: float) -> float:
    ps, k = power_constants(m)
    return ps + k * f * voltage(m, f) ** 2


def _analytic(table, entry) -> tuple[list[float], list[float]]:
    comp = [float(r["flop"]) / entry["flops_per_s"] for r in table]
    mem = [ALPHA_B * float(r["weights"]) / entry["internal_bandwidth_Bps"] for r in table]
    return comp, mem


def efficiencies(m: EdgeModel, catalogue: str | None = None, dnn_dir: str | None = None) -> tuple[float, float]:
    """(eta_c, eta_m) so that whole AlexNet at f_max takes alexnet_s with compute fraction phi."""
    entry = _catalogue_entry(m.label, catalogue)
    table = core.read_layer_table(CALIBRATION_DNN, GRANULARITY, dnn_dir)
    comp, mem = _analytic(table, entry)
    t = m.alexnet_s / bundle_factor(len(table), len(table), m.bias)
    phi = compute_fraction(m)
    return phi * t / math.fsum(comp), (1 - phi) * t / math.fsum(mem)


def edge_rows(m: EdgeModel, dnn: str, *, catalogue=None, dnn_dir=None, governor: bool = False) -> list[dict]:
    entry = _catalogue_entry(m.label, catalogue)
    table = core.read_layer_table(dnn, GRANULARITY, dnn_dir)
    comp, mem = _analytic(table, entry)
    eta_c, eta_m = efficiencies(m, catalogue, dnn_dir)
    L = len(table)
    fmax, fmin = m.freqs_MHz[-1], m.freqs_MHz[0]
    rng = np.random.default_rng([m.seed, DNNS.index(dnn) if dnn in DNNS else 99])
    bundles = list(core.bundles(L))
    noise = np.exp(NOISE * rng.standard_normal(len(bundles)))
    gov_noise = np.exp(GOVERNOR_SIGMA * rng.standard_normal(len(bundles)))
    runs = [_runs(rng) for _ in bundles]  # per-bundle run factors, shared by every frequency
    rows = []
    for f in (["governor"] if governor else m.freqs_MHz):
        for b, (i, j) in enumerate(bundles):
            c = eta_c * math.fsum(comp[i - 1:j])
            mm = eta_m * math.fsum(mem[i - 1:j])
            g = bundle_factor(j - i + 1, L, m.bias) * float(noise[b])
            if f == "governor":
                t_nom = (c + mm) * g
                f_eff = fmin + (fmax - fmin) * (1 - math.exp(-t_nom / GOVERNOR_TAU_S))
                t = (c * fmax / f_eff + mm) * g * float(gov_noise[b])
                p = power_W(m, f_eff) * (1 + GOVERNOR_OVERHEAD)
                freq = None
            else:
                t = (c * fmax / f + mm) * g
                p = power_W(m, f)
                freq = f * 1e6
            mean, sd = runs[b]
            row = core.make_row(dnn, GRANULARITY, m.label, i, j, t * mean, frequency_Hz=freq, energy_J=p * t * mean,
                                samples=RUNS, spread_s=t * sd)
            if f == "governor":
                row["frequency_Hz"] = "governor"
            rows.append(row)
    return rows


def _runs(rng) -> tuple[float, float]:
    """Trimmed mean and spread of RUNS simulated run factors exp(sigma Z) (median 1). The
    trimmed mean is scale-equivariant, so sharing the factors across frequencies keeps
    every ratio between frequencies exact."""
    return core.trimmed_mean(np.exp(NOISE * rng.standard_normal(RUNS)).tolist())


def cloud_rows(dnn: str, *, catalogue=None, dnn_dir=None) -> list[dict]:
    label, bias, seed = CLOUD
    entry = _catalogue_entry(label, catalogue)
    table = core.read_layer_table(dnn, GRANULARITY, dnn_dir)
    comp, mem = _analytic(table, entry)
    L = len(table)
    rng = np.random.default_rng([seed, DNNS.index(dnn) if dnn in DNNS else 99])
    rows = []
    for i, j in core.bundles(L):
        t = (math.fsum(comp[i - 1:j]) + math.fsum(mem[i - 1:j])) * bundle_factor(j - i + 1, L, bias)
        t *= math.exp(NOISE * rng.standard_normal())
        mean, sd = _runs(rng)
        rows.append(core.make_row(dnn, GRANULARITY, label, i, j, t * mean, samples=RUNS, spread_s=t * sd))
    return rows


def calibration_text(m: EdgeModel, catalogue=None, dnn_dir=None) -> str:
    eta_c, eta_m = efficiencies(m, catalogue, dnn_dir)
    ps, k = power_constants(m)
    return (f"{m.facts}; model t(f) = t_mem + t_comp f_max/f, phi = {compute_fraction(m):.4f}, "
            f"eta_c = {eta_c:.4g}, eta_m = {eta_m:.4g}; P(f) = P_static + k f V(f)^2, V linear "
            f"(V(f_min)/V(f_max) = {m.v0:g}), P_static = {ps:.4g} W, k = {k:.4g} W/MHz, "
            f"P(f_max) = {m.p_max_W:g} W (assumed), P(f_min) = {power_W(m, m.freqs_MHz[0]):.4g} W")


def write_all(out: str | Path, argv: Sequence[str], *, catalogue=None, dnn_dir=None, dnns=DNNS) -> list[Path]:
    out = Path(out)
    gen = "python -m layerplan.tools.dvfs_profiles " + " ".join(shlex.quote(a) for a in argv)
    written = []
    common = {"machine": "none (synthetic, not measured)", "threads": "n/a", "synthetic": True, "generator": gen,
              "runs": f"{RUNS} simulated (log-normal per-run factor sigma {NOISE:g}, the same draws at every "
                      "frequency of a bundle), no measurement",
              "statistic": core.STATISTIC_TEXT, "loadavg_1min": "n/a",
              "created": "n/a (deterministic: regenerate with the generator line)"}
    for dnn in dnns:
        for m in EDGES:
            meta = {"device": m.label,
                    "description": f"synthetic DVFS {m.kind.upper()} edge like the thesis' {m.label} "
                                   f"({', '.join(f'{f:g}' for f in m.freqs_MHz)} MHz), bundle factor B = {m.bias:g}, "
                                   f"noise sigma {NOISE:g}",
                    **common, "calibration": calibration_text(m, catalogue, dnn_dir)}
            written.append(core.write_profile(out / f"{dnn}_{m.label}.csv", meta,
                                              edge_rows(m, dnn, catalogue=catalogue, dnn_dir=dnn_dir)))
            if m is NANO:
                gmeta = dict(meta, description=f"synthetic {m.label} under the default DVFS governor (JointDNN-DVFS): "
                             f"f_eff = f_min + (f_max - f_min)(1 - exp(-t/{GOVERNOR_TAU_S:g} s)), extra latency "
                             f"noise sigma {GOVERNOR_SIGMA:g}, power x {1 + GOVERNOR_OVERHEAD:g}")
                written.append(core.write_profile(out / "governor" / f"{dnn}_{m.label}_governor.csv", gmeta,
                                                  edge_rows(m, dnn, catalogue=catalogue, dnn_dir=dnn_dir,
                                                            governor=True)))
        label, bias, _ = CLOUD
        meta = {"device": label, "description": f"synthetic {label}-like cloud, latency only at its nominal frequency, "
                f"analytic model x g(n), B = {bias:g}", **common,
                "calibration": "none (analytic model with the catalogue's peak FLOP/s and bandwidth)"}
        written.append(core.write_profile(out / f"{dnn}_{label}.csv", meta,
                                          cloud_rows(dnn, catalogue=catalogue, dnn_dir=dnn_dir)))
    return written


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = argparse.ArgumentParser(prog="python -m layerplan.tools.dvfs_profiles", description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="output folder (governor profiles go to <out>/governor)")
    ap.add_argument("--dnn", action="append", help="DNN (repeatable; default alexnet, vgg11, vit_b_16)")
    ap.add_argument("--catalogue", default=None)
    ap.add_argument("--dnn-dir", default=None)
    args = ap.parse_args(argv)
    try:
        for p in write_all(args.out, argv, catalogue=args.catalogue, dnn_dir=args.dnn_dir,
                           dnns=tuple(args.dnn or DNNS)):
            print(p)
    except LayerplanError as exc:
        print(f"layerplan: error: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    except (ValueError, OSError) as exc:
        print(f"layerplan: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
