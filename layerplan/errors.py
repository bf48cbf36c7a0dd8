"""Error types that end a run with one clear line instead of a traceback.

Every problem that a user can fix (a bad data file, an unknown name in the config,
an infeasible cap, an absent solver) is raised as a :class:`LayerplanError` that names
the file (or config key) and the field at fault. The command-line entry points catch
it, print ``layerplan: error: <where>: <field>: <message>`` and exit non-zero.
"""

from __future__ import annotations


class LayerplanError(Exception):
    """A user-facing error: where it happened, which field, and what is wrong."""

    exit_code = 2

    def __init__(self, message: str, *, source: str | None = None, field: str | None = None):
        self.message = message
        self.source = source
        self.field = field
        super().__init__(self.one_line())

    def one_line(self) -> str:
        parts = [p for p in (self.source, self.field) if p]
        parts.append(self.message)
        return ": ".join(str(p) for p in parts)


class DataError(LayerplanError):
    """A data file or config section is missing a field or holds a bad value."""


class ConfigError(LayerplanError):
    """The composition of formulations, constraints and objective is not valid."""


class SolverError(LayerplanError):
    """The solver is absent, failed, or the model is infeasible/unbounded."""

    exit_code = 3
