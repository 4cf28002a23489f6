"""The processing element of SAT's N:M sparse systolic array: a compressed weight, an ``M:1`` multiplexer, a MAC.

It is :class:`rtl.pe.ProcessingElement` with one change on the activation side, following
:mod:`hwsim.sim.sparse`: a weight travels with its ``log2(M)``-bit in-group index, the activation side delivers a
*window* of ``M`` int8 activations (the group the weight belongs to), and the PE multiplies its weight by the
window element the index names. The window moves right one PE per cycle with its tag, exactly as a single
activation does in the dense array. With ``window = 1`` (dense mode, ``n_keep == m_group``) there is no index and
no multiplexer, and the PE is the dense one.

Two datapath families, as in :mod:`rtl.pe`, but only SAT's two modes:

* ``ws``: a stationary (value, index, loaded) register that shifts down while ``load`` is high; a window + tag
  register that moves right; a partial sum + tag register that moves down.
* ``os``: a window + tag register that moves right; a (value, index) + tag register that moves down; an
  accumulator + tag that multiplies in place and, while ``drain`` is high, shifts down instead.

Timing is :mod:`rtl.pe`'s: a PE consumes its inputs in the cycle they are presented (the stepped model's
``x_now[i, j]`` is this PE's ``x_in`` in that cycle) and its registered outputs are what its neighbours see one
cycle later. The multiplexer sits between the incoming window and the multiplier, so it is combinational, like
the model's ``np.take(x_now, mux)``.
"""

from __future__ import annotations

from amaranth.hdl import Module, Mux, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from hwsim.types import Dataflow
from rtl.pe import OPERAND, PSUM

__all__ = ["MAX_WINDOW", "SparseProcessingElement", "sparse_flow", "window_layout"]

#: Largest window (``m_group``): the stepped model's indices are uint8.
MAX_WINDOW = 256

_BUBBLE = -1


def sparse_flow(dataflow: Dataflow | str) -> Dataflow:
    """``ws`` or ``os`` as a :class:`~hwsim.types.Dataflow`; the other dataflows are not SAT modes.

    Raises
    ------
    ValueError
        In one line, for anything else.
    """
    try:
        flow = Dataflow(dataflow.lower() if isinstance(dataflow, str) else dataflow)
    except ValueError:
        raise ValueError(f"unknown dataflow {dataflow!r}: the sparse RTL runs ws or os") from None
    if flow not in (Dataflow.WEIGHT_STATIONARY, Dataflow.OUTPUT_STATIONARY):
        raise ValueError(f"dataflow {flow.value!r} is not a SAT mode: the sparse RTL runs ws or os")
    return flow


def window_layout(window: int) -> data.ArrayLayout:
    """``window`` int8 activations side by side: what one activation lane carries per cycle."""
    return data.ArrayLayout(OPERAND, window)


def select_width(window: int) -> int:
    """Bits of the multiplexer select, ``log2(window)``; 0 for a window of one (nothing to choose)."""
    return (window - 1).bit_length()


