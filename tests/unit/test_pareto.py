"""The Pareto front against a brute-force dominance check."""

from __future__ import annotations

import numpy as np
from hypothesis import given, strategies as st

from hwsim.report.pareto import pareto_front


def _brute(v: np.ndarray) -> list[int]:
    keep = []
    for i, p in enumerate(v):
        if np.isnan(p).any():
            continue
        if not any(np.all(q <= p) and np.any(q < p) for j, q in enumerate(v) if j != i and not np.isnan(q).any()):
            keep.append(i)
    return keep


def test_small_example():
    points = [[1, 5], [2, 2], [3, 1], [2, 3], [4, 4], [1, 5]]
    assert pareto_front(points).tolist() == [0, 5, 1, 2]


def test_maximize_flips_a_column():
    points = [[1.0, 0.5], [2.0, 0.9], [3.0, 0.8]]
    assert pareto_front(points, maximize=[False, True]).tolist() == [0, 1]


def test_nan_rows_are_never_on_the_front():
    assert pareto_front([[np.nan, 0.0], [1.0, 1.0]]).tolist() == [1]


@given(st.lists(st.tuples(*(st.integers(0, 6),) * 3), min_size=1, max_size=40))
def test_equals_brute_force(rows):
    v = np.asarray(rows, dtype=float)
    assert sorted(pareto_front(v).tolist()) == _brute(v)
