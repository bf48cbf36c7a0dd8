"""Loaders for DNN layer tables, device sets and networks, with field validation.

Every loader names the file and the field in its :class:`~layerplan.errors.DataError`.
Formats are documented in ``docs/formats.md``.
"""

from __future__ import annotations

import csv
import difflib
import numbers
import io as _io
import os
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import yaml

from layerplan.errors import DataError
from layerplan.scenario import DEVICE_CLASSES, DNN, PROCESSORS, Device, Layer, Network, RadioModel
from layerplan.units import _short, quantity_keys, read_quantity

LAYER_COLUMNS = ("name", "kind", "flop", "weights", "out_h", "out_w", "out_d")
OPTIONAL_LAYER_COLUMNS = ("carry_elems", "exec_prob", "members", "alpha_B", "inputs")
#: Layer kinds documented in docs/formats.md; any other ``kind`` is refused.
LAYER_KINDS = ("conv", "linear", "relu", "gelu", "maxpool", "avgpool", "flatten", "dropout", "norm", "attention",
               "embed", "encoder", "head", "block", "concat", "upsample", "sppf", "detect", "other")
#: Keys of a DNN YAML file (docs/formats.md); any other key is refused.
DNN_KEYS = ("name", "description", "generated_by", "notes", "input_shape", "alpha_B", "granularities", "layers",
            "edges")  # edges: DAG tables, docs/dag.md
#: Upper bounds of layer-table values (a value above is a typo or an overflow, not a DNN).
LAYER_LIMITS = {"flop": 1e18, "weights": 1e14, "out_h": 1e9, "out_w": 1e9, "out_d": 1e9, "carry_elems": 1e14,
                "alpha_B": 1024.0, "alpha_B_min": 0.01}
#: Fields of a device (catalogue entry or device-set member), any accepted unit.
DEVICE_KEYS = ("class", "description", "radio", *quantity_keys("", "flops_per_s"),
               *quantity_keys("internal_bandwidth", "Bps"), *quantity_keys("external_bandwidth", "Bps"),
               *quantity_keys("memory", "B"), *quantity_keys("idle_power", "W"),
               # processor kind, stream powers and the CIM parameters (docs/throughput.md)
               "processor", "crossbar_weights", *quantity_keys("active_power", "W"), *quantity_keys("comm_power", "W"),
               *quantity_keys("mac_latency", "s"), *quantity_keys("mac_energy", "J"))
DEVICE_SET_KEYS = ("name", "description", "catalogue", "members", "source", "destination", "file")
CATALOGUE_KEYS = ("devices", "description")
NETWORK_KEYS = ("name", "description", "bandwidth", "links", "symmetric", "cap_by_external", "radio", "file",
                *quantity_keys("bandwidth", "Bps"))
LINK_KEYS = ("src", "dst", "cap_by_external", *quantity_keys("bandwidth", "Bps"))
RADIO_KEYS = (*quantity_keys("alpha_up", "W_per_Bps"), *quantity_keys("alpha_down", "W_per_Bps"),
              *quantity_keys("beta", "W"), *quantity_keys("up", "Bps"), *quantity_keys("down", "Bps"))


def read_text(path: str | os.PathLike) -> str:
    """The text of a data file: UTF-8 (a leading byte-order mark is dropped). Bytes that are
    not UTF-8, or NUL characters, end in one DataError naming the file and the line."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read ({exc.strerror or exc})", source=str(path)) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataError(f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); save the file as UTF-8",
                        source=str(path), field=f"line {line}") from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise DataError("contains a NUL character (a binary file?)", source=str(path), field=f"line {line}")
    if "\ufeff" in text:
        line = text[: text.index("\ufeff")].count("\n") + 1
        raise DataError("stray byte-order mark (U+FEFF) inside the file", source=str(path), field=f"line {line}")
    return text


def read_csv_rows(path: str | os.PathLike) -> list[list[str]]:
    """All rows of a CSV data file (see :func:`read_text`); a malformed CSV is one DataError."""
    try:
        return list(csv.reader(_io.StringIO(read_text(path), newline="")))
    except csv.Error as exc:
        raise DataError(f"not a valid CSV file ({exc})", source=str(path), field="csv") from None


def check_keys(record: Mapping, allowed, source: str, where: str = "") -> None:
    """Refuse keys not in ``allowed`` (a misspelt or unknown-unit key would be dropped
    silently otherwise), naming the key and the closest accepted ones."""
    for key in record:
        if key in allowed:
            continue
        close = difflib.get_close_matches(str(key), [str(a) for a in allowed], n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(close)}?" if close else f"; accepted: {', '.join(map(str, allowed))}"
        raise DataError(f"unknown key{hint}", source=source, field=f"{where}{key}")


def _mapping(value, source: str, fld: str, what: str = "a mapping") -> Mapping:
    if not isinstance(value, Mapping):
        raise DataError(f"must be {what}, got {_short(value)}", source=source, field=fld)
    return value


def _text(value, source: str, fld: str) -> str:
    """A name-like scalar (a string, or an integer such as a device named 1)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
        raise DataError(f"must be a non-empty string, got {_short(value)}", source=source, field=fld)
    return str(value).strip()


