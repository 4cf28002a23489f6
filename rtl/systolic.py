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
:class:`SystolicGemm`
    The verification top: a :class:`SystolicCore` plus the ``A``, ``B`` and ``O`` memories
    (:class:`amaranth.lib.memory.Memory`), load ports, and a result read port.

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

from amaranth.hdl import Const, Module, Mux, Signal, Value, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from hwsim.arch import SystolicArray
from hwsim.types import Dataflow
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
        """Which of ``m``, ``n``, ``k`` are the fold space ``Sr``, ``Sc`` and the stream length ``T``."""
        return {
            Dataflow.WEIGHT_STATIONARY: ("k", "n", "m"),
            Dataflow.INPUT_STATIONARY: ("k", "m", "n"),
            Dataflow.OUTPUT_STATIONARY: ("m", "n", "k"),
        }[self.dataflow]

    def max_size(self, name: str) -> int:
        """``max_m``, ``max_n`` or ``max_k`` by letter."""
        return {"m": self.max_m, "n": self.max_n, "k": self.max_k}[name]

    @property
    def cycle_width(self) -> int:
        """Bits of the in-fold cycle counter: holds ``L - 1`` for the longest stream."""
        t_max = self.max_size(self.fold_size_names[2])
        return (2 * self.rows + self.cols + t_max).bit_length()


def monitor_members(g: SystolicGeometry) -> dict:
    tag = signed(g.tag_width)
    return {
        "ifmap_lane": Out(data.ArrayLayout(tag, g.ifmap_lanes)),
        "filter_lane": Out(data.ArrayLayout(tag, g.filter_lanes)),
        "ofmap_lane": Out(data.ArrayLayout(tag, g.ofmap_lanes)),
    }


