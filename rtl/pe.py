"""Processing elements of the systolic GEMM engine: int8 x int8 -> int32 multiply-accumulate cells.

One :class:`ProcessingElement` class covers both datapath families of :mod:`hwsim.sim.stepped`; which one it
builds (and hence its signature) follows the dataflow it is given:

* **stationary** (``ws`` and ``is`` share it): a stationary operand register that shifts down while ``load`` is
  high, a streamed value + tag register that moves right, and a partial sum + tag register that moves down.
* **output** (``os``): an ``a`` value + tag register that moves right, a ``b`` value + tag register that moves
  down, and an accumulator + tag that multiplies in place and, while ``drain`` is high, shifts down instead.

Timing convention (the one :class:`rtl.systolic.SystolicCore` relies on): a PE *consumes its inputs in the
cycle they are presented*. The stepped model's per-cycle quantity ``x_now[i, j]`` (what PE ``(i, j)`` multiplies
in cycle ``c``) is this PE's ``x_in`` in that cycle, and its registered ``x_out`` is what the right neighbour
sees one cycle later -- exactly the model's ``x_now[:, :, 1:] = x_old[:, :, :-1]``. Likewise the model's
``p_now[i, j]`` is this PE's combinational ``sum``, and ``p_out`` is that sum registered for the PE below.

Tags are signed, :data:`~hwsim.sim.stepped.BUBBLE` (-1) meaning "carries nothing". What a tag *means* is up to
the array (see :mod:`rtl.systolic`); the PE only copies, tests (``>= 0``) or, for ``os``, adds them.
"""

from __future__ import annotations

from amaranth.hdl import Module, Mux, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hwsim.types import Dataflow

__all__ = ["OPERAND", "PSUM", "ProcessingElement", "family"]

#: Operand shape: the PEs multiply int8 by int8.
OPERAND = signed(8)
#: Partial-sum / accumulator shape: int32, wrapping like the stepped model's NumPy int32 arithmetic.
PSUM = signed(32)

_BUBBLE = -1


def family(dataflow: Dataflow | str) -> str:
    """Datapath family of a dataflow: ``"stationary"`` for ``ws``/``is``, ``"output"`` for ``os``.

    Raises
    ------
    ValueError
        For anything else (including row stationary), in one line.
    """
    try:
        flow = Dataflow(dataflow.lower() if isinstance(dataflow, str) else dataflow)
    except ValueError:
        raise ValueError(f"unknown dataflow {dataflow!r}: expected ws, is or os") from None
    if flow is Dataflow.OUTPUT_STATIONARY:
        return "output"
    if flow in (Dataflow.WEIGHT_STATIONARY, Dataflow.INPUT_STATIONARY):
        return "stationary"
    raise ValueError(f"dataflow {flow.value!r} has no systolic PE here: expected ws, is or os")


