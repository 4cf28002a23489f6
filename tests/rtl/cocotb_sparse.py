"""cocotb testbench for the generated N:M sparse GEMM engine (:class:`rtl.sparse.SparseSystolicGemm`) on Verilator.

Not collected by pytest (no ``test_`` prefix): ``tests/rtl/test_sparse_verilator.py`` builds the Verilog of one
configuration and hands this module to cocotb's runner (``test_module="cocotb_sparse"``, ``test_dir`` = this
folder, which the simulator puts on ``sys.path``; that is also how the port helpers of the dense testbench,
``cocotb_systolic.py``, are imported -- only names, so its cocotb test is not collected here).

As for the dense engine, the expectations are computed on the pytest side by the sparse stepped reference
(:func:`hwsim.sim.sparse.simulate_sparse_gemm`) and arrive in a ``.npz`` file named by ``HWSIM_RTL_CASES`` (keys
in :func:`load_cases`); ``HWSIM_RTL_SEED`` is only quoted in messages. Per case, through the ports only:

1. set ``m, n, k`` (``k`` the dense ``K``), write ``A`` (``a_addr = m*K + k``) and the compressed weights
   (``w_addr = r*N + n``, ``w_value``, ``w_index``), one word per clock;
2. pulse ``start`` for one clock and sample ``busy``, ``done`` and the monitors every cycle until ``busy`` falls;
3. check the busy cycle count, every busy cycle's monitor lanes against the sparse trace, ``done`` for exactly
   the one cycle after the last busy cycle, and idle monitors at -1;
4. read ``O`` back through the combinational result port and compare it with ``A @ decompressed(B)``.

Cases run back to back without a reset in between. The first mismatch is reported with case, cycle, lane and
both values. Inputs change and outputs are sampled on the falling clock edge (see ``cocotb_systolic.py``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, Timer
from cocotb_systolic import OVERRUN, PERIOD_NS, Monitors, put

MONITORS = ("ifmap", "filter", "ofmap")


@dataclass(frozen=True)
class Case:
    """One sparse GEMM and what the stepped reference says about it."""

    name: str
    a: np.ndarray  # (M, K) int8
    values: np.ndarray  # (K', N) int8, the model's compressed layout
    indices: np.ndarray  # (K', N) uint8
    product: np.ndarray  # (M, N) int32
    ifmap: np.ndarray  # (cycles, R) window starts, -1 = bubble
    filter: np.ndarray  # (cycles, C) dense indices of kept weights, -1 = bubble or empty slot
    ofmap: np.ndarray  # (cycles, C)

    @property
    def cycles(self) -> int:
        return int(self.ifmap.shape[0])


def load_cases(path: Path | str) -> list[Case]:
    """Read the cases the pytest side saved.

    Keys: ``count`` and, for each case ``i``, ``name{i}``, ``a{i}``, ``values{i}``, ``indices{i}``,
    ``product{i}``, ``ifmap{i}``, ``filter{i}``, ``ofmap{i}``.
    """
    with np.load(path) as data:
        return [
            Case(str(data[f"name{i}"]), data[f"a{i}"], data[f"values{i}"], data[f"indices{i}"], data[f"product{i}"],
                 data[f"ifmap{i}"], data[f"filter{i}"], data[f"ofmap{i}"])
            for i in range(int(data["count"]))
        ]


def first_mismatch(case: Case, got: dict[str, np.ndarray], cycles: int) -> str | None:
    """The earliest (cycle, then monitor, then lane) difference over the first ``cycles`` busy cycles."""
    best = None
    for name in MONITORS:
        want = getattr(case, name)[:cycles]
        diff = np.argwhere(got[name][:cycles] != want)
        if len(diff):
            cycle, lane = (int(x) for x in diff[0])
            if best is None or cycle < best[0]:
                best = (cycle, name, lane, int(got[name][cycle, lane]), int(want[cycle, lane]))
    if best is None:
        return None
    cycle, name, lane, g, w = best
    return f"busy cycle {cycle}: {name}_lane[{lane}] = {g}, sparse stepped trace = {w}"


async def write_words(dut, prefix: str, fields: dict[str, np.ndarray]) -> None:
    """Write same-shaped arrays through one load port (``<prefix>_we``/``_addr`` + the named data ports)."""
    we, addr = getattr(dut, f"{prefix}_we"), getattr(dut, f"{prefix}_addr")
    flat = {port: values.reshape(-1).tolist() for port, values in fields.items()}
    we.value = 1
    for index in range(len(next(iter(flat.values())))):
        put(addr, index)
        for port, values in flat.items():
            put(getattr(dut, port), values[index])
        await FallingEdge(dut.clk)
    we.value = 0


async def run_case(dut, case: Case, monitors: Monitors, tag: str) -> None:
    """Load, run and read back one sparse GEMM; raise AssertionError at the first disagreement."""
    m, k = case.a.shape
    n = case.values.shape[1]
    where = f"[{case.name}: M={m} K={k} N={n} K'={case.values.shape[0]}, {tag}]"
    put(dut.m, m)
    put(dut.n, n)
    put(dut.k, k)
    await write_words(dut, "a", {"a_wdata": case.a})
    await write_words(dut, "w", {"w_value": case.values, "w_index": case.indices})

    assert int(dut.busy.value) == 0 and int(dut.done.value) == 0, f"{where} busy/done high while idle before start"
    for name, lanes in monitors.sample().items():
        assert all(v == -1 for v in lanes), f"{where} idle before start: {name}_lane = {lanes}, expected all -1"

    dut.start.value = 1
    await FallingEdge(dut.clk)
    dut.start.value = 0
    samples = {name: [] for name in MONITORS}
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

    # The trace first (on the common prefix, so a wrong length still names a lane), then the length.
    got = {name: np.array(rows, dtype=np.int64).reshape(len(rows), -1) for name, rows in samples.items()}
    mismatch = first_mismatch(case, got, min(busy_cycles, case.cycles))
    assert mismatch is None, f"{where} {mismatch}"
    assert busy_cycles == case.cycles, (
        f"{where} busy lasted {busy_cycles}{'+' if busy_cycles > case.cycles else ''} cycles, "
        f"sparse stepped model: {case.cycles}")

    assert int(dut.done.value) == 1, f"{where} done not high in the cycle after the last busy cycle"
    for name, lanes in monitors.sample().items():
        assert all(v == -1 for v in lanes), f"{where} {name}_lane = {lanes} in the done cycle, expected all -1"
    await FallingEdge(dut.clk)
    assert int(dut.done.value) == 0 and int(dut.busy.value) == 0, f"{where} done/busy high two cycles after busy fell"

    # Combinational result port: settle a moment after each address change.
    got_o = np.empty(m * n, dtype=np.int64)
    for flat in range(m * n):
        put(dut.o_addr, flat)
        await Timer(1, unit="ns")
        got_o[flat] = dut.o_rdata.value.to_signed()
    want = case.product.reshape(-1).astype(np.int64)
    bad = np.flatnonzero(got_o != want)
    if len(bad):
        i = int(bad[0])
        raise AssertionError(f"{where} O[{i // n}, {i % n}] (o_addr {i}) = {got_o[i]}, A @ decompressed(B) = "
                             f"{want[i]} ({len(bad)} of {m * n} outputs wrong)")
    await FallingEdge(dut.clk)  # back on the falling-edge grid for the next case


@cocotb.test()
async def sparse_matches_stepped_model(dut) -> None:
    """Every case from ``HWSIM_RTL_CASES``: product, busy/done timing and edge trace equal the sparse model."""
    cases = load_cases(os.environ["HWSIM_RTL_CASES"])
    tag = f"HWSIM_RTL_SEED={os.environ.get('HWSIM_RTL_SEED', '<unset>')}"
    assert cases, f"no cases in {os.environ['HWSIM_RTL_CASES']}"
    monitors = Monitors(dut, {name: getattr(cases[0], name).shape[1] for name in MONITORS})

    Clock(dut.clk, PERIOD_NS, unit="ns").start(start_high=False)
    for port in ("start", "a_we", "w_we"):
        getattr(dut, port).value = 0
    for port in ("a_addr", "a_wdata", "w_addr", "w_value", "w_index", "o_addr"):
        put(getattr(dut, port), 0)
    dut.rst.value = 1
    await FallingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    await FallingEdge(dut.clk)

    for case in cases:
        await run_case(dut, case, monitors, tag)
        dut._log.info("%s: %d busy cycles, trace and product match (%s)", case.name, case.cycles, tag)
