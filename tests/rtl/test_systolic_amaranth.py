"""The systolic GEMM RTL under Amaranth's simulator equals the stepped model cycle for cycle and bit for bit.

For every array (1x1, 2x2, 2x3, 3x2, 4x4) and dataflow (ws, is, os) one :class:`rtl.systolic.SystolicGemm` runs a
series of GEMMs back to back in one simulation (no reset in between, so each GEMM also checks that the previous
one left the array clean): smaller than the array, equal to it, larger (several row *and* column folds), the
larger one again started in the done cycle (no idle cycle at all), all zero, all -128/127, and three of random
size. ``start`` is held high into one GEMM and the load ports are driven during another; both must be ignored
while busy. Operands are loaded through the load ports; for each GEMM the test checks, against
:func:`hwsim.sim.stepped.simulate_gemm`:

1. ``O == A @ B`` exactly (read back through the result port);
2. ``busy`` lasts exactly ``stepped.cycles`` cycles from the cycle after the start edge, ``done`` is high for the
   one cycle after that and never otherwise;
3. every busy cycle's three monitor vectors equal the stepped trace rows, and they are all -1 while idle.

A mismatch names the first differing cycle, lane (and the PE row/column it feeds) and both values. Random
operands come from a seed that is printed; replay with ``HWSIM_RTL_SEED=<n>``.
"""

from __future__ import annotations

import numpy as np
import pytest
from amaranth.hdl import Fragment

from hwsim.arch import SystolicArray
from hwsim.sim.stepped import simulate_gemm
from hwsim.types import Dataflow
from rtl.systolic import MAX_MEMORY_DEPTH, SystolicCore, SystolicGemm
from tests.rtl.series import (
    Case, check, fold_plan, gemm_shape, memories, memory_sizes, operands, port_table, run_series, with_back_to_back,
)
from tests.rtl.test_pe import value_error

pytestmark = pytest.mark.rtl

ARRAYS = [(1, 1), (2, 2), (2, 3), (3, 2), (4, 4)]
FLOWS = ["ws", "is", "os"]


def make_cases(rows: int, cols: int, flow: str, rng: np.random.Generator) -> list[Case]:
    """Sizes chosen in the fold space so that 'larger' means several row and column folds for every dataflow."""
    cases = []
    for label, fold_space, kind, extra in fold_plan(rows, cols, rng):
        m, k, n = gemm_shape(flow, *fold_space)
        a, b = operands((m, k), kind, rng), operands((k, n), kind, rng)
        cases.append(Case(f"{label} {m}x{k}@{k}x{n}", a, {"b_wdata": b}, a.astype(np.int64) @ b.astype(np.int64),
                          **extra))
    return with_back_to_back(cases)


def run_and_check(dut: SystolicGemm, cases: list[Case], rows: int, cols: int, flow: str, seed: int) -> list:
    """Run the series on ``dut``; assert that nothing disagrees with the stepped model. Returns the observations."""
    refs = [simulate_gemm(c.a, c.weights["b_wdata"], rows, cols, flow) for c in cases]
    observed = run_series(dut, cases, [ref.cycles for ref in refs])
    problems = [p for case, obs, ref in zip(cases, observed, refs)
                for p in check(case, obs, ref, flow, f"{rows}x{cols} {flow}")]
    assert not problems, "\n".join(problems) + f" (seed={seed})"
    return observed


@pytest.mark.parametrize("flow", FLOWS)
@pytest.mark.parametrize(("rows", "cols"), ARRAYS, ids=[f"{r}x{c}" for r, c in ARRAYS])
def test_gemm_series_matches_stepped_model(rows, cols, flow, seed):
    rng = np.random.default_rng([seed, rows, cols, FLOWS.index(flow)])
    cases = make_cases(rows, cols, flow, rng)
    dut = SystolicGemm(SystolicArray(rows, cols, flow), **memory_sizes(cases))
    run_and_check(dut, cases, rows, cols, flow, seed)


