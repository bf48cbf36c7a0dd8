"""Issue 10: every bad data file ends in one LayerplanError naming the file and the field,
nothing is accepted silently. One regression test per class the fuzzing campaign found
(the generator itself is tests/fuzz/)."""

from __future__ import annotations

import math

import pytest
import yaml

from layerplan.carbon import load_trace
from layerplan.errors import DataError, LayerplanError
from layerplan.io import load_device_set, load_dnn, load_network, load_radios
from layerplan.profiles import load_profiles
from layerplan.scenario import DNN, Device, Layer, Network, build_scenario

pytestmark = pytest.mark.unit

LAYERS = "name,kind,flop,weights,out_h,out_w,out_d\nc1,conv,100,10,4,4,8\nfc,linear,50,5,1,1,10\n"
PROFILE = ("# device: dev\ndnn,granularity,device,frequency_Hz,i,j,latency_s,energy_J,samples,statistic,spread_s\n"
           "net,major,dev,,1,1,0.5,0.25,10,trimmed_mean_10,0.01\n")
CAT = ("devices:\n  pi: {class: edge, gflops_per_s: 3.62, internal_bandwidth_Bps: 7.19e8, "
       "external_bandwidth_Bps: 1.11e7, memory_GB: 1}\n")
EM = ("Datetime (UTC),Zone Id,Carbon Intensity gCO₂eq/kWh (direct),Carbon Intensity gCO₂eq/kWh (LCA)\n"
      "2024-06-26 14:00:00,US-CAL-CISO,113,200\n2024-06-26 15:00:00,US-CAL-CISO,82,190\n")


def _err(fn, *args, **kw) -> DataError:
    with pytest.raises(DataError) as info:
        fn(*args, **kw)
    err = info.value
    assert "\n" not in str(err) and err.source and err.field, str(err)
    return err


def _dnn_yaml(tmp_path, body: str, csv: str = LAYERS):
    (tmp_path / "net.csv").write_text(csv, encoding="utf-8")
    (tmp_path / "net.yaml").write_text(body, encoding="utf-8")
    return tmp_path / "net.yaml"


NET_YAML = "name: net\ninput_shape: {h: 8, w: 8, d: 3}\ngranularities: {module: net.csv}\n"


def _catalogue(tmp_path, text: str, members=None):
    (tmp_path / "cat.yaml").write_text(text, encoding="utf-8")
    return lambda: load_device_set({"catalogue": str(tmp_path / "cat.yaml"),
                                    "members": members or [{"name": "A", "spec": "pi"}]})


# ------------------------------------------------------------------ encodings


@pytest.mark.parametrize("fmt", ["dnn_csv", "dnn_yaml", "profile", "carbon", "catalogue"])
def test_non_utf8_bytes_are_one_error_naming_the_line(tmp_path, fmt):
    text = {"dnn_csv": LAYERS, "dnn_yaml": NET_YAML, "profile": PROFILE, "carbon": EM, "catalogue": CAT}[fmt]
    data = text.encode("utf-8").replace(b"\n", b"\n\xe9", 1)  # a Latin-1 e-acute on line 2
    path = tmp_path / ("f.yaml" if fmt in ("dnn_yaml", "catalogue") else "f.csv")
    (tmp_path / "net.csv").write_text(LAYERS)
    path.write_bytes(data)
    load = {"dnn_csv": lambda: load_dnn(path, input_shape=[8, 8, 3]), "dnn_yaml": lambda: load_dnn(path),
            "profile": lambda: load_profiles(path, "net", "major"), "carbon": lambda: load_trace(path),
            "catalogue": lambda: load_device_set({"catalogue": str(path), "members": [{"name": "A", "spec": "pi"}]})}
    err = _err(load[fmt])
    assert err.source == str(path) and err.field == "line 2" and "not UTF-8" in err.message


