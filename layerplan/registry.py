"""Registries of formulations, constraints and objectives, with entry-point plugins.

Built-in entries register themselves when their package is imported
(``layerplan.formulations``, ``layerplan.constraints``, ``layerplan.objectives``).
Third-party packages add entries through package entry points in the groups
``layerplan.formulations``, ``layerplan.constraints`` and ``layerplan.objectives``; an
entry point names a module (imported for its registrations) or an object to register
under the entry point's name.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Callable

from layerplan.errors import ConfigError


@dataclass(frozen=True)
class Entry:
    name: str
    obj: Any
    kind: str
    phase: int = 100  # build order for formulations and constraints
    replaces: tuple[str, ...] = ()  # term lists this entry replaces (its slot)
    requires: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()
    doc: str = ""
    meta: dict = field(default_factory=dict)


class Registry:
    def __init__(self, kind: str, package: str, group: str):
        self.kind = kind
        self.package = package
        self.group = group
        self._entries: dict[str, Entry] = {}
        self._loaded = False

    def register(self, name: str, **meta) -> Callable[[Any], Any]:
        def deco(obj):
            self.add(name, obj, **meta)
            return obj

        return deco

    def add(self, name: str, obj: Any, **meta) -> Entry:
        if name in self._entries and self._entries[name].obj is not obj:
            raise ConfigError(f"{self.kind} {name!r} is registered twice", field=self.kind)
        doc = meta.pop("doc", None) or next(iter((obj.__doc__ or "").strip().splitlines()), "")
        entry = Entry(name=name, obj=obj, kind=self.kind, doc=doc, **meta)
        self._entries[name] = entry
        return entry

    def load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        importlib.import_module(self.package)
        for ep in entry_points(group=self.group):
            try:
                obj = ep.load()
            except Exception as exc:  # a broken plugin must say which one
                raise ConfigError(f"plugin {ep.name!r} ({ep.value}) failed to load: {exc}", field=self.group) from None
            if not hasattr(obj, "__path__") and not isinstance(obj, type(importlib)) and ep.name not in self._entries:
                self.add(ep.name, obj)

    def get(self, name: str) -> Entry:
        self.load()
        if name not in self._entries:
            raise ConfigError(f"unknown {self.kind} {name!r} (known: {', '.join(self.names())})", field=self.kind)
        return self._entries[name]

    def names(self) -> list[str]:
        self.load()
        return sorted(self._entries)

    def entries(self) -> list[Entry]:
        return [self._entries[n] for n in self.names()]


formulations = Registry("formulation", "layerplan.formulations", "layerplan.formulations")
constraints = Registry("constraint", "layerplan.constraints", "layerplan.constraints")
objectives = Registry("objective", "layerplan.objectives", "layerplan.objectives")
