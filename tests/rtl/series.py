"""A series of GEMMs on a generated engine under Amaranth's simulator, for the dense and the N:M sparse tests.

:func:`run_series` runs GEMMs back to back in one simulation (no reset in between, so each also checks that the
previous one left the array clean) and records what the design did; :func:`check` sets that beside the stepped
model's result. The engines differ only in how their weights are loaded: ``B`` through ``b_we/b_addr/b_wdata``
(dense) or the compressed slots through ``w_we/w_addr/w_value/w_index`` (sparse); a :class:`Case` carries its
weights by data port.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from amaranth.hdl import Fragment, MemoryInstance, Shape
from amaranth.sim import Simulator

from hwsim.sim.stepped import BUBBLE

#: Busy cycles tolerated beyond the expected count before the bench gives up (a hung controller).
SLACK = 50


@dataclass(eq=False)
class Case:
    """One GEMM of a series, and how to disturb the design while it runs."""

    label: str
    a: np.ndarray                       # (M, K) int8
    weights: dict[str, np.ndarray]      # data port -> array: {"b_wdata": B} or {"w_value": ..., "w_index": ...}
    product: np.ndarray                 # (M, N): NumPy's A @ B (B decompressed for a sparse engine)
    hold_start: bool = False        # keep start high for the first busy cycles: must not restart the GEMM
    write_while_busy: bool = False  # drive the load ports while busy: must be ignored
    back_to_back: bool = False      # same operands and sizes as the case before, started in its done cycle

    @property
    def weight_port(self) -> str:
        """``b`` or ``w``: the prefix of the weight load port."""
        return next(iter(self.weights)).split("_")[0]


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
    """``(M, K, N)`` whose fold space is ``sr x sc`` with stream length ``t`` (see hwsim.sim.stepped; for a
    sparse engine ``K`` is ``K'``)."""
    return {"ws": (t, sr, sc), "is": (sc, sr, t), "os": (sr, t, sc)}[flow]


def fold_plan(rows: int, cols: int, rng: np.random.Generator, extra: tuple = ()) -> list[tuple]:
    """``(label, (Sr, Sc, T), values, disturbances)``: 'larger' means several row and column folds in every
    dataflow; ``extra`` entries go before the three of random size."""
    plan = [
        ("smaller", (max(1, rows - 1), max(1, cols - 1), 2), "random", {}),
        ("equal", (rows, cols, rows + 1), "random", {"hold_start": True}),
        ("larger", (2 * rows + 1, 2 * cols + 1, 5), "random", {"write_while_busy": True}),
        ("all-zero", (rows + 1, 2 * cols + 1, 3), "zero", {}),
        ("extreme", (2 * rows + 1, cols + 1, 4), "extreme", {}),
        *extra,
    ]
    plan += [("random-size", (int(rng.integers(1, 2 * rows + 2)), int(rng.integers(1, 2 * cols + 2)),
                              int(rng.integers(1, 7))), "random", {}) for _ in range(3)]
    return plan


def with_back_to_back(cases: list[Case]) -> list[Case]:
    """Insert, straight after the larger GEMM, the same GEMM again with no idle cycle in between: the folds'
    drained state must also be a clean start."""
    at, larger = next((i, c) for i, c in enumerate(cases) if c.label.startswith("larger"))
    again = Case(f"back-to-back {larger.label.split(' ', 1)[1]}", larger.a, larger.weights, larger.product,
                 back_to_back=True)
    return [*cases[:at + 1], again, *cases[at + 1:]]


def garbage(port, value: int) -> int:
    """A word that differs from ``value`` and fits ``port``."""
    shape = Shape.cast(port.shape())
    return -1 - int(value) if shape.signed else (int(value) + 1) % (1 << shape.width)


def run_series(dut, cases: list[Case], expected_cycles: list[int]) -> list[Observed]:
    """Run ``cases`` back to back on ``dut`` in one simulation; record everything the checks need."""
    seen = [Observed() for _ in cases]
    monitors = (dut.ifmap_lane, dut.filter_lane, dut.ofmap_lane)

    def idle_check(ctx, obs: Observed, where: str) -> None:
        lanes = [list(ctx.get(mon)) for mon in monitors]
        if any(v != BUBBLE for lane in lanes for v in lane):
            obs.idle_monitors.append((where, lanes))

    async def load(ctx, obs: Observed, prefix: str, ports: dict[str, np.ndarray]) -> None:
        we, addr = getattr(dut, f"{prefix}_we"), getattr(dut, f"{prefix}_addr")
        flat = [(getattr(dut, port), values.reshape(-1).tolist()) for port, values in ports.items()]
        ctx.set(we, 1)
        for index in range(len(flat[0][1])):
            ctx.set(addr, index)
            for port, values in flat:
                ctx.set(port, values[index])
            idle_check(ctx, obs, f"loading {prefix.upper()}[{index}]")
            await ctx.tick()
        ctx.set(we, 0)

    async def bench(ctx):
        for number, (case, obs, expected) in enumerate(zip(cases, seen, expected_cycles)):
            m_size, k_size = case.a.shape
            n_size = case.product.shape[1]
            loads = {"a": {"a_wdata": case.a}, case.weight_port: case.weights}
            if not case.back_to_back:  # else start was raised in the previous GEMM's done cycle
                for prefix, ports in loads.items():
                    await load(ctx, obs, prefix, ports)
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
                # Garbage at address 0 of every operand; a design that took it would get its first word wrong.
                for prefix, ports in loads.items():
                    ctx.set(getattr(dut, f"{prefix}_we"), 1)
                    ctx.set(getattr(dut, f"{prefix}_addr"), 0)
                    for port, values in ports.items():
                        ctx.set(getattr(dut, port), garbage(getattr(dut, port), values.reshape(-1)[0]))
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
            for prefix in loads:
                ctx.set(getattr(dut, f"{prefix}_we"), 0)
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


def check(case: Case, obs: Observed, ref, flow: str, where: str) -> list[str]:
    """Every disagreement between one observed GEMM and the stepped model's result ``ref``, as messages
    (prefixed with ``where`` and the case)."""
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
        at, lanes = obs.idle_monitors[0]
        problems.append(f"monitors not all -1 while idle ({at}): ifmap/filter/ofmap = {lanes}")
    want = case.product
    np.testing.assert_array_equal(ref.product, want)  # the reference itself, for int8 sizes this small
    diff = np.argwhere(obs.product != want)
    if diff.size:
        i, j = (int(v) for v in diff[0])
        problems.append(f"O[{i}, {j}] = {obs.product[i, j]}, A @ B = {want[i, j]} "
                        f"({len(diff)} of {want.size} outputs wrong)")
    return [f"{where} {case.label}: {p}" for p in problems]


def memory_sizes(cases: list[Case]) -> dict[str, int]:
    """Memories a little larger than any GEMM (and of different shapes), so the run-time sizes, not the maxima,
    must define the flat addresses."""
    return {"max_m": max(c.a.shape[0] for c in cases) + 1, "max_k": max(c.a.shape[1] for c in cases) + 2,
            "max_n": max(c.product.shape[1] for c in cases) + 3}


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


def memories(fragment) -> int:
    """Memory instances in an elaborated design."""
    count = isinstance(fragment, MemoryInstance)
    return count + sum(memories(sub) for sub, _, _ in getattr(fragment, "subfragments", []))
