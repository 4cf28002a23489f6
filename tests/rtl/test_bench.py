"""The bench's reference model and scoreboard (:mod:`rtl.bench`) without a simulator.

The scoreboard is what turns a wrong engine into a useful failure: it must name the cycle, the lane and both
values of the *first* difference. Here the "design" is the reference's own trace with one lane changed.
"""

from __future__ import annotations

import numpy as np
import pytest

from rtl.bench import Case, Engine, Observed, load_cases, reference, save_cases, scoreboard

pytestmark = pytest.mark.rtl


def dense_case(seed: int) -> tuple[Engine, Case]:
    rng = np.random.default_rng(seed)
    a = rng.integers(-128, 128, size=(5, 3), dtype=np.int8)
    b = rng.integers(-128, 128, size=(3, 4), dtype=np.int8)
    product = (a.astype(np.int64) @ b.astype(np.int64)).astype(np.int32)
    return Engine(2, 2, "ws"), Case("c", a, {"b": b}, 3, product, -1)


def faithful(case: Case, expected) -> Observed:
    """What a correct engine shows the monitors."""
    idle = {name: [-1] * trace.shape[1] for name, trace in expected.trace.items()}
    return Observed(idle, (0, 0), expected.cycles, False, {k: v.copy() for k, v in expected.trace.items()}, None,
                    (0, 1), idle, (0, 0), case.product.reshape(-1).tolist())


def test_a_faithful_engine_passes(seed):
    engine, case = dense_case(seed)
    expected = reference(engine, case)
    assert scoreboard(case, expected, faithful(case, expected)) is None


def test_the_first_difference_is_named(seed):
    engine, case = dense_case(seed)
    expected = reference(engine, case)
    observed = faithful(case, expected)
    observed.trace["ofmap"][9, 1] = 77
    observed.trace["filter"][11, 0] = 5  # later: not the one reported
    want = int(expected.trace["ofmap"][9, 1])
    assert scoreboard(case, expected, observed) == f"busy cycle 9: ofmap_lane[1] = 77, stepped model = {want}"


def test_length_and_product_are_checked(seed):
    engine, case = dense_case(seed)
    expected = reference(engine, case)
    short = faithful(case, expected)
    short.cycles -= 1
    assert scoreboard(case, expected, short) == (
        f"busy lasted {expected.cycles - 1} cycles, stepped model: {expected.cycles}")
    wrong = faithful(case, expected)
    wrong.outputs[6] += 1
    assert scoreboard(case, expected, wrong) == (
        f"O[1, 2] (o_addr 6) = {wrong.outputs[6]}, A @ B = {case.product[1, 2]} (1 of 20 outputs wrong)")


def test_cases_round_trip(tmp_path, seed):
    engine, case = dense_case(seed)
    save_cases(tmp_path / "c.npz", rows=2, cols=2, dataflow="ws", cases=[{"name": "c", "a": case.a, **case.weights}])
    engine2, (case2,) = load_cases(tmp_path / "c.npz")
    assert engine2 == engine
    assert (case2.name, case2.k, case2.limit, case2.shape) == ("c", 3, -1, (5, 4, 3))
    np.testing.assert_array_equal(case2.product, case.product)
