"""Output stationary (``os``): an ``M x N`` tile of outputs accumulates in the PEs while both operands stream past.

``Sr = M`` (output pixels), ``Sc = N`` (filters), ``T = K`` (the window). Each column fold re-reads the ifmap rows,
each row fold the filter columns; every output is written once, as its fold drains.
"""

from __future__ import annotations

from hwsim.mapping.base import FoldMapping
from hwsim.types import Dataflow, Operand
from hwsim.workload.lowering import GemmDims


class OutputStationary:
    name = "os"
    dataflow = Dataflow.OUTPUT_STATIONARY
    resident = Operand.OFMAP
    stream_dim = "k"
    sparse = True

    def fold_dims(self, gemm: GemmDims) -> tuple[int, int, int]:
        return gemm.m, gemm.n, gemm.k

    def pack_factor(self, gemm: GemmDims, rows: int, cols: int) -> int:
        return max(1, cols // gemm.n)  # packed N lands on columns; packed K streams in time

    def sram_accesses(self, run: GemmDims, fold: FoldMapping, row_elements: int) -> tuple[int, int, int]:
        return run.m * row_elements * fold.col_folds, run.k * run.n * fold.row_folds, run.m * run.n
