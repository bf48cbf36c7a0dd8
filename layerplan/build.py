"""Compose and build the Pyomo model in fixed phases.

1. Resolve every name (formulations, constraints, objective) in its registry and check
   the composition: unknown names, missing requirements, conflicts, and two mixins that
   replace the same term list are config errors, raised before anything is built.
2. Build the base block, then the formulation mixins in phase order (whatever order the
   config lists them), then the constraint plugins, then the objective.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Mapping

import pyomo.core as pyo

from layerplan import registry
from layerplan.contribution import ModelContext, block_class
from layerplan.errors import ConfigError
from layerplan.latency import LatencyParams
from layerplan.scenario import Scenario
from layerplan.terms import TermLists


@dataclass
class Composition:
    formulations: list[tuple[registry.Entry, dict]]  # base first, then by phase
    constraints: list[tuple[registry.Entry, dict]]
    objective: tuple[registry.Entry, dict]

    @property
    def formulation_names(self) -> list[str]:
        return [e.name for e, _ in self.formulations]


def _options(value: Any, where: str) -> dict:
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    raise ConfigError(f"options must be a mapping, got {value!r}", field=where)


def compose(
    formulation: Mapping[str, Any] | list[str] | None,
    constraints: Mapping[str, Any] | None = None,
    objective: str | Mapping[str, Any] = "latency",
    base_options: Mapping[str, Any] | None = None,
) -> Composition:
    """Resolve and check a composition (STYLE rule 3) before any model is built."""
    if formulation is None:
        formulation = {}
    if isinstance(formulation, (list, tuple)):
        formulation = {name: {} for name in formulation}
    chosen: dict[str, dict] = {}
    for name, opts in formulation.items():
        chosen[name] = _options(opts, f"formulation.{name}")
    base_opts = {**_options(base_options, "model"), **chosen.pop("base", {})}
    entries = [(registry.formulations.get("base"), base_opts)]
    mixins = [(registry.formulations.get(n), o) for n, o in chosen.items()]
    names = {e.name for e, _ in mixins} | {"base"}
    names |= {cap for e, _ in mixins for cap in e.meta.get("provides", ())}
    replaced: dict[str, str] = {}
    for entry, _ in sorted(mixins, key=lambda eo: (eo[0].phase, eo[0].name)):
        for req in entry.requires:
            if req not in names:
                raise ConfigError(f"{entry.name!r} requires {_providers(req)}; {_hint(chosen, req)}", field="formulation")
        for con in entry.conflicts:
            if con in names:
                raise ConfigError(f"formulations {entry.name!r} and {con!r} cannot be combined", field="formulation")
        for slot in entry.replaces:
            if slot in replaced:
                raise ConfigError(
                    f"formulations {replaced[slot]!r} and {entry.name!r} both replace the term list {slot!r}",
                    field="formulation",
                )
            replaced[slot] = entry.name
    entries += sorted(mixins, key=lambda eo: (eo[0].phase, eo[0].name))
    cons = [(registry.constraints.get(n), _options(o, f"constraints.{n}")) for n, o in (constraints or {}).items()]
    cons.sort(key=lambda eo: (eo[0].phase, eo[0].name))
    if isinstance(objective, str):
        obj = (registry.objectives.get(objective), {})
    else:
        objective = dict(objective)
        oname = objective.pop("name", None)
        if not oname:
            raise ConfigError("missing", field="objective.name")
        obj = (registry.objectives.get(oname), objective)
    for entry, _ in cons + [obj]:
        for req in entry.requires:
            if req not in names:
                raise ConfigError(f"{entry.kind} {entry.name!r} requires {_providers(req)}; {_hint(chosen, req)}",
                                  field=entry.kind)
    return Composition(entries, cons, obj)


def _hint(chosen, req: str) -> str:
    """A pasteable ``+formulation=[...]``: the mixins chosen plus ``req`` (or the first formulation
    that provides it) and, recursively, what that one requires."""
    names = [n for n in chosen if n != "base"]
    provided = set(names) | {c for n in names for c in registry.formulations.get(n).meta.get("provides", ())}
    todo = [req]
    while todo:
        r = todo.pop(0)
        if r in provided:
            continue
        prov = [e.name for e in registry.formulations.entries() if r in e.meta.get("provides", ())]
        name = r if r in registry.formulations.names() else (prov[0] if prov else r)
        names.append(name)
        provided |= {name, *registry.formulations.get(name).meta.get("provides", ())} if name in registry.formulations.names() else {name}
        if name in registry.formulations.names():
            todo = list(registry.formulations.get(name).requires) + todo
    added = [registry.formulations.get(n) for n in names[len([m for m in chosen if m != "base"]):]
             if n in registry.formulations.names()]
    slots = {s for e in added for s in e.replaces}
    conflicts = {c for e in added for c in e.conflicts}
    names = [n for n in names if n in {e.name for e in added} or not (
        n in registry.formulations.names()
        and (set(registry.formulations.get(n).replaces) & slots or n in conflicts))]  # e.g. preload vs dime
    order = {e.name: (e.phase, e.name) for e in registry.formulations.entries()}
    names.sort(key=lambda n: order.get(n, (999, n)))
    return f"add it: +formulation=[{','.join(names)}]"


def _providers(req: str) -> str:
    """'formulation X', or the formulations that provide the capability X."""
    prov = [e.name for e in registry.formulations.entries() if req in e.meta.get("provides", ())]
    return f"formulation {req!r}" if not prov else f"{req!r} (formulation {' or '.join(repr(p) for p in prov)})"


@dataclass
class BuiltModel:
    model: pyo.ConcreteModel
    ctx: ModelContext
    composition: Composition
    build_s: float

    @property
    def base(self):
        return self.ctx.base


def with_dag(composition: Composition, params: LatencyParams) -> Composition:
    """A DNN with non-chain edges gets the ``dag`` formulation (docs/dag.md) when the
    composition does not name it; a mixin that also replaces the communication term is a
    config error then, since its chain-only T^x would be wrong on a DAG."""
    if params.edges is None or "dag" in composition.formulation_names:
        return composition
    for entry, _ in composition.formulations:
        if entry.name in ("freddi", "cadi"):  # their communication energy reads the chain's z
            raise ConfigError(f"formulation {entry.name!r} models chain networks only (its communication energy); "
                              "use a chain table", field="formulation")
        if "latency.communication" in entry.replaces:
            raise ConfigError(f"formulation {entry.name!r} replaces the communication term and does not model DAG "
                              "networks; use a chain table", field="formulation")
    entry = registry.formulations.get("dag")
    mixins = sorted(composition.formulations[1:] + [(entry, {})], key=lambda eo: (eo[0].phase, eo[0].name))
    return Composition([composition.formulations[0], *mixins], composition.constraints, composition.objective)


def build_model(scenario: Scenario, params: LatencyParams, composition: Composition) -> BuiltModel:
    composition = with_dag(composition, params)
    t0 = time.perf_counter()
    model = pyo.ConcreteModel(name=f"layerplan:{scenario.name}")
    ctx = ModelContext(scenario=scenario, params=params, terms=TermLists(), model=model,
                       formulations=composition.formulation_names)
    for entry, opts in composition.formulations + composition.constraints + [composition.objective]:
        blk = block_class(entry.obj)()
        prefix = {"formulation": "", "constraint": "constraint_", "objective": "objective_"}[entry.kind]
        model.add_component(f"{prefix}{entry.name}", blk)
        where = {"formulation": "formulation", "constraint": "constraints", "objective": "objective"}[entry.kind]
        blk.configure(opts, f"{where}.{entry.name}" if entry.kind != "objective" else "objective")
        if entry.name == "base" and entry.kind == "formulation":
            ctx.base = blk
        blk.build(ctx)
        ctx.active[f"{entry.kind}:{entry.name}"] = blk
    return BuiltModel(model, ctx, composition, time.perf_counter() - t0)


def model_size(model: pyo.ConcreteModel) -> dict[str, int]:
    n_vars = n_bin = n_int = n_fixed = 0
    for v in model.component_data_objects(pyo.Var, active=True, descend_into=True):
        n_vars += 1
        if v.fixed:
            n_fixed += 1
        if v.is_binary():
            n_bin += 1
        elif v.is_integer():
            n_int += 1
    n_cons = sum(1 for _ in model.component_data_objects(pyo.Constraint, active=True, descend_into=True))
    return {"variables": n_vars, "binary": n_bin, "integer": n_int, "fixed": n_fixed, "constraints": n_cons}
