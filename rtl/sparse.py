# amaranth: UnusedElaboratable=no
"""SAT's N:M sparse systolic GEMM engine in Amaranth 0.5: ``O = A @ B`` with ``B`` N:M sparse along ``K``.

The hardware follows :mod:`hwsim.sim.sparse` cycle for cycle and bit for bit, as :mod:`rtl.systolic` follows
:mod:`hwsim.sim.stepped`: the sparse GEMM is the dense one on ``(M, N, K')`` with ``K' = compressed_rows(K,
n_keep, m_group)``, so folds, fold length ``L = 2R + C + T - 2``, filter and ofmap schedules are the dense
engine's with ``K'`` for ``K``; only the activation side differs. Read :mod:`rtl.systolic` first: this module
keeps its structure (memory-less core + verification top, unskewed reads delayed through per-lane skew registers
that carry value, monitor index and tag together, a controller of counters and running sums, the same
start/busy/done contract and the same re-encoded array tags) and only documents what is new.

Sparsity is written ``n_keep:m_group`` as in the model. ``m_group`` must be a power of two (1 to 256): the index
is ``log2(m_group)`` bits and ``K'`` is computed from the run-time ``k`` with a shift and a mask.

Compressed ``B``
----------------
``B`` is stored and loaded in the model's compressed layout: word ``r*N + n`` of the weight memory holds
``(values[r, n], indices[r, n])`` for compressed row ``r`` (``0 <= r < K'``), the kept weight's value (int8) and
its index within group ``g = r // n_keep`` (``log2(m_group)`` bits). It names the dense weight ``B[g*m_group +
index, n]``; a slot whose position is ``>= K`` is *empty* (value 0, still loaded, monitor -1).

**Dense mode** (``n_keep == m_group``) is the dense engine exactly, as in the model: windows of one activation,
groups of one row, no multiplexer, and the stored index is not used (the model requires it to be ``r %
m_group``: every weight in place).

Windows
-------
A *window* is the ``m_group`` activations ``A[m, g*m_group : (g+1)*m_group]`` of one group (``window = 1`` in
dense mode). Each ``A`` lane reads its window's elements in one cycle, one asynchronous read port per element
(``R * window`` ports on ``A``), masking elements at ``k >= K`` to 0 (they are not read: the model counts only
in-range elements), and the window travels -- through the lane's skew registers and then from PE to PE -- as one
``window x 8``-bit word with its tag. The ifmap monitor of a lane is the flat index of the window's first element,
``m*K + g*m_group``.

The group of a compressed row is tracked without a divider: a *group walk* is the triple ``(s, g*m_group,
g*m_group*N)`` for compressed row ``r = g*n_keep + s``; moving it by a constant ``d`` rows is a compare and three
additions of elaboration-time multiples (of 1, ``m_group`` and the latched ``N``).

* **ws** (``Sr = K'``, ``Sc = N``, ``T = M``): a fold-origin walk for ``r0`` advances by ``R`` per row fold; an
  adder chain derives tile row ``i``'s walk (row ``r0 + i``) from it. Array row ``i`` reads ``A[t, g_i*m_group +
  w]`` at ``t*K + g_i*m_group + w``. During the load cycles the filter lanes read compressed row ``r0 + R-1-cyc``
  (address ``r*N + c0 + j``, the dense engine's with ``K'`` rows); the walk of that tile row, chosen by ``cyc``,
  gives the monitor ``(g*m_group + index)*N + c0 + j``.
* **os** (``Sr = M``, ``Sc = N``, ``T = K'``): one walk for the step ``t`` advances every cycle. Row ``i`` reads
  the window of group ``g(t)`` of ``A[r0+i, :]``; column ``j`` reads compressed row ``t`` (value + index) and
  carries them down, skewed like the window.

``index * N`` in a filter monitor is a shift-and-add over the index bits (no run-time multiplier outside the PEs).

Tags inside the array are :mod:`rtl.systolic`'s (ws: ``t*N``; os: ``(r0+i)*N`` and ``c0+j``), so the output side
is the dense engine's. An empty slot carries the lane's tag like any other (it is loaded, and its MAC adds 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from amaranth.hdl import Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from hwsim.arch import SystolicArray
from hwsim.sim.sparse import compressed_rows
from hwsim.types import Dataflow
from rtl.generate import write_design
from rtl.pe import OPERAND, PSUM
from rtl.sparse_pe import MAX_WINDOW, SparseProcessingElement, select_width, sparse_flow, window_layout
from rtl.systolic import (
    MAX_MEMORY_DEPTH, SIZE_WIDTH, SystolicGeometry, connect_core, drain_output, monitor_members, result_memory,
)

__all__ = ["SparseGeometry", "SparseSystolicCore", "SparseSystolicGemm", "generate_sparse", "sparse_design_stem"]

_BUBBLE = -1


@dataclass(frozen=True)
class SparseGeometry(SystolicGeometry):
    """:class:`~rtl.systolic.SystolicGeometry` plus the sparsity, and the sizes that follow from it.

    The inherited widths already fit: a compressed ``B`` address ``r*N + n`` and a dense filter index ``k*N +
    n`` are both below ``max_k * max_n``, and ``T`` (``M`` for ws, ``K' <= K`` for os) is at most the dense one.

    Attributes
    ----------
    n_keep, m_group
        The sparsity ``n_keep:m_group``.
    """

    n_keep: int
    m_group: int

    @classmethod
    def from_arch(cls, arch: SystolicArray, *, n_keep: int, m_group: int, max_m: int, max_n: int,
                  max_k: int) -> "SparseGeometry":
        """Check the arguments and build the geometry.

        Raises
        ------
        ValueError
            One line: as :meth:`SystolicGeometry.from_arch`, a dataflow other than ``ws``/``os``, ``m_group`` not
            a power of two from 1 to 256, or ``n_keep`` not a whole number from 1 to ``m_group``.
        """
        if isinstance(arch, SystolicArray):
            sparse_flow(arch.dataflow)
        base = SystolicGeometry.from_arch(arch, max_m=max_m, max_n=max_n, max_k=max_k)
        if (isinstance(m_group, bool) or not isinstance(m_group, int) or not 1 <= m_group <= MAX_WINDOW
                or m_group & (m_group - 1)):
            raise ValueError(f"m_group must be a power of two from 1 to {MAX_WINDOW} (the index is log2(m_group) "
                             f"bits), got {m_group!r}")
        if isinstance(n_keep, bool) or not isinstance(n_keep, int) or not 1 <= n_keep <= m_group:
            raise ValueError(f"n_keep must be a whole number from 1 to m_group = {m_group}, got {n_keep!r}")
        return cls(base.rows, base.cols, base.dataflow, max_m, max_n, max_k, n_keep, m_group)

    @property
    def dense(self) -> bool:
        """``n_keep == m_group``: every weight kept in place, the engine is the dense one."""
        return self.n_keep == self.m_group

    @property
    def window(self) -> int:
        """Activations per window: ``m_group``, or 1 in dense mode."""
        return 1 if self.dense else self.m_group

    @property
    def group(self) -> int:
        """Compressed rows per group: ``n_keep``, or 1 in dense mode (a group of one row per ``k``)."""
        return 1 if self.dense else self.n_keep

    @property
    def select_width(self) -> int:
        """Bits of the PEs' multiplexer select: ``log2(window)``, 0 in dense mode."""
        return select_width(self.window)

    @property
    def index_port_width(self) -> int:
        """Width of the ``w_index`` load port: ``log2(m_group)``, at least 1 (a port cannot be 0 bits wide)."""
        return max(1, select_width(self.m_group))

    @property
    def max_kc(self) -> int:
        """``K'`` of the largest ``K``: rows of the compressed weight memory."""
        return compressed_rows(self.max_k, self.n_keep, self.m_group)

    @property
    def sr_max(self) -> int:
        """Largest fold-space row count ``Sr``: ``K'`` (ws) or ``M`` (os)."""
        return self.max_kc if self.dataflow is Dataflow.WEIGHT_STATIONARY else self.max_m


class _Walk:
    """A group walk ``(s, g*m_group, g*m_group*N)`` for compressed row ``r = g*n_keep + s`` (module docstring).

    Holds three signals; :meth:`step` gives the values ``d`` rows further on as expressions (no registers), so
    the same code builds registers (assign them with ``sync``) and adder chains (assign them with ``comb``).
    """

    def __init__(self, name: str, geometry: SparseGeometry) -> None:
        iw = geometry.index_width
        self.group, self.window = geometry.group, geometry.window
        self.s = Signal(range(max(2, self.group)), name=f"{name}_s")
        self.gm = Signal(iw, name=f"{name}_gM")      # g * m_group: the dense k of the group's first weight
        self.gmn = Signal(iw, name=f"{name}_gMN")    # g * m_group * N: that weight's row in the dense B

    def signals(self) -> tuple[Signal, Signal, Signal]:
        return self.s, self.gm, self.gmn

    def step(self, d: int, n) -> tuple:
        """``(s, gM, gMN)`` of the row ``d`` (a constant >= 0) further on; ``n`` is the latched ``N``."""
        whole, part = divmod(d, self.group)
        # s < group and part < group, so at most one more group is crossed.
        wrap = self.s + part >= self.group
        return (
            Mux(wrap, self.s + part - self.group, self.s + part),
            self.gm + Mux(wrap, (whole + 1) * self.window, whole * self.window),
            self.gmn + Mux(wrap, n * ((whole + 1) * self.window), n * (whole * self.window)),
        )

    def zero(self) -> list:
        return [sig.eq(0) for sig in self.signals()]

    def assign(self, values: tuple) -> list:
        return [sig.eq(v) for sig, v in zip(self.signals(), values)]


class SparseSystolicCore(wiring.Component):
    """The memory-less N:M sparse engine: controller, edge skew registers and the ``R x C`` sparse PE array.

    The synthesizable core of :class:`SparseSystolicGemm`, like :class:`rtl.systolic.SystolicCore` is of
    :class:`~rtl.systolic.SystolicGemm`; addressing, windows and tags are in the module docstring.

    Parameters
    ----------
    arch
        The :class:`~hwsim.arch.SystolicArray` (rows, cols; dataflow ws or os; precision int8).
    n_keep, m_group
        The sparsity, ``1 <= n_keep <= m_group``, ``m_group`` a power of two up to 256.
    max_m, max_n, max_k
        Largest run-time sizes (``K`` dense); they set the widths.

    Attributes
    ----------
    arch : SystolicArray
        The array description it was built from.
    geometry : SparseGeometry
        Sizes, sparsity and widths.
    start, m, n, k, busy, done, ifmap_lane, filter_lane, ofmap_lane
        As in :class:`SparseSystolicGemm`.
    a_raddr : out, ``ArrayLayout(ArrayLayout(unsigned(index_width), window), R)``
        Lane ``i`` element ``w``: the address of ``A`` the window's element ``w`` is read from, 0 when not read.
    a_rdata : in, ``ArrayLayout(window_layout(window), R)``
        The words at those addresses, in the same cycle.
    b_raddr : out, ``ArrayLayout(unsigned(index_width), C)``
        Compressed weight address ``r*N + n`` per filter lane, 0 when the lane reads nothing.
    b_rvalue : in, ``ArrayLayout(signed(8), C)``; b_rindex : in, ``ArrayLayout(unsigned(log2 m_group), C)``
        The slot at that address, same cycle (``b_rindex`` only in sparse mode).
    o_waddr, o_we, o_wdata, o_rdata
        As in :class:`rtl.systolic.SystolicCore` (``o_rdata`` for ws only).

    Raises
    ------
    ValueError
        As :meth:`SparseGeometry.from_arch`.
    """

    def __init__(self, arch: SystolicArray, *, n_keep: int, m_group: int, max_m: int, max_n: int,
                 max_k: int) -> None:
        g = SparseGeometry.from_arch(arch, n_keep=n_keep, m_group=m_group, max_m=max_m, max_n=max_n, max_k=max_k)
        self.arch = arch
        self.geometry = g
        idx = unsigned(g.index_width)
        members = {
            "start": In(1),
            "m": In(SIZE_WIDTH), "n": In(SIZE_WIDTH), "k": In(SIZE_WIDTH),
            "busy": Out(1),
            "done": Out(1),
            "a_raddr": Out(data.ArrayLayout(data.ArrayLayout(idx, g.window), g.rows)),
            "a_rdata": In(data.ArrayLayout(window_layout(g.window), g.rows)),
            "b_raddr": Out(data.ArrayLayout(idx, g.cols)),
            "b_rvalue": In(data.ArrayLayout(OPERAND, g.cols)),
            "o_waddr": Out(data.ArrayLayout(idx, g.cols)),
            "o_we": Out(data.ArrayLayout(unsigned(1), g.cols)),
            "o_wdata": Out(data.ArrayLayout(PSUM, g.cols)),
        }
        if g.select_width:
            members["b_rindex"] = In(data.ArrayLayout(unsigned(g.select_width), g.cols))
        if g.dataflow is Dataflow.WEIGHT_STATIONARY:
            members["o_rdata"] = In(data.ArrayLayout(PSUM, g.cols))
        members.update(monitor_members(g))
        super().__init__(members)

    # ------------------------------------------------------------------------------------------------------------

    def elaborate(self, platform: object) -> Module:
        """Describe the hardware (called by Amaranth, not by users)."""
        m = Module()
        g = self.geometry
        R, C = g.rows, g.cols
        iw, W = g.index_width, g.tag_width
        ws = g.dataflow is Dataflow.WEIGHT_STATIONARY
        window, group, sw = g.window, g.group, g.select_width

        # ---- latched sizes, K' and the fold/cycle state --------------------------------------------------------
        size_in = {"m": self.m, "n": self.n, "k": self.k}
        size = {name: Signal(range(g.max_size(name) + 1), name=f"size_{name}") for name in "mnk"}
        kc = Signal(range(g.max_kc + 1))
        # K' = q*n_keep + min(n_keep, p) for K = q*m_group + p: a shift, a mask, a constant multiply, a compare.
        kc_in = Signal(range(g.max_kc + 1))
        shift = select_width(window)
        q, p = self.k[shift:], self.k[:shift]
        m.d.comb += kc_in.eq(q * group + (Mux(p > group, group, p) if shift else 0))
        N, K = size["n"], size["k"]

        cyc = Signal(g.cycle_width)                 # cycle within the fold, 0..L-1
        last = Signal(g.cycle_width)                # L - 1, latched at start
        rem_r = Signal(range(g.sr_max + 1))         # Sr - r0
        rem_c = Signal(range(g.max_n + 1))          # Sc - c0 (Sc = N for both dataflows)
        first_row = Signal()                        # r0 == 0: ws outputs write instead of accumulate
        busy = self.busy
        launch = ~busy & self.start
        fold_end = busy & (cyc == last)
        row_more = rem_r > R

        # Running products modulo 2**index_width, as in rtl.systolic: fold registers hold r0 * stride (row axis)
        # or c0 * stride (column axis); cycle registers (cyc - begin) * stride from cycle `begin` of each fold on.
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

        def chain(name: str, first, stride: object, count: int) -> list:
            """``first + l * stride`` for ``l < count``: an adder chain (no multiplier)."""
            out = [first]
            for lane in range(1, count):
                sig = Signal(iw, name=f"{name}{lane}")
                m.d.comb += sig.eq(out[-1] + stride)
                out.append(sig)
            return out

        def times_n(select) -> object:
            """``select * N`` as a shift-and-add over the select bits (the select is log2(m_group) bits)."""
            total: object = Const(0, iw)
            for bit in range(sw):
                total = total + Mux(select[bit], N << bit, 0)
            return total

        if ws:
            stream_end = Signal(g.cycle_width)      # R + T: the window lanes read while R <= cyc < R + T
            load = busy & (cyc < R)
            top_row_ok = load & (cyc + rem_r >= R)  # tile row R-1-cyc lies inside the fold space
            stream_on = busy & (cyc >= R) & (cyc < stream_end)
            r0n = fold_reg("r0N", "row", N)         # compressed address of row r0
            c0 = fold_reg("c0", "col", 1)
            cyc_n = cycle_reg("cycN", 0, N)
            t_k = cycle_reg("tK", R, K)
            t_n = cycle_reg("tN", R, N)
            origin = _Walk("r0", g)                 # the walk of compressed row r0, advanced by R per row fold
        else:
            drain_at = Signal(g.cycle_width)        # K' - 1 + R: column j drains from cycle drain_at + j on
            feed_on = busy & (cyc < kc)
            r0k = fold_reg("r0K", "row", K)
            r0n = fold_reg("r0N", "row", N)
            c0 = fold_reg("c0", "col", 1)
            t_n = cycle_reg("tN", 0, N)             # compressed address of step t's row
            step = _Walk("t", g)                    # the walk of compressed row t = cyc, advanced every cycle

        # ---- controller ----------------------------------------------------------------------------------------
        m.d.sync += self.done.eq(0)
        with m.If(launch):
            m.d.sync += [size[name].eq(size_in[name]) for name in "mnk"]
            m.d.sync += [
                kc.eq(kc_in),
                busy.eq(1),
                cyc.eq(0),
                last.eq((self.m if ws else kc_in) + (2 * R + C - 3)),
                rem_r.eq(kc_in if ws else self.m),
                rem_c.eq(self.n),
                first_row.eq(1),
            ]
            m.d.sync += [reg.eq(0) for reg, _, _ in (*fold_regs, *cycle_regs)]
            if ws:
                m.d.sync += [stream_end.eq(self.m + R), *origin.zero()]
            else:
                m.d.sync += [drain_at.eq(kc_in + (R - 1)), *step.zero()]
        with m.Elif(fold_end):
            m.d.sync += cyc.eq(0)
            m.d.sync += [reg.eq(0) for reg, _, _ in cycle_regs]
            if not ws:
                m.d.sync += step.zero()
            with m.If(row_more):
                m.d.sync += [rem_r.eq(rem_r - R), first_row.eq(0)]
                m.d.sync += [reg.eq(reg + stride * R) for reg, axis, stride in fold_regs if axis == "row"]
                if ws:
                    m.d.sync += origin.assign(origin.step(R, N))
            with m.Else():
                m.d.sync += [rem_r.eq(kc if ws else size["m"]), rem_c.eq(rem_c - C), first_row.eq(1)]
                m.d.sync += [reg.eq(0) for reg, axis, _ in fold_regs if axis == "row"]
                m.d.sync += [reg.eq(reg + stride * C) for reg, axis, stride in fold_regs if axis == "col"]
                if ws:
                    m.d.sync += origin.zero()
                with m.If(rem_c <= C):
                    m.d.sync += [busy.eq(0), self.done.eq(1)]
        with m.Elif(busy):
            m.d.sync += cyc.eq(cyc + 1)
            for reg, begin, stride in cycle_regs:
                if begin == 0:
                    m.d.sync += reg.eq(reg + stride)
                else:
                    with m.If(cyc >= begin):
                        m.d.sync += reg.eq(reg + stride)
            if not ws:
                m.d.sync += step.assign(step.step(1, N))

        # ---- edge helpers ----------------------------------------------------------------------------------------

        def skewed(name: str, lane: int, signals: list) -> list:
            """Delay a lane's signals by ``lane`` registers (it reads ``lane`` cycles ahead); tags reset to -1."""
            for stage in range(lane):
                delayed = []
                for label, sig, init in signals:
                    reg = Signal(sig.shape(), init=init, name=f"{name}_skew{stage}_{label}")
                    m.d.sync += reg.eq(sig)
                    delayed.append((label, reg, init))
                signals = delayed
            return [sig for _, sig, _ in signals]

        def window_lane(name: str, lane: int, on, base, room, tag):
            """Read one window (element ``w`` at ``base + w`` if ``w < room``, else 0 and no read), skew it."""
            win = Signal(window_layout(window), name=f"{name}_win")
            for w in range(window):
                ok = Signal(name=f"{name}_ok{w}")
                m.d.comb += [
                    ok.eq(on & (room > w)),
                    self.a_raddr[lane][w].eq(Mux(ok, base + w, 0)),
                    win[w].eq(Mux(ok, self.a_rdata[lane][w], 0)),
                ]
            mon = Signal(signed(W), name=f"{name}_mon")
            tg = Signal(signed(W), name=f"{name}_tag")
            m.d.comb += [mon.eq(Mux(on, base, _BUBBLE)), tg.eq(Mux(on, tag, _BUBBLE))]
            return skewed(name, lane, [("win", win, None), ("mon", mon, _BUBBLE), ("tag", tg, _BUBBLE)])

        def slot_lane(name: str, lane: int, ok, addr, gm, gmn):
            """Read one compressed slot; return its value, select and filter monitor (bubbles as 0 / 0 / -1)."""
            val = Signal(OPERAND, name=f"{name}_val")
            sel = Signal(sw, name=f"{name}_sel")
            mon = Signal(signed(W), name=f"{name}_mon")
            named = Signal(name=f"{name}_named")  # a real weight of B, not an empty slot
            m.d.comb += [self.b_raddr[lane].eq(Mux(ok, addr, 0)), val.eq(Mux(ok, self.b_rvalue[lane], 0))]
            if sw:
                m.d.comb += sel.eq(Mux(ok, self.b_rindex[lane], 0))
            m.d.comb += [
                named.eq(ok & (gm + sel < K)),
                mon.eq(Mux(named, gmn + times_n(sel) + c0 + lane, _BUBBLE)),
            ]
            return val, sel, mon

        pes = [[SparseProcessingElement(g.dataflow, window=window, tag_width=W) for _ in range(C)]
               for _ in range(R)]
        for i in range(R):
            for j in range(C):
                m.submodules[f"pe_{i}_{j}"] = pes[i][j]

        # ---- weight stationary -----------------------------------------------------------------------------------
        if ws:
            # Tile row i's walk (compressed row r0 + i): an incrementer chain from the fold origin.
            rows = [origin]
            for i in range(1, R):
                walk = _Walk(f"row{i}", g)
                m.d.comb += walk.assign(rows[-1].step(1, N))
                rows.append(walk)

            # Load cycles: the filter lanes read tile row R-1-cyc, bottom row first.
            load_gm = Signal(iw)
            load_gmn = Signal(iw)
            with m.Switch(cyc):
                for c in range(R):
                    with m.Case(c):
                        m.d.comb += [load_gm.eq(rows[R - 1 - c].gm), load_gmn.eq(rows[R - 1 - c].gmn)]
            top_addr = Signal(iw)
            m.d.comb += top_addr.eq(r0n + N * (R - 1) - cyc_n + c0)
            for j in range(C):
                ok = Signal(name=f"top{j}_ok")
                m.d.comb += ok.eq(top_row_ok & (rem_c > j))
                val, sel, mon = slot_lane(f"top{j}", j, ok, top_addr + j, load_gm, load_gmn)
                pe = pes[0][j]
                m.d.comb += [pe.w_in.eq(val), pe.w_valid_in.eq(ok), self.filter_lane[j].eq(mon)]
                if sw:
                    m.d.comb += pe.w_index_in.eq(sel)

            # Streamed windows: array row i takes A[t, g_i*m_group : +window] at cycle R + t + i, tag t*N.
            for i in range(R):
                on = Signal(name=f"x{i}_on")
                base = Signal(iw, name=f"x{i}_base")
                room = Signal(signed(iw + 2), name=f"x{i}_room")  # K - g_i*m_group: elements left in the row
                m.d.comb += [on.eq(stream_on & (rem_r > i)), base.eq(t_k + rows[i].gm), room.eq(K - rows[i].gm)]
                win, mon, tag = window_lane(f"x{i}", i, on, base, room, t_n)
                m.d.comb += [pes[i][0].x_in.eq(win), pes[i][0].x_tag_in.eq(tag), self.ifmap_lane[i].eq(mon)]

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
                        if sw:
                            m.d.comb += pe.w_index_in.eq(above.w_index_out)
                    else:
                        m.d.comb += [pe.p_in.eq(0), pe.p_tag_in.eq(_BUBBLE)]
                    if j > 0:
                        left = pes[i][j - 1]
                        m.d.comb += [pe.x_in.eq(left.x_out), pe.x_tag_in.eq(left.x_tag_out)]

            for j in range(C):
                bottom = pes[R - 1][j]
                ok = Signal(name=f"out{j}_ok")
                flat = Signal(iw, name=f"out{j}_idx")
                m.d.comb += [
                    ok.eq(busy & (bottom.sum_tag >= 0)),
                    flat.eq(bottom.sum_tag + c0 + j),
                    self.o_waddr[j].eq(Mux(ok, flat, 0)),
                    self.o_we[j].eq(ok),
                    # Row folds meet here, as in the model's ofmap SRAM: the first writes, later ones add.
                    self.o_wdata[j].eq(Mux(first_row, bottom.sum, self.o_rdata[j] + bottom.sum)),
                    self.ofmap_lane[j].eq(Mux(ok, flat, _BUBBLE)),
                ]
            return m

        # ---- output stationary -----------------------------------------------------------------------------------
        # Row i: the window of group g(t) of A[r0+i, :] at (r0+i)*K + g(t)*m_group, tag (r0+i)*N.
        room = Signal(signed(iw + 2))
        m.d.comb += room.eq(K - step.gm)
        row_k = chain("a_rowK", r0k, K, R)
        row_n = chain("a_tag", r0n, N, R)
        for i in range(R):
            on = Signal(name=f"a{i}_on")
            base = Signal(iw, name=f"a{i}_base")
            m.d.comb += [on.eq(feed_on & (rem_r > i)), base.eq(row_k[i] + step.gm)]
            win, mon, tag = window_lane(f"a{i}", i, on, base, room, row_n[i])
            m.d.comb += [pes[i][0].a_in.eq(win), pes[i][0].a_tag_in.eq(tag), self.ifmap_lane[i].eq(mon)]
        # Column j: compressed slot (t, c0+j) at t*N + c0 + j, tag c0 + j, skewed like the windows.
        for j in range(C):
            ok = Signal(name=f"b{j}_ok")
            m.d.comb += ok.eq(feed_on & (rem_c > j))
            val, sel, mon = slot_lane(f"b{j}", j, ok, t_n + c0 + j, step.gm, step.gmn)
            tag = Signal(signed(W), name=f"b{j}_tag")
            m.d.comb += tag.eq(Mux(ok, c0 + j, _BUBBLE))
            val, sel, mon, tag = skewed(f"b{j}", j, [("val", val, 0), ("sel", sel, 0), ("mon", mon, _BUBBLE),
                                                      ("tag", tag, _BUBBLE)])
            pe = pes[0][j]
            m.d.comb += [pe.b_in.eq(val), pe.b_tag_in.eq(tag), self.filter_lane[j].eq(mon)]
            if sw:
                m.d.comb += pe.b_index_in.eq(sel)

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
                    if sw:
                        m.d.comb += pe.b_index_in.eq(above.b_index_out)
                else:
                    m.d.comb += [pe.acc_in.eq(0), pe.acc_tag_in.eq(_BUBBLE)]
                if j > 0:
                    left = pes[i][j - 1]
                    m.d.comb += [pe.a_in.eq(left.a_out), pe.a_tag_in.eq(left.a_tag_out)]
            drain_output(m, self, pes[R - 1][j], drain, j)
        return m


class SparseSystolicGemm(wiring.Component):
    """A whole N:M sparse GEMM engine with its operand memories: the verification top.

    ``O = A @ decompressed(B)`` for run-time sizes ``m x k`` by ``k x n``, ``B`` loaded compressed, on the ``R x
    C`` array of ``arch``, in :func:`hwsim.sim.sparse.simulate_sparse_gemm`'s fold order and timing (module
    docstring; :class:`SparseSystolicCore` is the engine this wraps).

    Memories (all ``init`` 0): ``A`` (``max_m * max_k`` int8, ``R * window`` asynchronous read ports), the
    compressed weights ``W`` (``compressed_rows(max_k) * max_n`` words of value + index, ``C`` read ports), ``O``
    (``max_m * max_n`` int32), row-major with the *run-time* sizes. As in :class:`~rtl.systolic.SystolicGemm`,
    far more ports than an SRAM macro has: this design verifies the schedule, it is not a memory proposal.

    Parameters
    ----------
    arch
        :class:`~hwsim.arch.SystolicArray`: rows, cols, dataflow ``ws`` or ``os``; precision must be int8.
    n_keep, m_group
        The sparsity ``n_keep:m_group`` (``m_group`` a power of two up to 256; equal is dense mode).
    max_m, max_n, max_k
        Largest run-time sizes (``K`` dense; 1 to ``2**16 - 1``, each memory at most
        :data:`~rtl.systolic.MAX_MEMORY_DEPTH` words).

    Attributes
    ----------
    arch : SystolicArray
        The array description it was built from.
    geometry : SparseGeometry
        Sizes, sparsity and widths.
    addr_width : int
        Width of ``a_addr``, ``w_addr`` and ``o_addr``.
    tag_width : int
        Width ``W`` of the signed monitor entries.

    Notes
    -----
    Ports (``sync`` domain, plus ``clk``/``rst`` when converted):

    ``start`` in(1); ``m``, ``n``, ``k`` in(16); ``busy``, ``done`` out(1)
        As :class:`~rtl.systolic.SystolicGemm`: ``k`` is the dense ``K``; ``busy`` is high for exactly
        ``simulate_sparse_gemm(...).cycles`` cycles from the cycle after the start edge, ``done`` for the one
        cycle after.
    ``a_we`` in(1), ``a_addr`` in(w), ``a_wdata`` in(signed(8))
        Write ``A[m, k]`` at ``m*K + k``; ignored while busy.
    ``w_we`` in(1), ``w_addr`` in(w), ``w_value`` in(signed(8)), ``w_index`` in(log2 m_group, at least 1)
        Write compressed slot ``(values[r, n], indices[r, n])`` at ``r*N + n``, ``r < K' = compressed_rows(K,
        n_keep, m_group)``; ignored while busy. In dense mode the index is stored but not used.
    ``o_addr`` in(w), ``o_rdata`` out(signed(32))
        Asynchronous read of ``O[m, n]`` at ``m*N + n``; complete when ``done`` rises.
    ``ifmap_lane`` out(ArrayLayout(signed(W), R)), ``filter_lane`` (C lanes), ``ofmap_lane`` (C lanes)
        Per busy cycle ``c``, the sparse stepped trace rows ``trace.ifmap[c]`` (window starts), ``trace.filter[c]``
        (dense indices of kept weights, -1 for empty slots) and ``trace.ofmap[c]``; all -1 while not busy.

    Raises
    ------
    ValueError
        One line: as :meth:`SparseGeometry.from_arch`, or a memory deeper than
        :data:`~rtl.systolic.MAX_MEMORY_DEPTH`.
    """

    def __init__(self, arch: SystolicArray, *, n_keep: int, m_group: int, max_m: int, max_n: int,
                 max_k: int) -> None:
        g = SparseGeometry.from_arch(arch, n_keep=n_keep, m_group=m_group, max_m=max_m, max_n=max_n, max_k=max_k)
        for name, depth in (("A", max_m * max_k), ("W", g.max_kc * max_n), ("O", max_m * max_n)):
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
            "w_we": In(1), "w_addr": In(addr), "w_value": In(OPERAND), "w_index": In(g.index_port_width),
            "o_addr": In(addr), "o_rdata": Out(PSUM),
        }
        members.update(monitor_members(g))
        super().__init__(members)

    def elaborate(self, platform: object) -> Module:
        """Describe the hardware (called by Amaranth, not by users)."""
        m = Module()
        g = self.geometry
        core = SparseSystolicCore(self.arch, n_keep=g.n_keep, m_group=g.m_group, max_m=g.max_m, max_n=g.max_n,
                                  max_k=g.max_k)
        m.submodules.core = core
        connect_core(m, self, core)

        mem_a = m.submodules.mem_a = Memory(shape=OPERAND, depth=g.max_m * g.max_k, init=[])
        load_a = mem_a.write_port()
        m.d.comb += [load_a.en.eq(self.a_we & ~core.busy), load_a.addr.eq(self.a_addr),
                     load_a.data.eq(self.a_wdata)]
        for lane in range(g.rows):
            for w in range(g.window):
                port = mem_a.read_port(domain="comb")
                m.d.comb += [port.addr.eq(core.a_raddr[lane][w]), core.a_rdata[lane][w].eq(port.data)]

        # One word per compressed slot: the value and its index side by side, as SAT stores them.
        slot = data.StructLayout({"value": OPERAND, "index": unsigned(g.index_port_width)})
        mem_w = m.submodules.mem_w = Memory(shape=slot, depth=g.max_kc * g.max_n, init=[])
        load_w = mem_w.write_port()
        m.d.comb += [load_w.en.eq(self.w_we & ~core.busy), load_w.addr.eq(self.w_addr),
                     load_w.data.value.eq(self.w_value), load_w.data.index.eq(self.w_index)]
        for lane in range(g.cols):
            port = mem_w.read_port(domain="comb")
            m.d.comb += [port.addr.eq(core.b_raddr[lane]), core.b_rvalue[lane].eq(port.data.value)]
            if g.select_width:
                m.d.comb += core.b_rindex[lane].eq(port.data.index)

        result_memory(m, self, core, g)
        return m