def test_utf8_bom_is_accepted_everywhere(tmp_path):
    bom = "\ufeff"
    (tmp_path / "net.csv").write_text(bom + LAYERS, encoding="utf-8")
    assert [layer.name for layer in load_dnn(tmp_path / "net.csv", input_shape=[8, 8, 3]).layers] == ["c1", "fc"]
    (tmp_path / "net.yaml").write_text(bom + NET_YAML, encoding="utf-8")
    assert load_dnn(tmp_path / "net.yaml").name == "net"
    (tmp_path / "p.csv").write_text(bom + PROFILE, encoding="utf-8")
    assert load_profiles(tmp_path / "p.csv", "net", "major").energy_J == {("dev", "nominal", 1, 1): 0.25}
    (tmp_path / "em.csv").write_text(bom + EM, encoding="utf-8")
    assert load_trace(tmp_path / "em.csv").at("2024-06-26T14:30:00Z") == 200
    # only a leading mark is dropped; one inside the file is an error
    (tmp_path / "mid.csv").write_text(LAYERS.replace("fc,", bom + "fc,"), encoding="utf-8")
    assert _err(load_dnn, tmp_path / "mid.csv", input_shape=[8, 8, 3]).field == "line 3"


# ------------------------------------------------------------------ numbers


def test_integers_too_large_for_a_float(tmp_path):
    huge = "1" + "0" * 400
    err = _err(_catalogue(tmp_path, CAT.replace("memory_GB: 1", f"memory_GB: {huge}")))
    assert err.field == "devices.pi.memory_GB" and "too large" in err.message
    err = _err(load_dnn, _dnn_yaml(tmp_path, NET_YAML + f"alpha_B: {huge}\n"))
    assert err.field == "alpha_B"
    err = _err(load_dnn, _dnn_yaml(tmp_path, NET_YAML, LAYERS.replace("c1,conv,100", f"c1,conv,{huge}")))
    assert err.field == "row 2: flop"


def test_non_numeric_energy_in_a_profile(tmp_path):
    (tmp_path / "p.csv").write_text(PROFILE.replace("0.25", "n/a"))
    err = _err(load_profiles, tmp_path / "p.csv", "net", "major")
    assert err.field == "row 3: energy_J" and "number" in err.message
    for col, bad in (("samples", "many"), ("spread_s", "-1"), ("frequency_Hz", "nan"), ("frequency_Hz", "fast")):
        row = dict(zip(PROFILE.splitlines()[1].split(","), PROFILE.splitlines()[2].split(",")))
        row[col] = bad
        (tmp_path / "p.csv").write_text("\n".join(PROFILE.splitlines()[:2] + [",".join(row.values())]) + "\n")
        assert _err(load_profiles, tmp_path / "p.csv", "net", "major").field == f"row 3: {col}"


def test_true_is_not_the_number_one(tmp_path):
    err = _err(_catalogue(tmp_path, CAT.replace("gflops_per_s: 3.62", "gflops_per_s: true")))
    assert err.field == "devices.pi.gflops_per_s"
    inline = "name: net\ninput_shape: [8, 8, true]\nlayers:\n  - {name: a, kind: conv, flop: 1, weights: 1, " \
             "out_h: 1, out_w: 1, out_d: 1}\n"
    assert _err(load_dnn, _dnn_yaml(tmp_path, inline)).field == "input_shape.d"
    inline = inline.replace("[8, 8, true]", "[8, 8, 3]").replace("weights: 1", "weights: true")
    assert _err(load_dnn, _dnn_yaml(tmp_path, inline)).field == "layers[0].weights"


@pytest.mark.parametrize("cfg,field", [
    ({"bandwidth_Bps": 1e-308}, "bandwidth_Bps"),
    ({"bandwidth_Bps": 1e308}, "bandwidth_Bps"),
    ({"bandwidth_Gbps": 1e300}, "bandwidth_Gbps"),  # finite, but inf once converted
    ({"bandwidth_Bps": float("nan")}, "bandwidth_Bps"),
    ({"bandwidth_Bps": 1e6, "links": [{"src": "A", "dst": "B", "bandwidth_Bps": 1e-308}]}, "links[0].bandwidth_Bps"),
])
def test_absurd_bandwidths_are_refused_at_load_time(cfg, field):
    assert _err(load_network, cfg, ["A", "B"]).field == field


def test_absurd_alpha_and_layer_sizes(tmp_path):
    assert _err(load_dnn, _dnn_yaml(tmp_path, NET_YAML + "alpha_B: 1e308\n")).field == "alpha_B"
    big = LAYERS.replace("c1,conv,100,10,4,4,8", "c1,conv,100,10,4,4,1e12")
    assert _err(load_dnn, _dnn_yaml(tmp_path, NET_YAML, big)).field == "row 2: out_d"


