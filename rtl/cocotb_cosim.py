"""cocotb bench of the co-simulation (:func:`rtl.cosim.run_gemms`): run GEMMs on the engine, record what it did.

cocotb's runner loads this module inside the Verilator simulation (``test_module="rtl.cocotb_cosim"``); nothing
else imports it. Unlike the verification benches in ``tests/rtl/``, it judges nothing: it measures. The Python
side compares the measurements with the models, so a disagreement becomes a row of a report instead of a failed
simulation, and the same bench serves ``hwsim rtl compare``, the notebook and the tests.

Input, a ``.npz`` file named by ``HWSIM_COSIM_CASES``: ``count`` and, per GEMM ``i``, ``a{i}`` (``M x K`` int8),
``b{i}`` (``K x N`` int8) and ``limit{i}``, the busy cycles after which the run is abandoned as hung.

Output, a JSON file named by ``HWSIM_COSIM_RESULTS``: ``{"cases": [{"cycles": int, "outputs": [M*N ints]}]}`` in
case order. ``cycles`` counts the cycles ``busy`` is high after the ``start`` pulse (the convention the stepped
model counts in, see :mod:`rtl.systolic`); ``outputs`` is ``O`` read back row-major through the result port. A run
still busy after its limit is recorded as ``{"cycles": null, "outputs": null}`` and ends the session (the engine's
state is then unknown), so later GEMMs have no entry.

Per GEMM, through the ports only: set ``m, n, k``; write ``A`` and ``B`` one element per clock (``a_addr = m*K +
k``, ``b_addr = k*N + n``); pulse ``start``; count busy cycles; read ``O`` (``o_addr = m*N + n``). GEMMs run back to
back without a reset. Inputs change and outputs are sampled on the falling clock edge, half a period away from
the rising edge on which the design updates.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, Timer

#: Clock period in ns (any value works: the design is synchronous and Verilator has no delays).
PERIOD_NS = 10


def put(handle, value: int) -> None:
    """Drive ``value`` (possibly negative) onto a port as two's complement in the port's width.

    An unsigned cocotb handle rejects a negative int, so it gets the bit pattern instead.
    """
    value = int(value)
    handle.value = value if handle.is_signed else value & ((1 << len(handle)) - 1)


async def write_matrix(dut, port: str, matrix: np.ndarray) -> None:
    """Write ``matrix`` row-major through the ``<port>_we/_addr/_wdata`` load port, one element per clock."""
    we, addr, wdata = (getattr(dut, f"{port}_{s}") for s in ("we", "addr", "wdata"))
    we.value = 1
    for flat, value in enumerate(matrix.reshape(-1).tolist()):
        put(addr, flat)
        put(wdata, value)
        await FallingEdge(dut.clk)
    we.value = 0


async def run_gemm(dut, a: np.ndarray, b: np.ndarray, limit: int) -> tuple[int | None, list[int] | None]:
    """Load, run and read back one GEMM; ``(busy cycles, outputs)``, or ``(None, None)`` past ``limit``."""
    m, k = a.shape
    n = b.shape[1]
    put(dut.m, m)
    put(dut.n, n)
    put(dut.k, k)
    await write_matrix(dut, "a", a)
    await write_matrix(dut, "b", b)

    # The rising edge after this falling edge samples start; the cycle after that edge is busy cycle 0.
    dut.start.value = 1
    await FallingEdge(dut.clk)
    dut.start.value = 0
    cycles = 0
    while int(dut.busy.value):
        cycles += 1
        if cycles > limit:
            return None, None
        await FallingEdge(dut.clk)
    await FallingEdge(dut.clk)  # past the done cycle

    # The result port is combinational: settle a moment after each address change, no clock edge needed.
    outputs = []
    for flat in range(m * n):
        put(dut.o_addr, flat)
        await Timer(1, unit="ns")
        outputs.append(int(dut.o_rdata.value.to_signed()))
    await FallingEdge(dut.clk)  # back on the falling-edge grid for the next GEMM
    return cycles, outputs


@cocotb.test()
async def measure_gemms(dut) -> None:
    """Run every GEMM of ``HWSIM_COSIM_CASES`` and write the measurements to ``HWSIM_COSIM_RESULTS``."""
    results_path = Path(os.environ["HWSIM_COSIM_RESULTS"])
    with np.load(os.environ["HWSIM_COSIM_CASES"]) as data:
        cases = [(data[f"a{i}"], data[f"b{i}"], int(data[f"limit{i}"])) for i in range(int(data["count"]))]

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

    records = []
    for a, b, limit in cases:
        cycles, outputs = await run_gemm(dut, a, b, limit)
        records.append({"cycles": cycles, "outputs": outputs})
        if cycles is None:
            dut._log.warning("GEMM %d (M=%d K=%d N=%d) still busy after %d cycles; stopping", len(records) - 1,
                             a.shape[0], a.shape[1], b.shape[1], limit)
            break
    results_path.write_text(json.dumps({"cases": records}))
