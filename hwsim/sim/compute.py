"""The fast engine's compute side: cycles, folds, utilisation and SRAM accesses in closed form.

Mapping (SCALE-Sim's, see :mod:`hwsim.workload.lowering` for ``M, N, K``)
--------------------------------------------------------------------------
A GEMM ``O[M, N] = A[M, K] @ B[K, N]`` is laid on an ``R x C`` array as ``Sr`` array rows by
``Sc`` array columns, with ``T`` values streamed through each PE:

======  ==========  ===========  ==========  ==================================
flow    Sr (rows)   Sc (cols)    T (time)    stays in the PEs
======  ==========  ===========  ==========  ==================================
ws      K           N            M           a ``K x N`` tile of filters
is      K           M            N           a ``K x M`` tile of ifmap windows
os      M           N            K           a ``M x N`` tile of outputs
======  ==========  ===========  ==========  ==================================

``ceil(Sr / R) * ceil(Sc / C)`` folds run back to back, column fold outer.

Cycles per fold
---------------
* **ws, is**: ``R`` cycles load the stationary tile (one row per cycle, down the columns); the
  streamed operand enters row ``i`` skewed by ``i`` cycles and moves right one PE per cycle; partial
  sums move down one row per cycle and leave the bottom of column ``j`` for stream position ``t``
  at cycle ``2R - 1 + t + j``. The fold ends with the last of those: ``L = 2R + C + T - 2``.
  Partial sums pass through all ``R`` rows even when fewer are used, so ``L`` counts ``R``.
* **os**: operands enter skewed from the left and the top; PE ``(i, j)`` makes its last MAC at
  cycle ``T - 1 + i + j``; each column then shifts its results out of the bottom, bottom row first,
  starting at cycle ``T - 1 + R + j``: ``L = 2R + C + T - 2``.

With ``--compat scalesim`` the conventions of SCALE-Sim 3.0.0 are kept instead: its os fold is
``T + R + C - 2`` (it writes outputs before they are computed; its maintainers agree the right
figure is the one above), its total is 0-indexed (one less than the number of cycles), its os ofmap
writes count ``R + C`` extra per fold, and its utilisations are its own:

* Overall Util = MACs / (total cycles x R x C)
* Mapping Efficiency = mean over folds of used PEs / (R x C)
* Compute Util = mean over folds of used PEs x T / (R x C x fold span), where the span is
  ``L + C - 1`` for ws/is and ``L`` for os.

Native utilisation is MACs / (cycles x R x C) with stall cycles included.

SRAM accesses (reads of ifmap and filter, writes and partial-sum reads of ofmap)
---------------------------------------------------------------------------------
========  ======================  =======================  =======================  ==================
flow      ifmap reads             filter reads             ofmap writes             ofmap reads
========  ======================  =======================  =======================  ==================
ws        ``M K ceil(N/C)``       ``K N``                  ``M N ceil(K/R)``        writes - ``M N``
is        ``K M``                 ``N K ceil(M/C)``        ``M N ceil(K/R)``        writes - ``M N``
os        ``M K ceil(N/C)``       ``K N ceil(M/R)``        ``M N``                  0
========  ======================  =======================  =======================  ==================

Every fold of ws/is writes its partial sums; all but the first per output are read back to be
accumulated (SCALE-Sim counts the writes, not the reads).

Worked example
--------------
ws on a 2 x 2 array, ``M = 3, K = 2, N = 2``: one fold (``Sr = 2 <= 2``, ``Sc = 2 <= 2``) of
``L = 2*2 + 2 + 3 - 2 = 7`` cycles: cycles 0-1 load the filters; ``A[0, 0]`` enters row 0 at cycle
2, ``A[0, 1]`` row 1 at cycle 3; ``O[0, 0]`` leaves column 0 at cycle ``2*2 - 1 + 0 + 0 = 3`` and
the last output ``O[2, 1]`` at cycle ``3 + 2 + 1 = 6``. ifmap reads ``3*2*1 = 6``, filter reads
``4``, ofmap writes ``3*2*1 = 6``. SCALE-Sim reports 6 total cycles (0-indexed), mapping
efficiency 100 % and compute util ``4*3 / (4 * (7 + 2 - 1)) = 37.5 %``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hwsim.types import Dataflow
from hwsim.workload.lowering import GemmDims


@dataclass(frozen=True)
class FoldMapping:
    """One GEMM laid on an ``rows x cols`` array.

    The numbers may be NumPy arrays, one entry per design (:mod:`hwsim.sim.batch`): every formula here and in
    :func:`gemm_compute` is elementwise. :meth:`rows_used` and :meth:`cols_used` list folds and need numbers.
    """

    dataflow: Dataflow
    rows: int
    cols: int
    sr: int
    sc: int
    t: int

    @property
    def row_folds(self) -> int:
        return -(-self.sr // self.rows)

    @property
    def col_folds(self) -> int:
        return -(-self.sc // self.cols)

    @property
    def folds(self) -> int:
        return self.row_folds * self.col_folds

    def rows_in(self, row_fold: int | np.ndarray) -> int | np.ndarray:
        """Array rows that row fold ``row_fold`` (0-based, any array of them) uses."""
        return np.minimum(self.rows, self.sr - self.rows * row_fold)

    def cols_in(self, col_fold: int | np.ndarray) -> int | np.ndarray:
        """Array columns that column fold ``col_fold`` uses."""
        return np.minimum(self.cols, self.sc - self.cols * col_fold)

    def rows_used(self) -> np.ndarray:
        """Array rows each fold uses, in fold order (column fold outer, row fold inner)."""
        return np.tile(self.rows_in(np.arange(self.row_folds)), self.col_folds)

    def cols_used(self) -> np.ndarray:
        """Array columns each fold uses, in fold order."""
        return np.repeat(self.cols_in(np.arange(self.col_folds)), self.row_folds)

    def fold_cycles(self, compat: bool = False) -> int:
        """Cycles of one fold (``L``)."""
        r, c, t = self.rows, self.cols, self.t
        if compat and self.dataflow is Dataflow.OUTPUT_STATIONARY:
            return t + r + c - 2
        return 2 * r + c + t - 2


def map_gemm(gemm: GemmDims, rows: int, cols: int, dataflow: Dataflow) -> FoldMapping:
    """Which GEMM dimension goes on the array's rows, columns and time for ``dataflow``."""
    m, n, k = gemm.m, gemm.n, gemm.k
    sr, sc, t = {
        Dataflow.WEIGHT_STATIONARY: (k, n, m),
        Dataflow.INPUT_STATIONARY: (k, m, n),
        Dataflow.OUTPUT_STATIONARY: (m, n, k),
    }[dataflow]
    return FoldMapping(dataflow=dataflow, rows=rows, cols=cols, sr=sr, sc=sc, t=t)


