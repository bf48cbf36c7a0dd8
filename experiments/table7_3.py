"""Table 7.3: VGG11 on edge -> hub -> cloud, DIME (MBS = 11) vs JointDNN vs Optimal (Sec. 7.4).

The shared logic is in :mod:`layerplan.experiments.table7`.
"""

from __future__ import annotations

from pathlib import Path

from layerplan.experiments.table7 import build_hub

NAME = "table7_3"
TITLE = "Table 7.3: VGG11 on edge -> hub -> cloud (LAN 1.375e5 B/s, cloud links 1e5 B/s)"


def build(records: list[dict], out_dir: Path) -> dict:
    return build_hub(records, Path(out_dir), name=NAME, title=TITLE)