def sparse_design_stem(rows: int, cols: int, dataflow: str, n_keep: int, m_group: int) -> str:
    """File stem and module name of a sparse engine: ``sparse_<R>x<C>_<df>_<n>of<m>``."""
    return f"sparse_{rows}x{cols}_{dataflow}_{n_keep}of{m_group}"


def generate_sparse(arch: SystolicArray, out_dir: Path | str, *, n_keep: int, m_group: int, max_m: int,
                    max_n: int, max_k: int) -> tuple[Path, Path]:
    """Write the Verilog of :class:`SparseSystolicGemm` for ``arch`` and its JSON sidecar.

    As :func:`rtl.generate.generate`, with the sparsity in the file name and the sidecar (``n_keep``,
    ``m_group`` after ``dataflow``).

    Returns
    -------
    tuple of Path
        ``<out_dir>/<stem>.v`` and ``<out_dir>/<stem>.json``, ``stem`` from :func:`sparse_design_stem`.

    Raises
    ------
    ValueError
        From :class:`SparseSystolicGemm` for an unsupported configuration.
    """
    component = SparseSystolicGemm(arch, n_keep=n_keep, m_group=m_group, max_m=max_m, max_n=max_n, max_k=max_k)
    flow = arch.dataflow.value
    stem = sparse_design_stem(arch.rows, arch.cols, flow, n_keep, m_group)
    meta = {"rows": arch.rows, "cols": arch.cols, "dataflow": flow, "n_keep": n_keep, "m_group": m_group,
            "max_m": max_m, "max_n": max_n, "max_k": max_k}
    return write_design(component, out_dir, stem, meta)
