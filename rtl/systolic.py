"""The systolic GEMM engine in Amaranth 0.5: ``O[M, N] = A[M, K] @ B[K, N]`` on an ``R x C`` PE array.

The hardware follows :mod:`hwsim.sim.stepped` cycle for cycle and bit for bit: same fold order (column fold
outer, row fold inner), same fold length ``L = 2R + C + T - 2``, the same edge schedule, int8 x int8 -> int32
MACs with wrap-around, and a per-cycle edge demand trace equal to the stepped model's
:class:`~hwsim.sim.stepped.DemandTrace`. Everything that happens per cycle is hardware: the controller is
counters, running sums and comparators; nothing is precomputed in Python except elaboration-time constants.

Two components
--------------
:class:`SystolicCore`
    Controller + edge skew registers + the ``R x C`` :class:`~rtl.pe.ProcessingElement` array, *without* the
    operand memories: it drives read addresses (one per edge lane) and takes the read data back in the same
    cycle, and it drives one write (address, data, enable) per output lane. This is the part to synthesize.
    Its ``elaborate`` is a sequence of named parts in the order they are built: fold state and sizes, edge
    addressing, controller, PE array, then ws/is fill (stationary load), stream feed, array joins and output lanes,
    or os feed and column drain. :mod:`rtl.sparse` overrides only the parts that differ.
:class:`SystolicGemm`
    The verification top: a :class:`SystolicCore` plus the ``A``, ``B`` and ``O`` memories
    (:class:`amaranth.lib.memory.Memory`), load ports, and a result read port.

Neighbouring PEs are joined with :func:`amaranth.lib.wiring.connect` over their :class:`~rtl.pe.Flow` ports. The
order in which the parts make their statements is the order the generated Verilog's internal names are numbered
in, so it is kept as it was: the Verilog of every dense design is byte for byte what it was before the split.

How the edges work
------------------
Flat indices use the runtime sizes: ``A[m, k] -> m*K + k``, ``B[k, n] -> k*N + n``, ``O[m, n] -> m*N + n``; they
are the memory addresses *and* the monitor values. Per fold the controller keeps the fold origin ``(r0, c0)`` as
remaining-size counters and as running products (``r0*N``, ``c0*K`` ...), and per cycle the running products of
the stream position ``t`` (``t*K``, ``t*N`` ...). They advance by a latched size times an elaboration-time
constant (``R*N``, ``C*K`` ...), so there is no run-time x run-time multiplier outside the PEs; per-lane offsets
``l*stride`` are adder chains.

* **Streamed lanes** (ws/is: the ``R`` left lanes; os: the ``R`` left and the ``C`` top lanes). Lane ``l`` is
  *read unskewed*: in cycle ``c`` it reads the element it must present at cycle ``c + l`` (one asynchronous read
  port per lane), masks it to value 0 / tag -1 if the lane carries nothing, then delays value, monitor index and
  array tag together through ``l`` skew registers. The array edge (and the monitor) therefore shows exactly what
  the PEs consume. Lane 0 has no skew register: its read data go straight into the first PE.
* **Stationary lanes** (ws/is: the ``C`` top lanes) need no skew: in fold cycles ``0..R-1`` they present tile row
  ``R-1-c`` while ``load`` is high, bottom row first, as in the model.
* **Output lanes** (``C``, the bottom edge). ws/is: the bottom PE's combinational ``sum`` and its tag; the flat
  output index is the tag plus a per-column term, and the lane writes ``O`` at the clock edge ending the cycle,
  read-modify-write across row folds (the first row fold writes, later ones add; asynchronous read of the old
  value). os: a draining column emits its bottom accumulator, whose tag already is the flat output index;
  each output is written once.

Tags inside the array (the stepped model's tags, re-encoded so no multiplier is needed at the edge)
-------------------------------------------------------------------------------------------------
ws
    Streamed ``A[t, :]`` carries ``t*N``; the bottom of column ``j`` adds ``c0 + j``: ``O[t, c0+j]``.
is
    Streamed ``B^T[t, :]`` carries ``t``; the bottom of column ``j`` adds ``(c0 + j)*N``: ``O[c0+j, t]``.
os
    Row ``i``'s ``A`` carries ``(r0+i)*N``, column ``j``'s ``B`` carries ``c0 + j``; a PE's first real MAC sets
    its accumulator tag to their sum, the flat index of the output it owns (the model's ``owner``).

Any tag is -1 (:data:`~hwsim.sim.stepped.BUBBLE`) for "nothing", and bubbles carry value 0 (the model's MACs run
regardless of tags, so a bubble must contribute exactly 0).

Timing contract of :class:`SystolicGemm` (and :class:`SystolicCore`)
-------------------------------------------------------------------
``start`` is sampled at a rising edge while ``busy`` is low; ``m``, ``n``, ``k`` are latched at that edge. ``busy``
is then high for exactly ``simulate_gemm(...).cycles`` cycles; busy cycle ``c`` is stepped cycle ``c``, and the
three monitor vectors in that cycle equal ``trace.ifmap[c]``, ``trace.filter[c]``, ``trace.ofmap[c]``. ``done``
is high for the one cycle after the last busy cycle. Monitors are all -1 while not busy. Sizes must satisfy
``1 <= m <= max_m`` etc.; other values give unspecified results (no error signal).

The PE registers are never cleared, yet every fold starts as clean as the stepped model's (which resets them
per fold): the array keeps stepping with bubbles between and after folds, and a fold is long enough to drain
itself. ws/is: the last streamed value enters at fold cycle ``2R+T-2`` and the last partial sum leaves at
``L-1``, so at the end of the fold only registers nobody reads (the last column's ``x``, the bottom row's ``p``)
still hold tagged data; stationary operands are fully replaced by the next ``R`` load cycles. os: the last
column drains for its final ``R`` cycles, shifting in zeros, and every ``a``/``b`` register holds a bubble.
Registers reset to value 0 / tag -1, so the first GEMM after reset starts clean too.
"""