def test_huge_but_finite_terms_name_the_file_and_field():
    """Each value within its range, but 1e17 FLOP on a 1 GFLOP/s device is 1e8 s (3 years):
    refused when the scenario is built, naming the layer's field, not left to the solver."""
    dnn = DNN("net", "module", (8, 8, 3), (Layer("big", "conv", 1e17, 10, (1, 1, 1)),), "net.csv")
    dev = Device("A", "edge", 1e9, 1e9, 1e9)
    err = _err(build_scenario, dnn, [dev], Network(1e9))
    assert err.source == "net.csv" and err.field == "big.flop" and "1e+08 s" in err.message
    slow = Network(1.0, source_file="net.yaml")
    dnn = DNN("net", "module", (8, 8, 3), (Layer("a", "conv", 1, 1, (1000, 1000, 10)), Layer("b", "conv", 1, 1, (1, 1, 1))),
              "net.csv")
    err = _err(build_scenario, dnn, [dev, Device("B", "cloud", 1e9, 1e9, 1e9)], slow)
    assert "net.yaml" in err.source and "link A->B" in err.message


# ------------------------------------------------------------------ carbon columns


def test_em_export_without_the_configured_column_is_an_error(tmp_path):
    (tmp_path / "em.csv").write_text(EM.replace(",Carbon Intensity gCO₂eq/kWh (LCA)", "").replace(",200", "")
                                     .replace(",190", ""))
    err = _err(load_trace, tmp_path / "em.csv")  # default column lca: no fall-back to direct
    assert "(LCA)" in err.message and err.field == "header"
    assert load_trace(tmp_path / "em.csv", "direct").at("2024-06-26T15:00:00Z") == 82


def test_untimed_trace_never_falls_back_to_the_first_column(tmp_path):
    (tmp_path / "u.csv").write_text("slack_0,other\n10,1\n20,2\n")
    err = _err(load_trace, tmp_path / "u.csv", "lca", start="2022-01-01T00:00:00Z")
    assert "no column 'lca'" in err.message
    err = _err(load_trace, tmp_path / "u.csv", start="2022-01-01T00:00:00Z")
    assert "name one" in err.message
    (tmp_path / "one.csv").write_text("slack_0\n10\n20\n")
    assert load_trace(tmp_path / "one.csv", start="2022-01-01T00:00:00Z").column == "slack_0"
    (tmp_path / "plain.csv").write_text("timestamp,avg_CI\n2022-01-01T00:00:00Z,10\n")
    assert "no column 'lca'" in _err(load_trace, tmp_path / "plain.csv", "lca").message
    (tmp_path / "short.csv").write_text("timestamp,avg_CI,x\n2022-01-01T00:00:00Z,10,1\n2022-01-01T01:00:00Z\n")
    assert _err(load_trace, tmp_path / "short.csv").field == "row 3"  # truncated, not a blank hour


# ------------------------------------------------------------------ structure


@pytest.mark.parametrize("text,field", [
    ("devices: [rpi3b]\n", "devices"),  # a list where a mapping belongs
    ("devices:\n  pi:\n", "devices.pi"),  # an empty entry
    ("devices:\n  pi: [class, edge]\n", "devices.pi"),
    (CAT.replace("memory_GB", "memory_Mb"), "devices.pi.memory_Mb"),  # unknown unit: the cap would vanish
    (CAT.replace("memory_GB", "memory_TB"), "devices.pi.memory_TB"),
    (CAT.replace("class: edge", "class: fog"), "devices.pi.class"),
    (CAT + "devices:\n  pi2: {}\n", "line 3"),  # a key given twice
])
def test_catalogue_structure(tmp_path, text, field):
    assert _err(_catalogue(tmp_path, text)).field == field


def test_yaml_merge_keys_may_be_overridden(tmp_path):
    text = ("devices:\n  pi: &pi {class: edge, gflops_per_s: 3.62, internal_bandwidth_Bps: 7.19e8, "
            "external_bandwidth_Bps: 1.11e7}\n  pi2: {<<: *pi, gflops_per_s: 5}\n")
    devs, *_ = _catalogue(tmp_path, text, [{"name": "A", "spec": "pi"}, {"name": "B", "spec": "pi2"}])()
    assert [d.flops_per_s for d in devs] == [3.62e9, 5e9]
    assert _err(_catalogue(tmp_path, text.replace("gflops_per_s: 5}", "gflops_per_s: 5, gflops_per_s: 6}"))).field \
        == "line 3"


