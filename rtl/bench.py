"""The cocotb bench of every generated GEMM engine, dense or N:M sparse, in four parts.

As in cocotb's ``examples/matrix_multiplier``:

:class:`Driver`
    Applies transactions through the ports: reset, load a GEMM's operands (``A`` and ``B``, or ``A`` and the
    compressed weights), pulse ``start``.
Monitors, one per interface
    :class:`ControlMonitor` (``busy``/``done``), :class:`EdgeMonitor` (the ifmap/filter/ofmap edge lanes, one
    row of lane values per cycle) and :class:`ResultMonitor` (``O`` read back through the result port) record
    what the design did.
:func:`reference`
    The transaction-level model: hwsim's stepped model, :func:`hwsim.api.simulate_gemm` or, for a sparse engine,
    :func:`hwsim.api.simulate_sparse_gemm`: cycle count, per-cycle edge trace and product.
:func:`scoreboard`
    Compares the two and names the cycle, lane and values of the first difference (``None`` if there is none);
    the product is compared with NumPy's ``A @ B``, which the reference model must also produce.

cocotb's runner loads this module in the simulator (``test_module="rtl.bench"``) for ``hwsim rtl compare``
(:mod:`rtl.cosim`) and for the tests in ``tests/rtl/`` alike; the Python side writes the GEMMs with
:func:`save_cases` and reads the outcome with :func:`load_results`.

Input, a ``.npz`` file named by ``HWSIM_BENCH_CASES``: the engine (``rows``, ``cols``, ``dataflow``, and
``n_keep``/``m_group``, 0 for a dense engine), ``count`` and, per GEMM ``i``, ``name{i}``, ``a{i}`` (``M x K``
int8), ``b{i}`` (``K x N`` int8; dense) or ``values{i}``/``indices{i}`` (``K' x N``, the model's compressed
layout; sparse), ``k{i}`` (dense ``K``), ``product{i}`` (NumPy's ``M x N`` int32 product) and ``limit{i}``, the
busy cycles after which the run is abandoned as hung.

Output, a JSON file named by ``HWSIM_BENCH_RESULTS``, rewritten after every GEMM: ``{"cases": [{"name",
"cycles", "outputs", "mismatch"}]}``. ``cycles`` counts the cycles ``busy`` is high after the ``start`` pulse
(the stepped model's count), None if still busy at the limit (which ends the session: the engine's state is
unknown); ``outputs`` is ``O`` row-major; ``mismatch`` the scoreboard's verdict. With ``HWSIM_BENCH_CHECK=1``
(the tests) the cocotb test also fails at the first mismatch; without it (``hwsim rtl compare``) a
disagreement is data for :func:`rtl.cosim.judge`. ``HWSIM_RTL_SEED`` is quoted in messages for replay.

GEMMs run back to back without a reset. Inputs change and outputs are sampled on the falling clock edge, half a
period away from the rising edge on which the design updates, so there is no race.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, Timer

from hwsim.api import simulate_gemm, simulate_sparse_gemm

__all__ = ["Case", "ControlMonitor", "Driver", "EdgeMonitor", "Expected", "Observed", "ResultMonitor",
           "load_results", "reference", "save_cases", "scoreboard"]

#: Clock period in ns (any value works: the design is synchronous and Verilator has no delays).
PERIOD_NS = 10
#: The three edge monitors, in the order the scoreboard breaks ties in.
EDGES = ("ifmap", "filter", "ofmap")


# ---- transactions -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    """One GEMM transaction: the operands as the engine loads them and NumPy's product."""

    name: str
    a: np.ndarray  # (M, K) int8
    weights: dict[str, np.ndarray]  # dense {"b": (K, N)}; sparse {"values": (K', N), "indices": (K', N)}
    k: int
    product: np.ndarray  # (M, N) int32
    limit: int

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(M, N, K)``."""
        return self.a.shape[0], self.product.shape[1], self.k


@dataclass(frozen=True)
class Engine:
    """What the bench needs to know about the design: the array and, for a sparse engine, the sparsity."""

    rows: int
    cols: int
    dataflow: str
    n_keep: int = 0
    m_group: int = 0

    @property
    def sparse(self) -> bool:
        return self.m_group > 0


def save_cases(path: Path | str, *, rows: int, cols: int, dataflow: str, cases: list[dict[str, Any]],
               n_keep: int = 0, m_group: int = 0) -> None:
    """Write the GEMMs for the bench (run on the Python side).

    Each case is a dict with ``a``, either ``b`` or ``values`` and ``indices`` (then also ``k``, the dense
    ``K``), and optionally ``name``, ``product`` (default NumPy's ``A @ B`` with int32 wrap-around; give it for a
    sparse case) and ``limit`` (default the stepped model's cycles plus 8, decided in the bench).
    """
    arrays: dict[str, np.ndarray] = {"rows": np.array(rows), "cols": np.array(cols), "dataflow": np.array(dataflow),
                                     "n_keep": np.array(n_keep), "m_group": np.array(m_group),
                                     "count": np.array(len(cases))}
    for i, case in enumerate(cases):
        a = case["a"]
        product = case.get("product")
        if product is None:
            product = (a.astype(np.int64) @ case["b"].astype(np.int64)).astype(np.int32)
        arrays.update({f"name{i}": np.array(case.get("name", f"gemm{i}")), f"a{i}": a, f"product{i}": product,
                       f"k{i}": np.array(case.get("k", a.shape[1])), f"limit{i}": np.array(case.get("limit", -1))})
        for key in ("b", "values", "indices"):
            if key in case:
                arrays[f"{key}{i}"] = case[key]
    np.savez(path, **arrays)


def load_cases(path: Path | str) -> tuple[Engine, list[Case]]:
    """Read what :func:`save_cases` wrote."""
    with np.load(path) as data:
        engine = Engine(int(data["rows"]), int(data["cols"]), str(data["dataflow"]), int(data["n_keep"]),
                        int(data["m_group"]))
        keys = ("values", "indices") if engine.sparse else ("b",)
        cases = [Case(str(data[f"name{i}"]), data[f"a{i}"], {key: data[f"{key}{i}"] for key in keys},
                      int(data[f"k{i}"]), data[f"product{i}"], int(data[f"limit{i}"]))
                 for i in range(int(data["count"]))]
    return engine, cases


def load_results(path: Path | str) -> list[dict[str, Any]]:
    """The per-GEMM records the bench wrote (``name``, ``cycles``, ``outputs``, ``mismatch``)."""
    return json.loads(Path(path).read_text())["cases"]


# ---- reference model ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Expected:
    """What the stepped model says about one GEMM."""

    cycles: int
    trace: dict[str, np.ndarray]  # EDGES -> (cycles, lanes) flat indices, -1 = bubble
    product: np.ndarray


def reference(engine: Engine, case: Case) -> Expected:
    """Run the GEMM through hwsim's stepped model (dense or sparse)."""
    if engine.sparse:
        result = simulate_sparse_gemm(case.a, case.weights["values"], case.weights["indices"], k=case.k,
                                      n_keep=engine.n_keep, m_group=engine.m_group, rows=engine.rows,
                                      cols=engine.cols, dataflow=engine.dataflow)
    else:
        result = simulate_gemm(case.a, case.weights["b"], engine.rows, engine.cols, engine.dataflow)
    trace = {name: np.asarray(getattr(result.trace, name), dtype=np.int64) for name in EDGES}
    return Expected(int(trace["ifmap"].shape[0]), trace, result.product)


# ---- driver -------------------------------------------------------------------------------------------------------

def put(handle, value: int) -> None:
    """Drive ``value`` (possibly negative) onto a port as two's complement in the port's width.

    An unsigned cocotb handle rejects a negative int, so it gets the bit pattern instead (a one-bit port has no
    signedness at all).
    """
    value = int(value)
    handle.value = value if getattr(handle, "is_signed", False) else value & ((1 << len(handle)) - 1)


class Driver:
    """Applies transactions through the engine's ports: reset, load, start."""

    def __init__(self, dut, engine: Engine) -> None:
        self.dut = dut
        # The weight load port: dense B (b_we, b_addr, b_wdata), or compressed slots (w_we, w_addr, w_value,
        # w_index), each array of the case written through its data port.
        self.weight_port = ("w", {"values": "w_value", "indices": "w_index"}) if engine.sparse else \
            ("b", {"b": "b_wdata"})

    async def reset(self) -> None:
        """Start the clock, quiet every input, hold reset for two cycles."""
        dut = self.dut
        Clock(dut.clk, PERIOD_NS, unit="ns").start(start_high=False)
        prefix, data_ports = self.weight_port
        for port in ("start", "a_we", f"{prefix}_we", "a_addr", "a_wdata", f"{prefix}_addr", *data_ports.values(),
                     "o_addr"):
            put(getattr(dut, port), 0)
        dut.rst.value = 1
        await FallingEdge(dut.clk)
        await FallingEdge(dut.clk)
        dut.rst.value = 0
        await FallingEdge(dut.clk)

    async def _write(self, prefix: str, ports: dict[str, np.ndarray]) -> None:
        """Write same-shaped arrays row-major through one load port, one word per clock."""
        we, addr = getattr(self.dut, f"{prefix}_we"), getattr(self.dut, f"{prefix}_addr")
        flat = {port: values.reshape(-1).tolist() for port, values in ports.items()}
        we.value = 1
        for index in range(len(next(iter(flat.values())))):
            put(addr, index)
            for port, values in flat.items():
                put(getattr(self.dut, port), values[index])
            await FallingEdge(self.dut.clk)
        we.value = 0

    async def load(self, case: Case) -> None:
        """Set ``m``, ``n``, ``k`` and write ``A`` (``m*K + k``) and the weights (``k*N + n`` or ``r*N + n``)."""
        m, n, k = case.shape
        put(self.dut.m, m)
        put(self.dut.n, n)
        put(self.dut.k, k)
        await self._write("a", {"a_wdata": case.a})
        prefix, data_ports = self.weight_port
        await self._write(prefix, {port: case.weights[key] for key, port in data_ports.items()})

    async def start(self) -> None:
        """Pulse ``start``: the rising edge after this falling edge samples it; the cycle after is busy cycle 0."""
        self.dut.start.value = 1
        await FallingEdge(self.dut.clk)
        self.dut.start.value = 0


# ---- monitors -----------------------------------------------------------------------------------------------------

def split_lanes(bits: int, lanes: int, width: int) -> list[int]:
    """Cut a flat bus (lane ``l`` in bits ``[l*width, (l+1)*width)``) into signed lane values."""
    mask, sign = (1 << width) - 1, 1 << (width - 1)
    out = []
    for lane in range(lanes):
        v = (bits >> (lane * width)) & mask
        out.append(v - (1 << width) if v & sign else v)
    return out


class ControlMonitor:
    """Records ``busy`` and ``done`` each time it samples."""

    def __init__(self, dut) -> None:
        self.dut = dut
        self.rows: list[tuple[int, int]] = []

    def sample(self) -> tuple[int, int]:
        row = (int(self.dut.busy.value), int(self.dut.done.value))
        self.rows.append(row)
        return row


class EdgeMonitor:
    """Records the three edge demand buses, one row of signed lane values per sample."""

    def __init__(self, dut, lanes: dict[str, int]) -> None:
        self.ports = {}
        for name, count in lanes.items():
            handle = getattr(dut, f"{name}_lane")
            if len(handle) % count:
                raise AssertionError(f"{name}_lane is {len(handle)} bits, not a multiple of its {count} lanes")
            self.ports[name] = (handle, count, len(handle) // count)
        self.rows: dict[str, list[list[int]]] = {name: [] for name in lanes}

    def peek(self) -> dict[str, list[int]]:
        """The lanes now, not recorded (for the idle checks around a GEMM)."""
        return {name: split_lanes(handle.value.to_unsigned(), count, width)
                for name, (handle, count, width) in self.ports.items()}

    def sample(self) -> dict[str, list[int]]:
        row = self.peek()
        for name, lanes in row.items():
            self.rows[name].append(lanes)
        return row

    def trace(self) -> dict[str, np.ndarray]:
        return {name: np.array(rows, dtype=np.int64).reshape(len(rows), -1) for name, rows in self.rows.items()}


class ResultMonitor:
    """Reads ``O`` back through the combinational result port, row-major."""

    def __init__(self, dut) -> None:
        self.dut = dut

    async def read(self, count: int) -> list[int]:
        outputs = []
        for flat in range(count):
            put(self.dut.o_addr, flat)
            await Timer(1, unit="ns")  # combinational: settle after the address change, no clock edge needed
            outputs.append(int(self.dut.o_rdata.value.to_signed()))
        return outputs


@dataclass
class Observed:
    """What the monitors recorded for one GEMM."""

    idle_before: dict[str, list[int]]  # edge lanes after loading, before start
    control_before: tuple[int, int]  # (busy, done) then
    cycles: int  # busy cycles seen (capped at the limit + 1)
    hung: bool  # still busy past the limit
    trace: dict[str, np.ndarray] = field(default_factory=dict)  # busy cycles x lanes
    done_in_busy: int | None = None  # first busy cycle with done high
    control_after: tuple[int, int] = (0, 0)  # (busy, done) in the cycle after the last busy one
    idle_after: dict[str, list[int]] = field(default_factory=dict)  # edge lanes then
    control_later: tuple[int, int] = (0, 0)  # (busy, done) one cycle later
    outputs: list[int] | None = None


async def observe(driver: Driver, control: ControlMonitor, edges: EdgeMonitor, results: ResultMonitor,
                  case: Case, limit: int) -> Observed:
    """Apply one transaction and let the monitors record it (the edge monitor only while busy)."""
    dut = driver.dut
    await driver.load(case)
    control_before = control.sample()
    idle_before = edges.peek()
    await driver.start()
    done_in_busy, cycles = None, 0
    while control.sample()[0]:
        if control.rows[-1][1] and done_in_busy is None:
            done_in_busy = cycles
        edges.sample()
        cycles += 1
        if cycles > limit:
            return Observed(idle_before, control_before, cycles, True, edges.trace(), done_in_busy)
        await FallingEdge(dut.clk)
    control_after = control.sample()
    idle_after = edges.peek()
    await FallingEdge(dut.clk)
    control_later = control.sample()
    m, n, _ = case.shape
    outputs = await results.read(m * n)
    await FallingEdge(dut.clk)  # back on the falling-edge grid for the next GEMM
    return Observed(idle_before, control_before, cycles, False, edges.trace(), done_in_busy, control_after,
                    idle_after, control_later, outputs)


# ---- scoreboard ---------------------------------------------------------------------------------------------------

def scoreboard(case: Case, expected: Expected, observed: Observed) -> str | None:
    """The first difference between the design and the models, in words (cycle, lane, both values), or None.

    Checked in this order: the reference's own product against NumPy; idle before start; the edge trace over
    the busy cycles both have (earliest cycle first, then ifmap, filter, ofmap), so that a wrong length still
    names a lane; ``done`` low while busy; the busy cycle count; ``done`` high and the edges idle in the cycle
    after, both low one cycle later; the product read back.
    """
    m, n, k = case.shape
    if not np.array_equal(expected.product, case.product):
        return "the stepped model's own product differs from NumPy's A @ B"
    if observed.control_before != (0, 0):
        return f"busy/done = {observed.control_before} while idle before start"
    for name, lanes in observed.idle_before.items():
        if any(v != -1 for v in lanes):
            return f"idle before start: {name}_lane = {lanes}, expected all -1"
    if observed.cycles == 0:
        return "busy did not rise in the cycle after the start edge"
    common = min(observed.cycles, expected.cycles)
    best = None
    for name in EDGES:
        got, want = observed.trace[name][:common], expected.trace[name][:common]
        diff = np.argwhere(got != want)
        if len(diff) and (best is None or int(diff[0][0]) < best[0]):
            cycle, lane = (int(x) for x in diff[0])
            best = (cycle, name, lane, int(got[cycle, lane]), int(want[cycle, lane]))
    if best is not None:
        cycle, name, lane, g, w = best
        return f"busy cycle {cycle}: {name}_lane[{lane}] = {g}, stepped model = {w}"
    if observed.done_in_busy is not None:
        return f"done high in busy cycle {observed.done_in_busy}"
    if observed.hung or observed.cycles != expected.cycles:
        more = "+" if observed.hung else ""
        return f"busy lasted {observed.cycles}{more} cycles, stepped model: {expected.cycles}"
    if observed.control_after[1] != 1:
        return "done not high in the cycle after the last busy cycle"
    for name, lanes in observed.idle_after.items():
        if any(v != -1 for v in lanes):
            return f"{name}_lane = {lanes} in the done cycle, expected all -1"
    if observed.control_later != (0, 0):
        return f"busy/done = {observed.control_later} two cycles after busy fell"
    got = np.asarray(observed.outputs, dtype=np.int64)
    want = case.product.reshape(-1).astype(np.int64)
    bad = np.flatnonzero(got != want)
    if len(bad):
        i = int(bad[0])
        return (f"O[{i // n}, {i % n}] (o_addr {i}) = {got[i]}, A @ B = {want[i]} "
                f"({len(bad)} of {m * n} outputs wrong)")
    return None


# ---- the cocotb test ----------------------------------------------------------------------------------------------

#: Busy cycles past the model's count a test keeps sampling before it calls the engine hung.
OVERRUN = 8


@cocotb.test()
async def gemms_match_stepped_model(dut) -> None:
    """Every GEMM of ``HWSIM_BENCH_CASES``: drive, monitor, compare with the stepped model, record."""
    engine, cases = load_cases(os.environ["HWSIM_BENCH_CASES"])
    results_path = Path(os.environ["HWSIM_BENCH_RESULTS"])
    check = os.environ.get("HWSIM_BENCH_CHECK") == "1"
    replay = f"HWSIM_RTL_SEED={os.environ.get('HWSIM_RTL_SEED', '<unset>')}"
    assert cases, f"no cases in {os.environ['HWSIM_BENCH_CASES']}"

    driver = Driver(dut, engine)
    control, results = ControlMonitor(dut), ResultMonitor(dut)
    await driver.reset()
    records = []
    for case in cases:
        expected = reference(engine, case)
        edges = EdgeMonitor(dut, {name: expected.trace[name].shape[1] for name in EDGES})
        limit = case.limit if case.limit >= 0 else expected.cycles + OVERRUN
        observed = await observe(driver, control, edges, results, case, limit)
        mismatch = scoreboard(case, expected, observed)
        m, n, k = case.shape
        where = f"[{case.name}: M={m} K={k} N={n}, {replay}]"
        records.append({"name": case.name, "cycles": None if observed.hung else observed.cycles,
                        "outputs": observed.outputs, "mismatch": None if mismatch is None else f"{where} {mismatch}"})
        results_path.write_text(json.dumps({"cases": records}))
        if mismatch is None:
            dut._log.info("%s: %d busy cycles, trace and product match the stepped model", where, observed.cycles)
        else:
            dut._log.warning("%s %s", where, mismatch)
        assert not (check and mismatch), f"{where} {mismatch}"
        if observed.hung:
            break  # the engine's state is unknown: later GEMMs would tell nothing