from __future__ import annotations

from dataclasses import dataclass

from amaranth.hdl import Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from hwsim.api import Dataflow, GemmDims
from hwsim.arch import SystolicArray
from hwsim.mapping import mapping
from rtl.pe import OPERAND, PSUM, ProcessingElement

__all__ = ["SIZE_WIDTH", "MAX_MEMORY_DEPTH", "SystolicGeometry", "SystolicCore", "SystolicGemm"]

#: Width of the ``m``, ``n``, ``k`` size inputs.
SIZE_WIDTH = 16
#: Largest operand memory (words) :class:`SystolicGemm` builds: beyond that the simulators and Yosys crawl.
MAX_MEMORY_DEPTH = 1 << 20

_BUBBLE = -1


@dataclass(frozen=True)
class SystolicGeometry:
    """Elaboration-time sizes of one engine: array, dataflow, size limits, and the widths that follow.

    Built (and checked) by :meth:`from_arch`; both components hold one as ``geometry``.

    Attributes
    ----------
    rows, cols
        ``R x C`` PEs.
    dataflow
        ``ws``, ``is`` or ``os``.
    max_m, max_n, max_k
        Largest run-time GEMM sizes.
    """

    rows: int
    cols: int
    dataflow: Dataflow
    max_m: int
    max_n: int
    max_k: int

    @classmethod
    def from_arch(cls, arch: SystolicArray, *, max_m: int, max_n: int, max_k: int) -> "SystolicGeometry":
        """Check the arguments and build the geometry.

        Raises
        ------
        ValueError
            One line: ``arch`` not a :class:`~hwsim.arch.SystolicArray`, precision other than int8, or a
            ``max_*`` that is not a whole number from 1 to ``2**16 - 1`` (the size inputs are 16 bits).
        """
        if not isinstance(arch, SystolicArray):
            raise ValueError(f"arch must be a hwsim.arch.SystolicArray, got {type(arch).__name__}")
        if arch.precision != "int8":
            raise ValueError(
                f"the systolic RTL implements int8 x int8 -> int32 MACs only; arch.precision is {arch.precision!r}")
        limit = (1 << SIZE_WIDTH) - 1
        for name, value in (("max_m", max_m), ("max_n", max_n), ("max_k", max_k)):
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
                raise ValueError(f"{name} must be a whole number from 1 to {limit}, got {value!r}")
        return cls(arch.rows, arch.cols, arch.dataflow, max_m, max_n, max_k)

    # -- lanes (as in the stepped model's trace) ----------------------------------------------------------------

    @property
    def ifmap_lanes(self) -> int:
        """``Li``: ``R`` for ws and os, ``C`` for is."""
        return self.cols if self.dataflow is Dataflow.INPUT_STATIONARY else self.rows

    @property
    def filter_lanes(self) -> int:
        """``Lf``: ``C`` for ws and os, ``R`` for is."""
        return self.rows if self.dataflow is Dataflow.INPUT_STATIONARY else self.cols

    @property
    def ofmap_lanes(self) -> int:
        """``Lo = C`` for every dataflow."""
        return self.cols

    # -- widths --------------------------------------------------------------------------------------------------

    @property
    def max_index(self) -> int:
        """Largest flat index of any operand (``A``, ``B`` or ``O``)."""
        return max(self.max_m * self.max_k, self.max_k * self.max_n, self.max_m * self.max_n) - 1

    @property
    def index_width(self) -> int:
        """Unsigned bits of a flat index; also the width of the memory address ports."""
        return max(1, self.max_index.bit_length())

    @property
    def tag_width(self) -> int:
        """Signed bits of monitor values and array tags: holds -1 and :attr:`max_index`."""
        return self.index_width + 1

    @property
    def fold_size_names(self) -> tuple[str, str, str]:
        """Which of ``m``, ``n``, ``k`` are the fold space ``Sr``, ``Sc`` and the stream length ``T``: the mapping's
        own rule (:meth:`hwsim.mapping.Mapping.fold_dims`) applied to the sizes' names."""
        return mapping(self.dataflow).fold_dims(GemmDims(m="m", n="n", k="k"))

    def max_size(self, name: str) -> int:
        """``max_m``, ``max_n`` or ``max_k`` by letter."""
        return {"m": self.max_m, "n": self.max_n, "k": self.max_k}[name]

    def fold_max(self, name: str) -> int:
        """Largest value of the size ``name`` the folds are made of (the sparse engine folds ``K'``, not ``K``)."""
        return self.max_size(name)

    @property
    def cycle_width(self) -> int:
        """Bits of the in-fold cycle counter: holds ``L - 1`` for the longest stream."""
        t_max = self.max_size(self.fold_size_names[2])
        return (2 * self.rows + self.cols + t_max).bit_length()


def control_members() -> dict:
    """Start, the run-time sizes, busy and done: the control ports of every engine and core."""
    return {
        "start": In(1),
        "m": In(SIZE_WIDTH), "n": In(SIZE_WIDTH), "k": In(SIZE_WIDTH),
        "busy": Out(1),
        "done": Out(1),
    }


