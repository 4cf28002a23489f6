# amaranth: UnusedElaboratable=no
"""Cell counts from the Yosys bundled with Amaranth, and how the PE array's count grows with its size.

:mod:`rtl.synth` runs a generic (technology-free) flow, because the bundled Yosys has no ``synth``/``stat`` (see
its module docstring): flip-flops and logic are counted per bit, each adder or multiplier as one cell. First it is
checked on :class:`rtl.counter.Counter`, whose netlist is small enough to know exactly; then the systolic array
core is synthesized at 4x4 and 16x16 (ws) and its growth compared with the analytical area model's.
"""

from __future__ import annotations

import pytest

from rtl.counter import Counter
from rtl.synth import cell_counts, synthesize, synthesize_rtlil

pytestmark = pytest.mark.rtl


def flip_flops(by_type: dict[str, int]) -> int:
    """Single-bit flip-flop cells (``simplemap`` names them ``$_DFF*``, ``$_SDFF*``, ``$_DFFE*`` ...)."""
    return sum(n for t, n in by_type.items() if t.startswith("$_") and "DFF" in t)


@pytest.mark.parametrize("width", [4, 32])
def test_counter_netlist(width):
    """A width-bit enable counter is width flip-flops (enable and reset folded in) plus one adder."""
    stats = synthesize(Counter(width), "counter")
    assert stats.top == "counter"
    assert flip_flops(stats.cells_by_type) == width, stats.cells_by_type
    assert stats.cells_by_type.get("$add") == 1, stats.cells_by_type
    assert stats.cells == sum(stats.cells_by_type.values()) == width + 1, stats


def test_yosys_errors_are_reported():
    with pytest.raises(RuntimeError, match="yosys exited"):
        synthesize_rtlil("this is not rtlil\n", "top")


def test_cell_counts_names_missing_module():
    with pytest.raises(KeyError, match="nope"):
        cell_counts({"modules": {"top": {"cells": {}}}}, "nope")
    counts = cell_counts({"modules": {"t": {"cells": {"a": {"type": "$x"}, "b": {"type": "$y"},
                                                      "c": {"type": "$y"}}}}}, "t")
    assert list(counts.items()) == [("$y", 2), ("$x", 1)]


# ----------------------------------------------------------------------------------------------------------------
# Growth of the array core with its size
# ----------------------------------------------------------------------------------------------------------------

#: Size limits of both cores: equal, so the tag and address widths (set by the largest flat index) are the same
#: and only the array size differs. 64 is ``hwsim rtl generate``'s default.
MAX_SIZE = 64

#: Allowed relative deviation of the netlist's growth from the area model's. The area model prices R*C identical
#: PEs and nothing else, so its 16x16 / 4x4 ratio is exactly 16. The core also holds (a) the controller -- fold
#: and cycle counters, running address products, comparators -- whose size barely depends on the array, which
#: pulls the ratio down; (b) per-lane edge logic (read masks, address offsets, output index adders), growing with
#: R + C (x4), also pulling it down; and (c) the streamed edge's skew registers, lane l delayed by l stages, so
#: R(R-1)/2 stages of value + two tags (x20 from 4x4 to 16x16), pulling it up. Measured: about 13.9 (-13 %);
#: 25 % leaves room for such shifts without letting a non-scaling bug (a PE array that is not R*C) pass.
GROWTH_TOLERANCE = 0.25


def core_stats(size: int):
    from hwsim.arch.systolic import SystolicArray
    from rtl.systolic import SystolicCore

    arch = SystolicArray(size, size, dataflow="ws")
    return arch, synthesize(SystolicCore(arch, max_m=MAX_SIZE, max_n=MAX_SIZE, max_k=MAX_SIZE), f"core_{size}")


def test_core_growth_matches_area_model():
    """16x16 over 4x4 (ws, memory-less :class:`rtl.systolic.SystolicCore`): cell growth ~ the area model's 16."""
    from hwsim.cost.area import systolic_area
    from hwsim.io.tech import load_technology

    tech = load_technology("45nm")
    (small_arch, small), (big_arch, big) = core_stats(4), core_stats(16)
    model = systolic_area(big_arch, tech).array_um2 / systolic_area(small_arch, tech).array_um2
    assert model == pytest.approx(16.0)

    # One multiplier per PE; whatever else multiplies (the controller) does not depend on the array size.
    extra_mul = {s.cells_by_type.get("$mul", 0) - a.pes for a, s in ((small_arch, small), (big_arch, big))}
    assert len(extra_mul) == 1 and extra_mul.pop() >= 0, (small.cells_by_type, big.cells_by_type)

    growth = big.cells / small.cells
    print(f"cells: 4x4 {small.cells}, 16x16 {big.cells}, growth {growth:.2f} (area model {model:.2f})")
    print(f"4x4: {small.cells_by_type}\n16x16: {big.cells_by_type}")
    assert abs(growth / model - 1) <= GROWTH_TOLERANCE, (
        f"netlist grows {growth:.2f}x from 4x4 to 16x16 ({small.cells} -> {big.cells} cells), area model "
        f"{model:.2f}x: off by {growth / model - 1:+.0%}, tolerance {GROWTH_TOLERANCE:.0%}")
