"""Pareto fronts of design points: the points no other point beats in every objective."""

from __future__ import annotations

from typing import Sequence

import numpy as np


def pareto_front(values: np.ndarray | Sequence[Sequence[float]], *,
                 maximize: Sequence[bool] | None = None) -> np.ndarray:
    """Indices of the non-dominated rows of ``values`` (one row a point, one column an objective).

    A point is dominated when another is at least as good in every objective and strictly better in one.
    Objectives are minimised unless ``maximize`` says otherwise for that column. Rows with a NaN are never on the
    front. Duplicated points are all kept. The indices are sorted by the first objective, best first, then by index.

    Sort-and-sweep over the points ordered by the first objective: ``O(n * front)`` comparisons, so a front of
    tens of points over 10^5 designs takes well under a second.
    """
    v = np.asarray(values, dtype=float)
    if v.ndim != 2:
        raise ValueError(f"values must be a 2-D array (points x objectives), got shape {v.shape}")
    if maximize is not None:
        if len(maximize) != v.shape[1]:
            raise ValueError(f"maximize has {len(maximize)} entries for {v.shape[1]} objectives")
        v = np.where(np.asarray(maximize, dtype=bool), -v, v)
    finite = ~np.isnan(v).any(axis=1)
    candidates = np.flatnonzero(finite)
    if candidates.size == 0:
        return candidates
    order = candidates[np.lexsort(tuple(v[candidates, j] for j in range(v.shape[1] - 1, -1, -1)))]
    front: list[int] = []
    for i in order:
        point = v[i]
        if front:
            kept = v[front]
            dominated = np.all(kept <= point, axis=1) & np.any(kept < point, axis=1)
            if dominated.any():
                continue
        front.append(int(i))
    result = np.asarray(front, dtype=np.intp)
    return result[np.lexsort((result, v[result, 0]))]
