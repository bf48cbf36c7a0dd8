"""Pareto fronts by enumeration and their hypervolume (all objectives minimized).

Accuracy enters as its negative (``-accuracy``), so every column is minimized. A point is on the
front when no other point is <= in every objective and < in one. Equal objective vectors are all
kept by :func:`nondominated_mask`; :func:`front_vectors` returns the distinct vectors, which is what
two exact methods must agree on (two plans with identical objectives are the same Pareto point).
"""

from __future__ import annotations

import numpy as np


def nondominated_mask(F: np.ndarray) -> np.ndarray:
    """Boolean mask of the non-dominated rows of ``F`` (n x k, minimize every column). O(n^2 k), vectorized
    per row; n is at most a few thousand here."""
    F = np.asarray(F, dtype=float)
    n = len(F)
    keep = np.ones(n, dtype=bool)
    for i in range(n):
        if not keep[i]:
            continue
        le = np.all(F <= F[i], axis=1)
        lt = np.any(F < F[i], axis=1)
        if np.any(le & lt):
            keep[i] = False
            continue
        # i dominates these
        dom = np.all(F[i] <= F, axis=1) & np.any(F[i] < F, axis=1)
        keep &= ~dom
    return keep


def front_vectors(F: np.ndarray, decimals: int = 9) -> np.ndarray:
    """Distinct objective vectors of the front, rounded to ``decimals``, sorted lexicographically."""
    F = np.asarray(F, dtype=float)
    P = np.round(F[nondominated_mask(F)], decimals)
    P = np.unique(P, axis=0)
    return P


def hypervolume(F: np.ndarray, ref: np.ndarray) -> float:
    """Hypervolume dominated by the points ``F`` (minimize) and bounded by ``ref``: exact, by slicing the
    last objective (HSO); 1-D and 2-D are closed forms. Points not strictly better than ``ref`` in every
    objective contribute nothing."""
    F = np.asarray(F, dtype=float)
    ref = np.asarray(ref, dtype=float)
    if F.size == 0:
        return 0.0
    F = F[np.all(F < ref, axis=1)]
    if len(F) == 0:
        return 0.0
    F = F[nondominated_mask(F)]
    k = F.shape[1]
    if k == 1:
        return float(ref[0] - F[:, 0].min())
    if k == 2:
        P = F[np.lexsort((F[:, 1], F[:, 0]))]
        hv, best_y = 0.0, ref[1]
        for x, y in P:
            if y < best_y:
                hv += (ref[0] - x) * (best_y - y)
                best_y = y
        return float(hv)
    order = np.argsort(F[:, -1])
    F = F[order]
    hv = 0.0
    for i in range(len(F)):
        z_hi = F[i + 1, -1] if i + 1 < len(F) else ref[-1]
        if z_hi > F[i, -1]:
            hv += hypervolume(F[: i + 1, :-1], ref[:-1]) * (z_hi - F[i, -1])
    return float(hv)
