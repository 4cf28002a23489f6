"""One training step on SAT: every layer's FF, BP and WU GEMMs, dense or N:M sparse, plus pruning and update.

Per GEMM (:func:`hwsim.workload.training.training_gemms`):

* **Offline scheduling** lays the GEMM with its N:M sparsity (:func:`hwsim.mapping.lay`) in each of SAT's modes
  (ws, os), runs the one closed form (:func:`hwsim.sim.compute.gemm_compute`) on each and keeps the one with the
  fewest cycles; ties go to ws.
* **Interleave mapping** overlaps consecutive folds: the next fold's stationary load and stream start as soon as
  the current fold's last streamed value has entered, so a GEMM of ``F`` folds of ``L = 2R + C + T - 2`` cycles
  takes ``F (R + T) + (R + C - 2)`` instead of ``F L``: the fill/drain bubble is paid once. (The paper names the
  idea; this overlap model is ours, see :data:`hwsim.arch.sat.SAT_ASSUMPTIONS`.)
* **Pruning** (SORE): each step the pruning unit makes the FF mask (and for BDWP the BP mask) of every weight
  tensor: ``ceil(groups / lanes) * M`` cycles each. With pre-generation it runs during the layer's weight update and
  only what the update does not cover shows; without it, all of it shows.
* **Weight update**: the FP32 master weights are updated as vector work, ``ceil(weights / update_lanes)`` cycles.

Cycles are compute cycles: the training model has no memory stalls (SAT's buffers are assumed to keep up; the
inference model in :mod:`hwsim.sim.memory` is where stalls are studied). This module counts;
:func:`hwsim.report.training.assemble` prices the counts with the cost module plus SAT's own (:mod:`hwsim.cost.sat`):
the index metadata read with every sparse weight, the multiplexer and the wider operand window of every sparse MAC,
and the pruning unit's sorting; the area is the array with its sparse PEs and the pruning unit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from hwsim.arch.sat import SatArray
from hwsim.errors import InputError
from hwsim.mapping import LayerMapping, lay
from hwsim.sim.compute import ComputeCounts, gemm_compute
from hwsim.types import Dataflow
from hwsim.workload.network import Network
from hwsim.workload.sparsity import NMSparsity
from hwsim.workload.training import Pass, Scheme, TrainingGemm, training_gemms


@dataclass(frozen=True)
class Sorting:
    """The pruning unit's work charged to one pass: ``masks`` sorts of ``weights`` weights in groups of ``m``."""

    masks: int = 0
    weights: int = 0
    m: int = 1


@dataclass(frozen=True)
class PassCounts:
    """One GEMM (with a layer's update work on its WU GEMM) of the training step, as counted.

    ``counts`` are the chosen mode's (its cycles after interleaving); ``dense_cycles`` those of the same GEMM dense
    on the same hardware, scheduled the same way.
    """

    gemm: TrainingGemm
    dataflow: Dataflow
    counts: ComputeCounts
    executed_macs: int
    dense_cycles: int
    update_cycles: int = 0
    pruning_cycles: int = 0
    sorting: Sorting = Sorting()


@dataclass(frozen=True)
class TrainingCounts:
    """A training step of a network on SAT, pass by pass, with the dense step beside it (``None`` when dense)."""

    network: str
    sat: SatArray
    scheme: Scheme
    sparsity: NMSparsity | None
    passes: tuple[PassCounts, ...]
    dense: "TrainingCounts | None"


def training_counts(network: Network, sat: SatArray | None = None, *, scheme: Scheme | str = Scheme.BDWP,
                    sparsity: NMSparsity | str | None = None, _baseline: bool = True) -> TrainingCounts:
    """One training step of ``network`` (its batch) on ``sat`` under ``scheme``, with the dense step beside it."""
    sat = sat or SatArray()
    scheme = Scheme(scheme)
    if isinstance(sparsity, str):
        sparsity = NMSparsity.parse(sparsity)
    if sparsity is not None and sparsity.m > sat.m_max:
        raise InputError(f"SAT's multiplexers take groups of at most {sat.m_max}", field="sparsity",
                         value=str(sparsity))
    gemms = [g for g in training_gemms(network, scheme, sparsity) if g.needed]
    updates = _update_work(sat, scheme, gemms)
    passes = tuple(_pass(g, sat, updates.get((g.layer, g.pass_), (0, 0, Sorting()))) for g in gemms)
    dense = None
    if _baseline and scheme is not Scheme.DENSE:
        dense = training_counts(network, sat, scheme=Scheme.DENSE, _baseline=False)
    return TrainingCounts(network=network.name, sat=sat, scheme=scheme, sparsity=sparsity, passes=passes,
                          dense=dense)


def _update_work(sat: SatArray, scheme: Scheme,
                 gemms: list[TrainingGemm]) -> dict[tuple[str, Pass], tuple[int, int, Sorting]]:
    """Per layer, the (update cycles, exposed pruning cycles, pruning unit's work) charged to its WU GEMM."""
    work = {}
    wu_cycles = {g.layer: _best(g, sat)[1].cycles for g in gemms if g.pass_ is Pass.WU}
    for g in gemms:
        if g.pass_ is not Pass.FF or g.kind == "matmul":
            continue
        weights = g.gemm.k * g.gemm.n * g.gemm.repeat
        update = sat.update_cycles(weights)
        masks = {Scheme.DENSE: 0, Scheme.FORWARD: 1, Scheme.BDWP: 2}[scheme] if g.sparsity else 0
        m = g.sparsity.m if g.sparsity else 1
        sorting = masks * sat.sorter_cycles(weights, m)
        exposed = max(0, sorting - (update + wu_cycles.get(g.layer, 0))) if sat.pregenerate else sorting
        work[(g.layer, Pass.WU)] = (update, exposed, Sorting(masks, weights, m))
    return work


def _best(g: TrainingGemm, sat: SatArray) -> tuple[LayerMapping, ComputeCounts]:
    """Offline scheduling: the mode with the fewest cycles, after interleaving; ties go to the first of
    ``sat.dataflows``."""
    best = None
    for dataflow in sat.dataflows:
        lm = lay(g.gemm, sat.array, dataflow=dataflow, n_keep=g.sparsity.n if g.sparsity else 1,
                 m_group=g.sparsity.m if g.sparsity else 1)
        counts = gemm_compute(lm, interleave=sat.interleave)
        if best is None or counts.cycles < best[1].cycles:
            best = (lm, counts)
    return best  # type: ignore[return-value]


def _pass(g: TrainingGemm, sat: SatArray, update: tuple[int, int, Sorting]) -> PassCounts:
    lm, counts = _best(g, sat)
    dense = _best(replace(g, sparsity=None), sat)[1].cycles
    return PassCounts(gemm=g, dataflow=lm.dataflow, counts=counts, executed_macs=lm.run.macs, dense_cycles=dense,
                      update_cycles=update[0], pruning_cycles=update[1], sorting=update[2])
