"""Real N:M magnitude pruning: the mask, the padding rule, and the compressed form."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import hwsim.workload.sparsity
from hwsim.errors import InputError
from hwsim.workload.sparsity import NMCompressed, NMSparsity, compress, kept_count, prune_mask

# Small element ranges make equal magnitudes (ties) common; int8's full range includes -128.
DTYPES = {
    "int8": st.integers(-128, 127),
    "int16": st.integers(-3, 3),
    "int64": st.sampled_from([-(2**63), 2**63 - 1, -1, 0, 1]),
    "uint8": st.integers(0, 3),
    "float16": st.sampled_from([-1.5, -1.0, 0.0, 1.0, 1.5]),
    "float32": st.floats(-4, 4, width=32),
    "float64": st.floats(-1e6, 1e6),
}


@st.composite
def cases(draw):
    """(weights, sparsity, axis)."""
    dtype = draw(st.sampled_from(sorted(DTYPES)))
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=9))
    weights = draw(hnp.arrays(np.dtype(dtype), shape, elements=DTYPES[dtype]))
    m = draw(st.integers(1, 9))
    n = draw(st.integers(1, m))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    return weights, NMSparsity(n, m), axis


def reference_mask(weights, sparsity, axis):
    """Brute force, one group at a time: sort by (|w| descending, index ascending), keep N."""
    moved = np.moveaxis(weights, axis, -1)
    mask = np.zeros(moved.shape, dtype=bool)
    for line in np.ndindex(moved.shape[:-1]):
        for start in range(0, moved.shape[-1], sparsity.m):
            group = range(start, min(start + sparsity.m, moved.shape[-1]))
            ranked = sorted(group, key=lambda i: (-abs(moved[line][i].item()), i))
            for i in ranked[: sparsity.n]:
                mask[line + (i,)] = True
    return np.moveaxis(mask, -1, axis)


def groups_of(array, m, axis):
    """Each group along ``axis`` as a 1-D array (the last one may be short)."""
    moved = np.moveaxis(array, axis, -1)
    return [moved[line][s:s + m] for line in np.ndindex(moved.shape[:-1]) for s in range(0, moved.shape[-1], m)]


@given(cases())
def test_mask_is_the_brute_force_top_n_of_every_group(case):
    weights, sparsity, axis = case
    mask = prune_mask(weights, sparsity, axis)
    assert mask.shape == weights.shape and mask.dtype == bool
    np.testing.assert_array_equal(mask, reference_mask(weights, sparsity, axis))


@given(cases())
def test_every_group_keeps_min_n_len_and_the_largest_magnitudes(case):
    weights, sparsity, axis = case
    mask = prune_mask(weights, sparsity, axis)
    magnitude = np.abs(weights.astype(object))  # Python ints: |-128| is 128, |-2**63| is 2**63
    for kept, mag in zip(groups_of(mask, sparsity.m, axis), groups_of(magnitude, sparsity.m, axis)):
        assert kept.sum() == min(sparsity.n, len(kept))
        if kept.all():
            continue
        assert min(mag[kept]) >= max(mag[~kept])
        # Of equal magnitudes, the lower index is kept.
        first_dropped = np.flatnonzero(~kept)[0]
        assert not any(mag[i] == mag[first_dropped] for i in np.flatnonzero(kept) if i > first_dropped)
    length = weights.shape[axis]
    np.testing.assert_array_equal(mask.sum(axis=axis), kept_count(length, sparsity))


@given(cases())
def test_compress_round_trip_and_sizes(case):
    weights, sparsity, axis = case
    packed = compress(weights, sparsity, axis)
    mask = prune_mask(weights, sparsity, axis)
    dense = packed.decompress()
    assert dense.dtype == weights.dtype and dense.shape == weights.shape
    np.testing.assert_array_equal(dense, np.where(mask, weights, 0))

    groups = math.ceil(weights.shape[axis] / sparsity.m)
    outer = tuple(np.delete(np.array(weights.shape), axis % weights.ndim))
    assert packed.values.shape == packed.indices.shape == outer + (groups, sparsity.n)
    assert packed.values.dtype == weights.dtype and packed.indices.dtype == np.uint8
    assert packed.axis == axis % weights.ndim and packed.shape == weights.shape
    assert packed.nonzeros == mask.sum()

    stored = math.prod(outer) * groups * sparsity.n
    bits = 0 if sparsity.m == 1 else math.ceil(math.log2(sparsity.m))
    assert packed.metadata_bits == stored * bits
    assert packed.storage_bits(16) == stored * (16 + bits)

    # Slots: filled ones first, ascending index; the unfilled tail of a short last group is 0/0.
    last = weights.shape[axis] - (groups - 1) * sparsity.m
    filled = np.ones((groups, sparsity.n), dtype=bool)
    filled[-1, min(sparsity.n, last):] = False
    indices = np.broadcast_to(packed.indices, outer + filled.shape)
    assert (indices < sparsity.m).all()
    assert (np.diff(indices.astype(int), axis=-1)[..., filled[:, 1:]] > 0).all()
    assert (indices[..., ~filled] == 0).all() and (packed.values[..., ~filled] == 0).all()


def test_padding_rule_on_a_short_last_group():
    w = np.array([1, 9, 8, 2, 7, 3])  # 3:4: groups [1 9 8 2] and [7 3], whose L = 2 < N = 3
    mask = prune_mask(w, NMSparsity(3, 4), axis=0)
    assert mask.tolist() == [False, True, True, True, True, True]
    packed = compress(w, NMSparsity(3, 4), axis=0)
    assert packed.values.tolist() == [[9, 8, 2], [7, 3, 0]]
    assert packed.indices.tolist() == [[1, 2, 3], [0, 1, 0]]
    assert packed.nonzeros == 5 and packed.metadata_bits == 6 * 2
    assert kept_count(6, NMSparsity(3, 4)) == 5 and kept_count(6, None) == 6


def test_zeros_still_fill_their_slots_and_beat_the_padding():
    w = np.array([0, 0, 0, 0, 0])
    assert prune_mask(w, NMSparsity(2, 4), axis=0).tolist() == [True, True, False, False, True]
    assert compress(w, NMSparsity(2, 4), axis=0).nonzeros == 3


def test_bdwp_masks_of_one_weight_differ():
    """FF prunes ``W`` (K x N) along K, BP prunes it along N: two different masks."""
    w = np.arange(1, 17).reshape(4, 4)
    ff = prune_mask(w, NMSparsity(2, 4), axis=0)  # per column: the two largest rows
    bp = prune_mask(w, NMSparsity(2, 4), axis=1)  # per row: the two largest columns
    assert ff.tolist() == [[False] * 4, [False] * 4, [True] * 4, [True] * 4]
    assert bp.tolist() == [[False, False, True, True]] * 4
    assert ff.sum() == bp.sum() == 8 and (ff & bp).sum() == 4


def test_one_of_one_and_m_of_m_keep_everything():
    w = np.array([[3.0, -1.0], [0.5, 2.0]])
    assert prune_mask(w, NMSparsity(1, 1), axis=1).all()
    assert prune_mask(w, NMSparsity(4, 4), axis=0).all()
    assert compress(w, NMSparsity(1, 1), axis=0).metadata_bits == 0


def test_empty_axis():
    w = np.zeros((3, 0))
    assert prune_mask(w, NMSparsity(2, 4), axis=1).shape == (3, 0)
    packed = compress(w, NMSparsity(2, 4), axis=1)
    assert packed.values.shape == (3, 0, 2) and packed.decompress().shape == (3, 0) and packed.nonzeros == 0


def test_compressed_arrays_are_read_only():
    packed = compress(np.arange(8), NMSparsity(1, 2), axis=0)
    with pytest.raises(ValueError):
        packed.values[0, 0] = 5


@pytest.mark.parametrize(("call", "message"), [
    (lambda: prune_mask(np.ones((2, 3)), NMSparsity(1, 2), axis=2),
     "field 'axis' = 2: must be a whole number in [-2, 1]"),
    (lambda: prune_mask(np.ones(3), NMSparsity(1, 2), axis=True),
     "field 'axis' = True: must be a whole number in [-1, 0]"),
    (lambda: prune_mask(np.float64(1.0), NMSparsity(1, 2), axis=0),
     "field 'weights' = (): expected an array with at least one dimension"),
    (lambda: prune_mask(np.array(["a", "b"]), NMSparsity(1, 2), axis=0),
     "field 'weights' = '<U1': expected a numeric array"),
    (lambda: compress(np.ones(3), NMSparsity(1, 300), axis=0),
     "field 'sparsity' = '1:300': M must be <= 256 for uint8 indices"),
    (lambda: compress(np.ones(3), NMSparsity(1, 2), axis=0).storage_bits(0),
     "field 'value_bits' = 0: must be a whole number >= 1"),
    (lambda: NMCompressed(np.zeros((2, 1)), np.zeros((2, 1), np.uint8), (3,), 0, NMSparsity(1, 4)),
     "field 'values' = (2, 1): expected shape (1, 1)"),
    (lambda: NMCompressed(np.zeros((1, 1)), np.zeros((1, 1), np.int64), (3,), 0, NMSparsity(1, 4)),
     "field 'indices' = 'int64': expected uint8"),
])
def test_bad_input(call, message):
    with pytest.raises(InputError) as err:
        call()
    assert str(err.value) == message


def test_docstring_examples():
    result = doctest.testmod(hwsim.workload.sparsity)
    assert result.attempted > 0 and result.failed == 0
