"""Loaders for DNN layer tables, device sets and networks, with field validation.

Every loader names the file and the field in its :class:`~layerplan.errors.DataError`.
Formats are documented in ``docs/formats.md``.
"""

from __future__ import annotations

import csv
import os
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import yaml

from layerplan.errors import DataError
from layerplan.scenario import DEVICE_CLASSES, DNN, PROCESSORS, Device, Layer, Network, RadioModel
from layerplan.units import read_quantity

LAYER_COLUMNS = ("name", "kind", "flop", "weights", "out_h", "out_w", "out_d")
OPTIONAL_LAYER_COLUMNS = ("carry_elems", "exec_prob", "members", "alpha_B")


def data_root() -> Path:
    """Folder of the shipped data (``data/`` in the checkout, ``layerplan/data`` installed)."""
    return Path(str(resources.files("layerplan.data")))


def resolve_path(path: str | os.PathLike, *, base: Path | None = None, what: str = "file") -> Path:
    """Find ``path``: as given (absolute or relative to the cwd), relative to ``base``,
    then inside the shipped data folder."""
    p = Path(os.path.expanduser(str(path)))
    candidates = [p] if p.is_absolute() else [p, *( [base / p] if base else []), data_root() / p]
    for c in candidates:
        if c.is_file():
            return c
    raise DataError(f"{what} not found (looked in: {', '.join(str(c) for c in candidates)})", source=str(path))


def read_yaml(path: Path) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        raise DataError(f"not valid YAML ({str(exc).splitlines()[0]})", source=str(path)) from None
    if not isinstance(doc, dict):
        raise DataError("must be a YAML mapping", source=str(path))
    return doc


def _require(record: Mapping, key: str, source: str, where: str = "") -> Any:
    if key not in record or record[key] in (None, ""):
        raise DataError("missing", source=source, field=f"{where}{key}")
    return record[key]


def _number(record: Mapping, key: str, source: str, *, where: str = "", default=None, lo=None, hi=None, integer=False, positive=False):
    raw = record.get(key)
    if raw in (None, ""):
        if default is None:
            raise DataError("missing", source=source, field=f"{where}{key}")
        return default
    try:
        val = float(raw)
    except (TypeError, ValueError):
        raise DataError(f"must be a number, got {raw!r}", source=source, field=f"{where}{key}") from None
    if val != val or abs(val) == float("inf"):
        raise DataError(f"must be finite, got {raw!r}", source=source, field=f"{where}{key}")
    if integer and val != int(val):
        raise DataError(f"must be an integer, got {raw!r}", source=source, field=f"{where}{key}")
    if positive and val <= 0:
        raise DataError(f"must be > 0, got {raw!r}", source=source, field=f"{where}{key}")
    if lo is not None and val < lo:
        raise DataError(f"must be >= {lo}, got {raw!r}", source=source, field=f"{where}{key}")
    if hi is not None and val > hi:
        raise DataError(f"must be <= {hi}, got {raw!r}", source=source, field=f"{where}{key}")
    return val


def parse_layer(record: Mapping, source: str, where: str, alpha_B: float) -> Layer:
    name = str(_require(record, "name", source, where)).strip()
    kind = str(_require(record, "kind", source, where)).strip().lower()
    return Layer(
        name=name,
        kind=kind,
        flop=_number(record, "flop", source, where=where, lo=0),
        weights=_number(record, "weights", source, where=where, lo=0, integer=True),
        out_shape=tuple(
            int(_number(record, k, source, where=where, integer=True, positive=True)) for k in ("out_h", "out_w", "out_d")
        ),
        alpha_B=_number(record, "alpha_B", source, where=where, default=alpha_B, positive=True),
        exec_prob=_number(record, "exec_prob", source, where=where, default=1.0, lo=0, hi=1),
        carry_elems=_number(record, "carry_elems", source, where=where, default=0.0, lo=0),
    )


def read_layer_csv(path: Path, alpha_B: float = 4.0) -> list[Layer]:
    source = str(path)
    with open(path, newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.reader(fh) if r and not r[0].lstrip().startswith("#")]
    if not rows:
        raise DataError("layer table is empty", source=source, field="layers")
    header = [h.strip() for h in rows[0]]
    missing = [c for c in LAYER_COLUMNS if c not in header]
    if missing:
        raise DataError(f"missing column(s) {', '.join(missing)}", source=source, field=missing[0])
    unknown = [c for c in header if c not in LAYER_COLUMNS + OPTIONAL_LAYER_COLUMNS]
    if unknown:
        raise DataError(f"unknown column(s) {', '.join(unknown)}", source=source, field=unknown[0])
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
    name = str(_require(doc, "name", source))
    alpha = _number(doc, "alpha_B", source, default=4.0, positive=True)
    shape = _shape(input_shape if input_shape is not None else _require(doc, "input_shape", source), source, "input_shape")
    if "layers" in doc:
        recs = doc["layers"]
        if not isinstance(recs, list) or not recs:
            raise DataError("layer table is empty", source=source, field="layers")
        layers = [parse_layer(r, source, f"layers[{i}].", alpha) for i, r in enumerate(recs)]
        return DNN(name, granularity, shape, tuple(layers), source)
    grans = _require(doc, "granularities", source)
    if granularity not in grans:
        raise DataError(
            f"no {granularity!r} table (available: {', '.join(grans)})", source=source, field="granularities"
        )
    csv_path = resolve_path(grans[granularity], base=path.parent, what="layer table")
    return DNN(name, granularity, shape, tuple(read_layer_csv(csv_path, alpha)), str(csv_path))


