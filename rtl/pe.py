"""Processing elements of the systolic GEMM engines: int8 x int8 -> int32 multiply-accumulate cells.

One :class:`ProcessingElement` class covers both datapath families of :mod:`hwsim.sim.stepped`, dense and
N:M sparse; which ports it has follows the dataflow it is given and its activation *window*:

* **stationary** (``ws`` and ``is`` share it): a stationary operand register that shifts down while ``load`` is
  high, a streamed value + tag register that moves right, and a partial sum + tag register that moves down.
* **output** (``os``): an ``a`` value + tag register that moves right, a ``b`` value + tag register that moves
  down, and an accumulator + tag that multiplies in place and, while ``drain`` is high, shifts down instead.

Dense is N:M with a window of one. :class:`SparseProcessingElement` (SAT's PE, following :mod:`hwsim.sim.sparse`)
is the same cell with one change on the activation side: a weight travels with its ``log2(M)``-bit in-group
index, the activation side delivers a *window* of ``M`` int8 activations (the group the weight belongs to), and a
combinational ``M:1`` multiplexer (``picked``, the model's ``np.take(x_now, mux)``) chooses the element the
weight's index names. The window moves right one PE per cycle with its tag, exactly as a single activation does.

Every operand or partial-sum flow is a :class:`Flow`: a small signature with a value (``data``) and a ``tag`` (and, for
sparse weights, an ``index``), so neighbours are joined with :func:`amaranth.lib.wiring.connect`. The flows keep
the flat port names of the Verilog (``x_in``/``x_tag_in``, ``w_in``/``w_valid_in``/``w_index_in`` ...).

Timing convention (the one :class:`rtl.systolic.SystolicCore` relies on): a PE *consumes its inputs in the
cycle they are presented*. The stepped model's per-cycle quantity ``x_now[i, j]`` (what PE ``(i, j)`` multiplies
in cycle ``c``) is this PE's ``x_in`` in that cycle, and its registered ``x_out`` is what the right neighbour
sees one cycle later -- exactly the model's ``x_now[:, :, 1:] = x_old[:, :, :-1]``. Likewise the model's
``p_now[i, j]`` is this PE's combinational ``sum``, and ``p_out`` is that sum registered for the PE below.

Tags are signed, :data:`~hwsim.sim.stepped.BUBBLE` (-1) meaning "carries nothing". What a tag *means* is up to
the array (see :mod:`rtl.systolic`); the PE only copies, tests (``>= 0``) or, for ``os``, adds them.
"""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal, Value, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from hwsim.api import Dataflow, Operand
from hwsim.mapping import MAPPINGS, Mapping

__all__ = ["MAX_WINDOW", "OPERAND", "PSUM", "Flow", "ProcessingElement", "SparseProcessingElement", "family",
           "select_width", "sparse_flow", "window_layout"]

#: Operand shape: the PEs multiply int8 by int8.
OPERAND = signed(8)
#: Partial-sum / accumulator shape: int32, wrapping like the stepped model's NumPy int32 arithmetic.
PSUM = signed(32)
#: Largest window (``m_group``): the stepped model's indices are uint8.
MAX_WINDOW = 256

_BUBBLE = -1


def family(dataflow: Dataflow | str) -> str:
    """Datapath family of a dataflow: ``"stationary"`` for ``ws``/``is``, ``"output"`` for ``os``.

    Raises
    ------
    ValueError
        For anything else (including row stationary), in one line.
    """
    rule = _mapping(dataflow, "has no systolic PE here", "expected ws, is or os")
    return "output" if rule.resident is Operand.OFMAP else "stationary"


def sparse_flow(dataflow: Dataflow | str) -> Dataflow:
    """``ws`` or ``os`` as a :class:`~hwsim.types.Dataflow`; the other dataflows are not SAT modes.

    Raises
    ------
    ValueError
        In one line, for anything else.
    """
    rule = _mapping(dataflow, "is not a SAT mode", "the sparse RTL runs ws or os")
    if not rule.sparse:
        raise ValueError(f"dataflow {rule.name!r} is not a SAT mode: the sparse RTL runs ws or os")
    return rule.dataflow