def monitor_members(g: SystolicGeometry) -> dict:
    """The three edge demand monitors: one signed flat index per lane, -1 for none."""
    tag = signed(g.tag_width)
    return {
        "ifmap_lane": Out(data.ArrayLayout(tag, g.ifmap_lanes)),
        "filter_lane": Out(data.ArrayLayout(tag, g.filter_lanes)),
        "ofmap_lane": Out(data.ArrayLayout(tag, g.ofmap_lanes)),
    }


class Schedule:
    """The controller's state and the edge addressing of one core, shared by its named parts while it elaborates.

    Attributes are set by :meth:`SystolicCore._fold_state` (sizes, fold and cycle counters) and
    :meth:`SystolicCore._edge_addressing` (the running products and the per-dataflow edge expressions).
    """

    def __init__(self, index_width: int, stationary: bool) -> None:
        self.iw = index_width
        self.stationary = stationary
        # Running products, all modulo 2**index_width (valid lanes never exceed max_index). Fold registers hold
        # ``r0 * stride`` (row axis) or ``c0 * stride`` (column axis); cycle registers hold ``(cyc - begin) *
        # stride`` from cycle ``begin`` of each fold on (0 before). Strides are 1 or a latched size.
        self.fold_regs: list[tuple[Signal, str, object]] = []
        self.cycle_regs: list[tuple[Signal, int, object]] = []
        # Group walks (N:M sparse only): advanced by R per row fold, or by one row per cycle.
        self.row_walks: list = []
        self.cycle_walks: list = []

    def fold_reg(self, name: str, axis: str, stride: object) -> Signal:
        reg = Signal(self.iw, name=name)
        self.fold_regs.append((reg, axis, stride))
        return reg

    def cycle_reg(self, name: str, begin: int, stride: object) -> Signal:
        reg = Signal(self.iw, name=name)
        self.cycle_regs.append((reg, begin, stride))
        return reg


def lane_offsets(m: Module, name: str, stride: object, count: int, width: int) -> list:
    """``l * stride`` for each lane: constants for stride 1, else an adder chain (no multiplier)."""
    if isinstance(stride, int):
        return [Const(l * stride, width) for l in range(count)]
    offsets: list = [Const(0, width)]
    for l in range(1, count):
        off = Signal(width, name=f"{name}_off{l}")
        m.d.comb += off.eq(offsets[-1] + stride)
        offsets.append(off)
    return offsets


def skewed(m: Module, name: str, lane: int, signals: list) -> list:
    """Delay a lane's ``(label, signal, init)`` triples by ``lane`` registers (lane ``l`` reads ``l`` cycles
    ahead); return the delayed signals. Tags and monitors reset to -1 (their ``init``)."""
    for stage in range(lane):
        delayed = []
        for label, sig, init in signals:
            reg = Signal(sig.shape(), init=init, name=f"{name}_skew{stage}_{label}")
            m.d.sync += reg.eq(sig)
            delayed.append((label, reg, init))
        signals = delayed
    return [sig for _, sig, _ in signals]


def join_neighbours(m: Module, pes: list, i: int, j: int, *, down: tuple[str, str], right: str) -> None:
    """Join PE ``(i, j)`` to its neighbours with :func:`~amaranth.lib.wiring.connect`: the flows named in ``down``
    (an operand, then the partial sum or accumulator) come from the PE above, ``right`` from the PE on the left.
    The top row's partial sum starts at 0 with tag -1."""
    pe = pes[i][j]
    if i > 0:
        for name in down:
            wiring.connect(m, getattr(pes[i - 1][j], f"{name}_out"), getattr(pe, f"{name}_in"))
    else:
        first = getattr(pe, f"{down[-1]}_in")
        m.d.comb += [first.data.eq(0), first.tag.eq(_BUBBLE)]
    if j > 0:
        wiring.connect(m, getattr(pes[i][j - 1], f"{right}_out"), getattr(pe, f"{right}_in"))


