# amaranth: UnusedElaboratable=no
"""SAT's N:M sparse systolic GEMM engine in Amaranth 0.5: ``O = A @ B`` with ``B`` N:M sparse along ``K``.

The hardware follows :mod:`hwsim.sim.sparse` cycle for cycle and bit for bit, as :mod:`rtl.systolic` follows
:mod:`hwsim.sim.stepped`: the sparse GEMM is the dense one on ``(M, N, K')`` with ``K' = compressed_rows(K,
n_keep, m_group)``, so folds, fold length ``L = 2R + C + T - 2``, filter and ofmap schedules are the dense
engine's with ``K'`` for ``K``; only the activation side differs. So the sparse components *extend* the dense
ones (dense is N:M with a window of one): :class:`SparseSystolicCore` is a :class:`~rtl.systolic.SystolicCore`
that folds ``K'`` and replaces the operand feed (fill, stream, os feed) with window and compressed-slot lanes;
the controller, the skew registers, the PE joins, the output side, the start/busy/done contract and the
re-encoded array tags are inherited. :class:`SparseSystolicGemm` is a :class:`~rtl.systolic.SystolicGemm` with a
compressed weight memory. Read :mod:`rtl.systolic` first; this module only documents what is new.

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
from amaranth.lib import data
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from hwsim.api import compressed_rows
from hwsim.arch import SystolicArray
from rtl.generate import write_design
from rtl.pe import MAX_WINDOW, OPERAND, SparseProcessingElement, select_width, sparse_flow, window_layout
from rtl.systolic import Schedule, SystolicCore, SystolicGemm, SystolicGeometry, load_port, skewed

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

    def fold_max(self, name: str) -> int:
        """As :meth:`SystolicGeometry.fold_max`: the folds are made of ``K'`` rows, not ``K``."""
        return self.max_kc if name == "k" else self.max_size(name)


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


