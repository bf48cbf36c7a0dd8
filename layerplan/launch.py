"""The run path of ``python run.py``: one Hydra compose per run, and an in-process sweep engine.

``@hydra.main`` composes every run's config twice (once to read the run mode, once to run)
and a Hydra multirun composes every job again in every worker process; with the imports
and the per-job MLflow set-up, the solver used to be ~3 % of a run. This module keeps
Hydra's config language (groups, ``+``/``++``/``~`` overrides, sweeps such as
``a=1,2`` or ``range(1,9)``, ``conf/experiment/*.yaml`` with ``hydra.sweeper.params``) and
replaces what runs around it:

- a single run composes once and writes its own output folder (never shared with another
  run started in the same second);
- a multirun is expanded in Python, composed once per distinct combination of config-group
  choices (value overrides are applied to a copy, as Hydra applies them), deduplicated by
  the part of the resolved config that the solve reads (JointDNN does not depend on
  ``mbs``: it is solved once and the record is written for every job), and run on warm
  worker processes forked after the imports (:mod:`layerplan.engine`);
- anything this path does not handle (``--cfg``, ``--info``, ``-c``, an explicit
  ``hydra/launcher=...`` such as ``ray_local`` or ``slurm``, other ``hydra.*`` keys, or
  ``sweep.engine=hydra``) goes to Hydra itself, unchanged.
"""

from __future__ import annotations

import itertools
import os
import sys
from contextlib import contextmanager
from pathlib import Path

CONFIG_MODULE = "layerplan.conf"
# hydra.* keys this path honours itself; any other hydra key sends the run to Hydra.
OWN_HYDRA_KEYS = ("hydra.run.dir", "hydra.sweep.dir", "hydra.sweep.subdir")


def wants_hydra(argv: list[str]) -> bool:
    """True when the command line needs Hydra's own machinery (or LAYERPLAN_HYDRA=1 asks for it)."""
    if os.environ.get("LAYERPLAN_HYDRA") == "1":
        return True
    for arg in argv:
        if arg in ("-m", "--multirun"):
            continue
        if arg.startswith("-"):
            return True
        key, _, value = arg.partition("=")
        key = key.lstrip("+~")
        if key.startswith("hydra/"):
            return True
        if key.startswith("hydra.") and key not in OWN_HYDRA_KEYS:
            return True
        if key == "sweep.engine" and value.strip() == "hydra":
            return True
    return False


def ensure_hydra() -> None:
    """Initialize Hydra on layerplan's config module (kept for the process: a CLI run)."""
    from hydra import initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    if not GlobalHydra.instance().is_initialized():
        initialize_config_module(config_module=CONFIG_MODULE, version_base="1.3")
        from layerplan.engine import cache_config_sources

        cache_config_sources()


@contextmanager
def hydra_session():
    """Hydra initialized for the duration of the block, and cleared again when this block
    initialized it: a caller in the same process (the Python API, a test) may initialize
    Hydra itself afterwards."""
    from hydra.core.global_hydra import GlobalHydra

    if GlobalHydra.instance().is_initialized():
        yield
        return
    ensure_hydra()
    try:
        yield
    finally:
        GlobalHydra.instance().clear()


def compose(overrides: list[str], *, hydra_node: bool = False):
    from hydra import compose as hydra_compose

    with hydra_session():
        return hydra_compose(config_name="config", overrides=list(overrides), return_hydra_config=hydra_node)


def config_groups() -> set[str]:
    """Names of the config groups (``dnn``, ``method``, ``hydra/launcher``, ...)."""
    from importlib import resources

    groups = {"hydra/launcher", "hydra/sweeper", "hydra/job_logging", "hydra/hydra_logging", "hydra/output",
              "hydra/help", "hydra/hydra_help", "hydra/env", "hydra/callbacks"}
    root = resources.files(CONFIG_MODULE)

    def walk(node, prefix: str) -> None:
        for child in node.iterdir():
            if child.is_dir() and not child.name.startswith("__"):
                name = f"{prefix}{child.name}"
                if any(c.name.endswith(".yaml") for c in child.iterdir()):
                    groups.add(name)
                walk(child, name + "/")

    walk(root, "")
    return groups


def split_hydra(overrides: list[str]) -> tuple[list[str], list[str]]:
    """(task overrides, hydra.* overrides)."""
    task, hyd = [], []
    for ov in overrides:
        (hyd if ov.lstrip("+~").startswith("hydra") else task).append(ov)
    return task, hyd


