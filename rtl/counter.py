"""A free-running enable counter: the RTL toolchain probe.

This is **not** a model of any accelerator block. It exists only so the test suite can prove,
on a fresh machine, that the pinned flow Amaranth -> Yosys -> Verilog -> Verilator -> cocotb
works end to end (see ``tests/rtl/test_toolchain.py``). Real RTL models build on that flow.
"""

from __future__ import annotations

from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out


class Counter(wiring.Component):
    """Count the clock cycles in which ``en`` is high, wrapping modulo ``2**width``.

    A toolchain probe, not a model: it is the smallest design with state, an input and a
    wrap-around, so it exercises the simulators without depending on any hwsim model.

    On every rising edge of the ``sync`` clock, ``count`` becomes ``count + 1`` (mod
    ``2**width``) if ``en`` is 1 and stays put otherwise. Synchronous reset clears it to 0.

    Parameters
    ----------
    width
        Bit width of ``count``; must be an ``int`` >= 1.

    Attributes
    ----------
    en : Signal(1), in
        Count enable.
    count : Signal(width), out
        Current count (registered).

    Raises
    ------
    ValueError
        If ``width`` is not an ``int`` >= 1.
    """

    def __init__(self, width: int = 8) -> None:
        if isinstance(width, bool) or not isinstance(width, int) or width < 1:
            raise ValueError(f"Counter width must be an int >= 1, got {width!r}")
        self.width = width
        super().__init__({"en": In(1), "count": Out(width)})

    def elaborate(self, platform: object) -> Module:
        """Describe the hardware (called by Amaranth, not by users)."""
        m = Module()
        with m.If(self.en):
            m.d.sync += self.count.eq(self.count + 1)
        return m
