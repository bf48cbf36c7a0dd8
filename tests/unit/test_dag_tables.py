"""Unit tier: DAG layer tables (docs/dag.md): the inputs column, YAML edges, their errors."""

from __future__ import annotations

import pytest

from layerplan.dag import chain_with_carry
from layerplan.errors import DataError
from layerplan.io import load_dnn
from layerplan.scenario import Device, Network, build_scenario

pytestmark = pytest.mark.unit
HEADER = "name,kind,flop,weights,out_h,out_w,out_d,inputs\n"


def _csv(tmp_path, body, name="net.csv"):
    p = tmp_path / name
    p.write_text(HEADER + body)
    return p


def _scenario(dnn, **kw):
    devs = [Device("A", "edge", 1e9, 1e9, 1e7)]
    return build_scenario(dnn, devs, Network(1e7), source_device="A", destination_device="A", **kw)


def test_csv_inputs_column_gives_edges_and_bytes(tmp_path):
    p = _csv(tmp_path, "a,conv,10,1,2,2,3,input\nb,conv,10,1,2,2,5,a\nc,conv,10,1,2,2,7,a;input\nd,other,1,0,1,1,1,b;c\n")
    dnn = load_dnn(p, input_shape=[4, 4, 3])
    assert dnn.is_dag
    sc = _scenario(dnn)
    names = sc.layer_names
    edges = {(names[v], names[u]) for v, u in sc.edges()}
    assert edges == {("source", "preprocess"), ("preprocess", "a"), ("preprocess", "c"), ("a", "b"), ("a", "c"),
                     ("b", "d"), ("c", "d"), ("d", "destination")}
    tb = dict(zip(names, sc.transfer_bytes()))
    assert tb["a"] == 2 * 2 * 3 * 4 and tb["b"] == 2 * 2 * 5 * 4  # producer output x alpha_B = 4


def test_empty_inputs_cell_is_the_previous_layer(tmp_path):
    p = _csv(tmp_path, "a,conv,10,1,2,2,3,\nb,conv,10,1,2,2,5,\nc,other,1,0,2,2,5,a;b\n")
    sc = _scenario(load_dnn(p, input_shape=[4, 4, 3]))
    names = sc.layer_names
    assert {(names[v], names[u]) for v, u in sc.edges()} >= {("preprocess", "a"), ("a", "b"), ("a", "c"), ("b", "c")}


def test_chain_table_keeps_implicit_edges():
    dnn = load_dnn("alexnet")
    assert not dnn.is_dag
    sc = _scenario(dnn)
    assert sc.edges() == [(i, i + 1) for i in range(len(sc.layers) - 1)]


@pytest.mark.parametrize("body,field,msg", [
    ("a,conv,1,1,1,1,1,input\nb,conv,1,1,1,1,1,zz\n", "b.inputs", "unknown layer 'zz'"),
    ("a,conv,1,1,1,1,1,b\nb,conv,1,1,1,1,1,input\n", "a.inputs", "execution (topological) order"),
    ("a,conv,1,1,1,1,1,input\nb,conv,1,1,1,1,1,a;a\n", "b.inputs", "twice"),
    ("a,conv,1,1,1,1,1,input\nb,conv,1,1,1,1,1,a;\n", "row 3: inputs", "empty name"),
])
def test_bad_edges_name_file_and_field(tmp_path, body, field, msg):
    p = _csv(tmp_path, body)
    with pytest.raises(DataError) as exc:
        load_dnn(p, input_shape=[1, 1, 1])
    assert exc.value.field == field and msg in exc.value.message and str(p) in exc.value.one_line()


def test_yaml_edges_with_bytes(tmp_path):
    p = tmp_path / "net.yaml"
    p.write_text("""name: y
input_shape: [4, 4, 3]
layers:
  - {name: a, kind: conv, flop: 1, weights: 1, out_h: 1, out_w: 1, out_d: 8}
  - {name: b, kind: conv, flop: 1, weights: 1, out_h: 1, out_w: 1, out_d: 8}
  - {name: c, kind: other, flop: 1, weights: 0, out_h: 1, out_w: 1, out_d: 8}
edges:
  - {src: input, dst: a}
  - {src: a, dst: b, bytes: 100}
  - {src: a, dst: c, bytes: 100}
  - {src: b, dst: c}
""")
    dnn = load_dnn(p)
    assert [x.inputs for x in dnn.layers] == [("input",), ("a",), ("a", "b")]
    sc = _scenario(dnn)
    assert dict(zip(sc.layer_names, sc.transfer_bytes()))["a"] == 100
    p.write_text(p.read_text().replace("{src: a, dst: c, bytes: 100}", "{src: a, dst: c, bytes: 50}"))
    with pytest.raises(DataError, match="same bytes"):
        load_dnn(p)
    p.write_text(p.read_text().replace("{src: b, dst: c}", "{src: b, dst: q}"))
    with pytest.raises(DataError, match="unknown layer 'q'") as exc:
        load_dnn(p)
    assert exc.value.field == "edges[3].dst"


def test_carry_not_allowed_in_dag_tables(tmp_path):
    p = tmp_path / "n.csv"
    p.write_text("name,kind,flop,weights,out_h,out_w,out_d,carry_elems,inputs\na,conv,1,1,1,1,1,5,input\n")
    with pytest.raises(DataError, match="carry_elems is for chain tables"):
        load_dnn(p, input_shape=[1, 1, 1])


def test_chain_with_carry_carries_live_tensors(tmp_path):
    # a -> b -> c(a, b) -> d(input, c): a is carried over b; the input over a, b, c
    p = _csv(tmp_path, "a,conv,1,1,1,1,2,input\nb,conv,1,1,1,1,3,a\nc,other,1,0,1,1,5,a;b\nd,other,1,0,1,1,7,c;input\n")
    ch = chain_with_carry(load_dnn(p, input_shape=[1, 1, 11]))
    assert [x.carry_elems for x in ch.layers] == [11, 2 + 11, 11, 0]
