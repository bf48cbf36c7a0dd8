"""DAG plans against the chain-with-carry linearization (docs/dag.md).

For a shipped DAG table (ResNet-50 by default) on the thesis' device sets and a range of
network bandwidths, solve the latency ILP (ODIWeP preloading) twice on the same scenario:

- *DAG*: the table's edges, each tensor sent once per destination device (``dag`` form);
- *chain*: :func:`layerplan.dag.chain_with_carry`, i.e. the rows in execution order with
  every live skip tensor carried across every boundary (what chain tables do).

Both latencies are the optimum of their own model; the chain plan is also evaluated under
the DAG model (what it would really cost), and the report says by how much the DAG plan is
better. Run::

    python -m layerplan.experiments.dag_vs_chain [--dnn resnet50] [--out report.md]
"""

from __future__ import annotations

import argparse
from typing import Sequence

from layerplan.api import solve_scenario
from layerplan.dag import chain_with_carry, dag_plan_latency_s
from layerplan.io import load_device_set, load_dnn, load_network
from layerplan.latency import analytic_params
from layerplan.scenario import build_scenario

DEVICE_SETS = {
    "C1": {"catalogue": "devices/catalogue.yaml", "members": [{"name": "A", "spec": "rpi3b"}, {"name": "B", "spec": "rpi3b"}],
           "source": "A", "destination": "A"},
    "C3": {"catalogue": "devices/catalogue.yaml",
           "members": [{"name": "A", "spec": "rpi3b"}, {"name": "B", "spec": "jetson_nano"}, {"name": "C", "spec": "gtx1080ti"}],
           "source": "A", "destination": "A"},
    "edge_cloud": {"catalogue": "devices/catalogue.yaml",
                   "members": [{"name": "edge", "spec": "lepotato"}, {"name": "cloud", "spec": "rtx2080ti"}],
                   "source": "edge", "destination": "edge"},
}
BANDWIDTHS_Bps = (1e6, 1e7, 1e8)
SOLVER = {"name": "highs", "mip_rel_gap": 1e-7}


def compare(dnn_name: str, devices: dict, bandwidth_Bps: float, *, formulation=("preload",)) -> dict:
    dnn = load_dnn(dnn_name)
    devs, src, dst, where = load_device_set(devices)
    net = load_network({"bandwidth_Bps": bandwidth_Bps}, [d.name for d in devs], devs)
    sc = build_scenario(dnn, devs, net, source_device=src, destination_device=dst, where=where)
    chain_sc = build_scenario(chain_with_carry(dnn), devs, net, source_device=src, destination_device=dst, where=where)
    form = list(formulation)
    dag = solve_scenario(sc, formulation=form, solver=SOLVER)
    chain = solve_scenario(chain_sc, formulation=form, solver=SOLVER)
    pd = analytic_params(sc)
    a = [pd.devices.index(x["device"]) for x in chain["assignment"]]
    chain_under_dag = dag_plan_latency_s(pd, a, preload="preload" in form)["total"]
    used = lambda r: sorted({x["device"] for x in r["assignment"]})  # noqa: E731
    return {
        "dag_s": dag["latency_s"]["total"], "chain_s": chain["latency_s"]["total"], "chain_plan_under_dag_s": chain_under_dag,
        "gain_pct": 100.0 * (chain["latency_s"]["total"] - dag["latency_s"]["total"]) / chain["latency_s"]["total"],
        "dag_devices": used(dag), "chain_devices": used(chain), "dag_transfers": len(dag["dag"]["transfers"]),
        "solve_s": dag["timing_s"]["solve"],
    }


def report(dnn_name: str = "resnet50", bandwidths: Sequence[float] = BANDWIDTHS_Bps) -> str:
    lines = [f"# {dnn_name}: DAG plan vs chain-with-carry linearization (latency, ODIWeP preloading)", "",
             "| devices | network B/s | DAG optimum (s) | chain optimum (s) | chain plan under DAG model (s) "
             "| DAG better by | DAG devices | chain devices |", "|---|---|---|---|---|---|---|---|"]
    for name, devs in DEVICE_SETS.items():
        for bw in bandwidths:
            r = compare(dnn_name, devs, bw)
            lines.append(f"| {name} | {bw:.0e} | {r['dag_s']:.4f} | {r['chain_s']:.4f} | {r['chain_plan_under_dag_s']:.4f} "
                         f"| {r['gain_pct']:.2f} % | {','.join(r['dag_devices'])} | {','.join(r['chain_devices'])} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m layerplan.experiments.dag_vs_chain", description=__doc__.splitlines()[0])
    ap.add_argument("--dnn", default="resnet50")
    ap.add_argument("--out", help="write the markdown report here as well")
    args = ap.parse_args(argv)
    text = report(args.dnn)
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
