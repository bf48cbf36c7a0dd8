"""Large seeded instances for the solver-scale benchmark (issue 12).

``g2_instance()`` builds the issue's named instance G2: a random chain of L = 200 layers
(:func:`layerplan.experiments.benchmark.random_chain`, seed 12) on D = 16 devices, every
device with F = 8 DVFS frequencies, bundle profiles up to MBS = 8 layers, DIME + FreDDI.

The bundle profiles follow the synthetic DVFS model of :mod:`layerplan.tools.dvfs_profiles`
(docs/freddi.md), here per device with seeded parameters instead of the calibrated Nano /
LePotato constants, since a random chain has no measured anchor::

    per layer, at f_max:  c_l = flop_l / (FLOP/s)_d            (compute, scales with 1/f)
                          m_l = 4 * weights_l / (B/s)_d         (memory, does not scale)
    bundle i..j at f:     t[i,j,f] = (sum c_l * f_max / f + sum m_l) * g(n) * exp(sigma Z_b)
                          g(n) = 1 + B_d (n - 1) / (L - 1)     (tools.synthetic_profiles.bundle_factor)
    power at f:           P(f) = P_static + k f V(f)^2          (tools.dvfs_profiles.power_W)
    energy:               e[i,j,f] = P(f) * t[i,j,f]

with f in F_d = 8 frequencies evenly spaced in [f_min, f_max], f_min / f_max in
[0.35, 0.6], B_d in [-0.3, 0.6], sigma = 0.02 (one Z_b per bundle, shared by its
frequencies), speed-up and energy ratio drawn so that the power constants exist. Only the
bundles of at most MBS layers are written (what DIME reads).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from layerplan.latency import analytic_params
from layerplan.profiles import ProfileSet, bundle_latency
from layerplan.tools.dvfs_profiles import EdgeModel, power_W
from layerplan.tools.synthetic_profiles import ALPHA_B, bundle_factor

G2 = {"layers": 200, "devices": 16, "freqs": 8, "mbs": 8, "seed": 12}


def dvfs_profile_set(scenario, n_freqs: int, mbs: int, seed: int) -> ProfileSet:
    """Seeded synthetic DVFS bundle profiles (latency and energy) for every device of a
    random chain, bundles of at most ``mbs`` layers (module docstring)."""
    real = [layer for layer in scenario.layers if layer.pseudo is None]
    L = len(real)
    flop = np.array([layer.flop for layer in real])
    wts = np.array([layer.weights for layer in real])
    rng = np.random.default_rng([seed, 8])
    ps = ProfileSet(scenario.dnn.name, scenario.dnn.granularity)
    pairs = [(i, j) for i in range(1, L + 1) for j in range(i, min(L, i + mbs - 1) + 1)]
    ii = np.array([i for i, _ in pairs])
    jj = np.array([j for _, j in pairs])
    for dev in scenario.devices:
        c = flop / dev.flops_per_s
        m = ALPHA_B * wts / dev.internal_bandwidth_Bps
        cc = np.concatenate([[0.0], np.cumsum(c)])
        mc = np.concatenate([[0.0], np.cumsum(m)])
        csum, msum = cc[jj] - cc[ii - 1], mc[jj] - mc[ii - 1]
        bias = float(rng.uniform(-0.3, 0.6))
        g = np.array([bundle_factor(int(n), L, bias) for n in jj - ii + 1])
        noise = np.exp(0.02 * rng.standard_normal(len(pairs)))
        fmax = float(rng.uniform(900.0, 2000.0))
        fmin = fmax * float(rng.uniform(0.35, 0.6))
        freqs = tuple(float(f) for f in np.linspace(fmin, fmax, n_freqs)) if n_freqs > 1 else (fmax,)
        phi = float(rng.uniform(0.5, 0.9))
        speedup = (1 - phi) + phi * fmax / fmin
        model = EdgeModel(dev.name, "gpu", freqs, speedup, float(rng.uniform(1.02, 1.3)), 0.0,
                          float(rng.uniform(2.0, 30.0)), 0.8, bias, seed, "synthetic (issue 12 G2)")
        for f in freqs:
            t = (csum * fmax / f + msum) * g * noise
            try:
                p = power_W(model, f)
            except (ValueError, ZeroDivisionError):  # no power constants (one frequency): P = P(f_max)
                p = model.p_max_W
            label = f"{f * 1e6:.6g}"
            for (i, j), tv in zip(pairs, t.tolist()):
                ps.latency_s[(dev.name, label, i, j)] = tv
                ps.energy_J[(dev.name, label, i, j)] = tv * p
        ps.meta[dev.name] = {"synthetic": "true"}
        ps.sources[dev.name] = f"synthetic DVFS (seed {seed})"
    return ps


def g2_instance(layers: int = G2["layers"], devices: int = G2["devices"], freqs: int = G2["freqs"],
                mbs: int = G2["mbs"], seed: int = G2["seed"]):
    """(scenario, params with bundles bound, mbs): the G2 instance (or a resized one)."""
    from layerplan.experiments.benchmark import random_chain
    from layerplan.io import load_radios

    sc = random_chain(seed, layers, devices)
    sc = dataclasses.replace(sc, network=dataclasses.replace(sc.network, radio=load_radios()["wifi"]))
    ps = dvfs_profile_set(sc, freqs, mbs, seed)
    params = analytic_params(sc)
    params.bundles = bundle_latency(params, ps)
    return sc, params, mbs