def test_smallest_design_extreme_product(seed):
    """1x1 array with 1-word memories (zero-bit memory addresses): (-128) * (-128) = 16384."""
    one = np.array([[-128]], dtype=np.int8)
    case = Case("1x1@1x1", one, {"b_wdata": one}, np.array([[16384]]), hold_start=True)
    for flow in FLOWS:
        dut = SystolicGemm(SystolicArray(1, 1, flow), max_m=1, max_n=1, max_k=1)
        assert dut.addr_width == 1 and dut.tag_width == 2
        (obs,) = run_and_check(dut, [case], 1, 1, flow, seed)
        assert obs.product[0, 0] == 16384


# ------------------------------------------------------------------------------------------------------------------
# Interface
# ------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("flow", "lanes"), [("ws", (4, 3, 3)), ("is", (3, 4, 3)), ("os", (4, 3, 3))])
def test_gemm_signature(flow, lanes):
    dut = SystolicGemm(SystolicArray(4, 3, flow), max_m=5, max_n=7, max_k=20)
    w = dut.addr_width
    assert w == (7 * 20 - 1).bit_length() and dut.tag_width == w + 1  # B is the deepest memory here
    tw = dut.tag_width
    li, lf, lo = lanes
    assert port_table(dut) == {
        "start": ("in", 1, False), "m": ("in", 16, False), "n": ("in", 16, False), "k": ("in", 16, False),
        "busy": ("out", 1, False), "done": ("out", 1, False),
        "a_we": ("in", 1, False), "a_addr": ("in", w, False), "a_wdata": ("in", 8, True),
        "b_we": ("in", 1, False), "b_addr": ("in", w, False), "b_wdata": ("in", 8, True),
        "o_addr": ("in", w, False), "o_rdata": ("out", 32, True),
        "ifmap_lane": ("out", tw * li, False), "filter_lane": ("out", tw * lf, False),
        "ofmap_lane": ("out", tw * lo, False),
    }
    for name, count in zip(("ifmap_lane", "filter_lane", "ofmap_lane"), lanes):
        layout = dut.signature.members[name].shape
        assert layout.length == count and layout.elem_shape.signed and layout.elem_shape.width == tw


def test_core_has_no_memories_and_exposes_lanes():
    """SystolicCore, the synthesizable part, takes one read address/data pair per edge lane instead of memories."""
    core = SystolicCore(SystolicArray(2, 3, Dataflow.INPUT_STATIONARY), max_m=4, max_n=4, max_k=4)
    ports = port_table(core)
    iw = core.geometry.index_width
    assert ports["a_raddr"] == ("out", iw * 3, False) and ports["b_raddr"] == ("out", iw * 2, False)
    assert ports["o_rdata"] == ("in", 32 * 3, False)
    os_core = SystolicCore(SystolicArray(2, 3, "os"), max_m=4, max_n=4, max_k=4)
    assert "o_rdata" not in port_table(os_core)  # os writes every output once: no read-modify-write

    assert memories(Fragment.get(core, None)) == 0
    assert memories(Fragment.get(SystolicGemm(SystolicArray(2, 3, "is"), max_m=4, max_n=4, max_k=4), None)) == 3


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"arch": SystolicArray(2, 2, precision="int16")},
     "the systolic RTL implements int8 x int8 -> int32 MACs only; arch.precision is 'int16'"),
    ({"arch": (2, 2)}, "arch must be a hwsim.arch.SystolicArray, got tuple"),
    ({"max_m": 0}, "max_m must be a whole number from 1 to 65535, got 0"),
    ({"max_n": True}, "max_n must be a whole number from 1 to 65535, got True"),
    ({"max_k": 1 << 16}, "max_k must be a whole number from 1 to 65535, got 65536"),
    ({"max_m": 2048, "max_k": 1024},
     f"memory A would hold {2048 * 1024} words, more than {MAX_MEMORY_DEPTH}; lower max_m, max_n or max_k"),
])
def test_bad_arguments(kwargs, message):
    args = {"arch": SystolicArray(2, 2), "max_m": 4, "max_n": 4, "max_k": 4, **kwargs}
    arch = args.pop("arch")
    assert value_error(SystolicGemm, arch, **args) == message
    if "memory" not in message:  # the core has no memories, hence no depth limit
        assert value_error(SystolicCore, arch, **args) == message
