"""Input stationary (``is``): a ``K x M`` tile of ifmap windows stays in the PEs while filters stream past.

``Sr = K`` (the window), ``Sc = M`` (output pixels), ``T = N`` (filters). Each column fold re-reads the filters;
each row fold writes its partial sums. Not a mode of SAT's N:M engine.
"""

from __future__ import annotations

from hwsim.mapping.base import FoldMapping
from hwsim.types import Dataflow, Operand
from hwsim.workload.lowering import GemmDims


class InputStationary:
    name = "is"
    dataflow = Dataflow.INPUT_STATIONARY
    resident = Operand.IFMAP
    stream_dim = "n"
    sparse = False

    def fold_dims(self, gemm: GemmDims) -> tuple[int, int, int]:
        return gemm.k, gemm.m, gemm.n

    def pack_factor(self, gemm: GemmDims, rows: int, cols: int) -> int:
        return max(1, rows // gemm.k)  # packed K lands on rows; packed N streams in time

    def sram_accesses(self, run: GemmDims, fold: FoldMapping, row_elements: int) -> tuple[int, int, int]:
        return run.k * run.m, run.n * run.k * fold.col_folds, run.m * run.n * fold.row_folds
