"""Table 7.2: VGG11 on the edge-cloud pair, DIME for MBS 1..11 vs JointDNN vs Optimal (Sec. 7.4).

The shared logic is in :mod:`layerplan.experiments.table7`.
"""

from __future__ import annotations

from pathlib import Path

from layerplan.experiments.table7 import build_sweep

NAME = "table7_2"
TITLE = "Table 7.2: VGG11 on edge-cloud, DIME (MBS 1..11) vs JointDNN vs Optimal, per bandwidth"
#: the two highest bandwidths of the thesis' table: MBS = 1 is already optimal there and every
#: method runs every layer on the cloud (transition conv1)
HIGHEST_BWS = (7.3125e5, 1e6)
THESIS_NOTES = (
    "The published actual latency of the all-edge plan ('none') differs between 1e5 B/s (6.021 s) and "
    "1.375e5 B/s (4.379 s), although a plan that keeps every layer on the edge sends nothing over the "
    "edge-cloud link; transcribed as published.",
)


def build(records: list[dict], out_dir: Path) -> dict:
    return build_sweep(records, Path(out_dir), name=NAME, title=TITLE, dnn="vgg11",
                       highest_bws=HIGHEST_BWS, cloud_only_bws=HIGHEST_BWS, thesis_notes=THESIS_NOTES)
