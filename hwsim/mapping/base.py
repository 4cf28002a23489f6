"""What a mapping is: one GEMM laid on one systolic array, folds, tiles and all, computed once.

A :class:`Mapping` is a dataflow's rule for laying a GEMM ``O[M, N] = A[M, K] @ B[K, N]`` (the one lowering,
:mod:`hwsim.workload.lowering`) on an ``R x C`` array: which GEMM dimension goes on the array's rows (``Sr``), on its
columns (``Sc``) and through time (``T``), which operand stays in the PEs during a fold, how groups pack and how
often each operand is read from SRAM. :func:`hwsim.mapping.lay` applies the rule once per layer and returns a
:class:`LayerMapping`; every model (the fast engine, the batch engine, the stepped references, SAT's sparse engine
and training step, the RTL generator) takes that object instead of deriving the numbers again.

Numbers in :class:`FoldMapping` and :class:`LayerMapping` may be NumPy arrays, one entry per layer or per design
(:mod:`hwsim.sim.batch`): every formula here is elementwise.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterator, Protocol, runtime_checkable

import numpy as np

from hwsim.types import Dataflow, Operand, Record, record
from hwsim.workload.lowering import GemmDims


@record
class FoldMapping(Record):
    """The fold geometry of one GEMM on an ``rows x cols`` array: ``Sr`` rows by ``Sc`` columns, ``T`` in time.

    ``ceil(Sr / rows) * ceil(Sc / cols)`` folds run back to back, column fold outer. :meth:`rows_used` and
    :meth:`cols_used` list folds and need numbers, not arrays.
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

    def tiles(self) -> Iterator[tuple[int, int, int, int]]:
        """``(r0, rows used, c0, columns used)`` of each fold, in fold order (column fold outer, SCALE-Sim's)."""
        for c0 in range(0, self.sc, self.cols):
            for r0 in range(0, self.sr, self.rows):
                yield r0, min(self.rows, self.sr - r0), c0, min(self.cols, self.sc - c0)

    def step_cycles(self, interleave: bool = False) -> int:
        """Cycles from one fold's start to the next's: ``L``, or ``R + T`` under SAT's interleave mapping (the next
        fold's stationary load and stream start as soon as this fold's last streamed value has entered)."""
        return self.rows + self.t if interleave else self.fold_cycles()

    def fold_cycles(self, compat: bool = False) -> int:
        """Cycles of one fold on a clean array (``L = 2R + C + T - 2``; SCALE-Sim's os fold with ``compat``)."""
        r, c, t = self.rows, self.cols, self.t
        if compat and self.dataflow is Dataflow.OUTPUT_STATIONARY:
            return t + r + c - 2
        return 2 * r + c + t - 2


@runtime_checkable
class Mapping(Protocol):
    """A dataflow's rule for laying GEMMs on a systolic array (one module per dataflow, one registry entry)."""

    name: str
    """The registry key users type (``--dataflow ws``)."""
    dataflow: Dataflow
    resident: Operand
    """The operand that stays in the PEs during a fold (``ofmap`` for output stationary)."""
    stream_dim: str
    """The GEMM dimension (``"m"``, ``"n"`` or ``"k"``) streamed through the array in time: ``T``."""
    sparse: bool
    """Whether an N:M sparse filter operand can run on it (SAT's engine runs ws and os)."""

    def fold_dims(self, gemm: GemmDims) -> tuple[int, int, int]:
        """``(Sr, Sc, T)``: the GEMM dimensions on the array's rows, on its columns and in time."""

    def pack_factor(self, gemm: GemmDims, rows: int, cols: int) -> int:
        """How many groups of a grouped GEMM fit one block-diagonal fold (the time dimension is free)."""

    def sram_accesses(self, run: GemmDims, fold: FoldMapping, row_elements: int) -> tuple[int, int, int]:
        """SRAM (ifmap reads, filter reads, ofmap writes) of one run, in elements.

        ``row_elements`` is what one row of ``A`` supplies to the run's ``K`` rows: ``K`` for a dense GEMM, the
        in-range window elements ``E`` for an N:M sparse one (:func:`hwsim.mapping.sparse.window_elements`).
        """


@record
class LayerMapping(Record):
    """One layer's GEMM laid on one array by one mapping: what every model takes.

    Attributes
    ----------
    mapping
        The rule (a :class:`Mapping` from the registry).
    gemm
        The layer's own GEMM (dense ``K``, every group a repeat).
    run
        What the array runs: groups packed block-diagonally (``packed_groups`` per run) and, for N:M sparse
        weights, ``K`` compressed to ``K'`` rows.
    fold
        The fold geometry of ``run``.
    packed_groups
        Groups of ``gemm`` per run of ``run`` (1 unless packed).
    n_keep, m_group
        N:M sparsity of the filter operand along ``K``; dense is ``n_keep == m_group`` (``1:1``).
    row_elements
        Elements one row of ``A`` supplies to the run's ``K'`` rows (``K`` when dense).
    stream_tile
        The longest stream (``T``) whose 32-bit partial sums for one column fold fit half the ofmap SRAM; the run is
        cut into the fewest stream tiles no longer than this (:meth:`stream_tiles`) so partial sums never leave the
        chip (``T`` itself when they fit or there is one row fold, and always for output stationary, which
        accumulates in the PEs).
    """

    mapping: Mapping
    gemm: GemmDims
    run: GemmDims
    fold: FoldMapping
    packed_groups: int = 1
    n_keep: int = 1
    m_group: int = 1
    row_elements: int | np.ndarray = 0
    stream_tile: int | np.ndarray = 0

    @property
    def dataflow(self) -> Dataflow:
        return self.mapping.dataflow

    @property
    def resident(self) -> Operand:
        return self.mapping.resident

    @property
    def window(self) -> int:
        """Activations each PE's multiplexer chooses from: 1 when dense, ``m_group`` for N:M sparse weights."""
        return 1 if self.n_keep == self.m_group else self.m_group

    @property
    def dense(self) -> bool:
        return self.n_keep == self.m_group

    def stream_tiles(self) -> tuple:
        """How a run's stream is cut: into the fewest tiles of at most :attr:`stream_tile`, as even as they go.

        Returns ``(longer, longer_count, shorter, shorter_count)``: ``longer_count`` tiles of ``longer`` positions,
        then ``shorter_count >= 1`` of ``shorter = longer - 1`` (every tile is ``shorter`` long when
        ``longer_count`` is 0). Even tiles, not full ones and a remainder: a short last tile drains its outputs
        while the array has little left to compute, and fewer, longer tiles would then cost cycles.
        """
        count = -(-self.fold.t // self.stream_tile)
        shorter, longer_count = np.divmod(self.fold.t, count)
        return shorter + 1, longer_count, shorter, count - longer_count

    def with_stream(self, t: int | np.ndarray) -> "LayerMapping":
        """This mapping for a stream tile: the run's streamed dimension (``T``) cut to ``t``."""
        run = replace(self.run, **{self.mapping.stream_dim: t})
        sr, sc, tt = self.mapping.fold_dims(run)
        return replace(self, run=run, fold=replace(self.fold, sr=sr, sc=sc, t=tt), stream_tile=t)

    def with_repeat(self, repeat: int | np.ndarray) -> "LayerMapping":
        """This mapping run ``repeat`` times back to back (stream tiles counted as repeats)."""
        return replace(self, run=replace(self.run, repeat=repeat))
