"""What a systolic dataflow does inside the array per MAC: the actions the cost model prices.

A :class:`DataflowSpec` is the description of one ``dataflows/<name>.json`` file (format ``hwsim-dataflow``,
read by :mod:`hwsim.io.dataflow_spec`); the loaded :class:`~hwsim.cost.tech.Technology` carries one per dataflow,
so the prices and the actions they price travel together.
"""

from __future__ import annotations

from hwsim.types import Record, record

OPERANDS = ("ifmap", "filter", "psum")
"""The operands a PE holds and moves (``psum`` at the accumulator's width)."""

STATIONARY = ("filter", "ifmap", "ofmap")
"""What a dataflow can keep in the PEs across a fold."""


@record
class DataflowSpec(Record):
    """Per-MAC register accesses and neighbour hops of a dataflow, by operand (``ifmap``, ``filter``, ``psum``).

    The pairs ``(per_row, constant)`` are linear in the array's rows (:meth:`linear`): per stationary element
    loaded, and per output drained through the array.
    """

    name: str
    stationary: str
    pe_registers: dict[str, int]
    reads_per_mac: dict[str, float]
    writes_per_mac: dict[str, float]
    hops_per_mac: dict[str, float]
    stationary_writes: tuple[float, float]
    stationary_hops: tuple[float, float]
    output_writes: tuple[float, float]
    output_hops: tuple[float, float]

    @staticmethod
    def linear(expr: tuple[float, float], rows: int) -> float:
        return expr[0] * rows + expr[1]