def _mapping(dataflow: Dataflow | str, unsupported: str, expected: str) -> Mapping:
    """The registered mapping of ``dataflow`` (:data:`hwsim.mapping.MAPPINGS`), or a one-line ValueError: an unknown
    name, or a dataflow hwsim knows that has no mapping on a systolic array (``unsupported``)."""
    name = dataflow.value if isinstance(dataflow, Dataflow) else str(dataflow).lower()
    if name in MAPPINGS:
        return MAPPINGS[name]
    if name in {d.value for d in Dataflow}:
        raise ValueError(f"dataflow {name!r} {unsupported}: {expected}")
    raise ValueError(f"unknown dataflow {dataflow!r}: {expected}")


def window_layout(window: int) -> data.ArrayLayout:
    """``window`` int8 activations side by side: what one activation lane carries per cycle."""
    return data.ArrayLayout(OPERAND, window)


def select_width(window: int) -> int:
    """Bits of the multiplexer select, ``log2(window)``; 0 for a window of one (nothing to choose)."""
    return (window - 1).bit_length()


class Flow(wiring.Signature):
    """One operand or partial-sum flow between neighbouring PEs: a value (member ``data``) with its ``tag``.

    The value member is called ``data``, not ``value``, because :func:`~amaranth.lib.wiring.connect` makes its
    connections in the sorted order of the member names: ``data`` before ``tag`` is the order the flat ports were
    always assigned in, so the generated Verilog (down to Yosys's ``$N`` name suffixes) did not change.

    Parameters
    ----------
    value, tag
        Shapes of the two members.
    tag_name
        What the tag is called in port names: ``"tag"``, or ``"valid"`` for a stationary operand's held bit.
    tag_init
        Reset value of a registered tag: -1 (a bubble), or 0 for a valid bit.
    index_width
        If > 0, a third member ``index`` (a sparse weight's in-group index).

    Notes
    -----
    An interface created for the member ``x_in`` names its signals ``x_in`` (``data``), ``x_tag_in`` (and ``x_index_in``);
    one for ``sum`` names them ``sum``, ``sum_tag``: the flat names the Verilog ports had before the flows.
    """

    def __init__(self, value: object, tag: object, *, tag_name: str = "tag", tag_init: int = _BUBBLE,
                 index_width: int = 0) -> None:
        self.tag_name = tag_name
        members = {"data": Out(value), "tag": Out(tag, init=tag_init)}
        if index_width:
            members["index"] = Out(unsigned(index_width))
        super().__init__(members)

    def __eq__(self, other: object) -> bool:
        return type(other) is Flow and self.tag_name == other.tag_name and self.members == other.members

    def create(self, *, path: tuple | None = None, src_loc_at: int = 0) -> "_FlowInterface":
        name = "__".join(str(item) for item in (path or ("flow",)))
        stem, _, end = name.rpartition("_")
        if end not in ("in", "out"):
            stem, end = name, ""
        interface = _FlowInterface(self)
        for member_name, member in self.members.items():
            label = self.tag_name if member_name == "tag" else member_name
            port = name if member_name == "data" else "_".join(part for part in (stem, label, end) if part)
            setattr(interface, member_name, Signal(member.shape, init=member.init, name=port))
        return interface


class _FlowInterface:
    """The interface object of a :class:`Flow`: its members as attributes."""

    def __init__(self, signature: Flow) -> None:
        self.signature = signature


