"""Cases and the specified edge schedule shared by the property tests of the stepped machine's two front ends.

``simulate_gemm`` (dense, ws/os/is) and ``simulate_sparse_gemm`` (N:M, ws/os) drive the same stepping kernels, and
dense is N:M with a window of one, so one case type describes both: a dense case is ``1:1`` with every weight kept
in place (its window, slot and schedule rules are the N:M ones with ``window = 1``). Every expectation here is
computed from the mapping's definition (module docstrings of ``hwsim.sim.stepped`` and ``hwsim.sim.sparse``),
never from the simulator's internals. The sparse operand is pruned by a small helper of the tests' own, with random
kept positions (so kept slots come in any order within a group, and slots of a partial group may point past ``K``:
empty).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from hwsim.sim.sparse import simulate_sparse_gemm
from hwsim.sim.stepped import BUBBLE, SteppedResult, simulate_gemm
from hwsim.types import Dataflow

WS, OS, IS = Dataflow.WEIGHT_STATIONARY, Dataflow.OUTPUT_STATIONARY, Dataflow.INPUT_STATIONARY
INT8 = st.integers(-128, 127)  # hypothesis favours the bounds, so -128 and 127 come up often


def prune(b: np.ndarray, n_keep: int, m_group: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Compress ``b`` ``n_keep:m_group`` along K with random kept positions: ``(values, indices, decompressed)``.

    Dense mode keeps every weight in place. Otherwise each group and column keeps ``n_keep`` distinct in-group
    positions in random order (the partial group ``min(n_keep, p)``), any of which may lie past ``K``.
    """
    k, n = b.shape
    q, p = divmod(k, m_group)
    kc = q * n_keep + min(n_keep, p)
    if n_keep == m_group:
        return b.copy(), np.repeat((np.arange(k) % m_group)[:, None], n, axis=1).astype(np.uint8), b.copy()
    groups = -(-k // m_group)
    rng = np.random.default_rng(seed)
    chosen = np.argsort(rng.random((groups, n, m_group)), axis=-1)[..., :n_keep]  # (G, N, n_keep)
    indices = chosen.transpose(0, 2, 1).reshape(groups * n_keep, n)[:kc]
    pos = (np.arange(kc) // n_keep * m_group)[:, None] + indices
    col = np.broadcast_to(np.arange(n), pos.shape)
    keep = pos < k
    values = np.zeros((kc, n), dtype=np.int8)
    values[keep] = b[pos[keep], col[keep]]
    dense = np.zeros_like(b)
    dense[pos[keep], col[keep]] = b[pos[keep], col[keep]]
    return values, indices.astype(np.uint8), dense


@dataclass(frozen=True)
class Case:
    a: np.ndarray
    b: np.ndarray  # the dense operand before pruning
    values: np.ndarray
    indices: np.ndarray
    b_kept: np.ndarray  # the decompressed operand: b with its pruned weights zeroed
    n_keep: int
    m_group: int
    rows: int
    cols: int
    flow: Dataflow
    sparse: bool  # run by simulate_sparse_gemm (otherwise by simulate_gemm, as 1:1)

    @property
    def mkn(self) -> tuple[int, int, int]:
        return self.a.shape[0], self.a.shape[1], self.b.shape[1]

    @property
    def kc(self) -> int:
        return self.values.shape[0]

    @property
    def window(self) -> int:
        """Activations per window: ``m_group``, or 1 in dense mode (``n_keep == m_group``)."""
        return self.m_group if self.n_keep < self.m_group else 1

    def start(self, r: int) -> int:
        """First ``k`` of the window compressed row ``r`` is fed: its own ``k`` when windows are single."""
        return r if self.window == 1 else r // self.n_keep * self.m_group

    def slot(self, r: int, c: int) -> int:
        """Trace entry of slot ``(r, c)``: ``k*N + n`` of its dense weight, or BUBBLE when empty."""
        _, k, n = self.mkn
        pos = r // self.n_keep * self.m_group + int(self.indices[r, c])
        return pos * n + c if pos < k else BUBBLE

    @property
    def space(self) -> tuple[int, int, int]:
        """``(Sr, Sc, T)``: what the array's rows and columns hold, and how many steps stream past."""
        m, k, n = self.mkn
        return {WS: (self.kc, n, m), IS: (k, m, n), OS: (m, n, self.kc)}[self.flow]

    @property
    def folds(self) -> tuple[int, int]:
        sr, sc, _ = self.space
        return -(-sr // self.rows), -(-sc // self.cols)

    @property
    def fold_length(self) -> int:
        return 2 * self.rows + self.cols + self.space[2] - 2

    def fold_ranges(self):
        """``(fold number, Sr range, Sc range)`` in the array's order: column fold outer."""
        sr, sc, _ = self.space
        row_folds, col_folds = self.folds
        for fc in range(col_folds):
            for fr in range(row_folds):
                yield (fc * row_folds + fr, range(fr * self.rows, min(sr, fr * self.rows + self.rows)),
                       range(fc * self.cols, min(sc, fc * self.cols + self.cols)))

    def run(self) -> SteppedResult:
        if not self.sparse:
            return simulate_gemm(self.a, self.b, self.rows, self.cols, self.flow)
        _, k, _ = self.mkn
        return simulate_sparse_gemm(self.a, self.values, self.indices, k=k, n_keep=self.n_keep,
                                    m_group=self.m_group, rows=self.rows, cols=self.cols, dataflow=self.flow)


@st.composite
def cases(draw, sparse: bool = False, dense_mode: bool = False) -> Case:
    """A GEMM of up to 12 x 12 x 12 on an array of up to 6 x 6: for ``simulate_gemm`` (ws/os/is, 1:1), or for
    ``simulate_sparse_gemm`` (ws/os) with ``n_keep < m_group`` or, with ``dense_mode``, ``n_keep == m_group``."""
    m, k, n = draw(st.integers(1, 12)), draw(st.integers(1, 12)), draw(st.integers(1, 12))
    if not sparse:
        m_group = n_keep = 1
    elif dense_mode:
        m_group = n_keep = draw(st.integers(1, 8))
    else:
        m_group = draw(st.integers(2, 8))
        n_keep = draw(st.integers(1, m_group - 1))
    a = draw(hnp.arrays(np.int8, (m, k), elements=INT8))
    b = draw(hnp.arrays(np.int8, (k, n), elements=INT8))
    values, indices, b_kept = prune(b, n_keep, m_group, draw(st.integers(0, 2**32 - 1)))
    return Case(a, b, values, indices, b_kept, n_keep, m_group, draw(st.integers(1, 6)), draw(st.integers(1, 6)),
                draw(st.sampled_from([WS, OS] if sparse else [WS, OS, IS])), sparse)


def schedule(case: Case) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The module docstrings' edge schedule, element by element: ifmap, filter, weight loads, ofmap.

    The weight side is the filter (ws, os) or the ifmap (is); its loads count every slot, empty ones included.
    """
    m, k, n = case.mkn
    R, C = case.rows, case.cols
    t_len = case.space[2]
    length = case.fold_length
    cycles = case.folds[0] * case.folds[1] * length
    ifmap = np.full((cycles, R if case.flow is not IS else C), BUBBLE)
    filt = np.full((cycles, C if case.flow is not IS else R), BUBBLE)
    loads = np.zeros((cycles, C), dtype=bool)
    ofmap = np.full((cycles, C), BUBBLE)
    for fold, srange, crange in case.fold_ranges():
        base = fold * length
        if case.flow is OS:
            for i, mm in enumerate(srange):
                for t in range(t_len):
                    ifmap[base + t + i, i] = mm * k + case.start(t)
                for j, c in enumerate(crange):
                    # column j drains from T - 1 + R + j, bottom array row first: array row i at step R - 1 - i
                    ofmap[base + t_len - 1 + R + j + (R - 1 - i), j] = mm * n + c
            for j, c in enumerate(crange):
                for t in range(t_len):
                    filt[base + t + j, j] = case.slot(t, c)
                    loads[base + t + j, j] = True
            continue
        held, streamed = (filt, ifmap) if case.flow is WS else (ifmap, filt)
        held_index = case.slot if case.flow is WS else (lambda kk, s: s * k + kk)
        streamed_index = (lambda t, rr: t * k + case.start(rr)) if case.flow is WS else (lambda t, kk: kk * n + t)
        o_index = (lambda t, s: t * n + s) if case.flow is WS else (lambda t, s: s * n + t)
        for i, rr in enumerate(srange):
            for j, s in enumerate(crange):
                held[base + R - 1 - i, j] = held_index(rr, s)  # bottom row first
                loads[base + R - 1 - i, j] = True
            for t in range(t_len):
                streamed[base + R + t + i, i] = streamed_index(t, rr)
        for j, s in enumerate(crange):
            for t in range(t_len):
                ofmap[base + 2 * R - 1 + t + j, j] = o_index(t, s)
    return ifmap, filt, loads, ofmap