def _shape(raw, source: str, fld: str) -> tuple[int, int, int]:
    if isinstance(raw, Mapping):
        return tuple(int(_number(raw, k, source, where=f"{fld}.", integer=True, positive=True)) for k in ("h", "w", "d"))
    try:
        vals = [int(v) for v in raw]
    except (TypeError, ValueError):
        raise DataError(f"must be [h, w, d] or {{h, w, d}}, got {raw!r}", source=source, field=fld) from None
    if len(vals) != 3 or min(vals) <= 0:
        raise DataError(f"must be three positive integers [h, w, d], got {raw!r}", source=source, field=fld)
    return tuple(vals)


def parse_device(name: str, record: Mapping, source: str, spec: str | None = None) -> Device:
    where = f"devices.{name}"
    cls = str(_require(record, "class", source, f"{where}.")).lower()
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
        description=str(record.get("description", "")),
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
    devs = doc.get("devices")
    if not isinstance(devs, dict) or not devs:
        raise DataError("missing or empty", source=str(p), field="devices")
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
    if cfg.get("file"):
        p = resolve_path(cfg["file"], what="device set")
        cfg = {**read_yaml(p), **{k: v for k, v in cfg.items() if k in ("source", "destination") and v is not None}}
        where = str(p)
    catalogue: dict = {}
    cat_src = where
    if cfg.get("catalogue"):
        cat_path, catalogue = load_catalogue(cfg["catalogue"])
        cat_src = str(cat_path)
    members = cfg.get("members")
    if not isinstance(members, (list, tuple)) or not members:
        raise DataError("missing or empty (list of devices)", source=where, field="members")
    devices = []
    for i, m in enumerate(members):
        if not isinstance(m, Mapping):
            raise DataError("must be a mapping", source=where, field=f"members[{i}]")
        name = str(_require(m, "name", where, f"members[{i}]."))
        spec = m.get("spec")
        record: dict = {}
        src = where
        if spec is not None:
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
        devices.append(parse_device(name, record, src, spec))
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
    if cfg.get("file"):
        p = resolve_path(cfg["file"], what="network file")
        cfg = read_yaml(p)
        where = str(p)
    bw = read_quantity(cfg, "bandwidth", "Bps", source=where)
    links = {}
    uncapped = set()
    for i, link in enumerate(cfg.get("links") or []):
        fld = f"links[{i}]"
        src = str(_require(link, "src", where, f"{fld}."))
        dst = str(_require(link, "dst", where, f"{fld}."))
        for role, dev in (("src", src), ("dst", dst)):
            if dev not in device_names:
                raise DataError(f"unknown device {dev!r} (devices: {', '.join(device_names)})", source=where, field=f"{fld}.{role}")
        if src == dst:
            raise DataError("src and dst must differ (a device uses its internal bandwidth)", source=where, field=fld)
        val = _q(link, "bandwidth", "Bps", where, fld)
        links[(src, dst)] = val
        pairs = [(src, dst)]
        if cfg.get("symmetric", True) and (dst, src) not in links:
            links[(dst, src)] = val
            pairs.append((dst, src))
        if link.get("cap_by_external", True) is False:
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
    return Network(bw, links, bool(cfg.get("cap_by_external", True)), where, frozenset(uncapped), radio)


def load_radios(path: str | os.PathLike = "network/radio_power.yaml") -> dict[str, RadioModel]:
    """Radio power models (Eqs. (8.5)-(8.6)); mW/Mbps, mW and Mbps converted to SI here."""
    p = resolve_path(path, what="radio power file")
    doc = read_yaml(p)
    radios = doc.get("radios")
    if not isinstance(radios, dict) or not radios:
        raise DataError("missing or empty", source=str(p), field="radios")
    out = {}
    for name, rec in radios.items():
        where = f"radios.{name}"
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
    if not name:
        return None
    radios = load_radios()
    key = str(name).lower()
    if key not in radios:
        raise DataError(f"unknown radio {name!r} (known: {', '.join(sorted(radios))})", source=source, field=field_name)
    return radios[key]