class SystolicCore(wiring.Component):
    """The memory-less systolic GEMM engine: controller, edge skew registers and the PE array.

    This is the synthesizable core of :class:`SystolicGemm` (which adds nothing but the operand memories, load
    ports and a result port); synthesize this one to measure the array without memories. The controller,
    timing, monitors and tags are described in the module docstring. The N:M sparse core
    (:class:`rtl.sparse.SparseSystolicCore`) extends this one: it replaces only the operand feed.

    Parameters
    ----------
    arch
        The :class:`~hwsim.arch.SystolicArray` (rows, cols, dataflow; precision must be int8).
    max_m, max_n, max_k
        Largest run-time sizes; they set the widths.

    Attributes
    ----------
    arch : SystolicArray
        The array description it was built from.
    geometry : SystolicGeometry
        Sizes, lane counts and widths.
    start, m, n, k, busy, done
        As in :class:`SystolicGemm`.
    a_raddr, b_raddr : out, ``ArrayLayout(unsigned(index_width), Li / Lf)``
        One read address per ``A`` / ``B`` edge lane (ws: ``A`` lanes are the ``R`` streamed ones and ``B`` lanes
        the ``C`` stationary ones; is the other way round; os: ``R`` ``A`` lanes and ``C`` ``B`` lanes), 0 when the
        lane reads nothing.
    a_rdata, b_rdata : in, ``ArrayLayout(signed(8), Li / Lf)``
        The words at those addresses, *in the same cycle* (asynchronous read).
    o_waddr : out, ``ArrayLayout(unsigned(index_width), C)``
        Flat output index of each output lane this cycle (0 when idle); also the read address for accumulation.
    o_rdata : in, ``ArrayLayout(signed(32), C)``, ws/is only
        ``O`` at ``o_waddr``, same cycle: the partial sum of earlier row folds.
    o_we : out, ``ArrayLayout(unsigned(1), C)``; o_wdata : out, ``ArrayLayout(signed(32), C)``
        Write ``o_wdata`` to ``O[o_waddr]`` at the clock edge ending this cycle.
    ifmap_lane, filter_lane, ofmap_lane
        The edge demand monitors, as in :class:`SystolicGemm`.

    Raises
    ------
    ValueError
        As :meth:`SystolicGeometry.from_arch`.
    """

    def __init__(self, arch: SystolicArray, *, max_m: int, max_n: int, max_k: int) -> None:
        g = SystolicGeometry.from_arch(arch, max_m=max_m, max_n=max_n, max_k=max_k)
        idx = unsigned(g.index_width)
        self._build(arch, g, {
            "a_raddr": Out(data.ArrayLayout(idx, g.ifmap_lanes)),
            "a_rdata": In(data.ArrayLayout(OPERAND, g.ifmap_lanes)),
            "b_raddr": Out(data.ArrayLayout(idx, g.filter_lanes)),
            "b_rdata": In(data.ArrayLayout(OPERAND, g.filter_lanes)),
        })

    def _build(self, arch: SystolicArray, g: SystolicGeometry, operand_ports: dict) -> None:
        """Create the ports: control and sizes, the operand read ports given, the output lanes, the monitors."""
        self.arch = arch
        self.geometry = g
        idx = unsigned(g.index_width)
        members = {
            **control_members(),
            **operand_ports,
            "o_waddr": Out(data.ArrayLayout(idx, g.ofmap_lanes)),
            "o_we": Out(data.ArrayLayout(unsigned(1), g.ofmap_lanes)),
            "o_wdata": Out(data.ArrayLayout(PSUM, g.ofmap_lanes)),
        }
        if g.dataflow is not Dataflow.OUTPUT_STATIONARY:
            members["o_rdata"] = In(data.ArrayLayout(PSUM, g.ofmap_lanes))
        members.update(monitor_members(g))
        super().__init__(members)

    # ---- the parts, in the order they are elaborated --------------------------------------------------------------

    def elaborate(self, platform: object) -> Module:
        """Describe the hardware (called by Amaranth, not by users)."""
        m = Module()
        s = self._fold_state(m)
        self._edge_addressing(m, s)
        self._controller(m, s)
        pes = self._pe_array(m)
        if s.stationary:
            self._fill(m, s, pes)
            self._stream_feed(m, s, pes)
            self._join_stationary(m, s, pes)
            self._output_lanes(m, s, pes)
        else:
            self._os_feed(m, s, pes)
            self._drain_columns(m, s, pes)
        return m

    def _fold_sizes(self, m: Module, s: Schedule) -> tuple[dict, dict]:
        """The GEMM sizes the folds are made of, at the start edge and latched: ``m``, ``n``, ``k``."""
        return s.size_in, s.size

    def _fold_latches(self, s: Schedule) -> list:
        """Further registers latched at the start edge besides the sizes (none for the dense engine)."""
        return []

    def _fold_state(self, m: Module) -> Schedule:
        """Latched sizes and the fold/cycle state: in-fold cycle, fold length, remaining fold space."""
        g = self.geometry
        s = Schedule(g.index_width, g.dataflow is not Dataflow.OUTPUT_STATIONARY)
        s.size_in = {"m": self.m, "n": self.n, "k": self.k}
        s.size = {name: Signal(range(g.max_size(name) + 1), name=f"size_{name}") for name in "mnk"}
        s.fold_in, s.fold = self._fold_sizes(m, s)
        sr_name, sc_name, _ = g.fold_size_names
        s.cyc = Signal(g.cycle_width, name="cyc")                   # cycle within the fold, 0..L-1
        s.last = Signal(g.cycle_width, name="last")                 # L - 1, latched at start
        s.rem_r = Signal(range(g.fold_max(sr_name) + 1), name="rem_r")  # Sr - r0: fold-space rows from r0 on
        s.rem_c = Signal(range(g.fold_max(sc_name) + 1), name="rem_c")  # Sc - c0
        s.first_row = Signal(name="first_row")     # r0 == 0: ws/is outputs write instead of accumulate
        return s

    def _edge_addressing(self, m: Module, s: Schedule) -> None:
        """Per-dataflow edge timing and running products (comb), see the module docstring."""
        g = self.geometry
        R = g.rows
        busy, cyc = self.busy, s.cyc
        N, K = s.size["n"], s.size["k"]
        if s.stationary:
            s.stream_end = Signal(g.cycle_width, name="stream_end")  # R + T: streamed lanes read R <= cyc < R + T
            s.load = busy & (cyc < R)
            # Stationary tile row R-1-cyc is real when it lies inside the fold space: R-1-cyc < rem_r.
            s.top_row_ok = s.load & (cyc + s.rem_r >= R)
            s.stream_on = busy & (cyc >= R) & (cyc < s.stream_end)
            self._stationary_addresses(m, s)
        else:
            s.drain_at = Signal(g.cycle_width, name="drain_at")  # T - 1 + R: column j drains from drain_at + j on
            s.feed_on = busy & (cyc < s.fold["k"])
            s.r0k = s.fold_reg("r0K", "row", K)
            s.r0n = s.fold_reg("r0N", "row", N)
            s.c0 = s.fold_reg("c0", "col", 1)
            s.t_n = s.cycle_reg("tN", 0, N)

    def _stationary_addresses(self, m: Module, s: Schedule) -> None:
        """ws/is: where the stationary tile, the streamed lanes and the output columns are in memory."""
        R = self.geometry.rows
        N, K, cyc = s.size["n"], s.size["k"], s.cyc
        if self.geometry.dataflow is Dataflow.WEIGHT_STATIONARY:
            # Stationary B (K x N): B[r0+R-1-cyc, c0+j] at (r0+R-1-cyc)*N + c0 + j.
            r0 = s.fold_reg("r0", "row", 1)
            r0n = s.fold_reg("r0N", "row", N)
            c0 = s.fold_reg("c0", "col", 1)
            cyc_n = s.cycle_reg("cycN", 0, N)
            t_k = s.cycle_reg("tK", R, K)
            t_n = s.cycle_reg("tN", R, N)
            s.top_base, s.top_stride = r0n + N * (R - 1) - cyc_n + c0, 1
            # Streamed A[t, r0+i] at t*K + r0 + i; its array tag t*N.
            s.stream_base, s.stream_stride, s.stream_tag = t_k + r0, 1, t_n
            s.col_base, s.col_stride = c0, 1
        else:
            # Stationary A^T (K x M): A[c0+j, r0+R-1-cyc] at (c0+j)*K + r0 + R-1-cyc.
            r0 = s.fold_reg("r0", "row", 1)
            r0n = s.fold_reg("r0N", "row", N)
            c0k = s.fold_reg("c0K", "col", K)
            c0n = s.fold_reg("c0N", "col", N)
            s.top_base, s.top_stride = c0k + r0 + (R - 1) - cyc, K
            # Streamed B^T[t, r0+i] = B[r0+i, t] at (r0+i)*N + t; its array tag t.
            t = cyc - R
            s.stream_base, s.stream_stride, s.stream_tag = r0n + t, N, t
            s.col_base, s.col_stride = c0n, N

    def _controller(self, m: Module, s: Schedule) -> None:
        """Start, fold order (column fold outer, row fold inner), in-fold cycle, busy/done."""
        g = self.geometry
        R, C = g.rows, g.cols
        sr_name, sc_name, t_name = g.fold_size_names
        busy, cyc, N = self.busy, s.cyc, s.size["n"]
        launch = ~busy & self.start
        fold_end = busy & (cyc == s.last)
        row_more = s.rem_r > R

        m.d.sync += self.done.eq(0)
        with m.If(launch):
            m.d.sync += [s.size[name].eq(s.size_in[name]) for name in "mnk"]
            m.d.sync += self._fold_latches(s)
            m.d.sync += [
                busy.eq(1),
                cyc.eq(0),
                s.last.eq(s.fold_in[t_name] + (2 * R + C - 3)),
                s.rem_r.eq(s.fold_in[sr_name]),
                s.rem_c.eq(s.fold_in[sc_name]),
                s.first_row.eq(1),
            ]
            if s.stationary:
                m.d.sync += s.stream_end.eq(s.fold_in[t_name] + R)
            else:
                m.d.sync += s.drain_at.eq(s.fold_in[t_name] + (R - 1))
            m.d.sync += [reg.eq(0) for reg, _, _ in (*s.fold_regs, *s.cycle_regs)]
            for walk in (*s.row_walks, *s.cycle_walks):
                m.d.sync += walk.zero()
        with m.Elif(fold_end):
            m.d.sync += cyc.eq(0)
            m.d.sync += [reg.eq(0) for reg, _, _ in s.cycle_regs]
            for walk in s.cycle_walks:
                m.d.sync += walk.zero()
            with m.If(row_more):
                m.d.sync += [s.rem_r.eq(s.rem_r - R), s.first_row.eq(0)]
                m.d.sync += [reg.eq(reg + stride * R) for reg, axis, stride in s.fold_regs if axis == "row"]
                for walk in s.row_walks:
                    m.d.sync += walk.assign(walk.step(R, N))
            with m.Else():
                m.d.sync += [s.rem_r.eq(s.fold[sr_name]), s.rem_c.eq(s.rem_c - C), s.first_row.eq(1)]
                m.d.sync += [reg.eq(0) for reg, axis, _ in s.fold_regs if axis == "row"]
                m.d.sync += [reg.eq(reg + stride * C) for reg, axis, stride in s.fold_regs if axis == "col"]
                for walk in s.row_walks:
                    m.d.sync += walk.zero()
                with m.If(s.rem_c <= C):
                    m.d.sync += [busy.eq(0), self.done.eq(1)]
        with m.Elif(busy):
            m.d.sync += cyc.eq(cyc + 1)
            for reg, begin, stride in s.cycle_regs:
                if begin == 0:
                    m.d.sync += reg.eq(reg + stride)
                else:
                    with m.If(cyc >= begin):
                        m.d.sync += reg.eq(reg + stride)
            for walk in s.cycle_walks:
                m.d.sync += walk.assign(walk.step(1, N))

    # ---- edge lanes -----------------------------------------------------------------------------------------------

    def _read_lane(self, m: Module, name: str, valid, index, raddr, rdata) -> tuple:
        """Drive one read port; return (value, monitor index, ok) with bubbles as 0 / -1 / 0."""
        g = self.geometry
        ok = Signal(name=f"{name}_ok")
        idx = Signal(g.index_width, name=f"{name}_idx")
        val = Signal(OPERAND, name=f"{name}_val")
        mon = Signal(signed(g.tag_width), name=f"{name}_mon")
        m.d.comb += [
            ok.eq(valid), idx.eq(index),
            raddr.eq(Mux(ok, idx, 0)),
            val.eq(Mux(ok, rdata, 0)),
            mon.eq(Mux(ok, idx, _BUBBLE)),
        ]
        return val, mon, ok

    def _streamed_lanes(self, m: Module, name: str, count: int, on, rem, base, stride, tag_of, raddr,
                        rdata) -> list:
        """Unskewed reads of ``count`` streamed lanes, then their skew registers; return the edge triples."""
        g = self.geometry
        offsets = lane_offsets(m, f"{name}_idx", stride, count, g.index_width)
        edges = []
        for l in range(count):
            val, mon, ok = self._read_lane(m, f"{name}{l}", on & (rem > l), base + offsets[l], raddr[l], rdata[l])
            tag = Signal(signed(g.tag_width), name=f"{name}{l}_tag")
            m.d.comb += tag.eq(Mux(ok, tag_of(l), _BUBBLE))
            edges.append(skewed(m, f"{name}{l}", l, [("val", val, None), ("mon", mon, _BUBBLE),
                                                     ("tag", tag, _BUBBLE)]))
        return edges

    def _processing_element(self) -> ProcessingElement:
        return ProcessingElement(self.geometry.dataflow, tag_width=self.geometry.tag_width)

    def _pe_array(self, m: Module) -> list[list[ProcessingElement]]:
        """The ``R x C`` PEs, as submodules ``pe_<i>_<j>``."""
        g = self.geometry
        pes = [[self._processing_element() for _ in range(g.cols)] for _ in range(g.rows)]
        for i in range(g.rows):
            for j in range(g.cols):
                m.submodules[f"pe_{i}_{j}"] = pes[i][j]
        return pes

    def _stationary_ports(self) -> tuple:
        """``(raddr, rdata, monitor)`` of the stationary (top) edge and of the streamed (left) edge."""
        if self.geometry.dataflow is Dataflow.WEIGHT_STATIONARY:
            return (self.b_raddr, self.b_rdata, self.filter_lane), (self.a_raddr, self.a_rdata, self.ifmap_lane)
        return (self.a_raddr, self.a_rdata, self.ifmap_lane), (self.b_raddr, self.b_rdata, self.filter_lane)

    def _fill(self, m: Module, s: Schedule, pes: list) -> None:
        """ws/is load: in fold cycles ``0..R-1`` the top lanes present tile row ``R-1-cyc``, bottom row first."""
        (top_raddr, top_rdata, top_monitor), _ = self._stationary_ports()
        top_offsets = lane_offsets(m, "top_idx", s.top_stride, self.geometry.cols, s.iw)
        for j in range(self.geometry.cols):
            val, mon, ok = self._read_lane(m, f"top{j}", s.top_row_ok & (s.rem_c > j), s.top_base + top_offsets[j],
                                           top_raddr[j], top_rdata[j])
            m.d.comb += [pes[0][j].w_in.data.eq(val), pes[0][j].w_in.tag.eq(ok), top_monitor[j].eq(mon)]

    def _stream_feed(self, m: Module, s: Schedule, pes: list) -> None:
        """ws/is stream: the ``R`` left lanes, read unskewed and delayed through their skew registers."""
        _, (st_raddr, st_rdata, st_monitor) = self._stationary_ports()
        edges = self._streamed_lanes(m, "x", self.geometry.rows, s.stream_on, s.rem_r, s.stream_base,
                                     s.stream_stride, lambda l: s.stream_tag, st_raddr, st_rdata)
        for i, (val, mon, tag) in enumerate(edges):
            m.d.comb += [pes[i][0].x_in.data.eq(val), pes[i][0].x_in.tag.eq(tag), st_monitor[i].eq(mon)]

    def _join_stationary(self, m: Module, s: Schedule, pes: list) -> None:
        """ws/is array: stationary operands and partial sums flow down, the stream flows right."""
        for i, row in enumerate(pes):
            for j, pe in enumerate(row):
                m.d.comb += pe.load.eq(s.load)
                join_neighbours(m, pes, i, j, down=("w", "p"), right="x")

    def _output_lanes(self, m: Module, s: Schedule, pes: list) -> None:
        """ws/is bottom edge: each column's sum is written to ``O`` at its tag plus a per-column term."""
        g = self.geometry
        col_offsets = lane_offsets(m, "col", s.col_stride, g.cols, s.iw)
        for j in range(g.cols):
            bottom = pes[g.rows - 1][j]
            ok = Signal(name=f"out{j}_ok")
            flat = Signal(s.iw, name=f"out{j}_idx")
            m.d.comb += [
                ok.eq(self.busy & (bottom.sum.tag >= 0)),
                flat.eq(bottom.sum.tag + s.col_base + col_offsets[j]),
                self.o_waddr[j].eq(Mux(ok, flat, 0)),
                self.o_we[j].eq(ok),
                # Row folds meet here, as in the model's ofmap SRAM: the first writes, later ones add.
                self.o_wdata[j].eq(Mux(s.first_row, bottom.sum.data, self.o_rdata[j] + bottom.sum.data)),
                self.ofmap_lane[j].eq(Mux(ok, flat, _BUBBLE)),
            ]

    def _os_feed(self, m: Module, s: Schedule, pes: list) -> None:
        """os feed: ``A`` rows from the left, ``B`` columns from the top, both skewed."""
        g = self.geometry
        N, K = s.size["n"], s.size["k"]
        # A[r0+i, t] at (r0+i)*K + t with tag (r0+i)*N; B[t, c0+j] at t*N + c0 + j with tag c0 + j.
        a_tags = lane_offsets(m, "a_tag", N, g.rows, s.iw)
        a_edges = self._streamed_lanes(m, "a", g.rows, s.feed_on, s.rem_r, s.r0k + s.cyc, K,
                                       lambda l: s.r0n + a_tags[l], self.a_raddr, self.a_rdata)
        b_edges = self._streamed_lanes(m, "b", g.cols, s.feed_on, s.rem_c, s.t_n + s.c0, 1, lambda l: s.c0 + l,
                                       self.b_raddr, self.b_rdata)
        for i, (val, mon, tag) in enumerate(a_edges):
            m.d.comb += [pes[i][0].a_in.data.eq(val), pes[i][0].a_in.tag.eq(tag), self.ifmap_lane[i].eq(mon)]
        for j, (val, mon, tag) in enumerate(b_edges):
            m.d.comb += [pes[0][j].b_in.data.eq(val), pes[0][j].b_in.tag.eq(tag), self.filter_lane[j].eq(mon)]

    def _drain_columns(self, m: Module, s: Schedule, pes: list) -> None:
        """os array and drain: ``A`` flows right, ``B`` down; column ``j`` drains its accumulators from cycle
        ``drain_at + j`` on, and a draining bottom PE writes its output (once) at its tag."""
        g = self.geometry
        for j in range(g.cols):
            drain = Signal(name=f"drain{j}")
            m.d.comb += drain.eq(self.busy & (s.cyc >= s.drain_at + j))
            for i in range(g.rows):
                m.d.comb += pes[i][j].drain.eq(drain)
                join_neighbours(m, pes, i, j, down=("b", "acc"), right="a")
            bottom = pes[g.rows - 1][j].acc_out
            ok = Signal(name=f"out{j}_ok")
            m.d.comb += [
                ok.eq(drain & (bottom.tag >= 0)),
                self.o_waddr[j].eq(Mux(ok, bottom.tag, 0)),
                self.o_we[j].eq(ok),
                self.o_wdata[j].eq(bottom.data),
                self.ofmap_lane[j].eq(Mux(ok, bottom.tag, _BUBBLE)),
            ]