@pytest.mark.parametrize("members,field", [
    ([{"name": "A", "spec": ["pi"]}], "members[0].spec"),
    ([["A", "pi"]], "members[0]"),
    ([{"name": "A", "spec": "pi", "memory_Mb": 512}], "members[0].memory_Mb"),
    ([{"name": "A", "spec": "pi"}, {"name": "A", "spec": "pi"}], "members[1].name"),
    ([{"name": True, "spec": "pi"}], "members[0].name"),
])
def test_device_set_structure(tmp_path, members, field):
    assert _err(_catalogue(tmp_path, CAT, members)).field == field


def test_device_set_file_keys(tmp_path):
    (tmp_path / "cat.yaml").write_text(CAT)
    (tmp_path / "set.yaml").write_text(f"catalogue: {tmp_path / 'cat.yaml'}\nmembers: [{{name: A, spec: pi}}]\n"
                                       "sourse: A\n")
    err = _err(load_device_set, {"file": str(tmp_path / "set.yaml")})
    assert err.field == "sourse" and "did you mean source" in err.message
    (tmp_path / "set.yaml").write_text(f"catalogue: {tmp_path / 'cat.yaml'}\nmembers: [{{name: A, spec: pi}}]\n"
                                       "source: Z\n")
    assert _err(load_device_set, {"file": str(tmp_path / "set.yaml")}).field == "source"


@pytest.mark.parametrize("cfg,field", [
    ({"bandwidth_Bps": 1e6, "links": [None]}, "links[0]"),
    ({"bandwidth_Bps": 1e6, "links": {"src": "A"}}, "links"),
    ({"bandwidth_Bps": 1e6, "link": []}, "link"),
    ({"bandwidth_Bps": 1e6, "cap_by_external": "false"}, "cap_by_external"),
    ({"bandwidth_Bps": 1e6, "symmetric": 0}, "symmetric"),
    ({"bandwidth_Bps": 1e6, "links": [{"src": "A", "dst": "B", "bandwidth_Bps": 1, "cap_by_external": "no"}]},
     "links[0].cap_by_external"),
    ({"bandwidth_Bps": 1e6, "links": [{"src": "A", "dst": "B", "bandwith_Bps": 1}]}, "links[0].bandwith_Bps"),
    ({"bandwidth_Bps": 1e6, "links": [{"src": "A", "dst": "B", "bandwidth_Bps": 1}] * 2}, "links[1]"),
    ({"bandwidth_Bps": 1e6, "radio": ["4g"]}, "radio"),
    ({"bandwidth": 1e6}, "bandwidth"),
])
def test_network_structure(cfg, field):
    assert _err(load_network, cfg, ["A", "B"]).field == field


def test_strict_booleans_keep_their_meaning():
    net = load_network({"bandwidth_Bps": 1e6, "cap_by_external": False,
                        "links": [{"src": "A", "dst": "B", "bandwidth_Bps": 10, "cap_by_external": False}]}, ["A", "B"])
    assert net.cap_by_external is False and ("A", "B") in net.uncapped_links


@pytest.mark.parametrize("body,field", [
    (NET_YAML.replace("{module: net.csv}", "net.csv"), "granularities"),
    (NET_YAML.replace("{module: net.csv}", "{module: [net.csv]}"), "granularities.module"),
    (NET_YAML.replace("{module: net.csv}", "{module: net.csv, major: gone.csv}"), "granularities.major"),
    (NET_YAML + "alpha_b: 2\n", "alpha_b"),
    (NET_YAML.replace("{h: 8, w: 8, d: 3}", "{h: 8, w: 8, depth: 3}"), "input_shape.depth"),
    (NET_YAML.replace("{h: 8, w: 8, d: 3}", "[8, 8, 2.5]"), "input_shape.d"),
    (NET_YAML + "layers: []\n", "layers"),
    ("- name: net\n", "(top level)"),
])
def test_dnn_yaml_structure(tmp_path, body, field):
    assert _err(load_dnn, _dnn_yaml(tmp_path, body)).field == field