class SparseSystolicCore(SystolicCore):
    """The memory-less N:M sparse engine: :class:`rtl.systolic.SystolicCore` with a sparse operand feed.

    The synthesizable core of :class:`SparseSystolicGemm`, like :class:`rtl.systolic.SystolicCore` is of
    :class:`~rtl.systolic.SystolicGemm`. It inherits the controller (folding ``K'`` instead of ``K``), the array
    joins and the output side, and replaces the fold sizes, the ws edge addressing, the fill and the feeds with
    the window and compressed-slot lanes of the module docstring.

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
        idx = unsigned(g.index_width)
        ports = {
            "a_raddr": Out(data.ArrayLayout(data.ArrayLayout(idx, g.window), g.rows)),
            "a_rdata": In(data.ArrayLayout(window_layout(g.window), g.rows)),
            "b_raddr": Out(data.ArrayLayout(idx, g.cols)),
            "b_rvalue": In(data.ArrayLayout(OPERAND, g.cols)),
        }
        if g.select_width:
            ports["b_rindex"] = In(data.ArrayLayout(unsigned(g.select_width), g.cols))
        self._build(arch, g, ports)

    # ---- controller: K' for K, and the group walks ----------------------------------------------------------------

    def _fold_sizes(self, m: Module, s: Schedule) -> tuple[dict, dict]:
        """The dense sizes with ``K'`` for ``K``."""
        g = self.geometry
        s.kc = Signal(range(g.max_kc + 1), name="kc")
        # K' = q*n_keep + min(n_keep, p) for K = q*m_group + p: a shift, a mask, a constant multiply, a compare.
        kc_in = Signal(range(g.max_kc + 1), name="kc_in")
        shift, group = g.select_width, g.group
        q, p = self.k[shift:], self.k[:shift]
        m.d.comb += kc_in.eq(q * group + (Mux(p > group, group, p) if shift else 0))
        return {**s.size_in, "k": kc_in}, {**s.size, "k": s.kc}

    def _fold_latches(self, s: Schedule) -> list:
        return [s.kc.eq(s.fold_in["k"])]

    def _edge_addressing(self, m: Module, s: Schedule) -> None:
        super()._edge_addressing(m, s)
        if not s.stationary:
            s.step = _Walk("t", self.geometry)    # the walk of compressed row t = cyc, advanced every cycle
            s.cycle_walks.append(s.step)

    def _stationary_addresses(self, m: Module, s: Schedule) -> None:
        """ws: compressed ``B`` rows are the dense engine's with ``K'`` rows; the window lanes need the walk."""
        R = self.geometry.rows
        N, K = s.size["n"], s.size["k"]
        s.r0n = s.fold_reg("r0N", "row", N)         # compressed address of row r0
        s.c0 = s.fold_reg("c0", "col", 1)
        s.cyc_n = s.cycle_reg("cycN", 0, N)
        s.t_k = s.cycle_reg("tK", R, K)
        s.t_n = s.cycle_reg("tN", R, N)
        s.origin = _Walk("r0", self.geometry)       # the walk of compressed row r0, advanced by R per row fold
        s.row_walks.append(s.origin)
        s.col_base, s.col_stride = s.c0, 1

    # ---- edge lanes ---------------------------------------------------------------------------------------------

    def _times_n(self, s: Schedule, select) -> object:
        """``select * N`` as a shift-and-add over the select bits (the select is log2(m_group) bits)."""
        total: object = Const(0, s.iw)
        for bit in range(self.geometry.select_width):
            total = total + Mux(select[bit], s.size["n"] << bit, 0)
        return total

    def _window_lane(self, m: Module, name: str, lane: int, on, base, room, tag) -> list:
        """Read one window (element ``w`` at ``base + w`` if ``w < room``, else 0 and no read), skew it."""
        g = self.geometry
        W = g.tag_width
        win = Signal(window_layout(g.window), name=f"{name}_win")
        for w in range(g.window):
            ok = Signal(name=f"{name}_ok{w}")
            m.d.comb += [
                ok.eq(on & (room > w)),
                self.a_raddr[lane][w].eq(Mux(ok, base + w, 0)),
                win[w].eq(Mux(ok, self.a_rdata[lane][w], 0)),
            ]
        mon = Signal(signed(W), name=f"{name}_mon")
        tg = Signal(signed(W), name=f"{name}_tag")
        m.d.comb += [mon.eq(Mux(on, base, _BUBBLE)), tg.eq(Mux(on, tag, _BUBBLE))]
        return skewed(m, name, lane, [("win", win, None), ("mon", mon, _BUBBLE), ("tag", tg, _BUBBLE)])

    def _slot_lane(self, m: Module, s: Schedule, name: str, lane: int, ok, addr, gm, gmn) -> tuple:
        """Read one compressed slot; return its value, select and filter monitor (bubbles as 0 / 0 / -1)."""
        sw = self.geometry.select_width
        val = Signal(OPERAND, name=f"{name}_val")
        sel = Signal(sw, name=f"{name}_sel")
        mon = Signal(signed(self.geometry.tag_width), name=f"{name}_mon")
        named = Signal(name=f"{name}_named")  # a real weight of B, not an empty slot
        m.d.comb += [self.b_raddr[lane].eq(Mux(ok, addr, 0)), val.eq(Mux(ok, self.b_rvalue[lane], 0))]
        if sw:
            m.d.comb += sel.eq(Mux(ok, self.b_rindex[lane], 0))
        m.d.comb += [
            named.eq(ok & (gm + sel < s.size["k"])),
            mon.eq(Mux(named, gmn + self._times_n(s, sel) + s.c0 + lane, _BUBBLE)),
        ]
        return val, sel, mon

    def _processing_element(self) -> SparseProcessingElement:
        g = self.geometry
        return SparseProcessingElement(g.dataflow, window=g.window, tag_width=g.tag_width)

    def _fill(self, m: Module, s: Schedule, pes: list) -> None:
        """ws load: the filter lanes read compressed tile row ``R-1-cyc``; its walk gives the monitors."""
        g = self.geometry
        R, iw, N = g.rows, s.iw, s.size["n"]
        # Tile row i's walk (compressed row r0 + i): an incrementer chain from the fold origin.
        s.rows = [s.origin]
        for i in range(1, R):
            walk = _Walk(f"row{i}", g)
            m.d.comb += walk.assign(s.rows[-1].step(1, N))
            s.rows.append(walk)
        load_gm = Signal(iw, name="load_gm")
        load_gmn = Signal(iw, name="load_gmn")
        with m.Switch(s.cyc):
            for c in range(R):
                with m.Case(c):
                    m.d.comb += [load_gm.eq(s.rows[R - 1 - c].gm), load_gmn.eq(s.rows[R - 1 - c].gmn)]
        top_addr = Signal(iw, name="top_addr")
        m.d.comb += top_addr.eq(s.r0n + N * (R - 1) - s.cyc_n + s.c0)
        for j in range(g.cols):
            ok = Signal(name=f"top{j}_ok")
            m.d.comb += ok.eq(s.top_row_ok & (s.rem_c > j))
            val, sel, mon = self._slot_lane(m, s, f"top{j}", j, ok, top_addr + j, load_gm, load_gmn)
            top = pes[0][j].w_in
            m.d.comb += [top.data.eq(val), top.tag.eq(ok), self.filter_lane[j].eq(mon)]
            if g.select_width:
                m.d.comb += top.index.eq(sel)

    def _stream_feed(self, m: Module, s: Schedule, pes: list) -> None:
        """ws stream: array row ``i`` takes the window ``A[t, g_i*m_group : +window]`` at cycle ``R + t + i``."""
        g = self.geometry
        for i in range(g.rows):
            on = Signal(name=f"x{i}_on")
            base = Signal(s.iw, name=f"x{i}_base")
            room = Signal(signed(s.iw + 2), name=f"x{i}_room")  # K - g_i*m_group: elements left in the row
            m.d.comb += [on.eq(s.stream_on & (s.rem_r > i)), base.eq(s.t_k + s.rows[i].gm),
                         room.eq(s.size["k"] - s.rows[i].gm)]
            win, mon, tag = self._window_lane(m, f"x{i}", i, on, base, room, s.t_n)
            m.d.comb += [pes[i][0].x_in.data.eq(win), pes[i][0].x_in.tag.eq(tag), self.ifmap_lane[i].eq(mon)]

    def _os_feed(self, m: Module, s: Schedule, pes: list) -> None:
        """os feed: row ``i`` the window of group ``g(t)`` of ``A[r0+i, :]``; column ``j`` compressed slot
        ``(t, c0+j)`` with its index, skewed like the windows."""
        g = self.geometry
        N, K = s.size["n"], s.size["k"]
        room = Signal(signed(s.iw + 2), name="room")
        m.d.comb += room.eq(K - s.step.gm)
        row_k = chain(m, "a_rowK", s.r0k, K, g.rows, s.iw)
        row_n = chain(m, "a_tag", s.r0n, N, g.rows, s.iw)
        for i in range(g.rows):
            on = Signal(name=f"a{i}_on")
            base = Signal(s.iw, name=f"a{i}_base")
            m.d.comb += [on.eq(s.feed_on & (s.rem_r > i)), base.eq(row_k[i] + s.step.gm)]
            win, mon, tag = self._window_lane(m, f"a{i}", i, on, base, room, row_n[i])
            m.d.comb += [pes[i][0].a_in.data.eq(win), pes[i][0].a_in.tag.eq(tag), self.ifmap_lane[i].eq(mon)]
        for j in range(g.cols):
            ok = Signal(name=f"b{j}_ok")
            m.d.comb += ok.eq(s.feed_on & (s.rem_c > j))
            val, sel, mon = self._slot_lane(m, s, f"b{j}", j, ok, s.t_n + s.c0 + j, s.step.gm, s.step.gmn)
            tag = Signal(signed(g.tag_width), name=f"b{j}_tag")
            m.d.comb += tag.eq(Mux(ok, s.c0 + j, _BUBBLE))
            val, sel, mon, tag = skewed(m, f"b{j}", j, [("val", val, 0), ("sel", sel, 0), ("mon", mon, _BUBBLE),
                                                         ("tag", tag, _BUBBLE)])
            top = pes[0][j].b_in
            m.d.comb += [top.data.eq(val), top.tag.eq(tag), self.filter_lane[j].eq(mon)]
            if g.select_width:
                m.d.comb += top.index.eq(sel)


