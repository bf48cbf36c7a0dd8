"""docs/components.md lists every model component and every registry entry (STYLE rules 4 and 7).

A tiny model is built with every registered formulation (alone, with what it requires),
every constraint and every objective, in every value of every choice option of the
formulations (both linearizations of z, memory on and off, each linearization of q, the
bundle ceiling on and off). The parameters carry bundle latencies (Ch. 7) for every
bundle, so the bundle formulations build too. A non-default option value that a block
rejects with a ConfigError (e.g. ``jointdnn`` with ``ceiling: true``) is skipped; every
default must build.
Each block, set, variable, constraint, expression and objective name Pyomo reports must
appear in the docs in backticks; so must every registry name. Adding a component or a
plugin without documenting it fails here.

The equations cited in component docs and constraint rule docstrings must use the
``Eq. (N.M)`` form, and the docs row of that component must cite the same equation.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pyomo.environ as pyo
import pytest
from pyomo.common.config import Bool, In

from layerplan import registry
from layerplan.build import build_model, compose
from layerplan.errors import ConfigError
from layerplan.latency import analytic_params
from layerplan.profiles import BundleLatency
from layerplan.scenario import DNN, Device, Layer, Network, build_scenario

pytestmark = pytest.mark.unit

DOCS = Path(__file__).resolve().parents[2] / "docs" / "components.md"
CTYPES = (pyo.Block, pyo.Set, pyo.Var, pyo.Constraint, pyo.Expression, pyo.Objective)
# Options a built-in constraint cannot build without; a new plugin with required options
# must be added here (the test says so when compose or build fails).
CONSTRAINT_OPTIONS = {
    "latency_cap": {"max_latency_s": 1.0e6},
    "pin": {"layers": {"l1": "B"}},
    "energy_cap": {"max_energy_J": 1.0e6},
    "privacy": {"k": 1},
    "min_inferences": {"count": 1},
}
OBJECTIVE_OPTIONS = {
    "carbon": {"max_latency_s": 1.0e6},
    "energy_single": {"max_latency_s": 1.0e6},
    "carbon_per_inference": {"max_latency_s": 1.0e6},
    "latency_cons": {"max_latency_s": 1.0e6},
    "energy_cons": {"max_energy_J": 1.0e6},
    "privacy": {"k": 1},
    # every optional component of the throughput objective (docs/throughput.md)
    "throughput": {"with_energy": True, "nic": "shared", "max_cycle_s": 1.0e6, "max_energy_J": 1.0e9, "front": "both"},
}
FORMULATION_OPTIONS = {"cadi": {"carbon_intensity_mg_per_J": {"A": 0.1, "B": 0.05}}, "freddi": {"energy_devices": "all"}}
EQ_CITED = re.compile(r"Eqs?\. \((\d+\.\d+)\)")
EQ_LOOSE = re.compile(r"\b(?:eqs?|equations?)\b\.?\s*\(?\s*\d+\.\d+\)?", re.IGNORECASE)
EQ_STRICT = re.compile(r"Eqs?\. \(\d+\.\d+\)")


def tiny_scenario():
    layers = (
        Layer("l1", "conv", 2.0e6, 1.0e3, (4, 4, 8)),
        Layer("l2", "linear", 1.0e6, 5.0e2, (1, 1, 10)),
    )
    dnn = DNN("tiny", "module", (4, 4, 3), layers)
    from layerplan.io import load_radios

    devices = [
        Device("A", "edge", 1.0e9, 1.0e9, 1.0e7, memory_B=1.0e6, radio=load_radios()["wifi"]),
        Device("B", "cloud", 1.0e11, 1.0e10, 1.0e7, memory_B=1.0e6),
    ]
    return build_scenario(dnn, devices, Network(1.0e7), source_device="A", destination_device="A",
                          capture_shape=(4, 4, 3), preprocess=True,
                          preassign={"preprocess": "A"})


def tiny_params(sc, multi_frequency: bool = True):
    """Analytic parameters plus a bundle latency for every bundle of real layers (Ch. 7)."""
    params = analytic_params(sc)
    real = [l for l, kind in enumerate(params.pseudo) if kind is None]
    # with FreDDI device A has two frequencies (Ch. 8); a bundle block alone needs one per device
    freqs = [["5e+08", "1e+09"] if multi_frequency else ["nominal"]] + [["nominal"]] * (params.n_devices - 1)
    lat = {
        (real[a], real[b], d, f): 1.0e-3 * (b - a + 1) * (d + 1) / (f + 1)
        for a in range(len(real))
        for b in range(a, len(real))
        for d in range(params.n_devices)
        for f in range(len(freqs[d]))
    }
    energy = {k: 2 * v for k, v in lat.items()}
    params.bundles = BundleLatency(real, lat, energy, list(params.devices), freqs, True)
    return params


def _choices(entry) -> dict[str, list]:
    """Every option of a formulation with a finite domain, and its values."""
    out = {}
    for key in entry.obj.CONFIG.keys():
        value = entry.obj.CONFIG.get(key)
        dom = value._domain
        if isinstance(dom, In):
            out[key] = list(dom._domain)
        elif dom is Bool:
            out[key] = [True, False]
    return out


def _provider(req: str) -> str:
    """A formulation named ``req``, or the first one that provides the capability ``req``."""
    if req in registry.formulations.names():
        return req
    return next(e.name for e in registry.formulations.entries() if req in e.meta.get("provides", ()))


def _with_requires(name: str) -> list[str]:
    seen, todo = [], [name]
    while todo:
        n = _provider(todo.pop())
        if n not in seen:
            seen.append(n)
            todo.extend(registry.formulations.get(n).requires)
    return seen


def _satisfied(entry, group: list[str]) -> bool:
    have = set(group) | {"base"} | {c for g in group for c in registry.formulations.get(g).meta.get("provides", ())}
    return all(r in have for r in entry.requires)


def compositions():
    """(label, formulation options, base options, objective, default?) covering every choice."""
    mixins = [n for n in registry.formulations.names() if n != "base"]
    base_choices = _choices(registry.formulations.get("base"))
    lin_values = base_choices.pop("linearization")
    groups = [[]] + [[n for n in _with_requires(m) if n != "base"] for m in mixins]
    for lin, group in itertools.product(lin_values, groups):
        variants = [({}, {}, True)]
        variants += [({}, {k: v}, False) for k, vals in base_choices.items() for v in vals]
        for m in group:
            variants += [({m: {k: v}}, {}, False) for k, vals in _choices(registry.formulations.get(m)).items() for v in vals]
        for form_opts, base_opts, default in variants:
            form = {m: dict(form_opts.get(m, {})) for m in group}
            for objective in registry.objectives.names():
                if not _satisfied(registry.objectives.get(objective), group):
                    continue
                label = f"base[{lin}{', ' + str(base_opts) if base_opts else ''}] + {form} / {objective}"
                yield label, form, {"linearization": lin, **base_opts}, objective, default


def build_all():
    sc = tiny_scenario()
    params = {multi: tiny_params(sc, multi) for multi in (False, True)}
    models = []
    for label, form, base_opts, objective, default in compositions():
        cons = {n: dict(CONSTRAINT_OPTIONS.get(n, {})) for n in registry.constraints.names()
                if _satisfied(registry.constraints.get(n), list(form))}
        form = {m: {**FORMULATION_OPTIONS.get(m, {}), **o} for m, o in form.items()}
        try:
            comp = compose(form, cons, {"name": objective, **OBJECTIVE_OPTIONS.get(objective, {})}, base_opts)
            built = build_model(sc, params["freddi" in form], comp)
        except ConfigError as exc:
            if not default:
                continue  # an option value the block rejects (e.g. jointdnn with ceiling: true)
            pytest.fail(f"could not build {label}: {exc}; give new plugins' required options in CONSTRAINT_OPTIONS")
        except Exception as exc:  # pragma: no cover - tells how to fix the test
            pytest.fail(f"could not build {label}: {exc}; give new plugins' required options in CONSTRAINT_OPTIONS")
        models.append((label, built.model))
    return models


@pytest.fixture(scope="module")
def models():
    return build_all()


@pytest.fixture(scope="module")
def components(models):
    """name -> component, over every model built."""
    out = {}
    for _, model in models:
        for comp in model.component_objects(CTYPES, descend_into=True):
            if comp.ctype is pyo.Set and comp.name.endswith("_index"):
                continue  # implicit index sets of multi-index components
            out.setdefault(comp.name, comp)
    return out


@pytest.fixture(scope="module")
def docs_text():
    return DOCS.read_text()


def backticked(text: str) -> set[str]:
    return set(re.findall(r"`([^`]+)`", text))


def docs_row(text: str, name: str) -> str | None:
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if len(cells) > 1 and cells[1] == f"`{name}`":
            return line
    return None


def rule_doc(comp) -> str:
    fcn = getattr(getattr(comp, "_rule", None), "_fcn", None)
    return (getattr(fcn, "__doc__", None) or "") if fcn is not None else ""


def test_the_build_covers_the_known_components(components):
    # a sanity check of the collector itself, on names that must exist
    for name in ("base.x", "base.z", "base.z_and_Constraint", "base.z_out_Constraint", "preload.q_and_Constraint",
                 "preload.q_tight_Constraint", "base.memory_Constraint", "objective_latency.Objective"):
        assert name in components


def test_every_component_is_documented(components, docs_text):
    documented = backticked(docs_text)
    missing = sorted(n for n in components if n not in documented)
    assert not missing, f"components missing from {DOCS.name} (add a row with the name in backticks): {missing}"


def test_every_component_has_a_row_in_the_tables(components, docs_text):
    no_row = sorted(n for n in components if docs_row(docs_text, n) is None and "." in n)
    no_row += sorted(n for n in components if "." not in n and f"| `{n}` |" not in docs_text)
    assert not no_row, f"components without a table row in {DOCS.name}: {no_row}"


def test_every_registry_name_is_documented(docs_text):
    documented = backticked(docs_text)
    for reg in (registry.formulations, registry.constraints, registry.objectives):
        missing = [n for n in reg.names() if n not in documented]
        assert not missing, f"{reg.kind} names missing from {DOCS.name}: {missing}"


def test_every_component_has_a_doc(components):
    undocumented = sorted(n for n, c in components.items() if c.ctype is not pyo.Block and not c.doc)
    assert not undocumented, f"components without doc=: {undocumented}"


def test_equations_are_cited_as_eq_n_m(components):
    bad = []
    for name, comp in components.items():
        for where, text in (("doc", comp.doc or ""), ("rule docstring", rule_doc(comp))):
            for m in EQ_LOOSE.finditer(text):
                if not EQ_STRICT.fullmatch(m.group(0)):
                    bad.append(f"{name} {where}: {m.group(0)!r}")
    assert not bad, f"cite equations as 'Eq. (N.M)': {bad}"


def test_docs_rows_cite_the_same_equations(components, docs_text):
    wrong = []
    for name, comp in components.items():
        cited = set(EQ_CITED.findall(comp.doc or "")) | set(EQ_CITED.findall(rule_doc(comp)))
        row = docs_row(docs_text, name)
        if row is None:
            continue  # reported by test_every_component_has_a_row_in_the_tables
        wrong += [f"{name}: ({eq})" for eq in sorted(cited) if f"({eq})" not in row]
    assert not wrong, f"equations cited by a component but not by its row in {DOCS.name}: {wrong}"


def test_docs_name_no_component_that_does_not_exist(components, docs_text):
    # every block.component name in the component table exists in some built model
    stale = []
    for line in docs_text.splitlines():
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) > 1:
            m = re.fullmatch(r"`([A-Za-z_]\w*\.[A-Za-z_]\w*)`", cells[1])
            if m and m.group(1) not in components:
                stale.append(m.group(1))
    assert not stale, f"{DOCS.name} lists components the model no longer has: {stale}"
