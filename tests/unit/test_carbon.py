"""Carbon-intensity traces (Ch. 9): formats, conversion, the shared real traces.

The real traces stay in ../shared/data/carbon (not copied here); set LAYERPLAN_CARBON_DIR
to read them elsewhere. Tests that need them skip when the folder is absent.
"""

import os
from pathlib import Path

import pytest

from layerplan.carbon import g_per_kWh_to_mg_per_J, load_trace
from layerplan.errors import DataError

pytestmark = pytest.mark.unit
CARBON_DIR = Path(os.environ.get("LAYERPLAN_CARBON_DIR", Path(__file__).resolve().parents[3] / "shared" / "data" / "carbon"))
needs_traces = pytest.mark.skipif(not CARBON_DIR.is_dir(), reason=f"no carbon traces at {CARBON_DIR}")


def test_conversion():
    assert g_per_kWh_to_mg_per_J(1.0) == pytest.approx(2.778e-4, rel=1e-3)
    # the thesis: CAISO 113 -> 82 g/kWh is 3.15e-2 -> 2.27e-2 mg/J (2024-06-26, 14:00-15:00 UTC)
    assert g_per_kWh_to_mg_per_J(113) == pytest.approx(3.14e-2, rel=1e-2)
    assert g_per_kWh_to_mg_per_J(82) == pytest.approx(2.28e-2, rel=1e-2)


def test_plain_and_untimed_formats(tmp_path):
    (tmp_path / "plain.csv").write_text("timestamp,intensity_gCO2_per_kWh\n2022-01-01T00:00:00Z,100\n"
                                        "2022-01-01T01:00:00Z,\n2022-01-01T02:00:00Z,300\n")
    tr = load_trace(tmp_path / "plain.csv")
    assert tr.at("2022-01-01T00:30:00Z") == 100 and tr.at("2022-01-01T02:00:00Z") == 300
    assert tr.at_mg_per_J("2022-01-01T02:10:00Z") == pytest.approx(300 * 1e3 / 3.6e6)
    (tmp_path / "untimed.csv").write_text("slack_0,other\n10,1\n20,2\n")
    un = load_trace(tmp_path / "untimed.csv", column="slack_0", start="2022-01-01T00:00:00Z")
    assert un.at("2022-01-01T01:00:00Z") == 20
    with pytest.raises(DataError, match="needs a start time"):
        load_trace(tmp_path / "untimed.csv", column="slack_0")
    (tmp_path / "bad.csv").write_text("timestamp,intensity_gCO2_per_kWh\n2022-01-01T00:00:00Z,-3\n")
    with pytest.raises(DataError) as err:
        load_trace(tmp_path / "bad.csv")
    assert err.value.field == "row 2: intensity_gCO2_per_kWh"
    with pytest.raises(DataError, match="no intensity at"):
        tr.at("2023-06-01T00:00:00Z")


@needs_traces
def test_shared_traces_match_their_readme():
    caiso24 = load_trace(CARBON_DIR / "electricitymaps_US-CAL-CISO_2024_hourly.csv", column="lca")
    assert len(caiso24.times) == 8784
    direct = load_trace(CARBON_DIR / "electricitymaps_US-CAL-CISO_2024_hourly.csv", column="direct")
    assert direct.at("2024-06-26T14:00:00Z") == pytest.approx(113, abs=1.0)  # thesis, Sec. 9.4
    assert direct.at("2024-06-26T15:00:00Z") == pytest.approx(82, abs=1.0)
    for grid, mean in (("US-CAL-CISO", 264), ("US-CAL-LDWP", 374), ("US-MIDW-MISO", 525)):
        tr = load_trace(CARBON_DIR / f"electricitymaps_{grid}_2022_hourly_lca_untimed.csv", column="slack_0",
                        start="2022-01-01T00:00:00Z")
        assert len(tr.times) == 8759
        assert tr.mean() == pytest.approx(mean, rel=0.03)  # yearly means quoted in the README
    eia = load_trace(CARBON_DIR / "eia930_MISO_2022_hourly.csv")
    assert eia.column == "avg_CI" and len(eia.times) > 8700
