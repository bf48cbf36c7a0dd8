"""Malformed-input generator for layerplan's 11 user file formats (issue 10).

Starting from the shipped files (``data/...``, ``conf/devices``, ``conf/network``) and
small synthetic carbon traces in the three trace formats, each :class:`Case` is one file
changed by one known mutation whose outcome is decided *by construction*:

- ``invalid``: the file breaks a documented rule (docs/formats.md, docs/profiling.md);
  loading it must raise :class:`~layerplan.errors.LayerplanError` (one line, naming the
  file and a field) and nothing else;
- ``same``: the change keeps the file valid and meaning the same (key order, a leading
  byte-order mark, CRLF line ends, a comment, flow style, a number written as a string,
  another unit with the converted value, ...); loading it must give what the unchanged file
  gives.

Mutations whose outcome is "valid but different" (dropping an optional field, changing
one valid number into another) are never generated: they test nothing about errors.

Formats: dnn_csv, dnn_yaml, catalogue, device_set, network, radio, profiles_synthetic,
profiles_dvfs, carbon_em (Electricity Maps export), carbon_untimed, carbon_eia.

Use :func:`generate` for a deterministic list, :func:`run_case` to load one, and
``python tests/fuzz/campaign.py --n 5000`` for a campaign that prints the counts.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import io
import math
import random
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from layerplan.carbon import load_trace
from layerplan.errors import LayerplanError
from layerplan.io import data_root, load_device_set, load_dnn, load_network, load_radios
from layerplan.profiles import load_profiles
from layerplan.units import CONVERSIONS

INVALID, SAME = "invalid", "same"
ANY = "any"  # random damage whose outcome is not decided: must load or raise LayerplanError, never a traceback
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Case:
    fmt: str
    seed: str
    mutation: str
    expect: str  # INVALID or SAME
    files: dict[str, bytes]  # file name -> content (the mutated one is `main`)
    main: str


# --------------------------------------------------------------------------- schema nodes


@dataclass
class Num:
    required: bool = True
    zero_ok: bool = False  # 0 is accepted
    tiny_ok: bool = False  # 1e-308 is accepted (lower bound 0, not an integer)
    integer: bool = False
    null_ok: bool = False  # YAML null means "default" (valid, different): never generated
    dim: str | None = None  # the key carries a unit suffix of this dimension
    extra_bad: tuple = ()  # more invalid values for this field


@dataclass
class Str:
    required: bool = True
    role: str = "name"  # name | text | enum | file | ref
    bad: tuple = ()  # invalid values (unknown enum member, missing file, unknown reference)
    upper_same: bool = False  # the loader lower-cases it


@dataclass
class Bool:
    required: bool = False


@dataclass
class Map:
    keys: dict = field(default_factory=dict)
    groups: tuple = ()  # required key groups: one key of each group must be present
    free: Any = None  # a map whose keys are names; every value has this node
    free_delete_invalid: bool = False  # deleting/renaming a free key breaks a reference
    required: bool = True


@dataclass
class Seq:
    item: Any  # a node, or a function value -> node
    required: bool = True
    nonempty: bool = True


def _qty(stem: str, dim: str, **kw) -> dict:
    keys = [f"{stem}_{s}" if stem else s for s in CONVERSIONS[dim]]
    return {k: Num(dim=dim, **kw) for k in keys}


def _group(stem: str, dim: str) -> tuple:
    return tuple(f"{stem}_{s}" if stem else s for s in CONVERSIONS[dim])


TEXT = Str(required=False, role="text")
DEVICE_FIELDS = {
    "class": Str(role="enum", bad=("fog", "edgee", "server"), upper_same=True),
    "description": TEXT,
    "radio": Str(required=False, role="ref", bad=("5g", "lte", "wify")),
    **_qty("", "flops_per_s"),
    **_qty("internal_bandwidth", "Bps"),
    **_qty("external_bandwidth", "Bps"),
    **_qty("memory", "B", required=False),
    **_qty("idle_power", "W", required=False, zero_ok=True, tiny_ok=True),
}
DEVICE_GROUPS = (("class",), _group("", "flops_per_s"), _group("internal_bandwidth", "Bps"),
                 _group("external_bandwidth", "Bps"))
CATALOGUE_ENTRY = Map(keys=DEVICE_FIELDS, groups=DEVICE_GROUPS)
MEMBER_NAME = {"name": Str()}
# in a device-set member, a field set to null counts as not given (docs/formats.md)
MEMBER_SPEC = Map(keys={**MEMBER_NAME, "spec": Str(role="ref", bad=("no_such_spec", "RPI3B ")),
                        **{k: (dataclasses.replace(v, required=False, null_ok=True) if isinstance(v, Num)
                               else dataclasses.replace(v, required=False)) for k, v in DEVICE_FIELDS.items()}},
                  groups=(("name",), ("spec",)))
MEMBER_FULL = Map(keys={**MEMBER_NAME, **{k: (dataclasses.replace(v, null_ok=True) if isinstance(v, Num) and
                                              not v.required else v) for k, v in DEVICE_FIELDS.items()}},
                  groups=(("name",), *DEVICE_GROUPS))
LAYER_FIELDS = {
    "name": Str(),
    "kind": Str(role="enum", bad=("convv", "pool", "Conv2d", "fc"), upper_same=True),
    "flop": Num(zero_ok=True, tiny_ok=True),
    "weights": Num(zero_ok=True, integer=True),
    "out_h": Num(integer=True), "out_w": Num(integer=True), "out_d": Num(integer=True),
    "carry_elems": Num(required=False, zero_ok=True, tiny_ok=True, null_ok=True),
    "exec_prob": Num(required=False, zero_ok=True, tiny_ok=True, null_ok=True, extra_bad=(1.5, "1.01")),
    "alpha_B": Num(required=False, null_ok=True, extra_bad=(0.001,)),
    "members": Str(required=False, role="text"),
}
LAYER_MAP = Map(keys=LAYER_FIELDS, groups=tuple((k,) for k in ("name", "kind", "flop", "weights", "out_h", "out_w",
                                                                 "out_d")))
DNN_YAML = Map(keys={
    "name": Str(), "description": TEXT, "generated_by": TEXT, "notes": TEXT,
    "input_shape": Map(keys={k: Num(integer=True) for k in "hwd"}, groups=(("h",), ("w",), ("d",))),
    "alpha_B": Num(required=False, null_ok=True, extra_bad=(0.001,)),
    "granularities": Map(free=Str(role="file", bad=("missing_table.csv", "")), required=False),
    "layers": Seq(LAYER_MAP, required=False),
}, groups=(("name",), ("input_shape",), ("granularities", "layers")))
CATALOGUE = Map(keys={"devices": Map(free=CATALOGUE_ENTRY, free_delete_invalid=True), "description": TEXT},
                groups=(("devices",),))
DEVICE_SET = Map(keys={
    "name": TEXT, "description": TEXT,
    "catalogue": Str(required=False, role="file", bad=("devices/no_catalogue.yaml",)),
    "members": Seq(lambda v: MEMBER_SPEC if isinstance(v, dict) and "spec" in v else MEMBER_FULL),
    "source": Str(required=False, role="ref", bad=("Z", "a ")),
    "destination": Str(required=False, role="ref", bad=("Z",)),
    "file": Str(required=False, role="ref", bad=("other.yaml",)),
}, groups=(("members",),))
LINK = Map(keys={"src": Str(role="ref", bad=("Z",)), "dst": Str(role="ref", bad=("Z",)),
                 "cap_by_external": Bool(), **_qty("bandwidth", "Bps")},
           groups=(("src",), ("dst",), _group("bandwidth", "Bps")))
NETWORK = Map(keys={
    "name": TEXT, "description": TEXT, **_qty("bandwidth", "Bps"),
    "links": Seq(LINK, required=False, nonempty=False),
    "symmetric": Bool(), "cap_by_external": Bool(),
    "radio": Str(required=False, role="ref", bad=("5g", "wify")),
    "file": Str(required=False, role="ref", bad=("other.yaml",)),
}, groups=(_group("bandwidth", "Bps"),))
RADIO_ENTRY = Map(keys={**_qty("alpha_up", "W_per_Bps", zero_ok=True, tiny_ok=True),
                        **_qty("alpha_down", "W_per_Bps", zero_ok=True, tiny_ok=True),
                        **_qty("beta", "W", zero_ok=True, tiny_ok=True), **_qty("up", "Bps"), **_qty("down", "Bps")},
                  groups=(_group("alpha_up", "W_per_Bps"), _group("alpha_down", "W_per_Bps"), _group("beta", "W"),
                          _group("up", "Bps"), _group("down", "Bps")))
RADIO = Map(keys={"radios": Map(free=RADIO_ENTRY), "description": TEXT}, groups=(("radios",),))

PROFILE_COLS = {
    "dnn": Str(), "granularity": Str(), "device": Str(),
    "frequency_Hz": Str(required=False, role="freq", bad=("fast", "nan", "inf", "-5e8", "0", "1e400", "governer")),
    "i": Num(integer=True, extra_bad=("0", "1.0")), "j": Num(integer=True, extra_bad=("0",)),
    "latency_s": Num(tiny_ok=True), "energy_J": Num(required=False, zero_ok=True, tiny_ok=True),
    "samples": Num(required=False, zero_ok=True, integer=True), "statistic": None,
    "spread_s": Num(required=False, zero_ok=True, tiny_ok=True),
}
CARBON_VALUE = Num(required=False, zero_ok=True, tiny_ok=True, extra_bad=("12000",))  # blank = a missing hour
TIME = Str(role="time", bad=("yesterday", "2022-13-01 00:00:00", "2024-06-26T25:00:00", "", "1e9"))

# --------------------------------------------------------------------------- invalid values

INVALID_NUMBERS = ("abc", [1], {"x": 1}, True, False, float("nan"), float("inf"), -float("inf"), -1, 10**400, 1e308,
                   "1e400", "0x10")
INVALID_CSV_NUMBERS = ("abc", "nan", "inf", "-inf", "-1", "1e400", "9" * 400, "true", "1,5", "0x10", "1e308")
UNKNOWN_KEYS = ("memory_Mb", "memory_TB", "link", "alpha_b", "colour", "Name", "bandwith_Bps", "memory_gb",
                "flops", "latency", "energy_j")
BAD_UNIT_SUFFIXES = ("Mb", "TB", "b", "kb", "gb", "Tbps", "mbps", "Bpss", "MiBps")


def misspell(key: str, rnd: random.Random) -> str:
    """A misspelling of ``key``: a unit suffix swapped for an unknown one, a letter dropped,
    doubled or swapped, or the case of a letter changed."""
    ops = ["drop", "double", "swap", "case"]
    if "_" in key:
        ops.append("suffix")
    op = rnd.choice(ops)
    if op == "suffix":
        return key.rsplit("_", 1)[0] + "_" + rnd.choice(BAD_UNIT_SUFFIXES)
    if len(key) < 2:
        return key + "x"
    i = rnd.randrange(len(key))
    if op == "drop":
        return key[:i] + key[i + 1:]
    if op == "double":
        return key[:i] + key[i] + key[i:]
    if op == "swap" and i < len(key) - 1 and key[i] != key[i + 1]:
        return key[:i] + key[i + 1] + key[i] + key[i + 2:]
    c = key[i]
    return key[:i] + (c.lower() if c.isupper() else c.upper()) + key[i + 1:]


# --------------------------------------------------------------------------- YAML formats


def dump_yaml(doc, flow: bool = False) -> str:
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=10**6, default_flow_style=flow)


def _walk(node, value, path=()):
    """(path, node, value) for every site of a document."""
    yield path, node, value
    if isinstance(node, Map) and isinstance(value, dict):
        for k, v in value.items():
            sub = node.free if node.free is not None else node.keys.get(k)
            if sub is not None:
                yield from _walk(sub, v, path + (k,))
    elif isinstance(node, Seq) and isinstance(value, list):
        for i, v in enumerate(value):
            sub = node.item(v) if callable(node.item) else node.item
            yield from _walk(sub, v, path + (i,))


def _get(doc, path):
    for p in path:
        doc = doc[p]
    return doc


def _set(doc, path, value):
    doc = copy.deepcopy(doc)
    _get(doc, path[:-1])[path[-1]] = value
    return doc


def _rename(mapping: dict, old, new, value=None) -> dict:
    return {(new if k == old else k): (value if (k == old and value is not None) else v) for k, v in mapping.items()}


def _allowed(node: Map, key) -> bool:
    return node.free is not None or key in node.keys


def _required_alone(node: Map, mapping: dict, key) -> bool:
    """Deleting ``key`` leaves one of the node's required groups empty."""
    for g in node.groups:
        if key in g and not any(k in mapping for k in g if k != key):
            return True
    return False


