"""Named term lists shared by the formulation blocks (STYLE rule 2).

The model owns one list per quantity (compute latency, communication latency, weight
latency, later compute energy, communication energy, hold energy, ...). The base block
adds its terms; a mixin adds a term to a list or replaces the list's content. Objectives
and cap constraints only sum lists, so they never depend on which mixins are active.
Replacing a list that another mixin already replaced is an error that names both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyomo.core as pyo

from layerplan.errors import ConfigError


@dataclass
class TermList:
    name: str
    unit: str
    doc: str
    terms: list[tuple[str, object]] = field(default_factory=list)  # (owner, expression)
    replaced_by: str | None = None


class TermLists:
    def __init__(self):
        self._lists: dict[str, TermList] = {}

    def declare(self, name: str, unit: str, doc: str) -> None:
        if name not in self._lists:
            self._lists[name] = TermList(name, unit, doc)

    def _get(self, name: str) -> TermList:
        if name not in self._lists:
            raise ConfigError(f"unknown term list {name!r} (declared: {', '.join(self._lists)})", field="terms")
        return self._lists[name]

    def add(self, name: str, owner: str, expr) -> None:
        self._get(name).terms.append((owner, expr))

    def replace(self, name: str, owner: str, expr) -> None:
        tl = self._get(name)
        if tl.replaced_by is not None and tl.replaced_by != owner:
            raise ConfigError(
                f"term list {name!r} was already replaced by {tl.replaced_by!r}; {owner!r} cannot replace it too",
                field="formulation",
            )
        tl.terms = [(owner, expr)]
        tl.replaced_by = owner

    def owners(self, name: str) -> list[str]:
        return [o for o, _ in self._get(name).terms]

    def names(self, prefix: str = "") -> list[str]:
        return [n for n in self._lists if n.startswith(prefix)]

    def expr(self, name: str):
        terms = self._get(name).terms
        return sum(e for _, e in terms) if terms else 0.0

    def total(self, prefix: str):
        """Sum of every list whose name starts with ``prefix`` (e.g. ``latency.``)."""
        return sum(self.expr(n) for n in self.names(prefix))

    def value(self, name: str) -> float:
        return float(pyo.value(self.expr(name)))

    def values(self, prefix: str = "") -> dict[str, float]:
        return {n: self.value(n) for n in self.names(prefix)}
