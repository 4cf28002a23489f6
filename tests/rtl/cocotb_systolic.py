"""cocotb testbench for the generated systolic GEMM engine (:class:`rtl.systolic.SystolicGemm`) under Verilator.

Not collected by pytest (no ``test_`` prefix): ``tests/rtl/test_systolic_verilator.py`` builds the Verilog of one
configuration and hands this module to cocotb's runner (``test_module="cocotb_systolic"``, ``test_dir`` = this
folder, which the simulator puts on ``sys.path``).

The expectations are not computed here. The pytest side runs the cycle-stepped reference
(:func:`hwsim.sim.stepped.simulate_gemm`) and saves, per GEMM case, the operands, the product, and the three
demand traces to a ``.npz`` file whose path arrives in ``HWSIM_RTL_CASES`` (see :func:`load_cases` for the
keys); ``HWSIM_RTL_SEED`` is the seed the operands were drawn from, only quoted in messages so a failure can be
replayed. This testbench then drives the DUT purely through its ports, per case:

1. set ``m, n, k`` and write ``A`` and ``B`` through the load ports, one element per clock;
2. pulse ``start`` for one clock and, from the next cycle on, sample ``busy``, ``done`` and the three monitor
   buses every cycle until ``busy`` falls;
3. check ``busy`` lasted exactly the reference's cycle count, every busy cycle's monitor lanes equal the
   reference trace row, ``done`` is high for exactly the one cycle after the last busy cycle, and the monitors
   read all -1 while idle;
4. read ``O`` back through the combinational result port and compare it with the product.

Cases run back to back without a reset in between, which also checks that a finished GEMM leaves the engine
ready for the next one (and that results of an earlier, larger GEMM do not leak into a later one).
The first mismatch is reported with the case, cycle, lane and both values.

Timing convention (as in ``cocotb_counter.py``): inputs change and outputs are sampled on the falling clock
edge, half a period away from the rising edge on which the design updates, so there is no race.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, Timer

#: Clock period in ns (any value works: the design is synchronous and Verilator has no delays).
PERIOD_NS = 10
#: How many cycles past the expected count to keep sampling a busy engine before giving up (reports the overrun).
OVERRUN = 8


@dataclass(frozen=True)
class Case:
    """One GEMM and what the stepped reference says about it."""

    name: str
    a: np.ndarray  # (M, K) int8
    b: np.ndarray  # (K, N) int8
    product: np.ndarray  # (M, N) int32
    ifmap: np.ndarray  # (cycles, Li) int64 flat indices, -1 = bubble
    filter: np.ndarray  # (cycles, Lf)
    ofmap: np.ndarray  # (cycles, Lo)

    @property
    def cycles(self) -> int:
        return int(self.ifmap.shape[0])


def load_cases(path: Path | str) -> list[Case]:
    """Read the cases the pytest side saved.

    Keys: ``count`` (number of cases) and, for each case ``i``, ``name{i}``, ``a{i}``, ``b{i}``, ``product{i}``,
    ``ifmap{i}``, ``filter{i}``, ``ofmap{i}``.
    """
    with np.load(path) as data:
        return [
            Case(str(data[f"name{i}"]), data[f"a{i}"], data[f"b{i}"], data[f"product{i}"],
                 data[f"ifmap{i}"], data[f"filter{i}"], data[f"ofmap{i}"])
            for i in range(int(data["count"]))
        ]


def put(handle, value: int) -> None:
    """Drive ``value`` (a Python int, possibly negative) onto a port, as two's complement in its width.

    Whether cocotb sees the port as signed depends on how the Verilog declares it; an unsigned handle rejects a
    negative int, so it gets the bit pattern instead.
    """
    value = int(value)
    handle.value = value if handle.is_signed else value & ((1 << len(handle)) - 1)


def split_lanes(bits: int, lanes: int, width: int) -> list[int]:
    """Cut a flat bus (lane ``l`` in bits ``[l*width, (l+1)*width)``) into signed lane values."""
    mask, sign = (1 << width) - 1, 1 << (width - 1)
    out = []
    for lane in range(lanes):
        v = (bits >> (lane * width)) & mask
        out.append(v - (1 << width) if v & sign else v)
    return out


class Monitors:
    """Reads the three edge monitor buses as lists of signed lane values."""

    def __init__(self, dut, lanes: dict[str, int]) -> None:
        self.ports = {}
        for name, count in lanes.items():
            handle = getattr(dut, f"{name}_lane")
            total = len(handle)
            if total % count:
                raise AssertionError(f"{name}_lane is {total} bits, not a multiple of its {count} lanes")
            self.ports[name] = (handle, count, total // count)

    def sample(self) -> dict[str, list[int]]:
        return {name: split_lanes(handle.value.to_unsigned(), count, width)
                for name, (handle, count, width) in self.ports.items()}


def first_mismatch(case: Case, got: dict[str, np.ndarray]) -> str | None:
    """Describe the earliest (cycle, then monitor, then lane) difference between sampled and reference traces."""
    best = None
    for name in ("ifmap", "filter", "ofmap"):
        want = getattr(case, name)
        diff = np.argwhere(got[name] != want)
        if len(diff):
            cycle, lane = (int(x) for x in diff[0])
            if best is None or cycle < best[0]:
                best = (cycle, name, lane, int(got[name][cycle, lane]), int(want[cycle, lane]))
    if best is None:
        return None
    cycle, name, lane, g, w = best
    return f"busy cycle {cycle}: {name}_lane[{lane}] = {g}, stepped trace = {w}"


async def run_case(dut, case: Case, monitors: Monitors, tag: str) -> None:
    """Load, run and read back one GEMM; raise AssertionError at the first disagreement."""
    m, k = case.a.shape
    n = case.b.shape[1]
    where = f"[{case.name}: M={m} K={k} N={n}, {tag}]"
    put(dut.m, m)
    put(dut.n, n)
    put(dut.k, k)

    # 1. Load ports: a_addr = m*K + k, b_addr = k*N + n (flat, with the runtime sizes); one write per clock.
    for port, matrix in (("a", case.a), ("b", case.b)):
        we, addr, wdata = (getattr(dut, f"{port}_{s}") for s in ("we", "addr", "wdata"))
        we.value = 1
        for flat, value in enumerate(matrix.reshape(-1)):
            put(addr, flat)
            put(wdata, int(value))
            await FallingEdge(dut.clk)
        we.value = 0

    # Idle: busy and done low, monitors all bubbles.
    idle = monitors.sample()
    assert int(dut.busy.value) == 0 and int(dut.done.value) == 0, f"{where} busy/done high while idle before start"
    for name, lanes in idle.items():
        assert all(v == -1 for v in lanes), f"{where} idle before start: {name}_lane = {lanes}, expected all -1"

    # 2. Start pulse: the rising edge after this falling edge samples it; the cycle after that edge is busy cycle 0.
    dut.start.value = 1
    await FallingEdge(dut.clk)
    dut.start.value = 0
    samples = {name: [] for name in ("ifmap", "filter", "ofmap")}
    busy_cycles = 0
    while int(dut.busy.value):
        assert int(dut.done.value) == 0, f"{where} done high in busy cycle {busy_cycles}"
        for name, lanes in monitors.sample().items():
            samples[name].append(lanes)
        busy_cycles += 1
        if busy_cycles > case.cycles + OVERRUN:
            break
        await FallingEdge(dut.clk)
    assert busy_cycles > 0, f"{where} busy did not rise in the cycle after the start edge"

    # 3. Cycle count, then the trace (compared on the common prefix so a wrong length still names a lane).
    got = {name: np.array(rows, dtype=np.int64).reshape(len(rows), -1) for name, rows in samples.items()}
    common = min(busy_cycles, case.cycles)
    prefix = Case(case.name, case.a, case.b, case.product, case.ifmap[:common], case.filter[:common],
                  case.ofmap[:common])
    mismatch = first_mismatch(prefix, {name: g[:common] for name, g in got.items()})
    assert mismatch is None, f"{where} {mismatch}"
    assert busy_cycles == case.cycles, (
        f"{where} busy lasted {busy_cycles}{'+' if busy_cycles > case.cycles else ''} cycles, "
        f"stepped model: {case.cycles}")

    # This cycle is the first after the last busy one: done high, monitors idle; then done falls again.
    assert int(dut.done.value) == 1, f"{where} done not high in the cycle after the last busy cycle"
    for name, lanes in monitors.sample().items():
        assert all(v == -1 for v in lanes), f"{where} {name}_lane = {lanes} in the done cycle, expected all -1"
    await FallingEdge(dut.clk)
    assert int(dut.done.value) == 0 and int(dut.busy.value) == 0, f"{where} done/busy high two cycles after busy fell"

    # 4. Result port: combinational read, so settle a moment after each address change (no clock edge needed).
    got_o = np.empty(m * n, dtype=np.int64)
    for flat in range(m * n):
        put(dut.o_addr, flat)
        await Timer(1, unit="ns")
        got_o[flat] = dut.o_rdata.value.to_signed()
    want = case.product.reshape(-1).astype(np.int64)
    bad = np.flatnonzero(got_o != want)
    if len(bad):
        i = int(bad[0])
        raise AssertionError(f"{where} O[{i // n}, {i % n}] (o_addr {i}) = {got_o[i]}, A @ B = {want[i]} "
                             f"({len(bad)} of {m * n} outputs wrong)")
    await FallingEdge(dut.clk)  # back on the falling-edge grid for the next case


@cocotb.test()
async def systolic_matches_stepped_model(dut) -> None:
    """Every case from ``HWSIM_RTL_CASES``: product, busy/done timing and edge trace equal the stepped model."""
    cases = load_cases(os.environ["HWSIM_RTL_CASES"])
    seed = os.environ.get("HWSIM_RTL_SEED", "<unset>")
    tag = f"HWSIM_RTL_SEED={seed}"
    assert cases, f"no cases in {os.environ['HWSIM_RTL_CASES']}"
    lanes = {"ifmap": cases[0].ifmap.shape[1], "filter": cases[0].filter.shape[1], "ofmap": cases[0].ofmap.shape[1]}
    monitors = Monitors(dut, lanes)

    Clock(dut.clk, PERIOD_NS, unit="ns").start(start_high=False)
    for port in ("start", "a_we", "b_we"):
        getattr(dut, port).value = 0
    for port in ("a_addr", "a_wdata", "b_addr", "b_wdata", "o_addr"):
        put(getattr(dut, port), 0)
    dut.rst.value = 1
    await FallingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    await FallingEdge(dut.clk)

    for case in cases:
        await run_case(dut, case, monitors, tag)
        dut._log.info("%s: %d busy cycles, trace and product match (%s)", case.name, case.cycles, tag)