def yaml_mutations(doc, schema: Map, rnd: random.Random) -> list[tuple[str, str, Any]]:
    """(description, expect, new document or ("text", str)) for one random site of ``doc``."""
    sites = list(_walk(schema, doc))
    path, node, value = rnd.choice(sites)
    out: list[tuple[str, str, Any]] = []
    where = ".".join(map(str, path)) or "(top)"
    if isinstance(node, Num):
        bad = list(INVALID_NUMBERS) + list(node.extra_bad)
        if not node.zero_ok:
            bad.append(0)
        if not node.tiny_ok:
            bad.append(1e-308)
        if node.integer:
            bad.append(2.5)
        if not node.null_ok:
            bad.append(None)
        for b in rnd.sample(bad, 3):
            out.append((f"{where} = {b!r:.40}", INVALID, _set(doc, path, b)))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out.append((f"{where} as a string", SAME, _set(doc, path, repr(value) if isinstance(value, float) else str(value))))
            if node.dim and path:
                key = path[-1]
                table = CONVERSIONS[node.dim]
                suffix = next((s for s in sorted(table, key=len, reverse=True) if key.endswith("_" + s) or key == s), None)
                if suffix is not None:
                    other = rnd.choice([s for s in table if s != suffix])
                    new_key = key[: len(key) - len(suffix)] + other
                    parent = _get(doc, path[:-1])
                    new_val = float(value) * table[suffix] / table[other]
                    out.append((f"{where} -> {new_key} (converted)", SAME,
                                _set(doc, path[:-1], _rename(parent, key, new_key, new_val))))
    elif isinstance(node, Str):
        bad = [[value] if value is not None else ["x"], {"x": value}, True] + list(node.bad)
        if node.required:
            bad += [None, ""]
        if node.role == "name" and node.required:
            bad.append(["a", "b"])
        for b in rnd.sample(bad, min(3, len(bad))):
            out.append((f"{where} = {b!r:.40}", INVALID, _set(doc, path, b)))
        if node.upper_same and isinstance(value, str):
            out.append((f"{where} upper-case", SAME, _set(doc, path, value.upper())))
    elif isinstance(node, Bool):
        for b in rnd.sample(["false", "true", 0, 1, "yes", "no", [True], {"x": 1}, "False"], 3):
            out.append((f"{where} = {b!r}", INVALID, _set(doc, path, b)))
    elif isinstance(node, Map) and isinstance(value, dict):
        if path:
            for b in rnd.sample([[value], "x", 5, None if node.required else [None], [], True], 2):
                out.append((f"{where} = {type(b).__name__} {b!r:.30}", INVALID, _set(doc, path, b)))
        keys = list(value)
        if keys:
            key = rnd.choice(keys)
            # delete a required key
            if node.free is None and _required_alone(node, value, key):
                out.append((f"{where}: delete {key}", INVALID, _set(doc, path, {k: v for k, v in value.items() if k != key}) if path
                            else {k: v for k, v in value.items() if k != key}))
            if node.free is not None and node.free_delete_invalid:
                new = {k: v for k, v in value.items() if k != key}
                out.append((f"{where}: delete {key}", INVALID, _set(doc, path, new) if path else new))
                new_key = misspell(str(key), rnd)
                if new_key not in value:
                    new = _rename(value, key, new_key)
                    out.append((f"{where}: rename {key} -> {new_key}", INVALID, _set(doc, path, new) if path else new))
            if node.free is not None:
                new = _set(doc, path + (key,), None)
                out.append((f"{where}.{key} = None (empty entry)", INVALID, new))
            # misspell a key (strict maps)
            if node.free is None:
                for _ in range(5):
                    new_key = misspell(str(key), rnd)
                    if not _allowed(node, new_key) and new_key not in value:
                        new = _rename(value, key, new_key)
                        out.append((f"{where}: rename {key} -> {new_key}", INVALID, _set(doc, path, new) if path else new))
                        break
                extra = rnd.choice([k for k in UNKNOWN_KEYS if not _allowed(node, k)])
                new = {**value, extra: rnd.choice([1, "x", 1.5])}
                out.append((f"{where}: add unknown key {extra}", INVALID, _set(doc, path, new) if path else new))
        # shuffle the keys: same
        if len(keys) > 1:
            shuffled = keys[:]
            rnd.shuffle(shuffled)
            new = {k: value[k] for k in shuffled}
            out.append((f"{where}: reorder keys", SAME, _set(doc, path, new) if path else new))
    elif isinstance(node, Seq) and isinstance(value, list):
        bad = [{"x": 1}, "x", [None], value + [None], [[1]]]
        if node.nonempty:
            bad.append([])
        if node.required:
            bad.append(None)
        if value:
            bad.append(value + [rnd.choice(value)])  # a duplicate member / link / layer
        for b in rnd.sample(bad, 3):
            out.append((f"{where} = {str(b)[:40]}", INVALID, _set(doc, path, b)))
    return out