@pytest.mark.parametrize("csv,field", [
    (LAYERS.replace("c1,conv", "c1,convolution"), "row 2: kind"),
    (LAYERS.replace("fc,linear", "fc,fc"), "row 3: kind"),
    (LAYERS.replace("out_d\n", "out_d,exec_prb\n").replace(",8\n", ",8,1\n").replace(",10\n", ",10,1\n"), "exec_prb"),
    (LAYERS.replace("out_d\n", "out_d,flop\n").replace(",8\n", ",8,1\n").replace(",10\n", ",10,1\n"), "flop"),
])
def test_layer_kind_and_columns(tmp_path, csv, field):
    assert _err(load_dnn, _dnn_yaml(tmp_path, NET_YAML, csv)).field == field


def test_inline_layers_are_checked_like_csv_rows(tmp_path):
    body = "name: net\ninput_shape: [8, 8, 3]\nlayers:\n  - {name: a, kind: conv, flop: 1, weights: 1, out_h: 1, " \
           "out_w: 1, out_d: 1, alpha_b: 2}\n"
    assert _err(load_dnn, _dnn_yaml(tmp_path, body)).field == "layers[0].alpha_b"
    assert _err(load_dnn, _dnn_yaml(tmp_path, body.replace(", alpha_b: 2", "").replace("conv", "pool"))).field == \
        "layers[0].kind"
    assert _err(load_dnn, _dnn_yaml(tmp_path, body.replace("  - {", "  - null\n  - {"))).field == "layers[0]"


def test_radio_file_unknown_key(tmp_path):
    doc = yaml.safe_load(open(load_radios.__globals__["resolve_path"]("network/radio_power.yaml")))
    doc["radios"]["4g"]["up_Mb"] = 1
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(doc))
    assert _err(load_radios, tmp_path / "r.yaml").field == "radios.4g.up_Mb"


def test_shipped_files_still_load():
    """The strict checks refuse nothing that ships."""
    from layerplan.io import data_root

    import yaml

    for f in sorted((data_root() / "dnn").glob("*.yaml")):
        grans = yaml.safe_load(f.read_text()).get("granularities") or {"module": None}
        assert grans, f
        for g in grans:  # every table a shipped DNN declares (DAG imports ship module tables only)
            assert load_dnn(f, g).layers
    assert set(load_radios()) == {"3g", "4g", "wifi"}
    devs, *_ = load_device_set({"catalogue": "devices/catalogue.yaml",
                                "members": [{"name": "A", "spec": "rpi3b"}, {"name": "B", "spec": "gtx1080ti"}]})
    assert math.isfinite(devs[0].memory_B)
    for folder in ("synthetic", "dvfs", "cpu", "dvfs/governor"):
        assert load_profiles(f"profiles/{folder}", "alexnet", "major").latency_s


# ------------------------------------------------------------------ the CLI path: one line, exit 2


@pytest.mark.integration
@pytest.mark.parametrize("overrides,message", [
    (["devices=file", "devices.file={tmp}/set.yaml"], "set.yaml: members[0].memory_Mb: unknown key"),
    (["network.bandwidth_Bps=1e-308"], "network: bandwidth_Bps: 1e-308 is outside the accepted range"),
    (["network.file={tmp}/net.yaml"], "net.yaml: cap_by_external: must be true or false"),
])
def test_bad_files_through_the_cli_are_one_line_exit_2(tmp_path, capsys, overrides, message):
    import json

    from hydra import compose, initialize_config_module

    from layerplan.cli import run_job

    (tmp_path / "set.yaml").write_text("catalogue: devices/catalogue.yaml\nmembers:\n  - {name: A, spec: rpi3b, "
                                       "memory_Mb: 512}\nsource: A\ndestination: A\n")
    (tmp_path / "net.yaml").write_text("bandwidth_Bps: 1.0e7\ncap_by_external: 'false'\n")
    overrides = [o.replace("{tmp}", str(tmp_path)) for o in overrides]
    with initialize_config_module(config_module="layerplan.conf", version_base="1.3"):
        cfg = compose(config_name="config", overrides=["tracking=none", *overrides])
    with pytest.raises(SystemExit) as exc:
        run_job(cfg, tmp_path / "out")
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert json.loads((tmp_path / "out" / "result.json").read_text())["status"] == "error"
    assert issubclass(DataError, LayerplanError) and DataError("x").exit_code == 2
