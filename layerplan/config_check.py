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



# ---------------------------------------------------------------------------------------
# Unknown keys: every config group accepts only the keys its shipped options declare
# ---------------------------------------------------------------------------------------

# Groups checked one level deep, and their sections whose keys are the user's own names
# (device names, grid names, solver options), which are not checked here.
CHECKED_GROUPS = ("dnn", "devices", "network", "scenario", "solver", "tracking", "profiles", "baseline", "carbon",
                  "objective")


def conf_dir():
    from pathlib import Path

    import layerplan.conf

    return Path(layerplan.conf.__file__).parent


def _load_yaml(path):
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=loader) or {}


_SCHEMA: dict[str, set[str]] | None = None


def _package(path, group: str) -> str:
    """The package a config file merges into: its ``# @package`` header, else its group."""
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            s = line.strip()
            if s.startswith("# @package"):
                return s.split(None, 2)[2].strip() if len(s.split(None, 2)) > 2 else group
            if s and not s.startswith("#"):
                break
    return group


def group_keys() -> dict[str, set[str]]:
    """Allowed keys: for each checked group the union over every shipped config file of the
    keys it puts into that group (conf/<group>/*.yaml, and what ``@package _global_`` files
    such as methods, experiments, auto defaults and some group options set in it); under
    ``""`` the top-level keys (the primary config's, every config group, and what the
    ``_global_`` files add). The registered objectives' own options are added when checked."""
    global _SCHEMA
    if _SCHEMA is not None:
        return _SCHEMA
    root = conf_dir()
    schema: dict[str, set[str]] = {g: set() for g in CHECKED_GROUPS}
    root_keys = {"hydra", "formulation", "constraints", "objective", "experiment", "method"}
    root_keys |= {p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("__")}
    files = [(root / "config.yaml", "_global_")]
    for d in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(("__", "hydra"))):
        files += [(f, _package(f, d.name)) for f in sorted(d.glob("*.yaml"))]
    for f, package in files:
        doc = _load_yaml(f)
        if not isinstance(doc, dict):
            continue
        keys = [k for k in doc if k != "defaults"]
        if package == "_global_":
            root_keys.update(keys)
            for group in CHECKED_GROUPS:
                if isinstance(doc.get(group), dict):
                    schema[group].update(doc[group])
        elif package in schema:
            schema[package].update(keys)
    schema[""] = root_keys
    _SCHEMA = schema
    return schema


def _objective_keys(name) -> set[str]:
    """Options the registered objective ``name`` declares (its ConfigDict), if any."""
    try:
        from layerplan.registry import objectives

        entry = objectives.get(name)
    except Exception:
        return set()
    config = getattr(entry.obj, "CONFIG", None)
    try:
        return set(config.keys()) if config is not None else set()
    except Exception:
        return set()


def unknown_keys(cfg) -> list[tuple[str, list[str]]]:
    """(full key, allowed keys) for every key a checked group does not declare."""
    schema = group_keys()
    out = []
    if hasattr(cfg, "keys"):
        for k in cfg.keys():
            if str(k) not in schema[""]:
                out.append((str(k), sorted(k2 for k2 in schema[""] if k2 != "hydra")))
    for group in CHECKED_GROUPS:
        sec = cfg.get(group) if hasattr(cfg, "get") else None
        if not hasattr(sec, "keys"):
            continue
        allowed = set(schema.get(group, ()))
        extra = [str(k) for k in sec.keys() if str(k) not in allowed]
        if extra and group == "objective":  # a plugin objective declares its own options
            allowed |= _objective_keys(sec.get("name"))
        for k in extra:
            if k not in allowed:
                out.append((f"{group}.{k}", sorted(allowed)))
    return out


def _close(word: str, options) -> str:
    import difflib

    m = difflib.get_close_matches(word, list(options), n=1)
    return f"did you mean {m[0]!r}? " if m else ""


def check_keys(cfg) -> None:
    """Raise one ConfigError naming every unknown key of a config group."""
    bad = unknown_keys(cfg)
    if not bad:
        return
    parts = []
    for key, allowed in bad:
        if "." not in key:  # top level: a close match, not the whole list
            parts.append(f"{_close(key, allowed) or 'not a layerplan setting; '}see python run.py --help".rstrip())
            continue
        group, leaf = key.split(".", 1)
        parts.append(f"{_close(leaf, allowed)}keys of {group}: {', '.join(allowed)}")
    keys = ", ".join(k for k, _ in bad)
    word = "unknown key" if len(bad) == 1 else "unknown keys"
    raise ConfigError(f"{word} ({'; '.join(dict.fromkeys(parts))})", source="config", field=keys)


# ---------------------------------------------------------------------------------------
# Hydra's own errors (unknown group option, bad override) in one line
# ---------------------------------------------------------------------------------------


def group_options(group: str) -> list[str]:
    return sorted(p.stem for p in (conf_dir() / group).glob("*.yaml"))


def hydra_error_line(ex: BaseException) -> tuple[str, int]:
    """One line and an exit code for an exception Hydra would report over many lines."""
    import re

    msg = str(ex)
    first = msg.strip().splitlines()[0] if msg.strip() else type(ex).__name__
    m = re.search(r"Could not (?:find|load) '([^']+)/([^'/]+)'", msg)
    if m:
        group, option = m.group(1), m.group(2)
        options = group_options(group)
        if options:
            return (f"config: {group}: unknown option {option!r} ({_close(option, options)}options: "
                    f"{', '.join(options)})", 2)
        return f"config: {group}: unknown config group or option {option!r}", 2
    m = re.search(r"Could not override '([^']+)'", msg)
    if m:
        key = m.group(1)
        group, _, leaf = key.partition(".")
        allowed = sorted(group_keys().get(group, ()))
        if allowed and leaf and "." not in leaf:
            return f"config: {key}: unknown key ({_close(leaf, allowed)}keys of {group}: {', '.join(allowed)})", 2
        return f"config: {key}: unknown key (add a new key with +{key}=...)", 2
    m = re.search(r"Could not append to config\. An item is already at '([^']+)'", msg)
    if m:
        return f"config: {m.group(1)}: already set; drop the leading + ({m.group(1)}=...)", 2
    parse_words = ("no viable alternative", "mismatched input", "extraneous input", "token recognition error",
                   "missing ")
    from_antlr = type(ex.__cause__).__module__.startswith("antlr4") if ex.__cause__ is not None else False
    if type(ex).__name__ == "OverrideParseException" or "override_grammar" in msg or from_antlr \
            or (type(ex).__module__.startswith("hydra") and first.startswith(parse_words)):
        return f"config: cannot parse the command-line override ({first})", 2
    if isinstance(ex, PermissionError) or (isinstance(ex, OSError) and getattr(ex, "filename", None)):
        where = getattr(ex, "filename", None) or "output"
        return f"{where}: {getattr(ex, 'strerror', None) or first} (choose a writable folder, e.g. hydra.run.dir=...)", 2
    if type(ex).__module__.startswith(("hydra", "omegaconf")):
        cause = ex.__cause__
        ctext = str(cause).strip() if cause is not None else ""
        extra = f" ({ctext.splitlines()[0]})" if ctext and ctext != "None" else ""
        return f"config: {first}{extra}", 2
    return "", 0
