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


from hwsim.mapping import LayerMapping
from hwsim.types import Operand, Record, record


@record
class ComputeCounts(Record):
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


def gemm_compute(lm: LayerMapping, *, compat: bool = False, interleave: bool = False) -> ComputeCounts:
    """Cycles and SRAM accesses of the ``lm.run.repeat`` runs a layer mapping lays on the array, in closed form.

    With ``compat`` the numbers follow SCALE-Sim 3.0.0 (module docstring); each repeat counts as one
    SCALE-Sim layer, so its 0-indexed total loses one cycle per repeat. The mapping's numbers may be integer arrays
    (one entry per layer or design); the counts are then arrays too. An N:M sparse mapping runs the dense machine
    on its ``K'`` compressed rows; only its ifmap reads differ (windows, :mod:`hwsim.sim.sparse`).

    ``interleave`` is SAT's interleave mapping: a fold's successor starts loading as soon as its last streamed value
    has entered, so every fold but a run's last takes :meth:`~hwsim.mapping.FoldMapping.step_cycles` (``R + T``)
    and the fill/drain bubble is paid once per run.
    """
    fm, run = lm.fold, lm.run
    rows, cols = fm.rows, fm.cols
    length = fm.fold_cycles(compat)
    folds = fm.folds
    cycles = folds * length - (1 if compat else 0)
    if interleave:
        cycles = (folds - 1) * fm.step_cycles(interleave=True) + length
    ifmap, filt, ofmap = lm.mapping.sram_accesses(run, fm, lm.row_elements)
    psum_reads = ofmap - run.m * run.n
    stationary_out = lm.resident is Operand.OFMAP
    if compat and stationary_out:
        ofmap += folds * (rows + cols)  # SCALE-Sim 3.0.0 adds the flipped tile's shape to its count
    span = length if stationary_out else length + cols - 1
    used = fm.sr * fm.sc  # summed over folds
    r = run.repeat
    return ComputeCounts(
        macs=run.macs,
        folds=folds * r,
        cycles=cycles * r,
        ifmap_reads=ifmap * r,
        filter_reads=filt * r,
        ofmap_writes=ofmap * r,
        ofmap_reads=0 if compat else psum_reads * r,
        mapping_efficiency=used / (rows * cols * folds),
        compute_util=used * fm.t / (rows * cols * span * folds),
    )
