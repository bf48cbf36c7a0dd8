"""Bundle-profile files: metadata, validation, coverage for a given MBS."""

import pytest

from layerplan.errors import DataError
from layerplan.profiles import NOMINAL, load_profiles

pytestmark = pytest.mark.unit
HEADER = "dnn,granularity,device,frequency_Hz,i,j,latency_s,energy_J,samples,statistic,spread_s\n"


def _write(tmp_path, rows, name="p.csv"):
    path = tmp_path / name
    path.write_text("# layerplan bundle profile\n# device: dev\n# synthetic: true\n" + HEADER + rows)
    return path


def test_reads_rows_and_metadata(tmp_path):
    path = _write(tmp_path, "net,major,dev,,1,1,0.5,1.5,100,trimmed_mean_10,0.01\n"
                            "net,major,dev,,1,2,0.9,,100,trimmed_mean_10,0.01\n"
                            "net,module,dev,,1,1,7,,1,x,0\nother,major,dev,,1,1,7,,1,x,0\n")
    ps = load_profiles(path, "net", "major")
    assert ps.latency_s == {("dev", NOMINAL, 1, 1): 0.5, ("dev", NOMINAL, 1, 2): 0.9}
    assert ps.energy_J == {("dev", NOMINAL, 1, 1): 1.5}
    assert ps.meta["dev"]["synthetic"] == "true" and ps.devices() == ["dev"]
    assert load_profiles(tmp_path, "net", "major").latency_s == ps.latency_s  # a folder works too


@pytest.mark.parametrize(
    "rows,field,msg",
    [
        ("net,major,dev,,1,1,-0.5,,1,x,0\n", "row 5: latency_s", "> 0"),
        ("net,major,dev,,1,1,0.5,abc,1,x,0\n", "row 5: energy_J", "must be a number"),
        ("net,major,dev,,2,1,0.5,,1,x,0\n", "row 5: i", "1 <= i <= j"),
        ("net,major,dev,,a,1,0.5,,1,x,0\n", "row 5: i", "whole number"),
        ("net,major,dev,,1,1,0.5,,1,x,0\nnet,major,dev,,1,1,0.6,,1,x,0\n", "row 6: i", "duplicate"),
        ("net,major,dev,,1,1,0.5,-1,1,x,0\n", "row 5: energy_J", ">= 0"),
    ],
)
def test_bad_rows_name_file_row_and_field(tmp_path, rows, field, msg):
    with pytest.raises(DataError) as err:
        load_profiles(_write(tmp_path, rows), "net", "major")
    assert err.value.field == field and msg in err.value.message and err.value.source.endswith("p.csv")


def test_missing_inputs(tmp_path):
    with pytest.raises(DataError, match="not found"):
        load_profiles(tmp_path / "nope.csv", "net", "major")
    with pytest.raises(DataError, match="no profile rows for dnn='net'"):
        load_profiles(_write(tmp_path, "x,major,dev,,1,1,0.5,,1,x,0\n"), "net", "major")
    (tmp_path / "bad.csv").write_text("dnn,device,i,j\n")
    with pytest.raises(DataError, match="missing column"):
        load_profiles(tmp_path / "bad.csv", "net", "major")
