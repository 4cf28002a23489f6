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

from dataclasses import dataclass, field

import numpy as np
import pytest
from amaranth.hdl import Fragment, MemoryInstance, Shape
from amaranth.sim import Simulator

from hwsim.arch import SystolicArray
from hwsim.sim.stepped import BUBBLE, simulate_gemm
from hwsim.types import Dataflow
from rtl.systolic import MAX_MEMORY_DEPTH, SystolicCore, SystolicGemm
from tests.rtl.test_pe import value_error

pytestmark = pytest.mark.rtl

ARRAYS = [(1, 1), (2, 2), (2, 3), (3, 2), (4, 4)]
FLOWS = ["ws", "is", "os"]
#: Busy cycles tolerated beyond the expected count before the bench gives up (a hung controller).
SLACK = 50


# ------------------------------------------------------------------------------------------------------------------
# Cases
# ------------------------------------------------------------------------------------------------------------------


@dataclass(eq=False)
class Case:
    """One GEMM of a series, and how to disturb the design while it runs."""

    label: str
    a: np.ndarray
    b: np.ndarray
    hold_start: bool = False        # keep start high for the first busy cycles: must not restart the GEMM
    write_while_busy: bool = False  # drive the A and B load ports while busy: must be ignored
    back_to_back: bool = False      # same operands and sizes as the case before, started in its done cycle


@dataclass(eq=False)
class Observed:
    """What the bench saw for one GEMM."""

    ifmap: list = field(default_factory=list)
    filter: list = field(default_factory=list)
    ofmap: list = field(default_factory=list)
    busy_at_start: int = 0
    done_during_busy: list = field(default_factory=list)  # busy cycles in which done was high
    done_after: tuple = ()                                 # done in the done cycle and the one after it
    idle_monitors: list = field(default_factory=list)      # (cycle description, lanes) seen non-bubble while idle
    product: np.ndarray | None = None


def operands(shape: tuple[int, int], kind: str, rng: np.random.Generator) -> np.ndarray:
    """An int8 operand: uniformly random, all zero, or each entry -128 or 127 ("extreme")."""
    if kind == "zero":
        return np.zeros(shape, dtype=np.int8)
    if kind == "extreme":
        return rng.choice(np.array([-128, 127], dtype=np.int8), size=shape)
    return rng.integers(-128, 128, size=shape, dtype=np.int8)


def gemm_shape(flow: str, sr: int, sc: int, t: int) -> tuple[int, int, int]:
    """``(M, K, N)`` whose fold space is ``sr x sc`` with stream length ``t`` (see hwsim.sim.stepped)."""
    return {"ws": (t, sr, sc), "is": (sc, sr, t), "os": (sr, t, sc)}[flow]


def make_cases(rows: int, cols: int, flow: str, rng: np.random.Generator) -> list[Case]:
    """Sizes chosen in the fold space so that 'larger' means several row and column folds for every dataflow."""
    plan = [
        ("smaller", (max(1, rows - 1), max(1, cols - 1), 2), "random", {}),
        ("equal", (rows, cols, rows + 1), "random", {"hold_start": True}),
        ("larger", (2 * rows + 1, 2 * cols + 1, 5), "random", {"write_while_busy": True}),
        ("all-zero", (rows + 1, 2 * cols + 1, 3), "zero", {}),
        ("extreme", (2 * rows + 1, cols + 1, 4), "extreme", {}),
    ]
    plan += [("random-size", (int(rng.integers(1, 2 * rows + 2)), int(rng.integers(1, 2 * cols + 2)),
                              int(rng.integers(1, 7))), "random", {}) for _ in range(3)]
    cases = []
    for label, fold_space, kind, extra in plan:
        m, k, n = gemm_shape(flow, *fold_space)
        cases.append(Case(f"{label} {m}x{k}@{k}x{n}", operands((m, k), kind, rng), operands((k, n), kind, rng),
                          **extra))
    # Straight after the larger GEMM, with no idle cycle: the folds' drained state must also be a clean start.
    at, larger = next((i, c) for i, c in enumerate(cases) if c.label.startswith("larger"))
    cases.insert(at + 1, Case(f"back-to-back {larger.label.split(' ', 1)[1]}", larger.a, larger.b,
                              back_to_back=True))
    return cases


# ------------------------------------------------------------------------------------------------------------------
# Bench
# ------------------------------------------------------------------------------------------------------------------


