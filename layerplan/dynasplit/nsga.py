"""DynaSplit's offline search as a baseline: Optuna's NSGA-III sampler with the published budget
ceil(0.2 x the configuration space) and pruning rules (optional extra: ``pip install 'layerplan[dynasplit]'``).

Each trial suggests the split layer, CPU frequency, edge-accelerator mode and server accelerator; the
pruning rules of the paper are applied while suggesting (layer 0 or ViT: TPU off, not suggested; all
layers on the edge: server accelerator off). A trial's objectives are the *measured* means of that
configuration in the pool (latency ms, energy J, and accuracy maximized for VGG16), what the testbed
would have returned. A configuration absent from the pool cannot be measured here: its trial is told
FAIL and does not count toward the budget (DynaSplit measured every trial), up to ``max_attempts``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from layerplan.dynasplit.data import FREQS_MHZ, N_LAYERS, TPU_MODES, Config, config_space
from layerplan.errors import ConfigError


def budget(network: str, fraction: float = 0.2) -> int:
    """ceil(0.2 x |space|): 184 for VGG16 (917), 55 for ViT (273)."""
    return math.ceil(fraction * len(config_space(network)))


def available() -> bool:
    try:
        import optuna  # noqa: F401
    except ImportError:
        return False
    return True


def nsga3_search(network: str, table: dict, *, seed: int = 0, n_trials: int | None = None, population_size: int = 50,
                 max_attempts: int | None = None, accuracy: bool | None = None) -> dict:
    """Run the search; returns ``evaluated`` (indices into ``table``, in trial order, repeats kept),
    ``front`` (indices of the non-dominated evaluated configurations), ``trials``, ``failed``."""
    try:
        import optuna
    except ImportError:
        raise ConfigError("the NSGA-III baseline needs Optuna: pip install 'layerplan[dynasplit]' (optuna>=3)",
                          field="dynasplit.nsga3") from None
    from layerplan.dynasplit.pareto import nondominated_mask

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    idx = {c: i for i, c in enumerate(table["configs"])}
    use_acc = (table.get("accuracy") is not None) if accuracy is None else accuracy
    directions = ["minimize", "minimize"] + (["maximize"] if use_acc else [])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.NSGAIIISampler(population_size=population_size, seed=seed)
    study = optuna.create_study(directions=directions, sampler=sampler)
    L = N_LAYERS[network]
    n_trials = n_trials or budget(network)
    max_attempts = max_attempts or 50 * n_trials
    evaluated, failed, attempts = [], 0, 0
    while len(evaluated) < n_trials and attempts < max_attempts:
        attempts += 1
        trial = study.ask()
        layer = trial.suggest_int("layer", 0, L)
        freq = trial.suggest_categorical("cpu_freq", list(FREQS_MHZ))
        tpu = "off" if layer == 0 or len(TPU_MODES[network]) == 1 else trial.suggest_categorical("edge_accelerator", list(TPU_MODES[network]))
        gpu = False if layer == L else trial.suggest_categorical("server_accelerator", [True, False])
        k = idx.get(Config(int(freq), int(layer), tpu, bool(gpu)))
        if k is None:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            failed += 1
            continue
        vals = [float(table["latency_ms"][k]), float(table["energy_J"][k])]
        if use_acc:
            vals.append(float(table["accuracy"][k]))
        study.tell(trial, vals)
        evaluated.append(k)
    uniq = np.array(sorted(set(evaluated)), dtype=np.int64)
    F = np.c_[table["latency_ms"][uniq], table["energy_J"][uniq]]
    if use_acc:
        F = np.c_[F, -table["accuracy"][uniq]]
    front = uniq[nondominated_mask(F)] if len(uniq) else uniq
    return {"evaluated": evaluated, "front": front, "trials": len(evaluated), "failed": failed, "seed": seed,
            "distinct": int(len(uniq))}
