"""N:M structured sparsity: at most N non-zeros in every group of M consecutive weights.

:class:`NMSparsity` names the pattern; :func:`prune_mask` and :func:`compress` apply it to real
weights (magnitude pruning, with the padding rule for a reduction that ``M`` does not divide) and
:class:`NMCompressed` is the values-plus-indices form an N:M engine stores.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from hwsim.errors import InputError
from hwsim.types import Record, record

_NM_RE = re.compile(r"^\s*(\d+)\s*:\s*(\d+)\s*$")


@record
class NMSparsity(Record):
    """N non-zeros kept out of every M weights along the reduction dimension.

    ``N == M`` is dense. The groups run along the GEMM's K (reduction) dimension, which is
    where an N:M engine picks its operands (the SAT convention, see shared PAPERS.md).
    """

    n: int
    m: int

    def __post_init__(self) -> None:
        if self.m < 1:
            raise InputError("M must be >= 1", field="sparsity", value=f"{self.n}:{self.m}")
        if self.n < 1:
            raise InputError("N must be >= 1", field="sparsity", value=f"{self.n}:{self.m}")
        if self.n > self.m:
            raise InputError("N must not exceed M", field="sparsity", value=f"{self.n}:{self.m}")

    @classmethod
    def parse(cls, text: object) -> "NMSparsity":
        if isinstance(text, NMSparsity):
            return text
        match = _NM_RE.match(text) if isinstance(text, str) else None
        if not match:
            raise InputError("expected 'N:M', e.g. '2:4'", field="sparsity", value=text)
        return cls(int(match.group(1)), int(match.group(2)))

    @property
    def density(self) -> float:
        return self.n / self.m

    def __str__(self) -> str:
        return f"{self.n}:{self.m}"


# -- real N:M pruning --------------------------------------------------------------------------


def index_bits(m: int) -> int:
    """Bits of one within-group index, ``ceil(log2 M)``; 0 when ``M == 1`` (nothing to choose)."""
    return (m - 1).bit_length()


def kept_count(length: int, sparsity: NMSparsity | None) -> int:
    """Elements kept out of ``length`` consecutive ones under ``sparsity`` (``None``: all of them).

    The padding rule of :func:`prune_mask`: every full group of ``M`` keeps ``N``; a last partial
    group of ``L < M`` real elements keeps ``min(N, L)``.

    >>> kept_count(27, NMSparsity(2, 8))   # 3 full groups keep 6, the last 3 elements keep 2
    8
    """
    if sparsity is None:
        return length
    full, rest = divmod(length, sparsity.m)
    return full * sparsity.n + min(sparsity.n, rest)


def _magnitude(weights: np.ndarray) -> np.ndarray:
    """A key that orders ``|w|`` exactly, whatever the dtype.

    ``np.abs`` of a signed integer overflows at its minimum (``|int8(-128)|`` is -128), so signed
    integers go through int64 and are read back as uint64: negating int64's minimum wraps to
    itself, whose uint64 reading is the right ``2**63``.
    """
    dtype = weights.dtype
    if dtype == np.bool_:
        return weights.astype(np.uint8)
    if np.issubdtype(dtype, np.unsignedinteger):
        return weights
    if np.issubdtype(dtype, np.signedinteger):
        wide = weights.astype(np.int64)
        return np.where(wide < 0, -wide, wide).astype(np.uint64)
    if np.issubdtype(dtype, np.number):
        return np.abs(weights)
    raise InputError("expected a numeric array", field="weights", value=str(dtype))


def _check_axis(weights: np.ndarray, axis: object) -> int:
    if weights.ndim == 0:
        raise InputError("expected an array with at least one dimension", field="weights", value=weights.shape)
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool) or not -weights.ndim <= axis < weights.ndim:
        raise InputError(f"must be a whole number in [-{weights.ndim}, {weights.ndim - 1}]", field="axis", value=axis)
    return int(axis) % weights.ndim


def _grouped(weights: np.ndarray, m: int, axis: int) -> np.ndarray:
    """``weights`` with ``axis`` moved last, zero-padded to a multiple of ``m`` and cut into
    ``(..., groups, m)``."""
    moved = np.moveaxis(weights, axis, -1)
    length = moved.shape[-1]
    groups = -(-length // m)
    pad = [(0, 0)] * (moved.ndim - 1) + [(0, groups * m - length)]
    return np.pad(moved, pad).reshape(moved.shape[:-1] + (groups, m))


def _real(length: int, m: int) -> np.ndarray:
    """``(groups, m)``: which positions of the padded axis hold real elements."""
    groups = -(-length // m)
    return (np.arange(groups * m) < length).reshape(groups, m)


def _kept_grouped(weights: np.ndarray, sparsity: NMSparsity, axis: int) -> np.ndarray:
    """The keep-mask in the grouped ``(..., groups, M)`` layout of :func:`_grouped`."""
    n, m = sparsity.n, sparsity.m
    key = _grouped(_magnitude(weights), m, axis)
    # Top N by (|w| descending, index ascending) == the last N of a stable ascending sort of the
    # group read backwards: the backwards read turns "lower index wins a tie" into "sorts later".
    order = np.argsort(key[..., ::-1], axis=-1, kind="stable")[..., m - n:]
    kept = np.zeros(key.shape, dtype=bool)
    np.put_along_axis(kept, m - 1 - order, True, axis=-1)
    # Padding is zero and sits after the real elements, so it loses every tie with a real zero and
    # is picked only when a short last group has fewer than N real elements; it is never kept.
    return kept & _real(weights.shape[axis], m)


def prune_mask(weights: np.ndarray, sparsity: NMSparsity, axis: int) -> np.ndarray:
    """Magnitude N:M pruning: which elements of ``weights`` survive.

    Parameters
    ----------
    weights
        Any numeric array.
    sparsity
        Keep ``N`` of every ``M``.
    axis
        The axis the groups run along (a GEMM's reduction ``K``); negative counts from the end.

    Returns
    -------
    numpy.ndarray
        Boolean, ``weights.shape``: ``True`` where the element is kept.

    Notes
    -----
    Groups are ``M`` consecutive elements along ``axis``, starting at index 0. Each keeps its ``N``
    largest magnitudes; of equal magnitudes the lower index wins, so the mask is deterministic
    (NaN counts as larger than any number, NumPy's sort order).

    **When M does not divide the axis length**, the axis is taken as zero-padded at its end to the
    next multiple of ``M``. The padding is never kept: the last, partial group of ``L < M`` real
    elements keeps ``min(N, L)`` of them (all of them when ``L <= N``). An engine that stores ``N``
    slots per group stores that group like a full one, with the unused slots empty (see
    :class:`NMCompressed`); :func:`kept_count` gives the number of kept elements per line.

    >>> prune_mask(np.array([3, -5, 1, -3, 0, 2]), NMSparsity(2, 4), axis=0)  # 3 beats -3: lower index
    array([ True,  True, False, False,  True,  True])
    """
    weights = np.asarray(weights)
    axis = _check_axis(weights, axis)
    kept = _kept_grouped(weights, sparsity, axis)
    moved = kept.reshape(kept.shape[:-2] + (-1,))[..., : weights.shape[axis]]
    return np.moveaxis(moved, -1, axis)


@dataclass(frozen=True, eq=False)  # eq=False: fields are arrays, whose == is element-wise
class NMCompressed:
    """An N:M pruned tensor as an N:M engine stores it: ``N`` values and ``N`` indices per group.

    Parameters
    ----------
    values
        ``(..., groups, N)`` in the weights' dtype, where ``...`` are the other axes of ``shape``
        in order (``axis`` removed). The kept values of each group, by ascending index.
    indices
        ``(..., groups, N)`` uint8: each value's position within its group, ``0 .. M-1``.
    shape
        The original (dense) shape.
    axis
        The axis the groups run along, ``0 <= axis < len(shape)``.
    sparsity
        The ``N:M`` pattern.

    Notes
    -----
    Every group has ``N`` slots. Only a short last group (``L < N`` real elements, see the padding
    rule of :func:`prune_mask`) leaves slots unfilled; those come after the filled ones and hold
    value 0 and index 0 (they decompress to nothing).
    """

    values: np.ndarray
    indices: np.ndarray
    shape: tuple[int, ...]
    axis: int
    sparsity: NMSparsity

    def __post_init__(self) -> None:
        shape = tuple(int(d) for d in self.shape)
        object.__setattr__(self, "shape", shape)
        if not 0 <= self.axis < len(shape):
            raise InputError(f"must be in [0, {len(shape) - 1}]", field="axis", value=self.axis)
        outer = shape[: self.axis] + shape[self.axis + 1:]
        slots = outer + (-(-shape[self.axis] // self.sparsity.m), self.sparsity.n)
        for name in ("values", "indices"):
            if getattr(self, name).shape != slots:
                raise InputError(f"expected shape {slots}", field=name, value=getattr(self, name).shape)
        if self.indices.dtype != np.uint8:
            raise InputError("expected uint8", field="indices", value=str(self.indices.dtype))

    def _filled(self) -> np.ndarray:
        """``(groups, N)``: which slots hold a kept element (all but a short last group's tail)."""
        length, (n, m) = self.shape[self.axis], (self.sparsity.n, self.sparsity.m)
        real = np.minimum(length - m * np.arange(-(-length // m)), m)
        return np.arange(n) < np.minimum(real, n)[:, None]

    def decompress(self) -> np.ndarray:
        """The dense tensor: kept values in place, zeros elsewhere."""
        m = self.sparsity.m
        length = self.shape[self.axis]
        groups = self.values.shape[-2]
        dense = np.zeros(self.values.shape[:-1] + (m,), dtype=self.values.dtype)
        # Unfilled slots all say index 0; sending them to position M-1, which is padding in a short
        # last group, keeps the scatter free of duplicate targets.
        target = np.where(self._filled(), self.indices.astype(np.intp), m - 1)
        np.put_along_axis(dense, np.broadcast_to(target, self.values.shape), self.values, axis=-1)
        flat = dense.reshape(dense.shape[:-2] + (groups * m,))[..., :length]
        return np.moveaxis(flat, -1, self.axis)

    @property
    def nonzeros(self) -> int:
        """Kept elements (filled slots); a kept weight may itself be 0."""
        return int(self._filled().sum()) * int(np.prod(self.values.shape[:-2], dtype=np.int64))

    @property
    def metadata_bits(self) -> int:
        """Index bits: every stored slot (filled or not) carries ``ceil(log2 M)`` bits; 0 if ``M == 1``."""
        return self.values.size * index_bits(self.sparsity.m)

    def storage_bits(self, value_bits: int) -> int:
        """Values plus indices, every slot stored, at ``value_bits`` per value."""
        if not isinstance(value_bits, (int, np.integer)) or isinstance(value_bits, bool) or value_bits < 1:
            raise InputError("must be a whole number >= 1", field="value_bits", value=value_bits)
        return self.values.size * int(value_bits) + self.metadata_bits


def compress(weights: np.ndarray, sparsity: NMSparsity, axis: int) -> NMCompressed:
    """Prune ``weights`` N:M along ``axis`` (exactly as :func:`prune_mask`) and pack the survivors.

    ``compress(w, s, a).decompress() == w * prune_mask(w, s, a)``.

    >>> c = compress(np.array([3, -5, 1, -3, 0, 2]), NMSparsity(2, 4), axis=0)
    >>> c.values.tolist(), c.indices.tolist(), c.metadata_bits
    ([[3, -5], [0, 2]], [[0, 1], [0, 1]], 8)
    """
    weights = np.asarray(weights)
    axis = _check_axis(weights, axis)
    n, m = sparsity.n, sparsity.m
    if m > 256:
        raise InputError("M must be <= 256 for uint8 indices", field="sparsity", value=str(sparsity))
    kept = _kept_grouped(weights, sparsity, axis)
    grouped = _grouped(weights, m, axis)
    # A stable sort of "not kept" lists the kept positions first, in ascending index order; a
    # short last group has fewer than N of them and its tail slots pick up padding positions.
    slots = np.argsort(~kept, axis=-1, kind="stable")[..., :n]
    filled = np.take_along_axis(kept, slots, axis=-1)
    values = np.where(filled, np.take_along_axis(grouped, slots, axis=-1), 0).astype(weights.dtype)
    indices = np.where(filled, slots, 0).astype(np.uint8)
    values.flags.writeable = False
    indices.flags.writeable = False
    return NMCompressed(values=values, indices=indices, shape=weights.shape, axis=axis, sparsity=sparsity)
