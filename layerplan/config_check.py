"""Checks of a composed config before anything is loaded or built (issue 10).

* :func:`missing_settings`: every value the run still needs (``???`` in a config file, e.g.
  the path of a ``file`` group), all at once, each with a hint that works when pasted.
* :func:`chosen_defaults`: the defaults a formulation or objective chose for the user
  (``conf/auto/*.yaml``, objective parameters), so that the run can print them.
"""

from __future__ import annotations

from typing import Iterable, Mapping

from layerplan.errors import ConfigError

_HINT_VALUE = {"dnn.file": "net.yaml", "devices.file": "devs.yaml", "objective.k": "3", "objective.max_latency_s": "0.1", "objective.max_energy_J": "0.095"}


def _keys_given(overrides: Iterable[str]) -> set[str]:
    """Config keys (and groups) a command line sets: ``a.b=1``, ``+a.b=1``, ``~a``, ``a=opt``."""
    keys = set()
    for o in overrides or []:
        key = str(o).split("=", 1)[0].lstrip("+~")
        keys.add(key.split("@", 1)[0])
    return keys


def missing_settings(cfg) -> list[tuple[str, str]]:
    """(key, pasteable hint) for every setting the run still needs."""
    from omegaconf import DictConfig, OmegaConf

    if not isinstance(cfg, DictConfig):
        cfg = OmegaConf.create(dict(cfg or {}))
    out: list[tuple[str, str]] = []
    try:
        missing = sorted(OmegaConf.missing_keys(cfg))
    except Exception:  # pragma: no cover - very old omegaconf
        missing = []
    for key in missing:
        if key.startswith("hydra."):
            continue
        out.append((key, f"{key}={_HINT_VALUE.get(key, '<value>')}"))
    return out


def check_missing(cfg) -> None:
    """Raise one ConfigError naming every missing setting with pasteable hints."""
    miss = missing_settings(cfg)
    if miss:
        keys = ", ".join(k for k, _ in miss)
        hints = " ".join(h for _, h in miss)
        raise ConfigError(f"missing {keys}; add: {hints}", source="config")


def chosen_defaults(cfg, overrides: Iterable[str] = (), choices: Mapping[str, str] | None = None) -> list[str]:
    """``key=value`` settings that a formulation or objective chose and the command line did
    not give: ``auto_defaults`` (conf/auto/*.yaml) and the objective's parameters."""
    from omegaconf import DictConfig, OmegaConf

    if not isinstance(cfg, DictConfig):
        cfg = OmegaConf.create(dict(cfg or {}))
    given = _keys_given(overrides)
    notes: list[str] = []
    auto = cfg.get("auto_defaults") or {}
    for items in auto.values():
        for item in items or []:
            key, _, value = str(item).partition("=")
            if key in given:
                continue
            # report what the run actually uses (an experiment may have changed it since)
            if choices is not None and key in choices and str(choices[key]) != value:
                continue
            if "." in key:
                actual = OmegaConf.select(cfg, key, default=None)
                if actual is None or str(actual) != value:
                    continue
            if item not in notes:
                notes.append(item)
    obj = cfg.get("objective")
    if isinstance(obj, DictConfig):
        for k in obj:
            if k == "name" or f"objective.{k}" in given or OmegaConf.is_missing(obj, k):
                continue
            v = obj.get(k)
            if v is not None:
                notes.append(f"objective.{k}={v}")
    return notes


def describe_defaults(notes: list[str]) -> str:
    return "defaults chosen (override any on the command line): " + " ".join(notes)