@dataclass(frozen=True)
class ComputeCounts:
    """Compute-side results for ``repeat`` runs of one GEMM (no memory stalls)."""

    macs: int
    folds: int
    cycles: int
    ifmap_reads: int
    filter_reads: int
    ofmap_writes: int
    ofmap_reads: int
    mapping_efficiency: float
    compute_util: float


def gemm_compute(gemm: GemmDims, rows: int, cols: int, dataflow: Dataflow, *, compat: bool = False) -> ComputeCounts:
    """Cycles and SRAM accesses of ``gemm.repeat`` runs of a GEMM, in closed form.

    With ``compat`` the numbers follow SCALE-Sim 3.0.0 (module docstring); each repeat counts as one
    SCALE-Sim layer, so its 0-indexed total loses one cycle per repeat. ``gemm``'s dimensions, ``rows`` and
    ``cols`` may be integer arrays (one entry per design); the counts are then arrays too.
    """
    fm = map_gemm(gemm, rows, cols, dataflow)
    m, n, k = gemm.m, gemm.n, gemm.k
    length = fm.fold_cycles(compat)
    folds = fm.folds
    cycles = folds * length - (1 if compat else 0)
    if dataflow is Dataflow.WEIGHT_STATIONARY:
        ifmap, filt, ofmap = m * k * fm.col_folds, k * n, m * n * fm.row_folds
    elif dataflow is Dataflow.INPUT_STATIONARY:
        ifmap, filt, ofmap = k * m, n * k * fm.col_folds, m * n * fm.row_folds
    else:
        ifmap, filt, ofmap = m * k * fm.col_folds, k * n * fm.row_folds, m * n
    psum_reads = ofmap - m * n
    if compat and dataflow is Dataflow.OUTPUT_STATIONARY:
        ofmap += folds * (rows + cols)  # SCALE-Sim 3.0.0 adds the flipped tile's shape to its count
    span = length if dataflow is Dataflow.OUTPUT_STATIONARY else length + cols - 1
    used = fm.sr * fm.sc  # summed over folds
    r = gemm.repeat
    return ComputeCounts(
        macs=gemm.macs,
        folds=folds * r,
        cycles=cycles * r,
        ifmap_reads=ifmap * r,
        filter_reads=filt * r,
        ofmap_writes=ofmap * r,
        ofmap_reads=0 if compat else psum_reads * r,
        mapping_efficiency=used / (rows * cols * folds),
        compute_util=used * fm.t / (rows * cols * span * folds),
    )


def pack_groups(gemm: GemmDims, rows: int, cols: int, dataflow: Dataflow) -> GemmDims:
    """Run several groups of a grouped GEMM as one block-diagonal GEMM.

    ``p`` groups become ``A' = [A_1 | ... | A_p]`` (``M x pK``) times ``blockdiag(B_1, ..., B_p)``
    (``pK x pN``), whose output is ``[O_1 | ... | O_p]``: a depthwise 3x3 that alone uses 9 of 64
    rows and 1 of 64 columns shares a weight-stationary fold with 6 other channels. ``p`` is as many
    groups as fit the array dimensions the packed sizes land on (rows and columns for ws, rows for
    is, columns for os; the time dimension is free). Returns ``ceil(groups / p)`` runs of the packed
    GEMM; its ``macs`` count the zero blocks, so utilisation must use the layer's own MACs.
    """
    if gemm.repeat == 1:
        return gemm
    fits_rows = max(1, rows // gemm.k)
    fits_cols = max(1, cols // gemm.n)
    p = {
        Dataflow.WEIGHT_STATIONARY: min(fits_rows, fits_cols),
        Dataflow.INPUT_STATIONARY: fits_rows,
        Dataflow.OUTPUT_STATIONARY: fits_cols,
    }[dataflow]
    p = min(p, gemm.repeat)
    if p == 1:
        return gemm
    return GemmDims(m=gemm.m, n=gemm.n * p, k=gemm.k * p, repeat=math.ceil(gemm.repeat / p))
