"""Shorthands the tests share for reaching the closed-form model with bare GEMM shapes."""

from __future__ import annotations

from hwsim.arch.systolic import SystolicArray
from hwsim.mapping import lay
from hwsim.sim.compute import ComputeCounts, gemm_compute
from hwsim.types import Dataflow
from hwsim.workload.lowering import GemmDims


def compute(gemm: GemmDims, rows: int, cols: int, dataflow: Dataflow | str, *, compat: bool = False,
            n_keep: int = 1, m_group: int = 1) -> ComputeCounts:
    """:func:`hwsim.sim.compute.gemm_compute` of ``gemm`` laid on a ``rows x cols`` array (N:M with n_keep:m_group)."""
    arch = SystolicArray(rows, cols, dataflow=dataflow)
    return gemm_compute(lay(gemm, arch, n_keep=n_keep, m_group=m_group), compat=compat)


def sparse_compute(gemm: GemmDims, n_keep: int, m_group: int, rows: int, cols: int,
                   dataflow: Dataflow | str) -> ComputeCounts:
    """The closed form of an N:M sparse GEMM (``K`` dense in ``gemm``) on SAT's ``rows x cols`` array."""
    return compute(gemm, rows, cols, dataflow, n_keep=n_keep, m_group=m_group)


def conv_chain(name: str, widths: list[int], *, channels: int, hw: int):
    """A chain of 3x3 same-padded convolutions of the given output widths on a ``channels x hw x hw`` input."""
    from hwsim.workload import NetworkBuilder

    b = NetworkBuilder(name, source="test", inputs={"x": (channels, hw, hw)})
    x = "x"
    for i, w in enumerate(widths):
        x = b.conv(f"c{i}", x, w, 3, padding=1)
    return b.build()
