"""Pareto fronts by enumeration and their hypervolume (all objectives minimized).

Accuracy enters as its negative (``-accuracy``), so every column is minimized. A point is on the
front when no other point is <= in every objective and < in one. Equal objective vectors are all
kept by :func:`nondominated_mask`; :func:`front_vectors` returns the distinct vectors, which is what
two exact methods must agree on (two plans with identical objectives are the same Pareto point).
"""

from __future__ import annotations

import numpy as np


def nondominated_mask(F: np.ndarray) -> np.ndarray:
    """Boolean mask of the non-dominated rows of ``F`` (n x k, minimize every column); equal rows are all
    kept. Distinct vectors in lexicographic order: a dominator is lexicographically smaller, and domination
    is transitive, so each vector is checked only against the front found so far (2-D: a running minimum).
    O(n log n + n x front)."""
    F = np.asarray(F, dtype=float)
    n = len(F)
    if n == 0:
        return np.zeros(0, dtype=bool)
    U, inv = np.unique(F, axis=0, return_inverse=True)  # sorted lexicographically
    inv = np.asarray(inv).reshape(-1)
    keep_u = np.zeros(len(U), dtype=bool)
    if U.shape[1] == 2:
        best = np.inf
        for i, y in enumerate(U[:, 1]):
            if y < best:
                keep_u[i] = True
                best = y
    else:
        front = np.empty((0, U.shape[1]))
        for i, u in enumerate(U):
            if len(front) and np.any(np.all(front <= u, axis=1)):
                continue  # distinct and lexicographically earlier: <= everywhere means dominated
            keep_u[i] = True
            front = np.vstack([front, u])
    return keep_u[inv]


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