class SystolicGemm(wiring.Component):
    """A whole-GEMM systolic engine with its operand memories: the verification top.

    ``O = A @ B`` for run-time sizes ``m x k`` by ``k x n``, on the ``R x C`` array of ``arch``, in the stepped
    model's fold order and timing (see the module docstring and :class:`SystolicCore`, which this wraps).

    Memories (:class:`amaranth.lib.memory.Memory`, all ``init`` 0): ``A`` (``max_m * max_k`` int8), ``B``
    (``max_k * max_n`` int8), ``O`` (``max_m * max_n`` int32), row-major with the *run-time* sizes. They have one
    asynchronous read port per edge lane plus the load/result ports, and ``O`` one write port per output lane:
    many more ports than a real SRAM macro has. That is deliberate -- this design verifies the array's schedule
    against the stepped model, it is not a memory-system proposal (synthesize :class:`SystolicCore` instead).

    Parameters
    ----------
    arch
        :class:`~hwsim.arch.SystolicArray`: rows, cols, dataflow (ws, is, os); precision must be int8.
    max_m, max_n, max_k
        Largest run-time sizes (1 to ``2**16 - 1``, and each memory at most :data:`MAX_MEMORY_DEPTH` words).

    Attributes
    ----------
    arch : SystolicArray
        The array description it was built from.
    geometry : SystolicGeometry
        Sizes, lane counts and widths.
    addr_width : int
        Width ``w`` of ``a_addr``, ``b_addr`` and ``o_addr`` (one width for all three: bits of the largest flat
        index of any operand).
    tag_width : int
        Width ``W`` of the signed monitor entries.

    Notes
    -----
    Ports (``sync`` domain, plus ``clk``/``rst`` when converted):

    ``start`` in(1)
        Sampled at a rising edge while ``busy`` is low; starts a GEMM with the current ``m``, ``n``, ``k``.
    ``m``, ``n``, ``k`` in(16)
        Run-time sizes, ``1 <= m <= max_m`` etc.; latched at start.
    ``busy`` out(1)
        High for exactly ``simulate_gemm(...).cycles`` cycles, from the cycle after the start edge on.
    ``done`` out(1)
        High for the one cycle after the last busy cycle.
    ``a_we`` in(1), ``a_addr`` in(w), ``a_wdata`` in(signed(8))
        Write ``A[m, k]`` at ``a_addr = m*K + k`` (run-time ``K``); ignored while busy.
    ``b_we``, ``b_addr``, ``b_wdata``
        The same for ``B[k, n]`` at ``k*N + n``.
    ``o_addr`` in(w), ``o_rdata`` out(signed(32))
        Asynchronous read of ``O[m, n]`` at ``m*N + n``; the product is complete when ``done`` rises.
    ``ifmap_lane`` out(ArrayLayout(signed(W), Li)), ``filter_lane`` (Lf lanes), ``ofmap_lane`` (Lo lanes)
        Per busy cycle ``c``, the stepped trace rows ``trace.ifmap[c]`` etc.: the flat index on each edge lane,
        -1 for none; all -1 while not busy. ws: ``Li = R``, ``Lf = C``; is: ``Li = C``, ``Lf = R``; os: ``Li = R``,
        ``Lf = C``; always ``Lo = C``.

    Raises
    ------
    ValueError
        One line: as :meth:`SystolicGeometry.from_arch`, or a memory deeper than :data:`MAX_MEMORY_DEPTH`.
    """

    def __init__(self, arch: SystolicArray, *, max_m: int, max_n: int, max_k: int) -> None:
        g = SystolicGeometry.from_arch(arch, max_m=max_m, max_n=max_n, max_k=max_k)
        addr = unsigned(g.index_width)
        self._build(arch, g, {"B": max_k * max_n},
                    {"b_we": In(1), "b_addr": In(addr), "b_wdata": In(OPERAND)})

    def _build(self, arch: SystolicArray, g: SystolicGeometry, weight_depth: dict[str, int],
               weight_ports: dict) -> None:
        """Check the memory depths and create the ports: control, the ``A`` and weight load ports, the result
        port, the monitors."""
        depths = {"A": g.max_m * g.max_k, **weight_depth, "O": g.max_m * g.max_n}
        for name, depth in depths.items():
            if depth > MAX_MEMORY_DEPTH:
                raise ValueError(f"memory {name} would hold {depth} words, more than {MAX_MEMORY_DEPTH}; "
                                 "lower max_m, max_n or max_k")
        self.arch = arch
        self.geometry = g
        self.addr_width = g.index_width
        self.tag_width = g.tag_width
        addr = unsigned(self.addr_width)
        members = {
            **control_members(),
            "a_we": In(1), "a_addr": In(addr), "a_wdata": In(OPERAND),
            **weight_ports,
            "o_addr": In(addr), "o_rdata": Out(PSUM),
        }
        members.update(monitor_members(g))
        super().__init__(members)

    def _core(self) -> SystolicCore:
        g = self.geometry
        return SystolicCore(self.arch, max_m=g.max_m, max_n=g.max_n, max_k=g.max_k)

    def elaborate(self, platform: object) -> Module:
        """Describe the hardware (called by Amaranth, not by users)."""
        m = Module()
        core = self._core()
        m.submodules.core = core
        connect_core(m, self, core)
        self._operand_memories(m, core)
        result_memory(m, self, core, self.geometry)
        return m

    def _operand_memories(self, m: Module, core: SystolicCore) -> None:
        """``A`` and ``B``: a load port each (ignored while busy) and one asynchronous read port per edge lane."""
        g = self.geometry
        for name, depth, we, waddr, wdata, raddr, rdata, lanes in (
            ("mem_a", g.max_m * g.max_k, self.a_we, self.a_addr, self.a_wdata, core.a_raddr, core.a_rdata,
             g.ifmap_lanes),
            ("mem_b", g.max_k * g.max_n, self.b_we, self.b_addr, self.b_wdata, core.b_raddr, core.b_rdata,
             g.filter_lanes),
        ):
            mem = m.submodules[name] = Memory(shape=OPERAND, depth=depth, init=[])
            load_port(m, mem, we & ~core.busy, waddr, wdata)
            for lane in range(lanes):
                port = mem.read_port(domain="comb")
                m.d.comb += [port.addr.eq(raddr[lane]), rdata[lane].eq(port.data)]


