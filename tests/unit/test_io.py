"""Loaders: every bad input ends in one DataError naming the file and the field."""

import pytest

from layerplan.errors import DataError
from layerplan.io import load_device_set, load_dnn, load_network

pytestmark = pytest.mark.unit

CSV_HEADER = "name,kind,flop,weights,out_h,out_w,out_d\n"


def _dnn_files(tmp_path, rows):
    (tmp_path / "net.csv").write_text(CSV_HEADER + rows)
    (tmp_path / "net.yaml").write_text(
        "name: net\ninput_shape: {h: 8, w: 8, d: 3}\ngranularities: {module: net.csv}\n"
    )
    return tmp_path / "net.yaml"


def test_load_dnn_ok(tmp_path):
    dnn = load_dnn(_dnn_files(tmp_path, "c1,conv,100,10,4,4,8\nfc,linear,50,5,1,1,10\n"))
    assert [layer.name for layer in dnn.layers] == ["c1", "fc"]
    assert dnn.layers[0].out_bytes == 4 * 4 * 8 * 4 and dnn.input_shape == (8, 8, 3)


@pytest.mark.parametrize(
    "rows,field,msg",
    [
        ("", "layers", "empty"),
        ("c1,conv,-1,10,4,4,8\n", "row 2: flop", ">= 0"),
        ("c1,conv,100,10,0,4,8\n", "row 2: out_h", "> 0"),
        ("c1,conv,abc,10,4,4,8\n", "row 2: flop", "number"),
        ("c1,conv,100,10,4,4\n", "row 2", "values"),
        ("c1,conv,1,1,1,1,1\nc1,conv,1,1,1,1,1\n", "name", "duplicate"),
    ],
)
def test_bad_layer_tables(tmp_path, rows, field, msg):
    with pytest.raises(DataError) as err:
        load_dnn(_dnn_files(tmp_path, rows))
    assert "net.csv" in err.value.one_line()
    assert err.value.field == field and msg in err.value.message


def test_missing_column_and_granularity(tmp_path):
    (tmp_path / "x.csv").write_text("name,kind,flop,weights,out_h,out_w\n")
    (tmp_path / "x.yaml").write_text("name: x\ninput_shape: [8, 8, 3]\ngranularities: {module: x.csv}\n")
    with pytest.raises(DataError, match="out_d"):
        load_dnn(tmp_path / "x.yaml")
    with pytest.raises(DataError, match="no 'major' table"):
        load_dnn(tmp_path / "x.yaml", "major")
    with pytest.raises(DataError, match="not found"):
        load_dnn(tmp_path / "missing.yaml")


def test_device_set_errors(tmp_path):
    cat = tmp_path / "cat.yaml"
    cat.write_text(
        "devices:\n  pi: {class: edge, gflops_per_s: 3.62, internal_bandwidth_Bps: 7.19e8, external_bandwidth_Mbps: 88.8}\n"
    )
    devs, src, dst, _ = load_device_set({"catalogue": str(cat), "members": [{"name": "A", "spec": "pi"}], "source": "A"})
    assert devs[0].external_bandwidth_Bps == pytest.approx(1.11e7) and src == "A" and dst is None
    # member override in another unit replaces the catalogue value
    devs, *_ = load_device_set({"catalogue": str(cat), "members": [{"name": "A", "spec": "pi", "external_bandwidth_Bps": 5}]})
    assert devs[0].external_bandwidth_Bps == 5
    with pytest.raises(DataError, match="unknown device spec 'nano'"):
        load_device_set({"catalogue": str(cat), "members": [{"name": "A", "spec": "nano"}]})
    with pytest.raises(DataError) as err:
        load_device_set({"catalogue": str(cat), "members": [{"name": "A", "spec": "pi", "external_bandwidth_Mbps": 0}]})
    assert err.value.field == "devices.A.external_bandwidth_Mbps" and "> 0" in err.value.message
    with pytest.raises(DataError) as err:
        load_device_set({"members": [{"name": "A", "class": "edge", "gflops_per_s": 1, "internal_bandwidth_Bps": 1}]})
    assert err.value.field == "devices.A.external_bandwidth_Bps"
    with pytest.raises(DataError, match="must be one of"):
        load_device_set({"members": [{"name": "A", "class": "fog"}]})


def test_network_errors():
    with pytest.raises(DataError) as err:
        load_network({"bandwidth_Bps": -1}, ["A", "B"])
    assert err.value.field == "bandwidth_Bps"
    with pytest.raises(DataError, match="unknown device 'Z'"):
        load_network({"bandwidth_Bps": 1e6, "links": [{"src": "A", "dst": "Z", "bandwidth_Bps": 1}]}, ["A", "B"])
    net = load_network({"bandwidth_Mbps": 80, "links": [{"src": "A", "dst": "B", "bandwidth_Bps": 10}]}, ["A", "B"])
    assert net.bandwidth_Bps == 1e7 and net.links[("B", "A")] == 10


def test_radio_link_between_two_edge_devices_uses_the_slower_rate():
    """CADI's source and partner are both edge devices: the sender uploads and the receiver
    downloads, so the link runs at min(upload, download) of the radio (4G: 5.85 Mbit/s up)."""
    from layerplan.io import load_network, load_radios
    from layerplan.scenario import Device

    devs = [Device("a", "edge", 1e9, 1e9, 1e9), Device("b", "edge", 1e9, 1e9, 1e9), Device("c", "cloud", 1e9, 1e9, 1e9)]
    net = load_network({"bandwidth_Bps": 1e9, "radio": "4g"}, ["a", "b", "c"], devs)
    g4 = load_radios()["4g"]
    assert net.links[("a", "b")] == net.links[("b", "a")] == min(g4.up_Bps, g4.down_Bps) == pytest.approx(5.85e6 / 8)
    assert net.links[("a", "c")] == g4.up_Bps and net.links[("c", "a")] == g4.down_Bps