def run_series(dut: SystolicGemm, cases: list[Case], expected_cycles: list[int]) -> list[Observed]:
    """Run ``cases`` back to back on ``dut`` in one simulation; record everything the checks need."""
    seen = [Observed() for _ in cases]
    monitors = (dut.ifmap_lane, dut.filter_lane, dut.ofmap_lane)

    def idle_check(ctx, obs: Observed, where: str) -> None:
        lanes = [list(ctx.get(mon)) for mon in monitors]
        if any(v != BUBBLE for lane in lanes for v in lane):
            obs.idle_monitors.append((where, lanes))

    async def load(ctx, obs: Observed, we, addr, wdata, values: np.ndarray, name: str) -> None:
        ctx.set(we, 1)
        for index, value in enumerate(values.reshape(-1).tolist()):
            ctx.set(addr, index)
            ctx.set(wdata, value)
            idle_check(ctx, obs, f"loading {name}[{index}]")
            await ctx.tick()
        ctx.set(we, 0)

    async def bench(ctx):
        for number, (case, obs, expected) in enumerate(zip(cases, seen, expected_cycles)):
            m_size, k_size = case.a.shape
            n_size = case.b.shape[1]
            if not case.back_to_back:  # else start was raised in the previous GEMM's done cycle
                await load(ctx, obs, dut.a_we, dut.a_addr, dut.a_wdata, case.a, "A")
                await load(ctx, obs, dut.b_we, dut.b_addr, dut.b_wdata, case.b, "B")
                ctx.set(dut.m, m_size)
                ctx.set(dut.n, n_size)
                ctx.set(dut.k, k_size)
                ctx.set(dut.start, 1)
                idle_check(ctx, obs, "start cycle")
                await ctx.tick()
            if not case.hold_start:
                ctx.set(dut.start, 0)
            obs.busy_at_start = ctx.get(dut.busy)
            if case.write_while_busy:
                # Garbage at address 0 of both operands; a design that took it would get A[0, 0] or B[0, 0] wrong.
                for we, addr, wdata, value in ((dut.a_we, dut.a_addr, dut.a_wdata, case.a[0, 0]),
                                               (dut.b_we, dut.b_addr, dut.b_wdata, case.b[0, 0])):
                    ctx.set(we, 1)
                    ctx.set(addr, 0)
                    ctx.set(wdata, -1 - int(value))
            cycle = 0
            while ctx.get(dut.busy) and cycle < expected + SLACK:
                obs.ifmap.append(list(ctx.get(dut.ifmap_lane)))
                obs.filter.append(list(ctx.get(dut.filter_lane)))
                obs.ofmap.append(list(ctx.get(dut.ofmap_lane)))
                if ctx.get(dut.done):
                    obs.done_during_busy.append(cycle)
                if case.hold_start and cycle == 1:
                    ctx.set(dut.start, 0)
                await ctx.tick()
                cycle += 1
            ctx.set(dut.start, 0)
            for we in (dut.a_we, dut.b_we):
                ctx.set(we, 0)
            # The done cycle: O is complete now (its last write happened at the edge ending the last busy cycle).
            done_now = ctx.get(dut.done)
            idle_check(ctx, obs, "done cycle")
            product = []
            for index in range(m_size * n_size):
                ctx.set(dut.o_addr, index)
                product.append(ctx.get(dut.o_rdata))
            obs.product = np.array(product, dtype=np.int64).reshape(m_size, n_size)
            if number + 1 < len(cases) and cases[number + 1].back_to_back:
                ctx.set(dut.start, 1)  # sampled at the edge ending the done cycle: no idle cycle in between
            await ctx.tick()
            obs.done_after = (done_now, ctx.get(dut.done))

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return seen


# ------------------------------------------------------------------------------------------------------------------
# Checks
# ------------------------------------------------------------------------------------------------------------------


def lane_units(flow: str) -> dict[str, str]:
    """What an edge lane of each monitor feeds: a PE row or a PE column."""
    transposed = flow == "is"
    return {"ifmap": "column" if transposed else "row", "filter": "row" if transposed else "column",
            "ofmap": "column"}


def trace_mismatch(name: str, unit: str, got: list, want: np.ndarray) -> str | None:
    """The first cycle/lane where the RTL's monitor differs from the stepped trace, as a message (else None)."""
    got_arr = np.array(got, dtype=np.int64).reshape(len(got), want.shape[1])
    n = min(len(got_arr), len(want))
    diff = np.argwhere(got_arr[:n] != want[:n])
    if diff.size:
        cycle, lane = (int(v) for v in diff[0])
        return (f"{name} lane {lane} (PE {unit} {lane}) first differs at busy cycle {cycle}: "
                f"rtl={got_arr[cycle, lane]}, stepped={want[cycle, lane]}")
    return None