# --------------------------------------------------------------------------- CSV formats


@dataclass
class Table:
    prefix: list[str]  # comment lines before the header (profiles)
    header: list[str]
    rows: list[list[str]]

    def text(self, quote_all: bool = False) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
        w.writerow(self.header)
        w.writerows(self.rows)
        return "".join(line + "\n" for line in self.prefix) + buf.getvalue()


def read_table(text: str, max_rows: int | None = None) -> Table:
    lines = text.splitlines()
    prefix = [ln for ln in lines if ln.startswith("#")]
    body = [ln for ln in lines if ln.strip() and not ln.startswith("#")]
    rows = list(csv.reader(body))
    return Table(prefix, rows[0], rows[1:][: max_rows] if max_rows else rows[1:])


@dataclass
class CsvSpec:
    cols: dict  # column -> node; a column not listed is free (its values are never read)
    rows: str  # set (order free, no duplicates) | sequence (order matters, no duplicates) | timed | series
    strict: bool  # unknown columns are refused
    needed: tuple  # columns that must be present
    unstored: tuple = ()  # columns read and checked but not part of what the file means


def csv_mutations(t: Table, spec: CsvSpec, rnd: random.Random) -> list:
    """Mutations of one CSV table, each with its outcome by construction (see CsvSpec)."""
    out = []
    r = rnd.randrange(len(t.rows))
    c = rnd.randrange(len(t.header))
    col = t.header[c]
    node = spec.cols.get(col)
    value = t.rows[r][c]
    values = [i for i, h in enumerate(t.header) if spec.cols.get(h) is CARBON_VALUE]

    def valued(k: int) -> bool:  # a timed trace skips rows with a blank intensity
        return all(t.rows[k][i].strip() for i in values)

    def with_cell(v):
        new = copy.deepcopy(t)
        new.rows[r][c] = v
        return new

    where = f"row {r + 2} {col}"
    if node is None:
        out.append((f"{where} (free column) changed", SAME, with_cell(rnd.choice(["abc", "", "nan", "-1"]))))
    elif isinstance(node, Num):
        bad = list(INVALID_CSV_NUMBERS) + [str(x) for x in node.extra_bad]
        if not node.zero_ok:
            bad.append("0")
        if not node.tiny_ok:
            bad.append("1e-308")
        if node.integer:
            bad.append("2.5")
        if node.required:
            bad.append("")
        if value.strip():
            for b in rnd.sample(bad, 3):
                out.append((f"{where} = {b[:30]!r}", INVALID, with_cell(b)))
            out.append((f"{where} padded", SAME, with_cell(f" {value} ")))
            if not node.integer:
                out.append((f"{where} as repr(float)", SAME, with_cell(repr(float(value)))))
    elif isinstance(node, Str):
        bad = list(node.bad)
        if node.required and node.role != "time":
            bad.append("")
        if node.role == "time":
            if not (valued(r) and (r == 0 or valued(r - 1))):
                bad = []
            elif r > 0:
                bad.append(t.rows[r - 1][c])  # not increasing
        for b in rnd.sample(bad, min(2, len(bad))):
            out.append((f"{where} = {b!r}", INVALID, with_cell(b)))
        if node.upper_same:
            out.append((f"{where} upper-case", SAME, with_cell(value.upper())))
        if node.role == "freq" and value == "":
            out.append((f"{where} = nominal", SAME, with_cell("nominal")))
    # header: misspell a column
    for _ in range(5):
        name = misspell(col, rnd)
        if name not in spec.cols and name not in t.header:
            new = copy.deepcopy(t)
            new.header[c] = name
            bad = spec.strict or col in spec.needed
            out.append((f"header {col} -> {name}", INVALID if bad else SAME, new))
            break
    # drop a column
    new = copy.deepcopy(t)
    del new.header[c]
    for row in new.rows:
        del row[c]
    if col in spec.needed:
        out.append((f"drop column {col}", INVALID, new))
    elif node is None or col in spec.unstored:
        out.append((f"drop column {col}", SAME, new))
    # duplicate a column
    new = copy.deepcopy(t)
    new.header.append(col)
    for row in new.rows:
        row.append(row[c])
    out.append((f"column {col} twice", INVALID, new))
    # reorder columns
    perm = list(range(len(t.header)))
    rnd.shuffle(perm)
    new = Table(t.prefix, [t.header[i] for i in perm], [[row[i] for i in perm] for row in t.rows])
    out.append(("reorder columns", SAME, new))
    # one extra / one missing value in a row (a truncated last line)
    new = copy.deepcopy(t)
    new.rows[r].append("1")
    out.append((f"row {r + 2} one value too many", INVALID, new))
    new = copy.deepcopy(t)
    new.rows[-1] = new.rows[-1][:1]
    out.append((f"last row cut after its first value (truncated file)", INVALID, new))
    out.append(("every field quoted", SAME, ("quoted", t)))
    if len(t.rows) > 1 and spec.rows != "series":
        a, b = sorted(rnd.sample(range(len(t.rows)), 2))
        new = copy.deepcopy(t)
        new.rows[a], new.rows[b] = new.rows[b], new.rows[a]
        if spec.rows == "set":
            out.append((f"swap rows {a + 2} and {b + 2}", SAME, new))
        elif spec.rows == "timed" and valued(a) and valued(b):
            out.append((f"swap rows {a + 2} and {b + 2}", INVALID, new))
        if spec.rows != "timed" or valued(r):
            dup = copy.deepcopy(t)
            dup.rows.insert(r + 1, list(t.rows[r]))
            out.append((f"row {r + 2} twice", INVALID, dup))
    return out