class SparseProcessingElement(wiring.Component):
    """One N:M sparse int8 x int8 -> int32 MAC cell: the weight picks its activation from a window.

    Parameters
    ----------
    dataflow
        ``ws`` or ``os`` (:class:`~hwsim.types.Dataflow` or its value).
    window
        Activations per window: ``m_group`` in sparse mode, 1 in dense mode. A power of two from 1 to
        :data:`MAX_WINDOW` (the select is ``log2(window)`` bits and must name every element).
    tag_width
        Bit width of the signed tags (>= 2: they hold -1 and at least 0).

    Attributes
    ----------
    flow : Dataflow
        ``ws`` or ``os``.
    window : int
        As given.
    select_width : int
        ``log2(window)``; the index ports exist only when it is > 0.

    Notes
    -----
    ``win`` below is :func:`window_layout` (``window`` signed 8-bit elements); ``sel`` is ``unsigned(
    select_width)``. Registers reset to value 0, tag -1, not loaded.

    **ws** ports:

    ``load`` (in)
        While high, the stationary registers take ``w_in``/``w_index_in``/``w_valid_in`` (they shift down).
    ``w_in``, ``w_index_in``, ``w_valid_in`` (in); ``w_out``, ``w_index_out``, ``w_valid_out`` (out, registered)
        The stationary compressed weight, its in-group index and whether the PE holds a slot of the tile (empty
        slots included: their value is 0, but they are loaded, as in the model). A PE holding nothing
        multiplies by 0 and forwards the partial-sum tag untouched.
    ``x_in`` (in, win), ``x_tag_in`` (in); ``x_out``, ``x_tag_out`` (out, registered)
        The window and its tag, consumed this cycle and passed right next cycle.
    ``p_in``, ``p_tag_in`` (in)
        Partial sum and tag from the PE above (0 / -1 at the top row).
    ``picked`` (out, combinational)
        ``x_in[w_index_out]``: the multiplexer's output.
    ``sum``, ``sum_tag`` (out, combinational)
        ``p_in + w_out * picked``; the tag is ``x_tag_in`` if the PE holds a slot, else ``p_tag_in``.
    ``p_out``, ``p_tag_out`` (out, registered)
        ``sum``/``sum_tag`` registered, for the PE below.

    **os** ports:

    ``a_in`` (in, win), ``a_tag_in`` (in); ``a_out``, ``a_tag_out`` (out, registered)
        The window and its tag, consumed this cycle and passed right next cycle.
    ``b_in``, ``b_index_in``, ``b_tag_in`` (in); ``b_out``, ``b_index_out``, ``b_tag_out`` (out, registered)
        The compressed weight, its index and tag, consumed this cycle and passed down next cycle.
    ``picked`` (out, combinational)
        ``a_in[b_index_in]``.
    ``drain`` (in)
        Low: ``acc += b_in * picked``, and when both tags are >= 0 the accumulator's tag becomes ``a_tag_in +
        b_tag_in`` (the array splits the output's flat index over the two streams). High: no MAC; the
        accumulator and its tag take ``acc_in`` / ``acc_tag_in`` (it shifts down the column).
    ``acc_in``, ``acc_tag_in`` (in); ``acc_out``, ``acc_tag_out`` (out, registered)
        The accumulator above (0 / -1 at the top row); this PE's accumulator and tag.

    Raises
    ------
    ValueError
        One line: a dataflow other than ``ws``/``os``, a window that is not a power of two from 1 to
        :data:`MAX_WINDOW`, or ``tag_width`` not an ``int`` >= 2.
    """

    def __init__(self, dataflow: Dataflow | str, *, window: int, tag_width: int) -> None:
        self.flow = sparse_flow(dataflow)
        if (isinstance(window, bool) or not isinstance(window, int) or not 1 <= window <= MAX_WINDOW
                or window & (window - 1)):
            raise ValueError(f"window must be a power of two from 1 to {MAX_WINDOW}, got {window!r}")
        if isinstance(tag_width, bool) or not isinstance(tag_width, int) or tag_width < 2:
            raise ValueError(f"tag_width must be an int >= 2 (tags hold -1), got {tag_width!r}")
        self.window = window
        self.select_width = select_width(window)
        self.tag_width = tag_width
        tag, win, sel = signed(tag_width), window_layout(window), unsigned(self.select_width)
        indexed = self.select_width > 0
        if self.flow is Dataflow.WEIGHT_STATIONARY:
            members = {
                "load": In(1),
                "w_in": In(OPERAND), "w_valid_in": In(1),
                "w_out": Out(OPERAND), "w_valid_out": Out(1),
                **({"w_index_in": In(sel), "w_index_out": Out(sel)} if indexed else {}),
                "x_in": In(win), "x_tag_in": In(tag, init=_BUBBLE),
                "x_out": Out(win), "x_tag_out": Out(tag, init=_BUBBLE),
                "p_in": In(PSUM), "p_tag_in": In(tag, init=_BUBBLE),
                "picked": Out(OPERAND),
                "sum": Out(PSUM), "sum_tag": Out(tag, init=_BUBBLE),
                "p_out": Out(PSUM), "p_tag_out": Out(tag, init=_BUBBLE),
            }
        else:
            members = {
                "drain": In(1),
                "a_in": In(win), "a_tag_in": In(tag, init=_BUBBLE),
                "a_out": Out(win), "a_tag_out": Out(tag, init=_BUBBLE),
                "b_in": In(OPERAND), "b_tag_in": In(tag, init=_BUBBLE),
                "b_out": Out(OPERAND), "b_tag_out": Out(tag, init=_BUBBLE),
                **({"b_index_in": In(sel), "b_index_out": Out(sel)} if indexed else {}),
                "picked": Out(OPERAND),
                "acc_in": In(PSUM), "acc_tag_in": In(tag, init=_BUBBLE),
                "acc_out": Out(PSUM), "acc_tag_out": Out(tag, init=_BUBBLE),
            }
        super().__init__(members)

    def _mux(self, window: data.View, select) -> object:
        """The ``M:1`` multiplexer: the window element ``select`` names (the only element of a 1-window)."""
        return window[select] if self.select_width else window[0]

    def elaborate(self, platform: object) -> Module:
        """Describe the hardware (called by Amaranth, not by users)."""
        m = Module()
        if self.flow is Dataflow.WEIGHT_STATIONARY:
            self._weight_stationary(m)
        else:
            self._output_stationary(m)
        return m

    def _weight_stationary(self, m: Module) -> None:
        with m.If(self.load):
            m.d.sync += [self.w_out.eq(self.w_in), self.w_valid_out.eq(self.w_valid_in)]
            if self.select_width:
                m.d.sync += self.w_index_out.eq(self.w_index_in)
        # The stationary index drives the select: the multiplexer's choice is fixed for the whole fold.
        m.d.comb += [
            self.picked.eq(self._mux(self.x_in, self.w_index_out if self.select_width else None)),
            # The full-width sum is truncated to 32 bits on assignment: int32 wrap-around, as in NumPy.
            self.sum.eq(self.p_in + self.w_out * self.picked),
            self.sum_tag.eq(Mux(self.w_valid_out, self.x_tag_in, self.p_tag_in)),
        ]
        m.d.sync += [
            self.x_out.eq(self.x_in), self.x_tag_out.eq(self.x_tag_in),
            self.p_out.eq(self.sum), self.p_tag_out.eq(self.sum_tag),
        ]

    def _output_stationary(self, m: Module) -> None:
        m.d.sync += [
            self.a_out.eq(self.a_in), self.a_tag_out.eq(self.a_tag_in),
            self.b_out.eq(self.b_in), self.b_tag_out.eq(self.b_tag_in),
        ]
        if self.select_width:
            m.d.sync += self.b_index_out.eq(self.b_index_in)
        # The passing weight's index drives the select: a new choice every cycle.
        m.d.comb += self.picked.eq(self._mux(self.a_in, self.b_index_in if self.select_width else None))
        with m.If(self.drain):
            m.d.sync += [self.acc_out.eq(self.acc_in), self.acc_tag_out.eq(self.acc_tag_in)]
        with m.Else():
            # Like the stepped model, the MAC happens whatever the tags say: bubbles and empty slots carry 0.
            m.d.sync += self.acc_out.eq(self.acc_out + self.b_in * self.picked)
            with m.If((self.a_tag_in >= 0) & (self.b_tag_in >= 0)):
                m.d.sync += self.acc_tag_out.eq(self.a_tag_in + self.b_tag_in)