def check(case: Case, obs: Observed, rows: int, cols: int, flow: str, seed: int) -> list[str]:
    """Every disagreement between one observed GEMM and the stepped model, as messages."""
    ref = simulate_gemm(case.a, case.b, rows, cols, flow)
    problems = []
    if not obs.busy_at_start:
        problems.append("busy was low in the cycle after the start edge")
    units = lane_units(flow)
    for name, want in (("ifmap", ref.trace.ifmap), ("filter", ref.trace.filter), ("ofmap", ref.trace.ofmap)):
        message = trace_mismatch(name, units[name], getattr(obs, name), want)
        if message:
            problems.append(message)
    if len(obs.ifmap) != ref.cycles:
        problems.append(f"busy lasted {len(obs.ifmap)} cycles, stepped model {ref.cycles}")
    if obs.done_during_busy:
        problems.append(f"done high during busy cycles {obs.done_during_busy[:5]}")
    if obs.done_after != (1, 0):
        problems.append(f"done in the first two cycles after busy = {obs.done_after}, expected (1, 0)")
    if obs.idle_monitors:
        where, lanes = obs.idle_monitors[0]
        problems.append(f"monitors not all -1 while idle ({where}): ifmap/filter/ofmap = {lanes}")
    want = case.a.astype(np.int64) @ case.b.astype(np.int64)
    np.testing.assert_array_equal(ref.product, want)  # the reference itself, for int8 sizes this small
    diff = np.argwhere(obs.product != want)
    if diff.size:
        i, j = (int(v) for v in diff[0])
        problems.append(f"O[{i}, {j}] = {obs.product[i, j]}, A @ B = {want[i, j]} "
                        f"({len(diff)} of {want.size} outputs wrong)")
    return [f"{rows}x{cols} {flow} {case.label}: {p} (seed={seed})" for p in problems]


@pytest.mark.parametrize("flow", FLOWS)
@pytest.mark.parametrize(("rows", "cols"), ARRAYS, ids=[f"{r}x{c}" for r, c in ARRAYS])
def test_gemm_series_matches_stepped_model(rows, cols, flow, seed):
    rng = np.random.default_rng([seed, rows, cols, FLOWS.index(flow)])
    cases = make_cases(rows, cols, flow, rng)
    # Memories a little larger than any GEMM (and of different shapes), so the run-time sizes, not the maxima,
    # must define the flat addresses.
    max_m = max(c.a.shape[0] for c in cases) + 1
    max_k = max(c.a.shape[1] for c in cases) + 2
    max_n = max(c.b.shape[1] for c in cases) + 3
    dut = SystolicGemm(SystolicArray(rows, cols, flow), max_m=max_m, max_n=max_n, max_k=max_k)
    expected = [simulate_gemm(c.a, c.b, rows, cols, flow).cycles for c in cases]
    observed = run_series(dut, cases, expected)
    problems = [p for case, obs in zip(cases, observed) for p in check(case, obs, rows, cols, flow, seed)]
    assert not problems, "\n".join(problems)


def test_smallest_design_extreme_product(seed):
    """1x1 array with 1-word memories (zero-bit memory addresses): (-128) * (-128) = 16384."""
    case = Case("1x1@1x1", np.array([[-128]], dtype=np.int8), np.array([[-128]], dtype=np.int8), hold_start=True)
    for flow in FLOWS:
        dut = SystolicGemm(SystolicArray(1, 1, flow), max_m=1, max_n=1, max_k=1)
        assert dut.addr_width == 1 and dut.tag_width == 2
        (obs,) = run_series(dut, [case], [simulate_gemm(case.a, case.b, 1, 1, flow).cycles])
        problems = check(case, obs, 1, 1, flow, seed)
        assert not problems, "\n".join(problems)
        assert obs.product[0, 0] == 16384


# ------------------------------------------------------------------------------------------------------------------
# Interface
# ------------------------------------------------------------------------------------------------------------------


def port_table(component) -> dict[str, tuple[str, int, bool]]:
    """``name -> (direction, width, signed)`` of a component's signature (arrays: total width).

    The component is elaborated too: that proves it builds, and spares an "created but never used" warning.
    """
    Fragment.get(component, None)
    table = {}
    for path, member in component.signature.members.flatten():
        shape = Shape.cast(member.shape)
        table[".".join(path)] = (member.flow.value.lower(), shape.width, shape.signed)
    return table


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

    def memories(fragment) -> int:
        count = isinstance(fragment, MemoryInstance)
        return count + sum(memories(sub) for sub, _, _ in getattr(fragment, "subfragments", []))

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