def load_port(m: Module, mem: Memory, en: object, addr: object, wdata: object) -> Memory.WritePort:
    """The memory's load (write) port, enabled by ``en``."""
    load = mem.write_port()
    m.d.comb += [load.en.eq(en), load.addr.eq(addr)]
    if isinstance(wdata, dict):
        m.d.comb += [getattr(load.data, field).eq(value) for field, value in wdata.items()]
    else:
        m.d.comb += load.data.eq(wdata)
    return load


def connect_core(m: Module, top: wiring.Component, core: wiring.Component) -> None:
    """Wire a verification top's control, size and monitor ports straight to its core's."""
    m.d.comb += [
        core.start.eq(top.start), core.m.eq(top.m), core.n.eq(top.n), core.k.eq(top.k),
        top.busy.eq(core.busy), top.done.eq(core.done),
        top.ifmap_lane.eq(core.ifmap_lane), top.filter_lane.eq(core.filter_lane),
        top.ofmap_lane.eq(core.ofmap_lane),
    ]


def result_memory(m: Module, top: wiring.Component, core: wiring.Component, g: SystolicGeometry) -> None:
    """The ``O`` memory: one write port per output lane (with a same-cycle read of the old partial sum where row
    folds accumulate, ws and is) and the top's asynchronous result port."""
    mem_o = m.submodules.mem_o = Memory(shape=PSUM, depth=g.max_m * g.max_n, init=[])
    result = mem_o.read_port(domain="comb")
    m.d.comb += [result.addr.eq(top.o_addr), top.o_rdata.eq(result.data)]
    for lane in range(g.ofmap_lanes):
        write = mem_o.write_port()
        m.d.comb += [write.en.eq(core.o_we[lane]), write.addr.eq(core.o_waddr[lane]),
                     write.data.eq(core.o_wdata[lane])]
        if g.dataflow is not Dataflow.OUTPUT_STATIONARY:
            # Accumulation across row folds reads the old partial sum in the same cycle.
            old = mem_o.read_port(domain="comb")
            m.d.comb += [old.addr.eq(core.o_waddr[lane]), core.o_rdata[lane].eq(old.data)]