class ProcessingElement(wiring.Component):
    """One int8 x int8 -> int32 MAC cell of a systolic array, for the given dataflow's family.

    Parameters
    ----------
    dataflow
        ``ws``/``is`` (stationary family) or ``os`` (output family), as :class:`~hwsim.types.Dataflow` or its
        value.
    tag_width
        Bit width of the signed tags (>= 2: they must hold -1 and at least 0).
    window
        None for the dense cell (one int8 activation per flow); otherwise the activations per window of the
        N:M sparse cell (see :class:`SparseProcessingElement`, which checks it).

    Attributes
    ----------
    family : str
        ``"stationary"`` or ``"output"``.
    window : int or None
        As given.
    select_width : int
        ``log2(window)``; the weights carry an ``index`` only when it is > 0.

    Notes
    -----
    Port names are the Verilog ones; :meth:`port` finds a signal by that name. Registers reset to value 0,
    tag -1, not holding.

    **Stationary family** (flows ``w``, ``x``, ``p``, ``sum``):

    ``load`` (in)
        While high, the stationary register takes ``w_in``/``w_valid_in`` (it shifts down the column).
    ``w_in``, ``w_valid_in`` (in); ``w_out``, ``w_valid_out`` (out, registered)
        Stationary value and whether it is a real operand (the stepped model's ``w_tag >= 0``). A PE that
        holds nothing multiplies by 0 and forwards the partial-sum tag untouched, as in the model.
    ``x_in``, ``x_tag_in`` (in); ``x_out``, ``x_tag_out`` (out, registered)
        Streamed value (or window) and tag, consumed this cycle and passed right next cycle.
    ``p_in``, ``p_tag_in`` (in)
        Partial sum and tag from the PE above (registered there), 0 / -1 at the top row.
    ``sum``, ``sum_tag`` (out, combinational)
        ``p_in + w * x_in``; the tag is ``x_tag_in`` if this PE holds an operand, else ``p_tag_in``. The bottom
        row's ``sum`` is the array output of this cycle.
    ``p_out``, ``p_tag_out`` (out, registered)
        ``sum``/``sum_tag`` registered, for the PE below.

    **Output family** (flows ``a``, ``b``, ``acc``):

    ``a_in``, ``a_tag_in`` (in); ``a_out``, ``a_tag_out`` (out, registered)
        ``A`` value (or window) and tag, consumed this cycle and passed right next cycle.
    ``b_in``, ``b_tag_in`` (in); ``b_out``, ``b_tag_out`` (out, registered)
        ``B`` value and tag, consumed this cycle and passed down next cycle.
    ``drain`` (in)
        Low: ``acc += a_in * b_in``, and when both tags are >= 0 the accumulator's tag becomes
        ``a_tag_in + b_tag_in`` (the array splits an output's flat index over the two streams, so their sum is
        the index of the output this PE owns). High: no MAC; the accumulator and its tag take ``acc_in`` /
        ``acc_tag_in`` (it shifts down the column).
    ``acc_in``, ``acc_tag_in`` (in)
        The accumulator above (0 / -1 at the top row).
    ``acc_out``, ``acc_tag_out`` (out, registered)
        This PE's accumulator and tag; the bottom row's are what a draining column emits.

    Raises
    ------
    ValueError
        Unknown or row-stationary dataflow, or ``tag_width`` not an ``int`` >= 2.
    """

    def __init__(self, dataflow: Dataflow | str, *, tag_width: int, window: int | None = None) -> None:
        self.family = family(dataflow)
        if isinstance(tag_width, bool) or not isinstance(tag_width, int) or tag_width < 2:
            raise ValueError(f"tag_width must be an int >= 2 (tags hold -1), got {tag_width!r}")
        self.tag_width = tag_width
        self.window = window
        self.select_width = select_width(window) if window is not None else 0
        tag = signed(tag_width)
        activation = OPERAND if window is None else window_layout(window)
        picked = {} if window is None else {"picked": Out(OPERAND)}
        weight = Flow(OPERAND, tag, index_width=self.select_width)
        if self.family == "stationary":
            held = Flow(OPERAND, 1, tag_name="valid", tag_init=0, index_width=self.select_width)
            members = {
                "load": In(1),
                "w_in": In(held), "w_out": Out(held),
                "x_in": In(Flow(activation, tag)), "x_out": Out(Flow(activation, tag)),
                "p_in": In(Flow(PSUM, tag)),
                **picked,
                "sum": Out(Flow(PSUM, tag)), "p_out": Out(Flow(PSUM, tag)),
            }
        else:
            members = {
                "drain": In(1),
                "a_in": In(Flow(activation, tag)), "a_out": Out(Flow(activation, tag)),
                "b_in": In(weight), "b_out": Out(weight),
                **picked,
                "acc_in": In(Flow(PSUM, tag)), "acc_out": Out(Flow(PSUM, tag)),
            }
        super().__init__(members)

    def port(self, name: str) -> Signal:
        """The signal whose Verilog port name is ``name`` (``"x_tag_in"``, ``"load"`` ...)."""
        for _, _, value in self.signature.flatten(self):
            # A window-shaped port is a View over its signal.
            if Value.cast(value).name == name:
                return value
        raise KeyError(name)

    def elaborate(self, platform: object) -> Module:
        """Describe the hardware (called by Amaranth, not by users)."""
        m = Module()
        if self.family == "stationary":
            self._stationary(m)
        else:
            self._output(m)
        return m

    def _pick(self, m: Module, activation: object, select: object) -> object:
        """The activation the weight multiplies: the flow itself (dense) or the window element ``select`` names
        (the ``M:1`` multiplexer; the only element of a window of one)."""
        if self.window is None:
            return activation
        m.d.comb += self.picked.eq(activation[select] if self.select_width else activation[0])
        return self.picked

    def _stationary(self, m: Module) -> None:
        with m.If(self.load):
            m.d.sync += [self.w_out.data.eq(self.w_in.data), self.w_out.tag.eq(self.w_in.tag)]
            if self.select_width:
                m.d.sync += self.w_out.index.eq(self.w_in.index)
        # The stationary index drives the select: the multiplexer's choice is fixed for the whole fold.
        x = self._pick(m, self.x_in.data, self.w_out.index if self.select_width else None)
        # The full-width sum is truncated to 32 bits on assignment: int32 wrap-around, as in NumPy.
        m.d.comb += [
            self.sum.data.eq(self.p_in.data + self.w_out.data * x),
            self.sum.tag.eq(Mux(self.w_out.tag, self.x_in.tag, self.p_in.tag)),
        ]
        m.d.sync += [
            self.x_out.data.eq(self.x_in.data), self.x_out.tag.eq(self.x_in.tag),
            self.p_out.data.eq(self.sum.data), self.p_out.tag.eq(self.sum.tag),
        ]

    def _output(self, m: Module) -> None:
        m.d.sync += [
            self.a_out.data.eq(self.a_in.data), self.a_out.tag.eq(self.a_in.tag),
            self.b_out.data.eq(self.b_in.data), self.b_out.tag.eq(self.b_in.tag),
        ]
        if self.select_width:
            m.d.sync += self.b_out.index.eq(self.b_in.index)
        if self.window is None:
            product = self.a_in.data * self.b_in.data
        else:
            # The passing weight's index drives the select: a new choice every cycle.
            product = self.b_in.data * self._pick(m, self.a_in.data,
                                                   self.b_in.index if self.select_width else None)
        with m.If(self.drain):
            m.d.sync += [self.acc_out.data.eq(self.acc_in.data), self.acc_out.tag.eq(self.acc_in.tag)]
        with m.Else():
            # Like the stepped model, the MAC happens whatever the tags say: bubbles (and empty slots) carry 0.
            m.d.sync += self.acc_out.data.eq(self.acc_out.data + product)
            with m.If((self.a_in.tag >= 0) & (self.b_in.tag >= 0)):
                m.d.sync += self.acc_out.tag.eq(self.a_in.tag + self.b_in.tag)


class SparseProcessingElement(ProcessingElement):
    """One N:M sparse int8 x int8 -> int32 MAC cell (SAT's ``ws`` or ``os``): the weight picks its activation
    from a window.

    The :class:`ProcessingElement` with a window: activation flows carry :func:`window_layout` (``window``
    int8 elements), weights carry an ``index`` (``w_index_in``/``b_index_in`` ..., only when ``window > 1``), and
    the combinational ``picked`` output is the window element the index names: ``x_in[w_index_out]`` (ws, fixed
    for the fold) or ``a_in[b_index_in]`` (os, a new choice every cycle). With ``window = 1`` (dense mode) there
    is no index and ``picked`` is the only element.

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
        super().__init__(self.flow, tag_width=tag_width, window=window)
