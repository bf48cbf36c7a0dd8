"""The DynaSplit pool as layerplan profiles: measured configurations and the separable segment model.

Two views of one pool (:class:`layerplan.dynasplit.data.Pool`):

``measured_table(pool)``
    one row per configuration present in the pool: the mean over its recorded rows of end-to-end
    latency (ms), energy (J, edge + cloud node), accuracy (VGG16), and the segments. This is what the
    online phase and the simulator replay; configurations absent from the pool are excluded.

``segment_chain(pool)``
    a :class:`layerplan.dynasplit.modes.ModeChain` with devices ``edge`` and ``cloud``:

    - edge segment (0, s] in mode ``<f>mhz-tpu-<off|std|max>``: mean ``avg latency edge (ms)`` and
      ``avg energy edge (J)`` over the rows with split s, frequency f and that TPU mode (any server
      accelerator; the edge does not see it). Edge latency is cumulative up to the split, so this is
      the whole edge segment. s = 0 is the empty segment (the edge only sends the input).
      Accuracy: the measured accuracy of (s, TPU mode) (it depends on nothing else in the pool).
    - transfer at s: mean ``avg latency transfer (ms)`` over the rows with split s (tensor size
      ``tensor size (KB)`` x 1024 B kept in ``meta['tensor_B']``); its energy is inside the measured
      edge and cloud energies, so the transfer carries 0 J.
    - cloud segment (s, L] in mode ``gpu-on`` | ``gpu-off``: mean ``avg latency cloud (ms)`` and
      ``avg energy cloud (J)`` over the rows with split s and that server-accelerator setting.

    Plan latency = edge + transfer + cloud and energy = edge + cloud hold row by row in the pool
    (checked to 1e-9), so for a configuration whose rows are all of one kind the model is exact; it
    averages over the configurations that share a segment, and it *composes* configurations absent
    from the pool when their segments were measured in other configurations (reported as
    ``composed``). DynaSplit's pruning rules (layer 0 -> TPU off; layer L -> server accelerator off) are
    kept: segments outside the published space are dropped.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from layerplan.dynasplit.data import Config, Pool, config_space
from layerplan.dynasplit.modes import ModeChain

EDGE, CLOUD = "edge", "cloud"


def edge_mode(freq_MHz: int, tpu: str) -> str:
    return f"{freq_MHz}mhz-tpu-{tpu}"


def cloud_mode(gpu: bool) -> str:
    return "gpu-on" if gpu else "gpu-off"


def parse_modes(bounds, modes) -> Config:
    """Plan of the two-device chain -> configuration."""
    f, _, tpu = modes[0].partition("mhz-tpu-")
    return Config(int(f), int(bounds[0]), tpu, modes[1] == "gpu-on")


def config_modes(c: Config) -> tuple[tuple[int], tuple[str, str]]:
    return (c.layer,), (edge_mode(c.freq_MHz, c.tpu), cloud_mode(c.gpu))


def measured_table(pool: Pool) -> dict[str, np.ndarray | list]:
    """Per configuration present in the pool (``configs`` order): means of every column, ``rows``, and
    ``configs``. Configurations outside the published space are dropped."""
    space = set(config_space(pool.network))
    m = pool.means()
    keep = np.array([c in space for c in pool.configs], dtype=bool)
    out = {k: v[keep] for k, v in m.items()}
    if "accuracy" in out:
        out["accuracy"] = np.round(out["accuracy"], 9)
    out["configs"] = [c for c, k in zip(pool.configs, keep) if k]
    out["pool_index"] = np.flatnonzero(keep)
    return out


def segment_chain(pool: Pool) -> ModeChain:
    L = pool.n_layers
    cfg = pool.configs
    rc = pool.row_config
    acc = pool.accuracy
    space = set(config_space(pool.network))
    e_sum: dict = defaultdict(lambda: np.zeros(4))  # latency, energy, accuracy, count
    c_sum: dict = defaultdict(lambda: np.zeros(3))
    x_sum: dict = defaultdict(lambda: np.zeros(3))  # latency, tensor_B, count
    col = pool.cols
    for r in range(len(rc)):
        c = cfg[rc[r]]
        if c not in space:
            continue
        e_sum[(c.layer, edge_mode(c.freq_MHz, c.tpu))] += (col["edge_latency_ms"][r], col["edge_energy_J"][r],
                                                           acc[r] if acc is not None else 0.0, 1)
        c_sum[(c.layer, cloud_mode(c.gpu))] += (col["cloud_latency_ms"][r], col["cloud_energy_J"][r], 1)
        x_sum[c.layer] += (col["transfer_latency_ms"][r], col["tensor_B"][r], 1)
    seg = {}
    for (s, mode), v in e_sum.items():
        seg[(0, 0, s, mode)] = (v[0] / v[3], v[1] / v[3], round(v[2] / v[3], 9))  # 3-decimal accuracies: no float noise
    for (s, mode), v in c_sum.items():
        seg[(1, s, L, mode)] = (v[0] / v[2], v[1] / v[2], 0.0)
    xfer = {(0, s): (v[0] / v[2], 0.0) for s, v in x_sum.items()}
    edge_modes = sorted({k[3] for k in seg if k[0] == 0}, key=lambda m: (int(m.split("mhz")[0]), m))
    chain = ModeChain([EDGE, CLOUD], L, [edge_modes, ["gpu-off", "gpu-on"]], seg, xfer, acc is not None,
                      meta={"network": pool.network, "tensor_B": {s: v[1] / v[2] for s, v in x_sum.items()}})
    return chain


def chain_configs(chain: ModeChain, network: str) -> list[Config]:
    """Configurations of the published space that the segment model can evaluate."""
    from layerplan.dynasplit.modes import evaluate

    out = []
    for c in config_space(network):
        b, m = config_modes(c)
        if evaluate(chain, b, m) is not None:
            out.append(c)
    return out


def profile_csv_rows(pool: Pool) -> list[dict]:
    """The segment model in layerplan's profile CSV columns (docs/profiling.md): one row per non-empty
    segment, ``mode`` = the mode label (FreDDI's frequency index carries modes)."""
    chain = segment_chain(pool)
    rows = []
    for (d, a, b, mode), (lat_ms, e, _a) in sorted(chain.seg.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2], kv[0][3])):
        if b > a:
            rows.append({"dnn": f"dynasplit_{pool.network}", "granularity": "split", "device": chain.devices[d],
                         "mode": mode, "i": a + 1, "j": b, "latency_s": lat_ms / 1000.0, "energy_J": e,
                         "samples": "", "statistic": "mean", "spread_s": ""})
    return rows