class SystolicCore(wiring.Component):
    """The memory-less systolic GEMM engine: controller, edge skew registers and the PE array.

    This is the synthesizable core of :class:`SystolicGemm` (which adds nothing but the operand memories, load
    ports and a result port); synthesize this one to measure the array without memories. The controller,
    timing, monitors and tags are described in the module docstring.

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
        self.arch = arch
        self.geometry = g
        idx = unsigned(g.index_width)
        members = {
            "start": In(1),
            "m": In(SIZE_WIDTH), "n": In(SIZE_WIDTH), "k": In(SIZE_WIDTH),
            "busy": Out(1),
            "done": Out(1),
            "a_raddr": Out(data.ArrayLayout(idx, g.ifmap_lanes)),
            "a_rdata": In(data.ArrayLayout(OPERAND, g.ifmap_lanes)),
            "b_raddr": Out(data.ArrayLayout(idx, g.filter_lanes)),
            "b_rdata": In(data.ArrayLayout(OPERAND, g.filter_lanes)),
            "o_waddr": Out(data.ArrayLayout(idx, g.ofmap_lanes)),
            "o_we": Out(data.ArrayLayout(unsigned(1), g.ofmap_lanes)),
            "o_wdata": Out(data.ArrayLayout(PSUM, g.ofmap_lanes)),
        }
        if g.dataflow is not Dataflow.OUTPUT_STATIONARY:
            members["o_rdata"] = In(data.ArrayLayout(PSUM, g.ofmap_lanes))
        members.update(monitor_members(g))
        super().__init__(members)

    # ------------------------------------------------------------------------------------------------------------

    def elaborate(self, platform: object) -> Module:
        """Describe the hardware (called by Amaranth, not by users)."""
        m = Module()
        g = self.geometry
        R, C = g.rows, g.cols
        iw, W = g.index_width, g.tag_width
        flow = g.dataflow
        stationary = flow is not Dataflow.OUTPUT_STATIONARY

        # ---- latched sizes and the fold/cycle state ----------------------------------------------------------
        size_in = {"m": self.m, "n": self.n, "k": self.k}
        size = {name: Signal(range(g.max_size(name) + 1), name=f"size_{name}") for name in "mnk"}
        sr_name, sc_name, t_name = g.fold_size_names
        sr_max, sc_max = g.max_size(sr_name), g.max_size(sc_name)

        cyc = Signal(g.cycle_width)                 # cycle within the fold, 0..L-1
        last = Signal(g.cycle_width)                # L - 1, latched at start
        rem_r = Signal(range(sr_max + 1))           # Sr - r0: rows of the fold space from this row fold on
        rem_c = Signal(range(sc_max + 1))           # Sc - c0
        first_row = Signal()                        # r0 == 0: ws/is outputs write instead of accumulate
        launch = ~self.busy & self.start
        fold_end = self.busy & (cyc == last)
        row_more = rem_r > R

        # Running products, all modulo 2**index_width (valid lanes never exceed max_index). Fold registers hold
        # ``r0 * stride`` (row axis) or ``c0 * stride`` (column axis); cycle registers hold ``(cyc - begin) *
        # stride`` from cycle ``begin`` of each fold on (0 before). Strides are 1 or a latched size.
        fold_regs: list[tuple[Signal, str, object]] = []
        cycle_regs: list[tuple[Signal, int, object]] = []

        def fold_reg(name: str, axis: str, stride: object) -> Signal:
            reg = Signal(iw, name=name)
            fold_regs.append((reg, axis, stride))
            return reg

        def cycle_reg(name: str, begin: int, stride: object) -> Signal:
            reg = Signal(iw, name=name)
            cycle_regs.append((reg, begin, stride))
            return reg

        N, K = size["n"], size["k"]

        # ---- per-dataflow edge addressing (comb), see the module docstring -----------------------------------
        busy = self.busy
        if stationary:
            stream_end = Signal(g.cycle_width)      # R + T: the streamed lanes read while R <= cyc < R + T
            load = busy & (cyc < R)
            # Stationary tile row R-1-cyc is real when it lies inside the fold space: R-1-cyc < rem_r.
            top_row_ok = load & (cyc + rem_r >= R)
            stream_on = busy & (cyc >= R) & (cyc < stream_end)
            if flow is Dataflow.WEIGHT_STATIONARY:
                # Stationary B (K x N): B[r0+R-1-cyc, c0+j] at (r0+R-1-cyc)*N + c0 + j.
                r0 = fold_reg("r0", "row", 1)
                r0n = fold_reg("r0N", "row", N)
                c0 = fold_reg("c0", "col", 1)
                cyc_n = cycle_reg("cycN", 0, N)
                t_k = cycle_reg("tK", R, K)
                t_n = cycle_reg("tN", R, N)
                top_base = r0n + N * (R - 1) - cyc_n + c0
                top_stride: object = 1
                # Streamed A[t, r0+i] at t*K + r0 + i; its array tag t*N.
                stream_base, stream_stride = t_k + r0, 1
                stream_tag = t_n
                col_base, col_stride = c0, 1
            else:
                # Stationary A^T (K x M): A[c0+j, r0+R-1-cyc] at (c0+j)*K + r0 + R-1-cyc.
                r0 = fold_reg("r0", "row", 1)
                r0n = fold_reg("r0N", "row", N)
                c0k = fold_reg("c0K", "col", K)
                c0n = fold_reg("c0N", "col", N)
                top_base = c0k + r0 + (R - 1) - cyc
                top_stride = K
                # Streamed B^T[t, r0+i] = B[r0+i, t] at (r0+i)*N + t; its array tag t.
                t = cyc - R
                stream_base, stream_stride = r0n + t, N
                stream_tag = t
                col_base, col_stride = c0n, N
        else:
            drain_at = Signal(g.cycle_width)        # K - 1 + R: column j drains from cycle drain_at + j on
            feed_on = busy & (cyc < K)
            r0k = fold_reg("r0K", "row", K)
            r0n = fold_reg("r0N", "row", N)
            c0 = fold_reg("c0", "col", 1)
            t_n = cycle_reg("tN", 0, N)

        # ---- controller ----------------------------------------------------------------------------------------
        m.d.sync += self.done.eq(0)
        with m.If(launch):
            m.d.sync += [size[name].eq(size_in[name]) for name in "mnk"]
            m.d.sync += [
                self.busy.eq(1),
                cyc.eq(0),
                last.eq(size_in[t_name] + (2 * R + C - 3)),
                rem_r.eq(size_in[sr_name]),
                rem_c.eq(size_in[sc_name]),
                first_row.eq(1),
            ]
            if stationary:
                m.d.sync += stream_end.eq(size_in[t_name] + R)
            else:
                m.d.sync += drain_at.eq(self.k + (R - 1))
            m.d.sync += [reg.eq(0) for reg, _, _ in (*fold_regs, *cycle_regs)]
        with m.Elif(fold_end):
            m.d.sync += cyc.eq(0)
            m.d.sync += [reg.eq(0) for reg, _, _ in cycle_regs]
            with m.If(row_more):
                m.d.sync += [rem_r.eq(rem_r - R), first_row.eq(0)]
                m.d.sync += [reg.eq(reg + stride * R) for reg, axis, stride in fold_regs if axis == "row"]
            with m.Else():
                m.d.sync += [rem_r.eq(size[sr_name]), rem_c.eq(rem_c - C), first_row.eq(1)]
                m.d.sync += [reg.eq(0) for reg, axis, _ in fold_regs if axis == "row"]
                m.d.sync += [reg.eq(reg + stride * C) for reg, axis, stride in fold_regs if axis == "col"]
                with m.If(rem_c <= C):
                    m.d.sync += [self.busy.eq(0), self.done.eq(1)]
        with m.Elif(busy):
            m.d.sync += cyc.eq(cyc + 1)
            for reg, begin, stride in cycle_regs:
                if begin == 0:
                    m.d.sync += reg.eq(reg + stride)
                else:
                    with m.If(cyc >= begin):
                        m.d.sync += reg.eq(reg + stride)

        # ---- helpers for edge lanes ----------------------------------------------------------------------------

        def lane_offsets(name: str, stride: object, count: int) -> list:
            """``l * stride`` for each lane: constants for stride 1, else an adder chain (no multiplier)."""
            if isinstance(stride, int):
                return [Const(l * stride, iw) for l in range(count)]
            offsets: list = [Const(0, iw)]
            for l in range(1, count):
                off = Signal(iw, name=f"{name}_off{l}")
                m.d.comb += off.eq(offsets[-1] + stride)
                offsets.append(off)
            return offsets

        def read_lane(name: str, valid, index, raddr, rdata):
            """Drive one read port; return (value, monitor index, ok) with bubbles as 0 / -1 / 0."""
            ok = Signal(name=f"{name}_ok")
            idx = Signal(iw, name=f"{name}_idx")
            val = Signal(OPERAND, name=f"{name}_val")
            mon = Signal(signed(W), name=f"{name}_mon")
            m.d.comb += [
                ok.eq(valid), idx.eq(index),
                raddr.eq(Mux(ok, idx, 0)),
                val.eq(Mux(ok, rdata, 0)),
                mon.eq(Mux(ok, idx, _BUBBLE)),
            ]
            return val, mon, ok

        def skewed(name: str, lane: int, val, mon, tag):
            """Delay (value, monitor, tag) by ``lane`` registers: lane ``l`` reads ``l`` cycles ahead."""
            for stage in range(lane):
                nval = Signal(OPERAND, name=f"{name}_skew{stage}_val")
                nmon = Signal(signed(W), init=_BUBBLE, name=f"{name}_skew{stage}_mon")
                ntag = Signal(signed(W), init=_BUBBLE, name=f"{name}_skew{stage}_tag")
                m.d.sync += [nval.eq(val), nmon.eq(mon), ntag.eq(tag)]
                val, mon, tag = nval, nmon, ntag
            return val, mon, tag

        def streamed_lanes(name: str, count: int, on, rem, base, stride, tag_of, raddr, rdata):
            """Unskewed reads of ``count`` streamed lanes, then their skew registers; return the edge triples."""
            offsets = lane_offsets(f"{name}_idx", stride, count)
            edges = []
            for l in range(count):
                val, mon, ok = read_lane(f"{name}{l}", on & (rem > l), base + offsets[l], raddr[l], rdata[l])
                tag = Signal(signed(W), name=f"{name}{l}_tag")
                m.d.comb += tag.eq(Mux(ok, tag_of(l), _BUBBLE))
                edges.append(skewed(f"{name}{l}", l, val, mon, tag))
            return edges

        pes = [[ProcessingElement(flow, tag_width=W) for _ in range(C)] for _ in range(R)]
        for i in range(R):
            for j in range(C):
                m.submodules[f"pe_{i}_{j}"] = pes[i][j]

        # ---- stationary family (ws / is) -----------------------------------------------------------------------
        if stationary:
            if flow is Dataflow.WEIGHT_STATIONARY:
                top_raddr, top_rdata, top_monitor = self.b_raddr, self.b_rdata, self.filter_lane
                st_raddr, st_rdata, st_monitor = self.a_raddr, self.a_rdata, self.ifmap_lane
            else:
                top_raddr, top_rdata, top_monitor = self.a_raddr, self.a_rdata, self.ifmap_lane
                st_raddr, st_rdata, st_monitor = self.b_raddr, self.b_rdata, self.filter_lane

            top_offsets = lane_offsets("top_idx", top_stride, C)
            for j in range(C):
                val, mon, ok = read_lane(f"top{j}", top_row_ok & (rem_c > j), top_base + top_offsets[j],
                                         top_raddr[j], top_rdata[j])
                m.d.comb += [pes[0][j].w_in.eq(val), pes[0][j].w_valid_in.eq(ok), top_monitor[j].eq(mon)]

            edges = streamed_lanes("x", R, stream_on, rem_r, stream_base, stream_stride, lambda l: stream_tag,
                                   st_raddr, st_rdata)
            for i, (val, mon, tag) in enumerate(edges):
                m.d.comb += [pes[i][0].x_in.eq(val), pes[i][0].x_tag_in.eq(tag), st_monitor[i].eq(mon)]

            for i in range(R):
                for j in range(C):
                    pe = pes[i][j]
                    m.d.comb += pe.load.eq(load)
                    if i > 0:
                        above = pes[i - 1][j]
                        m.d.comb += [
                            pe.w_in.eq(above.w_out), pe.w_valid_in.eq(above.w_valid_out),
                            pe.p_in.eq(above.p_out), pe.p_tag_in.eq(above.p_tag_out),
                        ]
                    else:
                        m.d.comb += [pe.p_in.eq(0), pe.p_tag_in.eq(_BUBBLE)]
                    if j > 0:
                        left = pes[i][j - 1]
                        m.d.comb += [pe.x_in.eq(left.x_out), pe.x_tag_in.eq(left.x_tag_out)]

            col_offsets = lane_offsets("col", col_stride, C)
            for j in range(C):
                bottom = pes[R - 1][j]
                ok = Signal(name=f"out{j}_ok")
                flat = Signal(iw, name=f"out{j}_idx")
                m.d.comb += [
                    ok.eq(busy & (bottom.sum_tag >= 0)),
                    flat.eq(bottom.sum_tag + col_base + col_offsets[j]),
                    self.o_waddr[j].eq(Mux(ok, flat, 0)),
                    self.o_we[j].eq(ok),
                    # Row folds meet here, as in the model's ofmap SRAM: the first writes, later ones add.
                    self.o_wdata[j].eq(Mux(first_row, bottom.sum, self.o_rdata[j] + bottom.sum)),
                    self.ofmap_lane[j].eq(Mux(ok, flat, _BUBBLE)),
                ]
            return m

        # ---- output family (os) ------------------------------------------------------------------------------
        # A[r0+i, t] at (r0+i)*K + t with tag (r0+i)*N; B[t, c0+j] at t*N + c0 + j with tag c0 + j.
        a_tags = lane_offsets("a_tag", N, R)
        a_edges = streamed_lanes("a", R, feed_on, rem_r, r0k + cyc, K, lambda l: r0n + a_tags[l],
                                 self.a_raddr, self.a_rdata)
        b_edges = streamed_lanes("b", C, feed_on, rem_c, t_n + c0, 1, lambda l: c0 + l,
                                 self.b_raddr, self.b_rdata)
        for i, (val, mon, tag) in enumerate(a_edges):
            m.d.comb += [pes[i][0].a_in.eq(val), pes[i][0].a_tag_in.eq(tag), self.ifmap_lane[i].eq(mon)]
        for j, (val, mon, tag) in enumerate(b_edges):
            m.d.comb += [pes[0][j].b_in.eq(val), pes[0][j].b_tag_in.eq(tag), self.filter_lane[j].eq(mon)]

        for j in range(C):
            drain = Signal(name=f"drain{j}")
            m.d.comb += drain.eq(busy & (cyc >= drain_at + j))
            for i in range(R):
                pe = pes[i][j]
                m.d.comb += pe.drain.eq(drain)
                if i > 0:
                    above = pes[i - 1][j]
                    m.d.comb += [
                        pe.b_in.eq(above.b_out), pe.b_tag_in.eq(above.b_tag_out),
                        pe.acc_in.eq(above.acc_out), pe.acc_tag_in.eq(above.acc_tag_out),
                    ]
                else:
                    m.d.comb += [pe.acc_in.eq(0), pe.acc_tag_in.eq(_BUBBLE)]
                if j > 0:
                    left = pes[i][j - 1]
                    m.d.comb += [pe.a_in.eq(left.a_out), pe.a_tag_in.eq(left.a_tag_out)]
            drain_output(m, self, pes[R - 1][j], drain, j)
        return m


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
        for name, depth in (("A", max_m * max_k), ("B", max_k * max_n), ("O", max_m * max_n)):
            if depth > MAX_MEMORY_DEPTH:
                raise ValueError(f"memory {name} would hold {depth} words, more than {MAX_MEMORY_DEPTH}; "
                                 "lower max_m, max_n or max_k")
        self.arch = arch
        self.geometry = g
        self.addr_width = g.index_width
        self.tag_width = g.tag_width
        addr = unsigned(self.addr_width)
        members = {
            "start": In(1),
            "m": In(SIZE_WIDTH), "n": In(SIZE_WIDTH), "k": In(SIZE_WIDTH),
            "busy": Out(1),
            "done": Out(1),
            "a_we": In(1), "a_addr": In(addr), "a_wdata": In(OPERAND),
            "b_we": In(1), "b_addr": In(addr), "b_wdata": In(OPERAND),
            "o_addr": In(addr), "o_rdata": Out(PSUM),
        }
        members.update(monitor_members(g))
        super().__init__(members)

    def elaborate(self, platform: object) -> Module:
        """Describe the hardware (called by Amaranth, not by users)."""
        m = Module()
        g = self.geometry
        core = SystolicCore(self.arch, max_m=g.max_m, max_n=g.max_n, max_k=g.max_k)
        m.submodules.core = core
        connect_core(m, self, core)

        for name, shape, depth, we, waddr, wdata, raddr, rdata, lanes in (
            ("mem_a", OPERAND, g.max_m * g.max_k, self.a_we, self.a_addr, self.a_wdata, core.a_raddr,
             core.a_rdata, g.ifmap_lanes),
            ("mem_b", OPERAND, g.max_k * g.max_n, self.b_we, self.b_addr, self.b_wdata, core.b_raddr,
             core.b_rdata, g.filter_lanes),
        ):
            mem = m.submodules[name] = Memory(shape=shape, depth=depth, init=[])
            load = mem.write_port()
            m.d.comb += [load.en.eq(we & ~core.busy), load.addr.eq(waddr), load.data.eq(wdata)]
            for lane in range(lanes):
                port = mem.read_port(domain="comb")
                m.d.comb += [port.addr.eq(raddr[lane]), rdata[lane].eq(port.data)]

        result_memory(m, self, core, g)
        return m


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


def drain_output(m: Module, core: wiring.Component, bottom: wiring.Component, drain: Value, j: int) -> None:
    """Output-stationary bottom edge of column ``j``: while it drains, a tagged accumulator is written to ``O`` at
    its tag (the flat output index) and shown on the ofmap monitor."""
    ok = Signal(name=f"out{j}_ok")
    m.d.comb += [
        ok.eq(drain & (bottom.acc_tag_out >= 0)),
        core.o_waddr[j].eq(Mux(ok, bottom.acc_tag_out, 0)),
        core.o_we[j].eq(ok),
        core.o_wdata[j].eq(bottom.acc_out),
        core.ofmap_lane[j].eq(Mux(ok, bottom.acc_tag_out, _BUBBLE)),
    ]
