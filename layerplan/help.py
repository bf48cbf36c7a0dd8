"""``python run.py --help`` / ``layerplan --help``: what can be composed, read from the
registries (entry-point plugins and ``plugins=[module]`` included) and the config groups."""

from __future__ import annotations

import sys
from typing import Iterable


def _first_comment(path, width: int = 110) -> str:
    """The first sentence of the file's header comment, shortened to ``width``."""
    words: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        s = line.strip()
        if s.startswith("# @package"):
            continue
        if not s.startswith("#") or s.lstrip("# ").startswith(("python ", "(")) or (words and s == "#"):
            break
        words.append(s.lstrip("# ").strip())
        if words[-1].endswith((".", ":")):
            break
    text = " ".join(w for w in words if w).rstrip(":")
    return text if len(text) <= width else text[: width - 3].rstrip() + "..."


def _options(entry) -> list[str]:
    config = getattr(entry.obj, "CONFIG", None)
    out = []
    if config is None:
        return out
    for key in config:
        v = config.get(key)
        try:
            default = v.value()
        except Exception:  # a required option without a default
            default = None
        desc = getattr(v, "_description", None) or ""
        out.append(f"{key}={default!r}" + (f"  ({desc})" if desc else ""))
    return out


def _plugins_from_argv(argv: Iterable[str]) -> list[str]:
    for a in argv:
        key, _, value = a.partition("=")
        if key.lstrip("+") == "plugins" and value:
            return [v.strip().strip("'\"") for v in value.strip("[]").split(",") if v.strip()]
    return []


def help_text(argv: Iterable[str] = ()) -> str:
    from layerplan.api import load_plugins
    from layerplan.config_check import conf_dir, group_keys
    from layerplan.registry import constraints, formulations, objectives

    load_plugins(_plugins_from_argv(argv))
    root = conf_dir()
    lines = [
        "usage: python run.py [group=option ...] [key=value ...] [+formulation=[a,b]] [+constraints=[c]] [-m ...]",
        "       (also: layerplan ...). One run solves one scenario; -m or experiment=<name> runs a sweep.",
        "       Misspelt options and keys are errors; a key that a group does not declare needs a registered",
        "       component (plugins=[module] imports yours). Hydra's own help: --hydra-help.",
        "",
        "FORMULATIONS  (+formulation=[name,...]; options: formulation.<name>.<option>=value)",
    ]
    for e in formulations.entries():
        rel = []
        if e.requires:
            rel.append("requires " + ", ".join(e.requires))
        if e.conflicts:
            rel.append("conflicts with " + ", ".join(e.conflicts))
        lines.append(f"  {e.name:<22} {e.doc}" + (f" [{'; '.join(rel)}]" if rel else ""))
        lines += [f"  {'':<24}{o}" for o in _options(e)]
    lines += ["", "CONSTRAINTS  (+constraints=[name,...]; options: constraints.<name>.<option>=value)"]
    for e in constraints.entries():
        lines.append(f"  {e.name:<22} {e.doc}")
        lines += [f"  {'':<24}{o}" for o in _options(e)]
    lines += ["", "OBJECTIVES  (objective=name; options: objective.<option>=value)"]
    for e in objectives.entries():
        req = f" [requires {', '.join(e.requires)}]" if e.requires else ""
        lines.append(f"  {e.name:<22} {e.doc}{req}")
        lines += [f"  {'':<24}{o}" for o in _options(e)]
    lines += ["", "BASELINES  (baseline=name)"]
    for f in sorted((root / "baseline").glob("*.yaml")):
        lines.append(f"  {f.stem:<22} {_first_comment(f)}")
    lines += ["", "METHODS  (+method=name: a formulation with its data, as in the thesis)"]
    for f in sorted((root / "method").glob("*.yaml")):
        lines.append(f"  {f.stem:<22} {_first_comment(f)}")
    lines += ["", "EXPERIMENTS  (experiment=name: a sweep and its report; python -m layerplan.experiments.reproduce runs all)"]
    for f in sorted((root / "experiment").glob("*.yaml")):
        lines.append(f"  {f.stem:<22} {_first_comment(f)}")
    lines += ["", "CONFIG GROUPS  (group=option; keys: group.key=value)"]
    keys = group_keys()
    for group in ("dnn", "devices", "network", "scenario", "profiles", "carbon", "solver", "tracking"):
        opts = ", ".join(sorted(p.stem for p in (root / group).glob("*.yaml")))
        lines.append(f"  {group:<22} options: {opts}")
        lines.append(f"  {'':<24}keys: {', '.join(sorted(keys.get(group, ())))}")
    lines += ["", "Docs: README.md, docs/components.md (every component), docs/api.md (Python API)."]
    return "\n".join(lines)


def maybe_print_help(argv: list[str]) -> bool:
    """Print the help and return True when ``--help``/``-h`` is among the arguments."""
    if not any(a in ("--help", "-h") for a in argv):
        return False
    try:
        print(help_text(argv))
    except Exception as exc:  # e.g. a plugin that fails to import
        from layerplan.errors import LayerplanError

        line = exc.one_line() if isinstance(exc, LayerplanError) else f"{type(exc).__name__}: {exc}"
        print(f"layerplan: error: {line}", file=sys.stderr)
        sys.exit(2)
    return True
