"""Python entry points: build, solve and collect in one call."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

# Imports are lazy (inside the functions) so that ``import layerplan.api`` (and the CLI,
# which imports it) stays cheap: Pyomo, MLflow, networkx and matplotlib load only when used.
if TYPE_CHECKING:  # pragma: no cover
    from layerplan.latency import LatencyParams
    from layerplan.scenario import Scenario


def active_caps(built) -> list[str]:
    caps = []
    if getattr(built.base.config, "memory", False) and hasattr(built.base, "memory_Constraint"):
        caps.append("memory per device (Eq. (5.2))")
    for key, blk in built.ctx.active.items():
        if hasattr(blk, "describe") and blk.describe():
            caps.append(blk.describe())
    pinned = built.ctx.params.pinned
    if pinned:
        caps.append("pinned layers " + ", ".join(f"{built.ctx.params.layers[l]}->{built.ctx.params.devices[d]}" for l, d in pinned.items()))
    return caps


def solve_built(built, solver: Mapping[str, Any] | None = None, *, opt=None):
    """Solve a built model. An objective block with a ``solve_model(ctx, solve_once)``
    method (e.g. ``carbon``'s Dinkelbach iterations) drives the solver itself."""
    from layerplan.solve import solve

    caps = active_caps(built)
    if (solver or {}).get("fast_path") == "dp" or ((solver or {}).get("backend") == "pyomo"
                                                   and (solver or {}).get("fast_path") == "auto"):
        # Exact DP for latency-only chains (layerplan.dp); declines (-> MILP) without a certificate.
        from layerplan.dp import solve_fast_path

        fast = solve_fast_path(built)
        if fast is not None:
            return fast

    def once():
        return solve(built.model, solver, caps=caps, opt=opt)

    obj = built.ctx.active.get(f"objective:{built.composition.objective[0].name}")
    custom = getattr(obj, "solve_model", None)
    sol = custom(built.ctx, once) if custom is not None else once()
    if built.ctx.shared.get("dp_pruned"):  # the fast path fixed provably useless variables first
        sol.extra = {**sol.extra, "method": "milp (DP-pruned)", "dp_pruned": built.ctx.shared["dp_pruned"]}
    return sol


def solve_scenario(
    scenario: Scenario,
    *,
    formulation: Mapping[str, Any] | list[str] | None = ("preload",),
    constraints: Mapping[str, Any] | None = None,
    objective: str | Mapping[str, Any] = "latency",
    model: Mapping[str, Any] | None = None,
    solver: Mapping[str, Any] | None = None,
    params: LatencyParams | None = None,
    profiles=None,
    profile_map: Mapping[str, str] | None = None,
    profile_frequency: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Compose, build and solve; return the result record (README: result.json).

    ``profiles`` (a :class:`layerplan.profiles.ProfileSet`) supplies bundle latencies for
    DIME/JointDNN; each scenario device uses the profile label ``profile_map[name]``, else
    its catalogue spec, else its name; ``profile_frequency[name]`` restricts its frequencies
    (``max``, ``min``, ``governor``, a number of Hz; default all).
    """
    from layerplan.build import build_model, compose
    from layerplan.latency import analytic_params
    from layerplan.results import collect

    comp = compose(list(formulation) if isinstance(formulation, tuple) else formulation, constraints, objective, model)
    params = params if params is not None else analytic_params(scenario)
    if profiles is not None:
        from layerplan.profiles import bundle_latency

        params.bundles = bundle_latency(params, profiles, profile_map, {d.name: d.spec for d in scenario.devices if d.spec},
                                        profile_frequency)
    from layerplan.plan_record import fast_solve  # DP / direct backend before any Pyomo build (issue 12)

    fast = fast_solve(scenario, params, comp, solver)
    if fast is not None:
        from layerplan.results import finalize_record

        return finalize_record(fast)
    built = build_model(scenario, params, comp)
    sol = solve_built(built, solver)
    return collect(built, sol)


# ---------------------------------------------------------------------------------------
# One path from a config to a solved problem (the CLI, the Python API, sweeps and the
# experiments all call solve_config; the CLI only adds the output folder and tracking).
# ---------------------------------------------------------------------------------------


def to_dict(cfg) -> dict:
    """A plain dict of a (Dict)Config section, interpolations resolved; {} for None."""
    if cfg is None:
        return {}
    try:
        from omegaconf import DictConfig, OmegaConf

        if isinstance(cfg, DictConfig):
            return OmegaConf.to_container(cfg, resolve=True)
    except ImportError:  # pragma: no cover - omegaconf is a core dependency
        pass
    return dict(cfg)


def _as_config(config):
    """A DictConfig view of a dict or DictConfig (attribute access, ``.get``)."""
    from omegaconf import DictConfig, OmegaConf

    if isinstance(config, DictConfig):
        return config
    return OmegaConf.create(dict(config or {}))


def scenario_from_cfg(cfg) -> "Scenario":
    """Load DNN, devices and network from the config and build the scenario."""
    from layerplan.errors import LayerplanError
    from layerplan.io import load_device_set, load_dnn, load_network
    from layerplan.scenario import build_scenario

    dnn_cfg = to_dict(cfg.dnn)
    if not dnn_cfg.get("file"):
        raise LayerplanError("missing", source="config", field="dnn.file")
    dnn = load_dnn(dnn_cfg["file"], dnn_cfg.get("granularity", "module"), input_shape=dnn_cfg.get("input_shape"))
    devices, source, destination, where = load_device_set(to_dict(cfg.devices))
    network = load_network(to_dict(cfg.network), [d.name for d in devices], devices)
    sc = to_dict(cfg.get("scenario"))
    capture = sc.get("capture_shape")
    name = sc.get("name") or f"{dnn.name}-{to_dict(cfg.devices).get('name', 'devices')}"
    return build_scenario(
        dnn,
        devices,
        network,
        name=name,
        source_device=source,
        destination_device=destination,
        capture_shape=tuple(capture) if capture else None,
        preprocess=bool(sc.get("preprocess", True)),
        preassign=sc.get("preassign") or {},
        where=where,
    )


def profiles_from_cfg(cfg, scenario):
    """Bundle profiles named by ``profiles.source`` for this DNN and granularity (Ch. 7)."""
    from layerplan.profiles import load_profiles

    prof = to_dict(cfg.get("profiles"))
    if not prof.get("source"):
        return None, None
    return load_profiles(prof["source"], scenario.dnn.name, scenario.dnn.granularity), prof


def formulation_from_cfg(cfg) -> dict:
    if cfg.get("formulation") is not None:
        return to_dict(cfg.formulation)
    return {name: {} for name in (cfg.get("default_formulation") or [])}


def baseline_from_cfg(cfg, scenario, profiles, profile_map, baseline):
    from layerplan.baselines import run_baseline
    from layerplan.latency import analytic_params
    from layerplan.profiles import bundle_latency

    params = analytic_params(scenario)
    if profiles is not None:
        params.bundles = bundle_latency(params, profiles, profile_map.get("map") or {},
                                        {d.name: d.spec for d in scenario.devices if d.spec}, profile_map.get("frequency") or {})
    return run_baseline(scenario, params, baseline, list(formulation_from_cfg(cfg)))


def carbon_from_cfg(cfg, scenario, formulation: dict) -> tuple[dict, dict]:
    """With the ``cadi`` mixin, resolve ``carbon.devices`` (device -> grid) to C_d in
    mgCO2/J (constants or traces at ``carbon.time``) and pass them to the block, unless
    ``formulation.cadi.carbon_intensity_mg_per_J`` is given. Returns (formulation, record)."""
    from layerplan.carbon import device_intensities

    if "cadi" not in formulation:
        return formulation, {}
    carbon = to_dict(cfg.get("carbon"))
    opts = dict(formulation.get("cadi") or {})
    if opts.get("carbon_intensity_mg_per_J") or not carbon.get("devices"):
        return formulation, {}
    values, info = device_intensities(carbon, [d.name for d in scenario.devices])
    return {**formulation, "cadi": {**opts, "carbon_intensity_mg_per_J": values}}, info


def load_plugins(modules) -> None:
    """Import plugin modules named in the config (``plugins=[my_constraints]``); the
    working directory is importable so a single file next to the user's data works."""
    import importlib
    import os
    import sys

    from layerplan.errors import LayerplanError

    if os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())
    for name in modules or []:
        try:
            importlib.import_module(str(name))
        except Exception as exc:
            raise LayerplanError(f"cannot import plugin module {name!r} ({type(exc).__name__}: {exc})",
                                 source="config", field="plugins") from None


def _bundle_frequency_default(cfg, scenario, profiles, profile_map) -> list[str]:
    """DIME/JointDNN without FreDDI run each device at one profiled frequency. When the
    profiles are the ones a bundle formulation chose by default (conf/auto/bundle_data.yaml,
    DVFS sets with several frequencies per device) and the user fixed none, each such device
    runs at its highest frequency (as JointDNN-fast, Sec. 8.4); returns the notes to print."""
    form = formulation_from_cfg(cfg)
    auto = to_dict(cfg.get("auto_defaults"))
    if profiles is None or "freddi" in form or not ({"dime", "jointdnn"} & set(form)) or not auto:
        return []
    if not any("profiles=" in str(item) for items in auto.values() for item in (items or [])):
        return []
    freq = profile_map.setdefault("frequency", {}) if profile_map is not None else {}
    notes = []
    specs = {d.name: d.spec for d in scenario.devices if d.spec}
    for d in scenario.devices:
        label = (profile_map.get("map") or {}).get(d.name) or specs.get(d.name) or d.name
        if d.name in freq or label not in profiles.devices() or len(profiles.frequencies(label)) < 2:
            continue
        freq[d.name] = "max"
        notes.append(f"profiles.frequency.{d.name}=max")
    return notes


# objectives (and constraints) that count energy, hence the communication energy of Eq. (8.4)
ENERGY_OBJECTIVES = ("energy", "latency_cons", "privacy", "energy_cons", "energy_single", "carbon",
                     "carbon_per_inference")


def radio_check(cfg, scenario, formulation: dict, objective: dict) -> str | None:
    """An energy objective on a network without a radio power model would count the
    communication energy (Eq. (8.4)) as 0 J: refuse, unless ``network.radio=none`` states it.
    Returns the note the result carries in that case."""
    from layerplan.errors import ConfigError

    counts_energy = objective.get("name") in ENERGY_OBJECTIVES or "energy_cap" in (to_dict(cfg.get("constraints")) or {})
    if "freddi" not in formulation or not counts_energy:
        return None
    net = to_dict(cfg.get("network"))
    spec = (formulation.get("freddi") or {}).get("energy_devices", "edge")
    if spec in (None, "edge"):
        devices = [d for d in scenario.devices if d.device_class == "edge"]
    elif spec == "all":
        devices = list(scenario.devices)
    else:
        devices = [d for d in scenario.devices if d.name in set(spec)]
    radio = scenario.network.radio
    lacking = [d.name for d in devices if (d.radio or (radio if d.device_class == "edge" else None)) is None]
    if not lacking:
        return None
    if isinstance(net.get("radio"), str) and net["radio"].lower() == "none":
        return (f"network.radio=none: no radio power model, the communication energy of {', '.join(lacking)} "
                f"is counted as 0 J")
    raise ConfigError(
        f"objective {objective.get('name')!r} counts energy, but no radio power model covers {', '.join(lacking)} "
        f"(communication energy would be 0 J): choose network=wifi|4g|3g, or state network.radio=none",
        source="config", field="network.radio")


def quiet_solver_logs(tee: bool) -> None:
    """Gurobi logs through Python logging (which Hydra prints): quiet unless solver.tee=true."""
    import logging

    logging.getLogger("gurobipy").setLevel(logging.INFO if tee else logging.WARNING)


def solve_config(config) -> dict[str, Any]:
    """Solve the problem a composed layerplan config describes; return the result record.

    ``config`` is a dict or an OmegaConf ``DictConfig`` shaped like ``conf/config.yaml``
    after composition (e.g. ``hydra.compose(config_name="config", overrides=[...])``).
    Plugins named in ``plugins`` are imported first. A user error raises
    :class:`layerplan.errors.LayerplanError` (one line via ``one_line()``).
    """
    from layerplan.config_check import check_keys, check_missing

    cfg = _as_config(config)
    check_missing(cfg)
    check_keys(cfg)
    quiet_solver_logs(bool(to_dict(cfg.get("solver")).get("tee", False)))
    plain = to_dict(cfg)
    load_plugins(plain.get("plugins"))
    scenario = scenario_from_cfg(cfg)
    profiles, profile_map = profiles_from_cfg(cfg, scenario)
    notes = _bundle_frequency_default(cfg, scenario, profiles, profile_map)
    obj = to_dict(cfg.get("objective")) or {"name": "latency"}
    baseline = to_dict(cfg.get("baseline"))
    if baseline.get("name"):
        return baseline_from_cfg(cfg, scenario, profiles, profile_map, baseline)
    formulation, carbon_info = carbon_from_cfg(cfg, scenario, formulation_from_cfg(cfg))
    radio_note = radio_check(cfg, scenario, formulation, obj)
    result = solve_scenario(
        scenario,
        formulation=formulation,
        constraints=to_dict(cfg.get("constraints")),
        objective=obj if len(obj) > 1 else obj.get("name", "latency"),
        model=to_dict(cfg.get("model")),
        solver=to_dict(cfg.get("solver")),
        profiles=profiles,
        profile_map=(profile_map or {}).get("map") or {},
        profile_frequency=(profile_map or {}).get("frequency") or {},
    )
    if carbon_info:
        result["carbon_grids"] = carbon_info
    if radio_note:
        result["radio_note"] = radio_note
    if notes:
        result["defaults_chosen"] = notes
    return result