class ProcessingElement(wiring.Component):
    """One int8 x int8 -> int32 MAC cell of a systolic array, for the given dataflow's family.

    Parameters
    ----------
    dataflow
        ``ws``/``is`` (stationary family) or ``os`` (output family), as :class:`~hwsim.types.Dataflow` or its
        value.
    tag_width
        Bit width of the signed tags (>= 2: they must hold -1 and at least 0).

    Attributes
    ----------
    family : str
        ``"stationary"`` or ``"output"``.

    Notes
    -----
    **Stationary family** ports (registers reset to value 0, tag -1, not holding):

    ``load`` (in)
        While high, the stationary register takes ``w_in``/``w_valid_in`` (it shifts down the column).
    ``w_in``, ``w_valid_in`` (in); ``w_out``, ``w_valid_out`` (out, registered)
        Stationary value and whether it is a real operand (the stepped model's ``w_tag >= 0``). A PE that
        holds nothing multiplies by 0 and forwards the partial-sum tag untouched, as in the model.
    ``x_in``, ``x_tag_in`` (in); ``x_out``, ``x_tag_out`` (out, registered)
        Streamed value and tag, consumed this cycle and passed right next cycle.
    ``p_in``, ``p_tag_in`` (in)
        Partial sum and tag from the PE above (registered there), 0 / -1 at the top row.
    ``sum``, ``sum_tag`` (out, combinational)
        ``p_in + w * x_in``; the tag is ``x_tag_in`` if this PE holds an operand, else ``p_tag_in``. The bottom
        row's ``sum`` is the array output of this cycle.
    ``p_out``, ``p_tag_out`` (out, registered)
        ``sum``/``sum_tag`` registered, for the PE below.

    **Output family** ports (registers reset to value 0, tag -1):

    ``a_in``, ``a_tag_in`` (in); ``a_out``, ``a_tag_out`` (out, registered)
        ``A`` value and tag, consumed this cycle and passed right next cycle.
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

    def __init__(self, dataflow: Dataflow | str, *, tag_width: int) -> None:
        self.family = family(dataflow)
        if isinstance(tag_width, bool) or not isinstance(tag_width, int) or tag_width < 2:
            raise ValueError(f"tag_width must be an int >= 2 (tags hold -1), got {tag_width!r}")
        self.tag_width = tag_width
        tag = signed(tag_width)
        if self.family == "stationary":
            members = {
                "load": In(1),
                "w_in": In(OPERAND), "w_valid_in": In(1),
                "w_out": Out(OPERAND), "w_valid_out": Out(1),
                "x_in": In(OPERAND), "x_tag_in": In(tag, init=_BUBBLE),
                "x_out": Out(OPERAND), "x_tag_out": Out(tag, init=_BUBBLE),
                "p_in": In(PSUM), "p_tag_in": In(tag, init=_BUBBLE),
                "sum": Out(PSUM), "sum_tag": Out(tag, init=_BUBBLE),
                "p_out": Out(PSUM), "p_tag_out": Out(tag, init=_BUBBLE),
            }
        else:
            members = {
                "drain": In(1),
                "a_in": In(OPERAND), "a_tag_in": In(tag, init=_BUBBLE),
                "a_out": Out(OPERAND), "a_tag_out": Out(tag, init=_BUBBLE),
                "b_in": In(OPERAND), "b_tag_in": In(tag, init=_BUBBLE),
                "b_out": Out(OPERAND), "b_tag_out": Out(tag, init=_BUBBLE),
                "acc_in": In(PSUM), "acc_tag_in": In(tag, init=_BUBBLE),
                "acc_out": Out(PSUM), "acc_tag_out": Out(tag, init=_BUBBLE),
            }
        super().__init__(members)

    def elaborate(self, platform: object) -> Module:
        """Describe the hardware (called by Amaranth, not by users)."""
        m = Module()
        if self.family == "stationary":
            self._stationary(m)
        else:
            self._output(m)
        return m

    def _stationary(self, m: Module) -> None:
        with m.If(self.load):
            m.d.sync += [self.w_out.eq(self.w_in), self.w_valid_out.eq(self.w_valid_in)]
        # The full-width sum is truncated to 32 bits on assignment: int32 wrap-around, as in NumPy.
        m.d.comb += [
            self.sum.eq(self.p_in + self.w_out * self.x_in),
            self.sum_tag.eq(Mux(self.w_valid_out, self.x_tag_in, self.p_tag_in)),
        ]
        m.d.sync += [
            self.x_out.eq(self.x_in), self.x_tag_out.eq(self.x_tag_in),
            self.p_out.eq(self.sum), self.p_tag_out.eq(self.sum_tag),
        ]

    def _output(self, m: Module) -> None:
        m.d.sync += [
            self.a_out.eq(self.a_in), self.a_tag_out.eq(self.a_tag_in),
            self.b_out.eq(self.b_in), self.b_tag_out.eq(self.b_tag_in),
        ]
        with m.If(self.drain):
            m.d.sync += [self.acc_out.eq(self.acc_in), self.acc_tag_out.eq(self.acc_tag_in)]
        with m.Else():
            # Like the stepped model, the MAC happens whatever the tags say: bubbles carry value 0.
            m.d.sync += self.acc_out.eq(self.acc_out + self.a_in * self.b_in)
            with m.If((self.a_tag_in >= 0) & (self.b_tag_in >= 0)):
                m.d.sync += self.acc_tag_out.eq(self.a_tag_in + self.b_tag_in)
