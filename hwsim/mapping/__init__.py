"""Mappings: how a dataflow lays a layer's GEMM on a systolic array, behind one Protocol and one registry.

Adding a dataflow is one module here (a class with the :class:`~hwsim.mapping.base.Mapping` members), one line in
:data:`MAPPINGS` and one ``dataflows/<name>.json`` (what its PEs do per MAC, for the cost model).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hwsim.errors import InputError
from hwsim.mapping.base import FoldMapping, LayerMapping, Mapping
from hwsim.mapping.input_stationary import InputStationary
from hwsim.mapping.output_stationary import OutputStationary
from hwsim.mapping.sparse import SparseArgumentError, check_sparsity, compressed_rows, whole, window_elements
from hwsim.mapping.weight_stationary import WeightStationary
from hwsim.types import Dataflow
from hwsim.workload.lowering import GemmDims

__all__ = ["MAPPINGS", "FoldMapping", "LayerMapping", "Mapping", "SparseArgumentError", "compressed_rows",
           "fold_mapping", "lay", "mapping", "pack_groups", "window_elements"]

MAPPINGS: dict[str, Mapping] = {m.name: m for m in (WeightStationary(), OutputStationary(), InputStationary())}
"""The registry: dataflow name -> mapping."""

def mapping(name: str | Dataflow | Mapping, *, field: str = "dataflow", also: tuple[str, ...] = ()) -> Mapping:
    """The registered mapping called ``name`` (``ws``, ``os``, ``is``; any case); an unknown name lists the known
    ones and ``also``, the other words the caller accepts in its place (the command line's ``best``)."""
    if hasattr(name, "fold_dims"):
        return name
    key = name.value if isinstance(name, Dataflow) else str(name).lower()
    try:
        return MAPPINGS[key]
    except KeyError:
        known = ", ".join([*MAPPINGS, *also])
        raise InputError(f"unknown dataflow (known: {known})", field=field, value=str(name)) from None


def fold_mapping(gemm: GemmDims, rows: Any, cols: Any, dataflow: str | Dataflow | Mapping) -> FoldMapping:
    """The fold geometry of ``gemm`` on ``rows x cols`` under ``dataflow`` (numbers or arrays)."""
    rule = mapping(dataflow)
    return FoldMapping(rule.dataflow, rows, cols, *rule.fold_dims(gemm))


def pack_groups(gemm: GemmDims, rows: int, cols: int, dataflow: str | Dataflow | Mapping) -> GemmDims:
    """Run several groups of a grouped GEMM as one block-diagonal GEMM.

    ``p`` groups become ``A' = [A_1 | ... | A_p]`` (``M x pK``) times ``blockdiag(B_1, ..., B_p)`` (``pK x pN``),
    whose output is ``[O_1 | ... | O_p]``: a depthwise 3x3 that alone uses 9 of 64 rows and 1 of 64 columns shares
    a weight-stationary fold with 6 other channels. ``p`` is as many groups as fit the array dimensions the packed
    sizes land on (the mapping's :meth:`~hwsim.mapping.base.Mapping.pack_factor`). Returns ``ceil(groups / p)``
    runs of the packed GEMM; its ``macs`` count the zero blocks, so utilisation must use the layer's own MACs.
    """
    if gemm.repeat == 1:
        return gemm
    p = min(mapping(dataflow).pack_factor(gemm, rows, cols), gemm.repeat)
    if p == 1:
        return gemm
    return GemmDims(m=gemm.m, n=gemm.n * p, k=gemm.k * p, repeat=math.ceil(gemm.repeat / p))


def lay(gemm: GemmDims, arch: Any, *, dataflow: str | Dataflow | Mapping | None = None, pack: bool = False,
        n_keep: int = 1, m_group: int = 1) -> LayerMapping:
    """Lay ``gemm`` on ``arch`` once: the run (packed, compressed), its folds and its stream tiles.

    Parameters
    ----------
    gemm
        The layer's GEMM (:func:`hwsim.workload.lower`). Its numbers may be arrays (one entry per layer) when
        ``pack`` is off and the sparsity dense.
    arch
        A :class:`~hwsim.arch.systolic.SystolicArray`, or a group of them whose numbers are arrays
        (:class:`hwsim.sim.batch.DesignGroup`).
    dataflow
        The mapping's name; default: ``arch.dataflow``.
    pack
        Pack groups block-diagonally (:func:`pack_groups`).
    n_keep, m_group
        N:M sparsity of the filter operand along ``K`` (SAT); ``n_keep == m_group`` is dense.
    """
    rule = mapping(arch.dataflow if dataflow is None else dataflow)
    _check_gemm(gemm)
    n_keep, m_group = check_sparsity(n_keep, m_group)
    run = pack_groups(gemm, arch.rows, arch.cols, rule) if pack else gemm
    packed = -(-gemm.repeat // run.repeat) if pack else 1
    if n_keep != m_group:
        if not rule.sparse:
            raise SparseArgumentError("is not a SAT mode: the N:M sparse engine runs "
                                      f"{' and '.join(n for n, m in MAPPINGS.items() if m.sparse)}",
                                      field="dataflow", value=rule.name)
        run = GemmDims(m=run.m, n=run.n, k=compressed_rows(run.k, n_keep, m_group), repeat=run.repeat)
        row_elements = window_elements(gemm.k, n_keep, m_group)
    else:
        row_elements = run.k
    fold = FoldMapping(rule.dataflow, arch.rows, arch.cols, *rule.fold_dims(run))
    return LayerMapping(mapping=rule, gemm=gemm, run=run, fold=fold, packed_groups=packed, n_keep=n_keep,
                        m_group=m_group, row_elements=row_elements, stream_tile=_stream_tile(rule, fold, arch))


def _check_gemm(gemm: object) -> None:
    """A GEMM of whole dimensions >= 1 (arrays of them, one per layer, are the engine's own and pass as they are)."""
    if not isinstance(gemm, GemmDims):
        raise SparseArgumentError("must be a GemmDims", field="gemm", value=type(gemm).__name__)
    for name in ("m", "n", "k", "repeat"):
        if np.ndim(getattr(gemm, name)) == 0:
            whole(f"gemm.{name}", getattr(gemm, name))


def _stream_tile(rule: Mapping, fold: FoldMapping, arch: Any) -> int | np.ndarray:
    """The longest ``T`` whose partial sums for one column fold fit half the ofmap SRAM (``LayerMapping``); ``T``
    itself where no partial sums exist: one row fold, or the reduction streams (outputs accumulate in the PEs)."""
    if rule.stream_dim == "k":
        return fold.t
    capacity = arch.ofmap_sram_kib * 1024 / 2
    psum_bytes = arch.psum_bits / 8
    tile = np.maximum(1, np.minimum(fold.t, capacity // (np.minimum(fold.cols, fold.sc) * psum_bytes)))
    return np.where(fold.row_folds > 1, tile, fold.t).astype(np.int64)