def _optional_text(record: Mapping, key: str, source: str, where: str = "") -> None:
    """A free-text field (description, notes) is a string when given."""
    raw = record.get(key)
    if raw is not None and (isinstance(raw, bool) or not isinstance(raw, (str, int, float))):
        raise DataError(f"must be text, got {_short(raw)}", source=source, field=f"{where}{key}")


def _bool(record: Mapping, key: str, default: bool, source: str, where: str = "") -> bool:
    """A YAML boolean (``true``/``false``); a string such as ``"false"`` is refused, not taken as true."""
    raw = record.get(key, default)
    if raw is None:
        return default
    if not isinstance(raw, bool):
        raise DataError(f"must be true or false, got {_short(raw)}", source=source, field=f"{where}{key}")
    return raw


class _StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's parser when installed
    """SafeLoader that refuses a key given twice in one mapping (PyYAML keeps the last)."""


def _construct_mapping(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:  # the mapping's own keys; a key may override a merged (<<) one
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            dup = key in seen
            seen.add(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(None, None, "found an unhashable key",
                                                    key_node.start_mark) from None
        if dup:
            raise yaml.constructor.ConstructorError(None, None, f"key {key!r} given twice", key_node.start_mark)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def data_root() -> Path:
    """Folder of the shipped data (``data/`` in the checkout, ``layerplan/data`` installed)."""
    return Path(str(resources.files("layerplan.data")))


def resolve_path(path: str | os.PathLike, *, base: Path | None = None, what: str = "file",
                 referrer: str | None = None, field: str | None = None) -> Path:
    """Find ``path``: as given (absolute or relative to the cwd), relative to ``base``,
    then inside the shipped data folder. ``referrer`` and ``field`` name the file and
    field that point at ``path`` in the error."""
    p = Path(os.path.expanduser(str(path)))
    candidates = [p] if p.is_absolute() else [p, *( [base / p] if base else []), data_root() / p]
    for c in candidates:
        try:
            if c.is_file():
                return c
        except (OSError, ValueError):  # a name too long or with a NUL byte: not a file
            continue
    if referrer is not None:
        raise DataError(f"{what} {str(path)!r} not found (looked in: {', '.join(str(c) for c in candidates)})",
                        source=referrer, field=field)
    raise DataError(f"{what} not found (looked in: {', '.join(str(c) for c in candidates)})", source=str(path),
                    field=field)


def read_yaml(path: Path) -> dict:
    text = read_text(path)
    try:
        doc = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        pos = getattr(exc, "position", None)  # a ReaderError (a control character) has a position
        if mark is not None:
            where = f"line {mark.line + 1}"
        elif isinstance(pos, int):
            where = f"line {text[:pos].count(chr(10)) + 1}"
        else:
            where = "document"
        msg = " ".join(str(getattr(exc, "problem", None) or getattr(exc, "reason", None) or exc).split())
        raise DataError(f"not valid YAML ({msg})", source=str(path), field=where) from None
    except RecursionError:
        raise DataError("not valid YAML (nested too deeply)", source=str(path), field="document") from None
    if not isinstance(doc, dict):
        raise DataError(f"must be a YAML mapping of keys to values, got {_short(doc)}", source=str(path),
                        field="(top level)")
    return doc


def _require(record: Mapping, key: str, source: str, where: str = "") -> Any:
    if key not in record or record[key] in (None, ""):
        raise DataError("missing", source=source, field=f"{where}{key}")
    return record[key]


def _number(record: Mapping, key: str, source: str, *, where: str = "", default=None, lo=None, hi=None, integer=False, positive=False):
    raw = record.get(key)
    if isinstance(raw, str) and not raw.strip():
        raw = None
    if raw is None:
        if default is None:
            raise DataError("missing", source=source, field=f"{where}{key}")
        return default
    if isinstance(raw, bool) or not isinstance(raw, (numbers.Real, str)):  # `true` is not the number 1
        raise DataError(f"must be a number, got {_short(raw)}", source=source, field=f"{where}{key}")
    try:
        val = float(raw)
    except (TypeError, ValueError):
        raise DataError(f"must be a number, got {_short(raw)}", source=source, field=f"{where}{key}") from None
    except OverflowError:
        raise DataError(f"too large for a float, got {_short(raw)}", source=source, field=f"{where}{key}") from None
    if val != val or abs(val) == float("inf"):
        raise DataError(f"must be finite, got {_short(raw)}", source=source, field=f"{where}{key}")
    if integer and val != int(val):
        raise DataError(f"must be an integer, got {_short(raw)}", source=source, field=f"{where}{key}")
    if positive and val <= 0:
        raise DataError(f"must be > 0, got {_short(raw)}", source=source, field=f"{where}{key}")
    if lo is not None and val < lo:
        raise DataError(f"must be >= {lo}, got {_short(raw)}", source=source, field=f"{where}{key}")
    if hi is not None and val > hi:
        raise DataError(f"must be <= {hi:g}, got {_short(raw)}", source=source, field=f"{where}{key}")
    return val


def parse_layer(record: Mapping, source: str, where: str, alpha_B: float) -> Layer:
    record = _mapping(record, source, where.rstrip(". ") or "layer")
    check_keys(record, LAYER_COLUMNS + OPTIONAL_LAYER_COLUMNS, source, where)
    name = _text(_require(record, "name", source, where), source, f"{where}name")
    kind = _text(_require(record, "kind", source, where), source, f"{where}kind").lower()
    if kind not in LAYER_KINDS:
        raise DataError(f"unknown layer kind {kind!r} (one of: {', '.join(LAYER_KINDS)})", source=source,
                        field=f"{where}kind")
    members = record.get("members")
    if members is not None and not isinstance(members, str):
        raise DataError(f"must be module names joined with '+', got {_short(members)}", source=source,
                        field=f"{where}members")
    lim = LAYER_LIMITS
    return Layer(
        name=name,
        kind=kind,
        flop=_number(record, "flop", source, where=where, lo=0, hi=lim["flop"]),
        weights=_number(record, "weights", source, where=where, lo=0, hi=lim["weights"], integer=True),
        out_shape=tuple(
            int(_number(record, k, source, where=where, integer=True, positive=True, hi=lim[k]))
            for k in ("out_h", "out_w", "out_d")
        ),
        alpha_B=_number(record, "alpha_B", source, where=where, default=alpha_B, positive=True, lo=lim["alpha_B_min"],
                        hi=lim["alpha_B"]),
        exec_prob=_number(record, "exec_prob", source, where=where, default=1.0, lo=0, hi=1),
        carry_elems=_number(record, "carry_elems", source, where=where, default=0.0, lo=0, hi=lim["carry_elems"]),
        inputs=_inputs(record.get("inputs"), source, f"{where}inputs"),
    )


def _inputs(raw, source: str, fld: str) -> tuple[str, ...] | None:
    """DAG edges of a layer (docs/dag.md): a list, or names joined by ``;`` in a CSV cell;
    empty/absent = the previous layer (chain), ``input`` = the network input."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    items = raw.split(";") if isinstance(raw, str) else raw
    if not isinstance(items, (list, tuple)):
        raise DataError(f"must be a list of layer names or names joined by ';', got {raw!r}", source=source, field=fld)
    names = tuple(str(n).strip() for n in items)
    if any(not n for n in names):
        raise DataError(f"has an empty name in {raw!r}", source=source, field=fld)
    return names


def _apply_edges(dnn: DNN, raw, source: str) -> DNN:
    """YAML ``edges: [{src, dst, bytes}]`` (docs/dag.md): the full edge list; a layer with no
    incoming edge reads the network input; ``bytes`` (optional) overrides the producer's
    output size."""
    from dataclasses import replace

    if not isinstance(raw, list):
        raise DataError("must be a list of {src, dst, bytes}", source=source, field="edges")
    names = {layer.name for layer in dnn.layers}
    ins: dict[str, list[str]] = {layer.name: list(layer.inputs or ()) for layer in dnn.layers}
    sizes: dict[tuple[str, str], float] = {}
    for i, e in enumerate(raw):
        if not isinstance(e, Mapping):
            raise DataError("must be a mapping {src, dst, bytes}", source=source, field=f"edges[{i}]")
        a = str(_require(e, "src", source, f"edges[{i}]."))
        b = str(_require(e, "dst", source, f"edges[{i}]."))
        for role, n in (("src", a), ("dst", b)):
            if n not in names and not (role == "src" and n == "input"):
                raise DataError(f"unknown layer {n!r}", source=source, field=f"edges[{i}].{role}")
        if a not in ins[b]:
            ins[b].append(a)
        if e.get("bytes") not in (None, ""):
            if a == "input":
                raise DataError("the network input's size is the DNN input_shape", source=source, field=f"edges[{i}].bytes")
            sizes[(a, b)] = _number(e, "bytes", source, where=f"edges[{i}].", positive=True)
    layers = tuple(replace(layer, inputs=tuple(ins[layer.name]) or ("input",)) for layer in dnn.layers)
    return DNN(dnn.name, dnn.granularity, dnn.input_shape, layers, dnn.source_file, sizes)


def read_layer_csv(path: Path, alpha_B: float = 4.0) -> list[Layer]:
    source = str(path)
    rows = [r for r in read_csv_rows(path) if r and not r[0].lstrip().startswith("#")]
    if not rows:
        raise DataError("layer table is empty", source=source, field="layers")
    header = [h.strip() for h in rows[0]]
    dup = sorted({h for h in header if header.count(h) > 1})
    if dup:
        raise DataError(f"column(s) given twice: {', '.join(dup)}", source=source, field=dup[0] or "header")
    missing = [c for c in LAYER_COLUMNS if c not in header]
    if missing:
        raise DataError(f"missing column(s) {', '.join(missing)}", source=source, field=missing[0])
    unknown = [c for c in header if c not in LAYER_COLUMNS + OPTIONAL_LAYER_COLUMNS]
    if unknown:
        close = difflib.get_close_matches(unknown[0], LAYER_COLUMNS + OPTIONAL_LAYER_COLUMNS, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise DataError(f"unknown column(s) {', '.join(map(repr, unknown))}{hint}", source=source,
                        field=unknown[0] or "header")
    layers = []
    for lineno, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise DataError(f"has {len(row)} values, header has {len(header)}", source=source, field=f"row {lineno}")
        layers.append(parse_layer(dict(zip(header, row)), source, f"row {lineno}: ", alpha_B))
    if not layers:
        raise DataError("layer table is empty", source=source, field="layers")
    return layers


def load_dnn(spec: str | os.PathLike, granularity: str = "module", *, input_shape=None) -> DNN:
    """Load a DNN by shipped name (``alexnet``), YAML path or CSV path.

    YAML: ``name``, ``input_shape: {h, w, d}``, ``alpha_B`` (default 4) and either
    ``granularities: {major: file.csv, module: file.csv}`` or an inline ``layers`` list.
    A bare CSV needs ``input_shape`` from the caller (config ``dnn.input_shape``).
    """
    spec_s = str(spec)
    if not spec_s.endswith((".yaml", ".yml", ".csv")) and os.sep not in spec_s:
        spec_s = f"dnn/{spec_s}.yaml"
    path = resolve_path(spec_s, what="DNN file")
    source = str(path)
    if path.suffix == ".csv":
        if input_shape is None:
            raise DataError("a bare CSV layer table needs dnn.input_shape in the config", source=source, field="input_shape")
        shape = _shape(input_shape, source, "input_shape")
        return DNN(path.stem, granularity, shape, tuple(read_layer_csv(path)), source)
    doc = read_yaml(path)
    check_keys(doc, DNN_KEYS, source)
    name = _text(_require(doc, "name", source), source, "name")
    alpha = _number(doc, "alpha_B", source, default=4.0, positive=True, lo=LAYER_LIMITS["alpha_B_min"],
                    hi=LAYER_LIMITS["alpha_B"])
    for key in ("description", "generated_by", "notes"):
        _optional_text(doc, key, source)
    shape = _shape(input_shape if input_shape is not None else _require(doc, "input_shape", source), source, "input_shape")
    if "layers" in doc and "granularities" in doc:
        raise DataError("give either layers (inline) or granularities (CSV files), not both", source=source,
                        field="layers")
    if "layers" in doc:
        recs = doc["layers"]
        if not isinstance(recs, list) or not recs:
            raise DataError("must be a non-empty list of layers", source=source, field="layers")
        layers = [parse_layer(r, source, f"layers[{i}].", alpha) for i, r in enumerate(recs)]
        if doc.get("edges") is not None:
            return _apply_edges(DNN(name, granularity, shape, tuple(layers), source), doc["edges"], source)
        return DNN(name, granularity, shape, tuple(layers), source)
    grans = _mapping(_require(doc, "granularities", source), source, "granularities",
                     "a mapping {granularity: file.csv}")
    for g, f in grans.items():
        _text(g, source, "granularities")
        if not isinstance(f, str) or not f.strip():
            raise DataError(f"must be a CSV file name, got {_short(f)}", source=source, field=f"granularities.{g}")
        # every table named must exist, not only the one asked for: a typo never waits for another run
        resolve_path(f, base=path.parent, what="layer table", referrer=source, field=f"granularities.{g}")
    if granularity not in grans:
        raise DataError(
            f"no {granularity!r} table (available: {', '.join(map(str, grans))})", source=source, field="granularities"
        )
    csv_path = resolve_path(grans[granularity], base=path.parent, what="layer table", referrer=source,
                            field=f"granularities.{granularity}")
    dnn = DNN(name, granularity, shape, tuple(read_layer_csv(csv_path, alpha)), str(csv_path))
    return dnn if doc.get("edges") is None else _apply_edges(dnn, doc["edges"], source)


def _shape(raw, source: str, fld: str) -> tuple[int, int, int]:
    if isinstance(raw, Mapping):
        check_keys(raw, ("h", "w", "d"), source, f"{fld}.")
        return tuple(int(_number(raw, k, source, where=f"{fld}.", integer=True, positive=True, hi=1e9))
                     for k in ("h", "w", "d"))
    if not isinstance(raw, (list, tuple)) or len(raw) != 3:
        raise DataError(f"must be [h, w, d] or {{h, w, d}}, got {_short(raw)}", source=source, field=fld)
    vals = {k: v for k, v in zip("hwd", raw)}
    return tuple(int(_number(vals, k, source, where=f"{fld}.", integer=True, positive=True, hi=1e9)) for k in "hwd")


def parse_device(name: str, record: Mapping, source: str, spec: str | None = None) -> Device:
    where = f"devices.{name}"
    cls = _text(_require(record, "class", source, f"{where}."), source, f"{where}.class").lower()
    _optional_text(record, "description", source, f"{where}.")
    if cls not in DEVICE_CLASSES:
        raise DataError(f"must be one of {', '.join(DEVICE_CLASSES)}, got {cls!r}", source=source, field=f"{where}.class")
    return Device(
        name=name,
        device_class=cls,
        flops_per_s=_q(record, "", "flops_per_s", source, where),
        internal_bandwidth_Bps=_q(record, "internal_bandwidth", "Bps", source, where),
        external_bandwidth_Bps=_q(record, "external_bandwidth", "Bps", source, where),
        memory_B=_q(record, "memory", "B", source, where, required=False, default=float("inf")),
        idle_power_W=_q(record, "idle_power", "W", source, where, required=False, default=0.0, allow_zero=True),
        spec=spec,
        description=str(record.get("description") or ""),
        radio=radio_model(record.get("radio"), source, f"{where}.radio"),
        **_stream_fields(record, source, where),
    )


def _stream_fields(record: Mapping, source: str, where: str) -> dict:
    """Processor kind, powers and the CIM parameters (issue 14, docs/throughput.md)."""
    proc = str(record.get("processor", "cpu")).lower()
    if proc not in PROCESSORS:
        raise DataError(f"must be one of {', '.join(PROCESSORS)}, got {proc!r}", source=source, field=f"{where}.processor")
    out = {
        "processor": proc,
        "active_power_W": _q(record, "active_power", "W", source, where, required=False, default=0.0, allow_zero=True),
        "comm_power_W": _q(record, "comm_power", "W", source, where, required=False, default=0.0, allow_zero=True),
        "mac_latency_s": _q(record, "mac_latency", "s", source, where, required=False),
        "mac_energy_J": _q(record, "mac_energy", "J", source, where, required=False),
        "crossbar_weights": (_number(record, "crossbar_weights", source, where=f"{where}.", positive=True)
                             if record.get("crossbar_weights") not in (None, "") else None),
    }
    if proc == "cim":
        for key in ("mac_latency_s", "mac_energy_J", "crossbar_weights"):
            if out[key] is None:
                raise DataError("missing (a CIM device needs mac_latency, mac_energy and crossbar_weights)",
                                source=source, field=f"{where}.{key}")
    return out


def _q(record, stem, dim, source, where, **kw):
    try:
        return read_quantity(record, stem, dim, source=source, **kw)
    except DataError as exc:
        raise DataError(exc.message, source=source, field=f"{where}.{exc.field}") from None


def load_catalogue(path: str | os.PathLike) -> tuple[Path, dict]:
    p = resolve_path(path, what="device catalogue")
    doc = read_yaml(p)
    check_keys(doc, CATALOGUE_KEYS, str(p))
    _optional_text(doc, "description", str(p))
    devs = doc.get("devices")
    if not isinstance(devs, dict) or not devs:
        raise DataError("missing or empty (a mapping {spec: fields})", source=str(p), field="devices")
    for spec, rec in devs.items():
        _text(spec, str(p), "devices")
        _mapping(rec, str(p), f"devices.{spec}", "a mapping of device fields")
        check_keys(rec, DEVICE_KEYS, str(p), f"devices.{spec}.")
        parse_device(str(spec), rec, str(p), str(spec))  # every entry is checked, used or not
    return p, devs


def load_device_set(cfg: Mapping) -> tuple[list[Device], str | None, str | None, str]:
    """Devices from a device-set mapping (the ``devices`` config group or a file).

    Keys: ``name``, ``catalogue`` (YAML with ``devices: {spec: fields}``), ``members``
    (list of ``{name, spec, <field overrides>}`` or full inline fields), ``source``,
    ``destination``. ``file`` points at a YAML with the same keys, which wins.
    Returns (devices, source, destination, where).
    """
    where = "devices"
    cfg = dict(cfg)
    check_keys(cfg, DEVICE_SET_KEYS, where)
    if cfg.get("file"):
        p = resolve_path(_text(cfg["file"], where, "file"), what="device set", referrer=where, field="file")
        doc = read_yaml(p)
        check_keys(doc, DEVICE_SET_KEYS, str(p))
        if doc.get("file") is not None:
            raise DataError("a device-set file cannot point at another file (leave file out)", source=str(p),
                            field="file")
        cfg = {**doc, **{k: v for k, v in cfg.items() if k in ("source", "destination") and v is not None}}
        where = str(p)
    for key in ("name", "description"):
        _optional_text(cfg, key, where)
    catalogue: dict = {}
    cat_src = where
    if cfg.get("catalogue") is not None:
        cat_file = _text(cfg["catalogue"], where, "catalogue")
        resolve_path(cat_file, what="device catalogue", referrer=where, field="catalogue")
        cat_path, catalogue = load_catalogue(cat_file)
        cat_src = str(cat_path)
    for key in ("source", "destination"):
        if cfg.get(key) is not None:
            cfg[key] = _text(cfg[key], where, key)
    members = cfg.get("members")
    if not isinstance(members, (list, tuple)) or not members:
        raise DataError("missing or empty (list of devices)", source=where, field="members")
    devices = []
    for i, m in enumerate(members):
        if not isinstance(m, Mapping):
            raise DataError("must be a mapping", source=where, field=f"members[{i}]")
        check_keys(m, ("name", "spec", *DEVICE_KEYS), where, f"members[{i}].")
        name = _text(_require(m, "name", where, f"members[{i}]."), where, f"members[{i}].name")
        spec = m.get("spec")
        record: dict = {}
        src = where
        if spec is not None:
            spec = _text(spec, where, f"members[{i}].spec")
            if spec not in catalogue:
                known = ", ".join(sorted(catalogue)) or "none: no catalogue given"
                raise DataError(f"unknown device spec {spec!r} (known: {known})", source=where, field=f"members[{i}].spec")
            record.update(catalogue[spec])
            src = f"{cat_src} + {where}" if len(m) > 2 else cat_src
        overrides = {k: v for k, v in m.items() if k not in ("name", "spec") and v is not None}
        # a member override replaces the catalogue value given in any unit
        for k in overrides:
            stem = _stem(k)
            for old in [o for o in record if _stem(o) == stem]:
                del record[old]
        record.update(overrides)
        if name in [d.name for d in devices]:
            raise DataError(f"device name {name!r} given twice", source=where, field=f"members[{i}].name")
        devices.append(parse_device(name, record, src, spec))
    for key in ("source", "destination"):
        if cfg.get(key) is not None and str(cfg[key]).strip() not in [d.name for d in devices]:
            raise DataError(f"unknown device {cfg[key]!r} (members: {', '.join(d.name for d in devices)})", source=where,
                            field=key)
    return devices, cfg.get("source"), cfg.get("destination"), where


_SUFFIXES = ("_Bps", "_kBps", "_MBps", "_GBps", "_bps", "_kbps", "_Mbps", "_Gbps", "_B", "_kB", "_MB", "_GB", "_KiB",
             "_MiB", "_GiB", "_W", "_mW", "_per_s",
             "_J", "_mJ", "_uJ", "_nJ", "_pJ", "_s", "_ms", "_us", "_ns", "_ps")


def _stem(key: str) -> str:
    if key in ("flops_per_s", "gflops_per_s", "tflops_per_s"):
        return "flops"
    for suf in sorted(_SUFFIXES, key=len, reverse=True):
        if key.endswith(suf):
            return key[: -len(suf)]
    return key


def load_network(cfg: Mapping, device_names: list[str], devices: list[Device] | None = None) -> Network:
    """Network from the ``network`` config group (or its ``file``).

    ``radio: wifi|4g|3g`` sets, for every pair between an edge device and a non-edge
    device not given in ``links``, the connection's upload rate (edge -> other) and
    download rate (other -> edge) from the radio model (Ch. 8, Table 8.1); between two edge
    devices (CADI's source and partner, Sec. 9.4) the slower of the upload and download
    rates, since the sender uploads and the receiver downloads."""
    where = "network"
    cfg = dict(cfg)
    check_keys(cfg, NETWORK_KEYS, where)
    if cfg.get("file"):
        p = resolve_path(_text(cfg["file"], where, "file"), what="network file", referrer=where, field="file")
        cfg = read_yaml(p)
        where = str(p)
        check_keys(cfg, NETWORK_KEYS, where)
        if cfg.get("file") is not None:
            raise DataError("a network file cannot point at another file (leave file out)", source=where, field="file")
    for key in ("name", "description"):
        _optional_text(cfg, key, where)
    if "bandwidth" in cfg:
        raise DataError("give the unit in the key, e.g. bandwidth_Bps or bandwidth_Mbps", source=where,
                        field="bandwidth")
    bw = read_quantity(cfg, "bandwidth", "Bps", source=where)
    links = {}
    uncapped = set()
    given = set()
    symmetric = _bool(cfg, "symmetric", True, where)
    cap_by_external = _bool(cfg, "cap_by_external", True, where)
    raw_links = cfg.get("links")
    if raw_links is not None and not isinstance(raw_links, (list, tuple)):
        raise DataError(f"must be a list of {{src, dst, bandwidth_Bps}}, got {_short(raw_links)}", source=where,
                        field="links")
    for i, link in enumerate(raw_links or []):
        fld = f"links[{i}]"
        _mapping(link, where, fld, "a mapping {src, dst, bandwidth_Bps}")
        check_keys(link, LINK_KEYS, where, f"{fld}.")
        src = _text(_require(link, "src", where, f"{fld}."), where, f"{fld}.src")
        dst = _text(_require(link, "dst", where, f"{fld}."), where, f"{fld}.dst")
        for role, dev in (("src", src), ("dst", dst)):
            if dev not in device_names:
                raise DataError(f"unknown device {dev!r} (devices: {', '.join(device_names)})", source=where, field=f"{fld}.{role}")
        if src == dst:
            raise DataError("src and dst must differ (a device uses its internal bandwidth)", source=where, field=fld)
        if (src, dst) in given:
            raise DataError(f"link {src} -> {dst} given twice", source=where, field=fld)
        given.add((src, dst))
        val = _q(link, "bandwidth", "Bps", where, fld)
        link_capped = _bool(link, "cap_by_external", True, where, f"{fld}.")
        links[(src, dst)] = val
        uncapped.discard((src, dst))
        pairs = [(src, dst)]
        if symmetric and (dst, src) not in given:
            links[(dst, src)] = val
            pairs.append((dst, src))
        if link_capped is False:
            uncapped.update(pairs)
    radio = radio_model(cfg.get("radio"), where, "radio")
    if radio is not None and devices:
        for a in devices:
            for b in devices:
                if a.name == b.name or (a.name, b.name) in links:
                    continue
                if a.device_class == "edge" and b.device_class == "edge":
                    # two edge devices on the cellular/WiFi network (CADI, Sec. 9.4): the sender
                    # uploads, the receiver downloads; the slower of the two rates limits the transfer
                    links[(a.name, b.name)] = min(radio.up_Bps, radio.down_Bps)
                elif a.device_class == "edge" and b.device_class != "edge":
                    links[(a.name, b.name)] = radio.up_Bps
                elif b.device_class == "edge" and a.device_class != "edge":
                    links[(a.name, b.name)] = radio.down_Bps
    return Network(bw, links, cap_by_external, where, frozenset(uncapped), radio)


def load_radios(path: str | os.PathLike = "network/radio_power.yaml") -> dict[str, RadioModel]:
    """Radio power models (Eqs. (8.5)-(8.6)); mW/Mbps, mW and Mbps converted to SI here."""
    p = resolve_path(path, what="radio power file")
    doc = read_yaml(p)
    check_keys(doc, ("radios", "description"), str(p))
    radios = doc.get("radios")
    if not isinstance(radios, dict) or not radios:
        raise DataError("missing or empty", source=str(p), field="radios")
    out = {}
    for name, rec in radios.items():
        where = f"radios.{name}"
        _text(name, str(p), "radios")
        _mapping(rec, str(p), where, "a mapping of radio fields")
        check_keys(rec, RADIO_KEYS, str(p), f"{where}.")
        out[str(name).lower()] = RadioModel(
            name=str(name).lower(),
            alpha_up_W_per_Bps=_q(rec, "alpha_up", "W_per_Bps", str(p), where, allow_zero=True),
            alpha_down_W_per_Bps=_q(rec, "alpha_down", "W_per_Bps", str(p), where, allow_zero=True),
            beta_W=_q(rec, "beta", "W", str(p), where, allow_zero=True),
            up_Bps=_q(rec, "up", "Bps", str(p), where),
            down_Bps=_q(rec, "down", "Bps", str(p), where),
        )
    return out


def radio_model(name: str | None, source: str, field_name: str) -> RadioModel | None:
    if name is None or name == "" or (isinstance(name, str) and name.lower() == "none"):  # none: no radio model
        return None
    if not isinstance(name, str):
        raise DataError(f"must be a radio name (wifi, 4g, 3g) or null, got {_short(name)}", source=source,
                        field=field_name)
    radios = load_radios()
    key = str(name).lower()
    if key not in radios:
        raise DataError(f"unknown radio {name!r} (known: {', '.join(sorted(radios))})", source=source, field=field_name)
    return radios[key]
