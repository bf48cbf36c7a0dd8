"""Grid entries of the ``carbon`` config: constants, traces at a time, hours_after, errors;
the gCO2/kWh -> mgCO2/J conversion happens once, here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from layerplan.carbon import device_intensities
from layerplan.errors import DataError

ROOT = Path(__file__).resolve().parents[2]


def test_constants_convert_once_to_mg_per_J():
    cfg = {"grids": {"MISO": {"intensity_gCO2_per_kWh": 525}, "X": 360.0}, "devices": {"a": "MISO", "b": "X",
                                                                                        "c": {"intensity_mgCO2_per_J": 0.1}}}
    vals, info = device_intensities(cfg, ["a", "b", "c"])
    assert vals["a"] == pytest.approx(525 / 3600)  # 1 g/kWh = 1e3 mg / 3.6e6 J
    assert vals["b"] == pytest.approx(0.1)
    assert vals["c"] == pytest.approx(0.1) and info["c"]["intensity_gCO2_per_kWh"] == pytest.approx(360.0)
    assert info["a"]["grid"] == "MISO" and info["a"]["constant"]


def test_trace_at_time_plus_hours(tmp_path):
    (tmp_path / "g.csv").write_text("timestamp,intensity_gCO2_per_kWh\n2022-01-01T00:00:00Z,100\n"
                                    "2022-01-01T01:00:00Z,200\n2022-01-01T02:00:00Z,300\n")
    cfg = {"dir": str(tmp_path), "time": "2022-01-01T00:00:00Z", "hours_after": 2,
           "grids": {"G": {"trace": "g.csv"}}, "devices": {"a": "G"}}
    vals, info = device_intensities(cfg, ["a"])
    assert info["a"]["intensity_gCO2_per_kWh"] == 300.0 and vals["a"] == pytest.approx(300 / 3600)


@pytest.mark.parametrize("cfg, field", [
    ({"grids": {}, "devices": {"a": "NOPE"}}, "carbon.devices.a"),
    ({"grids": {"G": 1.0}, "devices": {"zz": "G"}}, "carbon.devices.zz"),
    ({"grids": {"G": {"trace": "x.csv"}}, "devices": {"a": "G"}, "time": "2022-01-01T00:00:00Z"}, "carbon.dir"),
    ({"grids": {"G": {"trace": "/nonexistent/x.csv"}}, "devices": {"a": "G"}}, "carbon.time"),
    ({"grids": {"G": {"trace": "/nonexistent/x.csv"}}, "devices": {"a": "G"}, "time": "2022-01-01T00:00:00Z"},
     "carbon.grids.G.trace"),
    ({"grids": {"G": {"intensity_gCO2_per_kWh": -1}}, "devices": {"a": "G"}}, "carbon.grids.G.intensity_gCO2_per_kWh"),
    ({"grids": {"G": {"foo": 1}}, "devices": {"a": "G"}}, "carbon.grids.G.foo"),
    ({"grids": {"G": {}}, "devices": {"a": "G"}}, "carbon.grids.G"),
    ({"grids": {"G": {"intensity_gCO2_per_kWh": True}}, "devices": {"a": "G"}}, "carbon.grids.G.intensity_gCO2_per_kWh"),
])
def test_bad_grid_entries_name_the_field(cfg, field):
    with pytest.raises(DataError) as exc:
        device_intensities(cfg, ["a"])
    assert exc.value.field == field


def test_cli_missing_trace_is_one_line(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("LAYERPLAN_CARBON_DIR", None)
    proc = subprocess.run([sys.executable, str(ROOT / "run.py"), "+method=cadi", "carbon=traces_2022",
                           f"carbon.dir={tmp_path}", "carbon.time=2022-06-26T21:00:00Z", "tracking=none",
                           f"hydra.run.dir={tmp_path / 'out'}"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode != 0
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("layerplan: error:") and "carbon.grids.MISO.trace" in err[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert (tmp_path / "out" / "result.json").is_file()
