"""Weight stationary (``ws``): a ``K x N`` tile of filters stays in the PEs while output pixels stream past.

``Sr = K`` (the window), ``Sc = N`` (filters), ``T = M`` (output pixels). Each column fold re-reads the ifmap; each
row fold writes its partial sums (all but the first per output are read back to be accumulated).
"""

from __future__ import annotations

from hwsim.mapping.base import FoldMapping
from hwsim.types import Dataflow, Operand
from hwsim.workload.lowering import GemmDims


class WeightStationary:
    name = "ws"
    dataflow = Dataflow.WEIGHT_STATIONARY
    resident = Operand.FILTER
    stream_dim = "m"
    sparse = True

    def fold_dims(self, gemm: GemmDims) -> tuple[int, int, int]:
        return gemm.k, gemm.n, gemm.m

    def pack_factor(self, gemm: GemmDims, rows: int, cols: int) -> int:
        return min(max(1, rows // gemm.k), max(1, cols // gemm.n))  # packed K lands on rows, packed N on columns

    def sram_accesses(self, run: GemmDims, fold: FoldMapping, row_elements: int) -> tuple[int, int, int]:
        return run.m * row_elements * fold.col_folds, run.k * run.n, run.m * run.n * fold.row_folds