def chain(m: Module, name: str, first, stride: object, count: int, width: int) -> list:
    """``first + l * stride`` for ``l < count``: an adder chain (no multiplier)."""
    out = [first]
    for lane in range(1, count):
        sig = Signal(width, name=f"{name}{lane}")
        m.d.comb += sig.eq(out[-1] + stride)
        out.append(sig)
    return out


class SparseSystolicGemm(SystolicGemm):
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
        addr = unsigned(g.index_width)
        self._build(arch, g, {"W": g.max_kc * max_n}, {
            "w_we": In(1), "w_addr": In(addr), "w_value": In(OPERAND), "w_index": In(g.index_port_width)})

    def _core(self) -> SparseSystolicCore:
        g = self.geometry
        return SparseSystolicCore(self.arch, n_keep=g.n_keep, m_group=g.m_group, max_m=g.max_m, max_n=g.max_n,
                                  max_k=g.max_k)

    def _operand_memories(self, m: Module, core: SparseSystolicCore) -> None:
        """``A`` with one read port per window element of each lane, and the compressed weights ``W``."""
        g = self.geometry
        mem_a = m.submodules.mem_a = Memory(shape=OPERAND, depth=g.max_m * g.max_k, init=[])
        load_port(m, mem_a, self.a_we & ~core.busy, self.a_addr, self.a_wdata)
        for lane in range(g.rows):
            for w in range(g.window):
                port = mem_a.read_port(domain="comb")
                m.d.comb += [port.addr.eq(core.a_raddr[lane][w]), core.a_rdata[lane][w].eq(port.data)]

        # One word per compressed slot: the value and its index side by side, as SAT stores them.
        slot = data.StructLayout({"value": OPERAND, "index": unsigned(g.index_port_width)})
        mem_w = m.submodules.mem_w = Memory(shape=slot, depth=g.max_kc * g.max_n, init=[])
        load_port(m, mem_w, self.w_we & ~core.busy, self.w_addr, {"value": self.w_value, "index": self.w_index})
        for lane in range(g.cols):
            port = mem_w.read_port(domain="comb")
            m.d.comb += [port.addr.eq(core.b_raddr[lane]), core.b_rvalue[lane].eq(port.data.value)]
            if g.select_width:
                m.d.comb += core.b_rindex[lane].eq(port.data.index)


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