def unique_dir(path: Path) -> Path:
    """Create ``path``, or ``path_1``, ``path_2``, ... when another run holds it (atomic mkdir)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    candidate, i = path, 0
    while True:
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            i += 1
            candidate = path.with_name(f"{path.name}_{i}")


def resolved_dir(cfg, key: str) -> Path:
    from omegaconf import OmegaConf

    value = OmegaConf.select(cfg, key)
    return Path(str(value))


def job_config(cfg):
    """The composed config without the ``hydra`` node."""
    from omegaconf import OmegaConf

    keys = [k for k in cfg.keys() if k != "hydra"]
    return OmegaConf.masked_copy(cfg, keys)


# ---------------------------------------------------------------------------------------------
# sweeps: expansion as Hydra's BasicSweeper does it


def expand(params: dict[str, str], task_overrides: list[str]) -> list[list[str]]:
    """Every job's override list: the sweeper params of the config first, then the command line;
    a later override of the same key replaces an earlier one (Hydra 1.3's BasicSweeper)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    lines = [f"{k}={v}" for k, v in (params or {}).items()] + list(task_overrides)
    parser = OverridesParser.create()
    final: dict[str, list[str]] = {}
    for ov in parser.parse_overrides(lines):
        key = ov.get_key_element()
        if ov.is_sweep_override():
            if not ov.is_discrete_sweep():
                from layerplan.errors import ConfigError

                raise ConfigError(f"{ov.input_line}: only discrete sweeps (a,b,c; range(); choice()) are supported",
                                  source="config", field=key)
            final[key] = [f"{key}={val}" for val in ov.sweep_string_iterator()]
        else:
            final[key] = [f"{key}={ov.get_value_element_as_str()}"]
    return [list(x) for x in itertools.product(*final.values())]


def partition(overrides: list[str], groups: set[str]) -> tuple[tuple[str, ...], list[str]]:
    """(config-group overrides: need a compose, value overrides: applied to a composed copy)."""
    group_part, value_part = [], []
    for ov in overrides:
        key = ov.split("=", 1)[0].lstrip("+~")
        if key in groups or ov.startswith("~"):
            group_part.append(ov)
        else:
            value_part.append(ov)
    return tuple(group_part), value_part


def apply_values(cfg, value_overrides: list[str]):
    """Apply value overrides to a copy of a composed config, with Hydra's own semantics."""
    import copy

    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf

    out = copy.deepcopy(cfg)
    if value_overrides:
        parsed = OverridesParser.create().parse_overrides(value_overrides)
        OmegaConf.set_struct(out, True)
        ConfigLoaderImpl._apply_overrides_to_config(parsed, out)
    return out


def main(argv: list[str] | None = None) -> int | None:
    """Run ``run.py`` with ``argv``; None means "hand this command line to Hydra"."""
    with hydra_session():
        return _main(argv)


def _main(argv: list[str] | None = None) -> int | None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if wants_hydra(argv):
        return None
    multirun = any(a in ("-m", "--multirun") for a in argv)
    overrides = [a for a in argv if a not in ("-m", "--multirun")]
    from layerplan.errors import LayerplanError

    try:
        task, hyd = split_hydra(overrides)
        # compose with each sweep replaced by its first value (an experiment config may make
        # this a multirun through hydra.mode, so sweeps are legal before we know it)
        sweeps = [o for o in task if _is_sweep(o)]
        first = [o.split("=", 1)[0] + "=" + _first_value(o) if o in sweeps else o for o in task]
        cfg = compose(first + hyd, hydra_node=True)
        from hydra.types import RunMode

        if multirun or cfg.hydra.mode == RunMode.MULTIRUN:
            from layerplan.engine import run_sweep_from_cli

            return run_sweep_from_cli(cfg, task, hyd)
        if sweeps:
            from layerplan.errors import ConfigError

            raise ConfigError(f"{sweeps[0]} is a sweep: add -m (--multirun) to run one job per value, or write a "
                              f"list as key=[a,b]", source="config", field=sweeps[0].split("=", 1)[0].lstrip("+~"))
    except LayerplanError as exc:
        print(f"layerplan: error: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # Hydra's composition errors: an unknown option, a bad override
        from hydra.errors import HydraException
        from omegaconf.errors import OmegaConfBaseException

        if not isinstance(exc, (HydraException, OmegaConfBaseException)):
            raise
        print(f"layerplan: error: config: {config_error_line(exc)}", file=sys.stderr)
        return 2
    from layerplan.cli import run_job

    out = unique_dir(resolved_dir(cfg, "hydra.run.dir").absolute())
    from layerplan.config_check import chosen_defaults  # the defaults a formulation chose, printed

    notes = chosen_defaults(cfg, task, dict(cfg.hydra.runtime.choices))
    run_job(job_config(cfg), out, multirun=False, notes=notes)
    return 0


def config_error_line(exc: BaseException) -> str:
    """One line from a Hydra/OmegaConf composition error."""
    from layerplan.config_check import hydra_error_line  # unknown option/key with the valid ones listed

    line, _ = hydra_error_line(exc)
    if line:
        return line[len("config: "):] if line.startswith("config: ") else line
    text = " ".join(ln.strip() for ln in str(exc).splitlines() if ln.strip())
    text = text.split(" Config search path:")[0]
    return text[:600] or type(exc).__name__


def _is_sweep(override: str) -> bool:
    from hydra.core.override_parser.overrides_parser import OverridesParser

    if "=" not in override:
        return False
    value = override.split("=", 1)[1]
    if "," not in value and "(" not in value:  # a sweep is a,b or range()/choice()/glob()/interval()
        return False
    return OverridesParser.create().parse_override(override).is_sweep_override()


def _first_value(override: str) -> str:
    from hydra.core.override_parser.overrides_parser import OverridesParser

    ov = OverridesParser.create().parse_override(override)
    return next(iter(ov.sweep_string_iterator()))