# --------------------------------------------------------------------------- byte-level mutations


def byte_mutations(data: bytes, rnd: random.Random, *, yaml_doc=None) -> list[tuple[str, str, bytes]]:
    out = []
    pos = rnd.randrange(len(data) + 1)
    out.append(("UTF-8 byte-order mark", SAME, b"\xef\xbb\xbf" + data))
    out.append(("CRLF line ends", SAME, data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")))
    bad = rnd.choice([b"\xff", b"\xe9", b"\xc3\x28", b"\x80", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"])
    out.append((f"non-UTF-8 bytes {bad!r} at {pos}", INVALID, data[:pos] + bad + data[pos:]))
    out.append((f"NUL byte at {pos}", INVALID, data[:pos] + b"\x00" + data[pos:]))
    out.append(("UTF-16 encoded", INVALID, data.decode("utf-8").encode("utf-16")))
    out.append(("Latin-1 text with a non-ASCII letter", INVALID, data[:pos] + "é".encode("latin-1") + data[pos:]))
    out.append(("empty file", INVALID, b""))
    out.append(("only a comment", INVALID, b"# nothing here\n"))
    # random damage (outcome "any": a LayerplanError or a load, never another exception)
    flip = bytearray(data)
    if flip:
        k = rnd.randrange(len(flip))
        flip[k] = rnd.randrange(32, 127)
        out.append((f"byte {k} replaced", ANY, bytes(flip)))
    special = rnd.choice([b":", b"{", b"[", b'"', b",", b"#", b"&a ", b"*a", b"!!binary ", b"|", b"> ", b"%", b"@",
                          b"\t", b"\r", b"? ", b"- ", b"!!set ", b"!!python/object:os.system ", b"2022-01-01", b"~",
                          b"0x1F", b"1_000", b".inf", b"\x0c", b"\xc2\x85", b"\xe2\x80\xa8"])
    out.append((f"{special!r} inserted at {pos}", ANY, data[:pos] + special + data[pos:]))
    lines = data.split(b"\n")
    if len(lines) > 2:
        k = rnd.randrange(len(lines))
        out.append((f"line {k + 1} deleted", ANY, b"\n".join(lines[:k] + lines[k + 1:])))
        out.append((f"line {k + 1} doubled", ANY, b"\n".join(lines[: k + 1] + lines[k:])))
    nl = [m.start() for m in re.finditer(rb"\n", data)]
    if nl:
        at = rnd.choice(nl) + 1
        out.append((f"stray byte-order mark at {at}", INVALID, data[:at] + b"\xef\xbb\xbf" + data[at:]))
    if yaml_doc is not None:
        flow = dump_yaml(yaml_doc, flow=True).strip().encode()
        out.append(("flow style", SAME, flow + b"\n"))
        cut = rnd.randrange(1, len(flow) - 1)
        out.append((f"flow style truncated at {cut} of {len(flow)}", INVALID, flow[:cut]))
        out.append(("comment line added", SAME, b"# a comment\n" + data))
        # a key given twice: duplicate a `key: scalar` line of a block mapping
        lines = data.decode().split("\n")
        cands = [i for i, ln in enumerate(lines) if re.match(r"^\s*[A-Za-z_][\w]*: \S", ln)
                 and not ln.lstrip().startswith("- ")]
        if cands:
            i = rnd.choice(cands)
            dup = lines[: i + 1] + [lines[i]] + lines[i + 1:]
            key = lines[i].split(":")[0].strip()
            out.append((f"key {key} given twice", INVALID, "\n".join(dup).encode()))
    return out


# --------------------------------------------------------------------------- formats


@dataclass
class Seed:
    name: str
    files: dict[str, bytes]
    main: str
    ctx: dict = field(default_factory=dict)


@dataclass
class Format:
    name: str
    kind: str  # yaml | csv
    seeds: Callable[[], list[Seed]]
    load: Callable[[Path, Seed], Any]  # -> a comparable fingerprint
    schema: Any = None  # yaml: Map; csv: function seed -> (cols, ordered, key_cols)


def _shipped(rel: str) -> bytes:
    for base in (REPO, data_root()):
        p = base / rel
        if p.is_file():
            return p.read_bytes()
    raise FileNotFoundError(rel)


def _dnn_csv_seeds():
    out = []
    for f in ("alexnet_major", "alexnet_module", "alexnet_ee_major", "vgg11_major", "vit_b_16_major"):
        out.append(Seed(f, {"net.csv": _shipped(f"data/dnn/{f}.csv")}, "net.csv"))
    return out


def _dnn_yaml_seeds():
    out = []
    for net in ("alexnet", "alexnet_ee", "vgg11"):
        doc = yaml.safe_load(_shipped(f"data/dnn/{net}.yaml"))
        files = {f"{net}.yaml": dump_yaml(doc).encode()}
        for g, f in doc["granularities"].items():
            files[f] = _shipped(f"data/dnn/{f}")
        out.append(Seed(net, files, f"{net}.yaml", {"granularity": "major"}))
    # inline layers, from the shipped AlexNet major table
    t = read_table(_shipped("data/dnn/alexnet_major.csv").decode())
    layers = []
    for row in t.rows:
        rec = dict(zip(t.header, row))
        layers.append({k: (v if k in ("name", "kind", "members") else (float(v) if "." in v else int(v)))
                       for k, v in rec.items() if v != ""})
    doc = {"name": "alexnet_inline", "input_shape": [224, 224, 3], "alpha_B": 4, "layers": layers}
    out.append(Seed("alexnet_inline", {"inline.yaml": dump_yaml(doc).encode()}, "inline.yaml", {"granularity": "major"}))
    return out


def _yaml_seed(name, rel, main, **ctx):
    doc = yaml.safe_load(_shipped(rel))
    return Seed(name, {main: dump_yaml(doc).encode()}, main, ctx)


def _catalogue_seeds():
    s = _yaml_seed("catalogue", "data/devices/catalogue.yaml", "cat.yaml")
    s.ctx["specs"] = list(yaml.safe_load(s.files["cat.yaml"])["devices"])
    return [s]


def _device_set_seeds():
    out = [_yaml_seed(n, f"conf/devices/{n}.yaml", "set.yaml") for n in ("c3", "edge_cloud", "nano_pair", "table4_1")]
    inline = {"name": "docs_example", "catalogue": "devices/catalogue.yaml", "members": [
        {"name": "A", "spec": "rpi3b"}, {"name": "B", "spec": "jetson_nano", "external_bandwidth_Mbps": 300},
        {"name": "C", "class": "cloud", "tflops_per_s": 11.3, "internal_bandwidth_GBps": 484.4,
         "external_bandwidth_Gbps": 1, "memory_GiB": 11, "idle_power_W": 10.0, "radio": "wifi"}],
        "source": "A", "destination": "A"}
    out.append(Seed("docs_example", {"set.yaml": dump_yaml(inline).encode()}, "set.yaml"))
    return out


def _network_seeds():
    out = []
    links = [{"src": "A", "dst": "B", "bandwidth_Mbps": 100},
             {"src": "A", "dst": "C", "bandwidth_Bps": 1.0e5, "cap_by_external": False},
             {"src": "C", "dst": "B", "bandwidth_Gbps": 1}]
    for n in ("default", "4g", "wifi"):
        doc = yaml.safe_load(_shipped(f"conf/network/{n}.yaml"))
        doc.pop("file", None)
        doc["links"] = links
        out.append(Seed(n, {"net.yaml": dump_yaml(doc).encode()}, "net.yaml"))
    return out


def _profile_seeds(folder, files, max_rows=40):
    out = []
    for f in files:
        t = read_table(_shipped(f"data/profiles/{folder}/{f}.csv").decode(), max_rows)
        row = dict(zip(t.header, t.rows[0]))
        out.append(Seed(f, {"p.csv": t.text().encode()}, "p.csv", {"dnn": row["dnn"], "granularity": row["granularity"]}))
    return out


EM_HEADER = ["Datetime (UTC)", "Country", "Zone Name", "Zone Id", "Carbon Intensity gCO₂eq/kWh (direct)",
             "Carbon Intensity gCO₂eq/kWh (LCA)", "Low Carbon Percentage", "Renewable Percentage", "Data Source",
             "Data Estimated", "Data Estimation Method"]
EIA_HEADER = ["timestamp", "WND", "SUN", "WAT", "OIL", "NG", "COL", "NUC", "OTH", "avg_CI"]


def _carbon_seeds(kind: str) -> list[Seed]:
    """Small synthetic traces in the shapes of the real files (see /work/shared/data/carbon/README.md)."""
    rnd = random.Random(f"carbon-{kind}")
    out = []
    if kind == "em":
        for column in ("lca", "direct", None):
            rows = []
            for h in range(24):
                d, lca = round(rnd.uniform(50, 400), 2), round(rnd.uniform(100, 500), 2)
                rows.append([f"2024-06-26 {h:02d}:00:00", "USA", "CAISO", "US-CAL-CISO", str(d), str(lca),
                             str(round(rnd.uniform(0, 100), 2)), str(round(rnd.uniform(0, 100), 2)), "caiso.com",
                             "false", ""])
            t = Table([], EM_HEADER, rows)
            out.append(Seed(f"em_{column}", {"em.csv": t.text().encode()}, "em.csv", {"column": column}))
    elif kind == "untimed":
        rows = [[str(round(rnd.uniform(100, 500), 2)), "155.81", "155.81"] for _ in range(24)]
        t = Table([], ["slack_0", "non_interrupt", "interrupt"], rows)
        out.append(Seed("untimed", {"u.csv": t.text().encode()}, "u.csv",
                        {"column": "slack_0", "start": "2022-01-01T00:00:00Z"}))
    else:
        rows = []
        for h in range(24):
            rows.append([f"2022-01-01 {h:02d}:00:00+00:00"] + [str(round(rnd.uniform(0, 9000), 1)) for _ in range(8)]
                        + ["" if h == 7 else repr(rnd.uniform(150, 500))])
        t = Table([], EIA_HEADER, rows)
        out.append(Seed("eia930", {"eia.csv": t.text().encode()}, "eia.csv", {"column": None}))
    return out


def _carbon_cols(seed: Seed) -> CsvSpec:
    if seed.main == "em.csv":
        col = {"lca": EM_HEADER[5], "direct": EM_HEADER[4], None: EM_HEADER[5]}[seed.ctx["column"]]
        return CsvSpec({"Datetime (UTC)": TIME, col: CARBON_VALUE}, "timed", False, ("Datetime (UTC)", col))
    if seed.main == "eia.csv":
        return CsvSpec({"timestamp": TIME, "avg_CI": CARBON_VALUE}, "timed", False, ("timestamp", "avg_CI"))
    return CsvSpec({"slack_0": CARBON_VALUE}, "series", False, ("slack_0",))


DNN_CSV_SPEC = CsvSpec(LAYER_FIELDS, "sequence", True, ("name", "kind", "flop", "weights", "out_h", "out_w", "out_d"),
                       ("members",))
PROFILE_SPEC = CsvSpec(PROFILE_COLS, "set", True, ("dnn", "granularity", "device", "i", "j", "latency_s"),
                       ("samples", "statistic", "spread_s"))


# fingerprints: what a valid file means, without where it came from


def _fp_dnn(d):
    return (d.name, d.input_shape, d.layers)


def _fp_devices(devs):
    return tuple(devs)


def _load_dnn_csv(p, s):
    return _fp_dnn(load_dnn(p / s.main, "module", input_shape=[224, 224, 3]))[1:]


def _load_dnn_yaml(p, s):
    return _fp_dnn(load_dnn(p / s.main, s.ctx["granularity"]))


def _load_catalogue(p, s):
    members = [{"name": f"d{i}", "spec": spec} for i, spec in enumerate(s.ctx["specs"])]
    devs, *_ = load_device_set({"catalogue": str(p / s.main), "members": members})
    return _fp_devices(devs)


def _load_device_set(p, s):
    devs, src, dst, _ = load_device_set({"file": str(p / s.main)})
    return _fp_devices(devs), src, dst


_C3 = None


def _c3():
    global _C3
    if _C3 is None:
        _C3 = load_device_set(yaml.safe_load(_shipped("conf/devices/c3.yaml")))[0]
    return _C3


def _load_network(p, s):
    devs = _c3()
    n = load_network({"file": str(p / s.main)}, [d.name for d in devs], devs)
    return n.bandwidth_Bps, dict(n.links), n.cap_by_external, n.uncapped_links, n.radio


def _load_radio(p, s):
    return load_radios(p / s.main)


def _load_profiles(p, s):
    ps = load_profiles(p / s.main, s.ctx["dnn"], s.ctx["granularity"])
    return ps.latency_s, ps.energy_J


def _load_carbon(p, s):
    tr = load_trace(p / s.main, s.ctx.get("column"), s.ctx.get("start"))
    return tr.times, tr.intensity_gCO2_per_kWh, tr.column


FORMATS: dict[str, Format] = {
    "dnn_csv": Format("dnn_csv", "csv", _dnn_csv_seeds, _load_dnn_csv,
                      lambda s: DNN_CSV_SPEC),
    "dnn_yaml": Format("dnn_yaml", "yaml", _dnn_yaml_seeds, _load_dnn_yaml, DNN_YAML),
    "catalogue": Format("catalogue", "yaml", _catalogue_seeds, _load_catalogue, CATALOGUE),
    "device_set": Format("device_set", "yaml", _device_set_seeds, _load_device_set, DEVICE_SET),
    "network": Format("network", "yaml", _network_seeds, _load_network, NETWORK),
    "radio": Format("radio", "yaml", lambda: [_yaml_seed("radio_power", "data/network/radio_power.yaml", "radio.yaml")],
                    _load_radio, RADIO),
    "profiles_synthetic": Format("profiles_synthetic", "csv", lambda: _profile_seeds(
        "synthetic", ("alexnet_jetson_nano", "alexnet_lepotato", "alexnet_rtx2080ti")), _load_profiles,
        lambda s: PROFILE_SPEC),
    "profiles_dvfs": Format("profiles_dvfs", "csv", lambda: _profile_seeds(
        "dvfs", ("alexnet_jetson_nano", "alexnet_lepotato", "alexnet_rtx2080ti", "governor/alexnet_jetson_nano_governor")),
        _load_profiles, lambda s: PROFILE_SPEC),
    "carbon_em": Format("carbon_em", "csv", lambda: _carbon_seeds("em"), _load_carbon, _carbon_cols),
    "carbon_untimed": Format("carbon_untimed", "csv", lambda: _carbon_seeds("untimed"), _load_carbon, _carbon_cols),
    "carbon_eia": Format("carbon_eia", "csv", lambda: _carbon_seeds("eia"), _load_carbon, _carbon_cols),
}


def _mutate(fmt: Format, seed: Seed, rnd: random.Random) -> list[Case]:
    data = seed.files[seed.main]
    cases = []
    if fmt.kind == "yaml":
        doc = yaml.safe_load(data)
        for desc, expect, new in yaml_mutations(doc, fmt.schema, rnd):
            cases.append((desc, expect, dump_yaml(new).encode()))
        for desc, expect, new in byte_mutations(data, rnd, yaml_doc=doc):
            cases.append((desc, expect, new))
    else:
        t = read_table(data.decode())
        for desc, expect, new in csv_mutations(t, fmt.schema(seed), rnd):
            text = new[1].text(quote_all=True) if isinstance(new, tuple) else new.text()
            cases.append((desc, expect, text.encode()))
        for desc, expect, new in byte_mutations(data, rnd):
            cases.append((desc, expect, new))
    return [Case(fmt.name, seed.name, d, e, {**seed.files, seed.main: b}, seed.main) for d, e, b in cases]


_SEEDS: dict[str, list[Seed]] = {}


def seeds(fmt: str) -> list[Seed]:
    if fmt not in _SEEDS:
        _SEEDS[fmt] = FORMATS[fmt].seeds()
    return _SEEDS[fmt]


def _yaml_edit(path, value=None, *, rename=None, delete=False):
    def edit(doc):
        doc = copy.deepcopy(doc)
        parent = _get(doc, path[:-1])
        if rename is not None:
            parent_new = _rename(parent, path[-1], rename)
            parent.clear()
            parent.update(parent_new)
        elif delete:
            del parent[path[-1]]
        else:
            parent[path[-1]] = value
        return doc
    return edit


def _csv_drop(col):
    def edit(t: Table):
        c = t.header.index(col)
        return Table(t.prefix, [h for i, h in enumerate(t.header) if i != c],
                     [[v for i, v in enumerate(row) if i != c] for row in t.rows])
    return edit


def _csv_cell(r, col, value):
    def edit(t: Table):
        new = copy.deepcopy(t)
        new.rows[r][t.header.index(col)] = value
        return new
    return edit


#: The classes of issue 10, applied to the seeds by name: always part of a generated list.
TARGETED = [
    ("network", "default", "cap_by_external: 'false' (a string)", _yaml_edit(("cap_by_external",), "false")),
    ("network", "default", "symmetric: 'false' (a string)", _yaml_edit(("symmetric",), "false")),
    ("network", "4g", "links: [null]", _yaml_edit(("links",), [None])),
    ("network", "4g", "links renamed link", _yaml_edit(("links",), rename="link")),
    ("network", "default", "links[0].cap_by_external: 1", _yaml_edit(("links", 0, "cap_by_external"), 1)),
    ("network", "default", "bandwidth_Bps: 1e-308", _yaml_edit(("bandwidth_Bps",), 1e-308)),
    ("network", "wifi", "links[1].bandwidth_Bps: 1e-308", _yaml_edit(("links", 1, "bandwidth_Bps"), 1e-308)),
    ("network", "wifi", "bandwidth_Bps: 10**400", _yaml_edit(("bandwidth_Bps",), 10**400)),
    ("device_set", "docs_example", "spec: [rpi3b]", _yaml_edit(("members", 0, "spec"), ["rpi3b"])),
    ("device_set", "docs_example", "members[1] memory_Mb", _yaml_edit(("members", 1, "memory_Mb"), 512)),
    ("device_set", "docs_example", "members[2] memory_GiB renamed memory_TB",
     _yaml_edit(("members", 2, "memory_GiB"), rename="memory_TB")),
    ("device_set", "c3", "members: a mapping", _yaml_edit(("members",), {"A": "rpi3b"})),
    ("device_set", "c3", "source: an unknown device", _yaml_edit(("source",), "Z")),
    ("catalogue", "catalogue", "empty catalogue entry rpi3b", _yaml_edit(("devices", "rpi3b"), None)),
    ("catalogue", "catalogue", "devices: a list", _yaml_edit(("devices",), ["rpi3b", "jetson_nano"])),
    ("catalogue", "catalogue", "memory_GB renamed memory_Mb", _yaml_edit(("devices", "rpi3b", "memory_GB"),
                                                                         rename="memory_Mb")),
    ("catalogue", "catalogue", "memory_GB renamed memory_TB", _yaml_edit(("devices", "jetson_nano", "memory_GB"),
                                                                         rename="memory_TB")),
    ("catalogue", "catalogue", "gflops_per_s: true", _yaml_edit(("devices", "rpi3b", "gflops_per_s"), True)),
    ("catalogue", "catalogue", "class: fog", _yaml_edit(("devices", "rpi3b", "class"), "fog")),
    ("dnn_yaml", "alexnet", "granularities: file.csv", _yaml_edit(("granularities",), "alexnet_major.csv")),
    ("dnn_yaml", "alexnet", "alpha_B renamed alpha_b", _yaml_edit(("alpha_B",), rename="alpha_b")),
    ("dnn_yaml", "alexnet", "alpha_B: 1e308", _yaml_edit(("alpha_B",), 1e308)),
    ("dnn_yaml", "alexnet", "input_shape: [224, 224, true]", _yaml_edit(("input_shape",), [224, 224, True])),
    ("dnn_yaml", "alexnet_inline", "layers[0].kind: convolution", _yaml_edit(("layers", 0, "kind"), "convolution")),
    ("dnn_yaml", "alexnet_inline", "layers[0].flop: true", _yaml_edit(("layers", 0, "flop"), True)),
    ("dnn_yaml", "alexnet_inline", "layers[1].weights: 10**400", _yaml_edit(("layers", 1, "weights"), 10**400)),
    ("radio", "radio_power", "up_Mbps renamed up_Mb", _yaml_edit(("radios", "4g", "up_Mbps"), rename="up_Mb")),
    ("dnn_csv", "alexnet_major", "kind: convolution", _csv_cell(0, "kind", "convolution")),
    ("dnn_csv", "alexnet_major", "flop: 10**400 digits", _csv_cell(1, "flop", "1" + "0" * 400)),
    ("profiles_synthetic", "alexnet_lepotato", "energy_J: n/a", _csv_cell(2, "energy_J", "n/a")),
    ("profiles_dvfs", "alexnet_jetson_nano", "frequency_Hz: nan", _csv_cell(2, "frequency_Hz", "nan")),
    ("profiles_dvfs", "alexnet_jetson_nano", "energy_J: abc", _csv_cell(0, "energy_J", "abc")),
    ("carbon_em", "em_lca", "export without the LCA column", _csv_drop(EM_HEADER[5])),
    ("carbon_em", "em_None", "export without the LCA column (default column)", _csv_drop(EM_HEADER[5])),
    ("carbon_em", "em_direct", "export without the direct column", _csv_drop(EM_HEADER[4])),
    ("carbon_untimed", "untimed", "without the configured column slack_0", _csv_drop("slack_0")),
    ("carbon_eia", "eia930", "without avg_CI", _csv_drop("avg_CI")),
]


def targeted(formats: list[str] | None = None) -> list[Case]:
    """One invalid case per entry of :data:`TARGETED` (and a BOM variant of every seed, valid)."""
    out = []
    for fmt, seed_name, desc, edit in TARGETED:
        if formats and fmt not in formats:
            continue
        seed = next(s for s in seeds(fmt) if s.name == seed_name)
        data = seed.files[seed.main]
        if FORMATS[fmt].kind == "yaml":
            new = dump_yaml(edit(yaml.safe_load(data))).encode()
        else:
            new = edit(read_table(data.decode())).text().encode()
        out.append(Case(fmt, seed.name, desc, INVALID, {**seed.files, seed.main: new}, seed.main))
    for fmt in formats or FORMATS:
        for seed in seeds(fmt):
            out.append(Case(fmt, seed.name, "UTF-8 byte-order mark", SAME,
                            {**seed.files, seed.main: b"\xef\xbb\xbf" + seed.files[seed.main]}, seed.main))
    return out


def generate(n: int, seed: int = 0, formats: list[str] | None = None) -> list[Case]:
    """The :func:`targeted` cases, then random mutations up to at least ``n`` cases, spread
    evenly over the formats; deterministic for ``seed``."""
    rnd = random.Random(seed)
    names = formats or list(FORMATS)
    out: list[Case] = targeted(formats)
    n = max(0, n - len(out))
    per = math.ceil(n / len(names))
    for name in names:
        got: list[Case] = []
        while len(got) < per:
            s = rnd.choice(seeds(name))
            got += _mutate(FORMATS[name], s, rnd)
        out += got[:per]
    return out


def find_seed(case: Case) -> Seed:
    return next(s for s in seeds(case.fmt) if s.name == case.seed)


def _write(files: dict[str, bytes], folder: Path) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)


_BASELINE: dict[tuple[str, str], Any] = {}


def baseline(fmt: str, seed: Seed, tmp: Path) -> Any:
    key = (fmt, seed.name)
    if key not in _BASELINE:
        folder = tmp / f"seed_{fmt}_{re.sub(r'[^A-Za-z0-9_]', '_', seed.name)}"
        _write(seed.files, folder)
        _BASELINE[key] = FORMATS[fmt].load(folder, seed)
    return _BASELINE[key]


def _close(a, b) -> bool:
    """Equal, floats within 1e-9 relative (a unit conversion may move the last bits)."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or math.isclose(a, b, rel_tol=1e-9)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    if hasattr(a, "__dataclass_fields__") and type(a) is type(b):
        return all(_close(getattr(a, f), getattr(b, f)) for f in a.__dataclass_fields__)
    return a == b


def run_case(case: Case, tmp: Path) -> tuple[str, str]:
    """Load ``case``; returns (outcome, detail). Outcomes: ``error`` (a LayerplanError, as
    expected for an invalid file), ``same`` (loaded as the unchanged file, as expected for a
    valid one), and the failures ``silent`` (invalid file accepted), ``traceback`` (another
    exception), ``false_error`` (valid file refused), ``changed`` (valid file loaded
    differently), ``bad_message`` (error not one line naming file and field)."""
    seed = find_seed(case)
    folder = tmp / f"case_{case.fmt}_{re.sub(r'[^A-Za-z0-9_]', '_', case.seed)}"
    if not folder.is_dir():
        _write(case.files, folder)
    (folder / case.main).write_bytes(case.files[case.main])  # the other files are the seed's
    try:
        got = FORMATS[case.fmt].load(folder, seed)
    except LayerplanError as exc:
        line = str(exc)
        if "\n" in line or not exc.source or not exc.field:
            return "bad_message", repr(line)
        if case.expect == SAME:
            return "false_error", line
        return "error", line
    except Exception as exc:  # noqa: BLE001 - this is what the fuzzer looks for
        return "traceback", f"{type(exc).__name__}: {exc}"[:300]
    if case.expect == ANY:
        return "loaded", ""
    if case.expect == INVALID:
        return "silent", "loaded without error"
    if not _close(got, baseline(case.fmt, seed, tmp)):
        return "changed", "loads differently from the unchanged file"
    return "same", ""


def campaign(n: int, seed: int, tmp: Path) -> dict:
    """Run ``n`` cases; counts per format and outcome, and the failures."""
    counts: dict[str, dict[str, int]] = {}
    failures = []
    for case in generate(n, seed):
        outcome, detail = run_case(case, tmp)
        counts.setdefault(case.fmt, {}).setdefault(outcome, 0)
        counts[case.fmt][outcome] += 1
        if outcome not in ("error", "same", "loaded"):
            failures.append((case.fmt, case.seed, case.mutation, case.expect, outcome, detail))
    return {"counts": counts, "failures": failures}
