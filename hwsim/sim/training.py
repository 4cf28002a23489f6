"""One training step on SAT: every layer's FF, BP and WU GEMMs, dense or N:M sparse, plus pruning and update.

Per GEMM (:func:`hwsim.workload.training.training_gemms`):

* **Memory**: each GEMM is laid with its N:M sparsity (:func:`hwsim.mapping.lay`) and counted by the one memory
  model, :func:`hwsim.sim.engine.gemm_counts` (compute cycles, DRAM bytes per operand, stalls), with SAT's
  interleave mapping. A GEMM's cycles are its compute plus its stalls; the first tile's prefetch and the last
  outputs' drain are left out, as in the engine's :attr:`~hwsim.sim.counts.LayerCounts.total_cycles` (they overlap
  the neighbouring GEMMs).
* **Offline scheduling** runs each of SAT's modes (``sat.dataflows``, ws and os) whose resident tile fits its SRAM
  (:func:`hwsim.sim.memory.fits`) and keeps the one with the fewest cycles, stalls included; ties go to the first
  of ``sat.dataflows``. The dense step beside it is scheduled the same way.
* **Interleave mapping** overlaps consecutive folds (:meth:`hwsim.mapping.FoldMapping.step_cycles`): the
  fill/drain bubble is paid once per run. (The paper names the idea; the overlap model is ours, see
  :data:`hwsim.arch.sat.SAT_ASSUMPTIONS`.)
* **Pruning** (SORE): each step the pruning unit makes the FF mask (and for BDWP the BP mask) of every weight
  tensor: ``ceil(groups / lanes) * M`` cycles each. With pre-generation it runs during the layer's weight update
  (its WU GEMM and the update) and only what they do not cover shows; without it, all of it shows.
* **Weight update**: the FP32 master weights are updated as vector work, ``ceil(weights / update_lanes)`` cycles,
  with the DRAM traffic of :func:`update_traffic`.

SAT traffic the GEMM model does not know (its formulas and sources in :func:`update_traffic` and
:func:`metadata_bytes`): the master-weight update and the index metadata read with every sparse weight. All DRAM time
is charged at ``sat.array.dram_bandwidth_bytes_per_cycle`` (none with ``interface_bandwidth="CALC"``, which never
waits).

This module counts; :func:`hwsim.report.training.assemble` prices the counts with the cost module plus SAT's own
(:mod:`hwsim.cost.sat`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields, replace

import numpy as np

from hwsim.arch.sat import SatArray
from hwsim.arch.systolic import SystolicArray
from hwsim.errors import InputError
from hwsim.mapping import LayerMapping, lay
from hwsim.sim.compute import ComputeCounts
from hwsim.sim.engine import gemm_counts, ifmap_unique
from hwsim.sim.memory import MemoryCounts, check_fits, dram_cycles, fits, interface
from hwsim.types import Dataflow
from hwsim.workload.network import Network
from hwsim.workload.sparsity import NMSparsity, index_bits
from hwsim.workload.training import Pass, Scheme, TrainingGemm, training_gemms

MASTER_WEIGHT_BITS = 32
"""FP32 master weights beside the FP16 GEMM operands (mixed-precision training) [assumed, as in
shared/reference/PAPERS.md: the paper states FP16 GEMMs with FP32 master weights]."""


@dataclass(frozen=True)
class Sorting:
    """The pruning unit's work charged to one pass: ``masks`` sorts of ``weights`` weights in groups of ``m``."""

    masks: int = 0
    weights: int = 0
    m: int = 1


@dataclass(frozen=True)
class Update:
    """One layer's FP32 master-weight update: vector work and its DRAM traffic (:func:`update_traffic`).

    ``stall_cycles`` is the DRAM time beyond the ``cycles`` of vector work: the update streams its operands as one
    DMA stream (the DRAM latency once, then the bytes at the array's bandwidth) and cannot finish before they have
    moved. It runs after the layer's WU GEMM, not overlapped with any GEMM (they share the DRAM interface).
    """

    weights: int = 0
    cycles: int = 0
    read_bytes: int = 0
    write_bytes: int = 0
    stall_cycles: int = 0


@dataclass(frozen=True)
class Scheduled:
    """One GEMM in the mode offline scheduling chose: the model's counts plus SAT's metadata.

    ``metadata_stall_cycles`` is what the index metadata adds to the model's stalls (:func:`_metadata_stall`).
    """

    mapping: LayerMapping
    counts: ComputeCounts
    memory: MemoryCounts
    metadata_bytes: int
    metadata_stall_cycles: int

    @property
    def stall_cycles(self) -> int:
        return self.memory.stall_cycles + self.metadata_stall_cycles

    @property
    def cycles(self) -> int:
        """Compute plus stalls (prefetch and drain overlap the neighbouring GEMMs, as in the engine's total)."""
        return self.counts.cycles + self.stall_cycles


@dataclass(frozen=True)
class PassCounts:
    """One GEMM (with a layer's update work on its WU GEMM) of the training step, as counted.

    ``chosen`` is the mode offline scheduling chose (its cycles after interleaving, its DRAM traffic and stalls);
    ``dense_cycles`` those of the same GEMM dense on the same hardware, scheduled the same way, stalls included.
    """

    gemm: TrainingGemm
    chosen: Scheduled
    dense_cycles: int
    update: Update = Update()
    pruning_cycles: int = 0
    sorting: Sorting = Sorting()

    @property
    def dataflow(self) -> Dataflow:
        return self.chosen.mapping.dataflow

    @property
    def executed_macs(self) -> int:
        """MACs the PEs perform: the run's, on the kept weights only."""
        return self.chosen.mapping.run.macs

    @property
    def total_cycles(self) -> int:
        """The GEMM (compute and stalls), the update (vector work and its stall) and the exposed pruning."""
        return self.chosen.cycles + self.update.cycles + self.update.stall_cycles + self.pruning_cycles


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
                    sparsity: NMSparsity | str | None = None) -> TrainingCounts:
    """One training step of ``network`` (its batch) on ``sat`` under ``scheme``, with the dense step beside it.

    Raises
    ------
    InputError
        A sparsity wider than SAT's multiplexers; a GEMM for which no mode of ``sat.dataflows`` fits its SRAMs.
    """
    sat = sat or SatArray()
    scheme = Scheme(scheme)
    if isinstance(sparsity, str):
        sparsity = NMSparsity.parse(sparsity)
    if sparsity is not None and sparsity.m > sat.m_max:
        raise InputError(f"SAT's multiplexers take groups of at most {sat.m_max}", field="sparsity",
                         value=str(sparsity))
    schedule = _scheduler(sat)
    dense = None if scheme is Scheme.DENSE else _step(network, sat, Scheme.DENSE, None, schedule, None)
    return _step(network, sat, scheme, sparsity, schedule, dense)


def _step(network: Network, sat: SatArray, scheme: Scheme, sparsity: NMSparsity | None,
          schedule: Callable[[TrainingGemm, float], Scheduled], dense: TrainingCounts | None) -> TrainingCounts:
    """The step of ``network`` under ``scheme``, its GEMMs scheduled by ``schedule`` (:func:`_scheduler`)."""
    every = training_gemms(network, scheme, sparsity)
    gemms = [g for g in every if g.needed]
    shares = {g.layer: _a_unique(network, g.layer) for g in gemms}
    chosen = [schedule(g, shares[g.layer]) for g in gemms]
    wu_cycles = {g.layer: s.cycles for g, s in zip(gemms, chosen) if g.pass_ is Pass.WU}
    updates = _update_work(sat, scheme, every, wu_cycles)
    passes = []
    for g, s in zip(gemms, chosen):
        update, pruning, sorting = updates.get((g.layer, g.pass_), (Update(), 0, Sorting()))
        dense_cycles = schedule(replace(g, sparsity=None), shares[g.layer]).cycles
        passes.append(PassCounts(gemm=g, chosen=s, dense_cycles=dense_cycles, update=update, pruning_cycles=pruning,
                                 sorting=sorting))
    return TrainingCounts(network=network.name, sat=sat, scheme=scheme, sparsity=sparsity, passes=tuple(passes),
                          dense=dense)


def _scheduler(sat: SatArray) -> Callable[[TrainingGemm, float], Scheduled]:
    """:func:`_schedule` on ``sat``, remembered per GEMM shape, sparsity and activation share: a step repeats
    shapes (ResNet's blocks), and the dense step beside a sparse one schedules its dense GEMMs again."""
    done: dict[tuple, Scheduled] = {}

    def schedule(g: TrainingGemm, a_unique: float) -> Scheduled:
        share = activation_share(g, a_unique)
        key = (g.gemm, g.sparsity, share)
        if key not in done:
            done[key] = _schedule(g, sat, share)
        return done[key]

    return schedule


def _a_unique(network: Network, layer: str) -> float:
    """Distinct elements over im2col elements of a convolution's input (1 for other layers), for the passes whose A
    operand is that im2col matrix (:func:`activation_share`)."""
    return ifmap_unique(network, network.stats(layer))


def activation_share(g: TrainingGemm, a_unique: float) -> float:
    """The distinct fraction of a training GEMM's A operand (``a_unique`` of :func:`hwsim.sim.engine.gemm_counts`).

    FF and WU read the im2col matrix of a convolution's input (``X``, ``X^T``): DRAM holds and sends each pixel once,
    ``a_unique`` (:func:`hwsim.sim.engine.ifmap_unique`). BP's A is ``dY``, which has no repeated elements: 1. (An
    N:M sparse GEMM's activations stay dense: the memory model fetches the windows its compressed rows read.)
    """
    return a_unique if g.pass_ is not Pass.BP else 1.0


def metadata_bytes(filter_dram_read_bytes: int, sparsity: NMSparsity | None, filter_bits: int) -> int:
    """DRAM bytes of the N:M indices fetched with a sparse GEMM's weights.

    Every kept weight carries its ``index_bits(M) = ceil(log2 M)``-bit position in its group
    (:func:`hwsim.workload.sparsity.index_bits`, the width :mod:`hwsim.cost.sat` prices in the PEs and the filter
    SRAM) and travels with it: the model's filter bytes (``filter_bits`` per kept weight) times
    ``index_bits / filter_bits``. The masks are these indices: no separate bitmap is stored [paper: PEs hold the
    non-zeros and their indices; that nothing else is fetched is assumed].
    """
    if sparsity is None:
        return 0
    return round(filter_dram_read_bytes * index_bits(sparsity.m) / filter_bits)


def _stream_cycles(nbytes: float, arch: SystolicArray) -> int:
    """Cycles one DMA stream of ``nbytes`` takes: the DRAM latency once, then ``nbytes`` at the bandwidth
    (:func:`hwsim.sim.memory.dram_cycles`); none through an interface that never waits (``CALC``)."""
    bandwidth, latency = interface(arch)
    return latency + int(dram_cycles(nbytes, bandwidth))


def _metadata_stall(counts: ComputeCounts, memory: MemoryCounts, extra_bytes: int, arch: SystolicArray) -> int:
    """Stall the index metadata adds to a GEMM: the indices stream with the weights, in the DRAM cycles the GEMM's
    own traffic leaves idle.

    The GEMM computes and stalls for ``W = compute + stall`` cycles and its own ``D`` bytes need ``D / b`` cycles
    at bandwidth ``b``; the ``B`` metadata bytes add ``ceil(max(0, (D + B) / b - W) - max(0, D / b - W))``: nothing
    while ``D + B`` fits the window, ``B / b`` where the GEMM's own traffic already overflows it (its prefetch and
    drain). Continuous in ``b`` and ``W``, so more bandwidth never costs cycles.

    A lower bound: it lets the indices use idle DRAM cycles anywhere in the GEMM, where a fold-by-fold schedule
    (which the memory model keeps to itself) could find some folds already busy.
    """
    bandwidth, _ = interface(arch)
    if extra_bytes == 0 or bandwidth == math.inf:
        return 0
    window = counts.cycles + memory.stall_cycles
    own = memory.dram_bytes / bandwidth
    return math.ceil(max(0.0, own + extra_bytes / bandwidth - window) - max(0.0, own - window))


def _schedule(g: TrainingGemm, sat: SatArray, share: float) -> Scheduled:
    """Offline scheduling: of the modes whose tile fits, the one with the fewest cycles (stalls included); ties go to
    the first of ``sat.dataflows``."""
    best, unfit = None, []
    n_keep, m_group = (g.sparsity.n, g.sparsity.m) if g.sparsity else (1, 1)
    for dataflow in sat.dataflows:
        arch = replace(sat.array, dataflow=dataflow)
        lm = lay(g.gemm, arch, n_keep=n_keep, m_group=m_group)
        if not fits(lm.fold, arch):
            unfit.append((lm, arch))
            continue
        counts, memory = (_numbers(r) for r in gemm_counts(lm, arch, a_unique=share, interleave=sat.interleave))
        extra = metadata_bytes(memory.filter_dram_read_bytes, g.sparsity, arch.filter_bits)
        scheduled = Scheduled(lm, counts, memory, extra, _metadata_stall(counts, memory, extra, arch))
        if best is None or scheduled.cycles < best.cycles:
            best = scheduled
    if best is None:
        reasons = [_unfit_reason(lm, arch) for lm, arch in unfit]
        raise InputError("no SAT mode fits its SRAMs: " + "; ".join(f"{lm.dataflow.value}: {r.problem}"
                                                                      for (lm, _), r in zip(unfit, reasons)),
                         layer=f"{g.layer} ({g.pass_.value})", field=reasons[0].field, value=reasons[0].value)
    return best


def _unfit_reason(lm: LayerMapping, arch: SystolicArray) -> InputError:
    """Why ``lm``'s folds do not fit ``arch``'s SRAMs: the error :func:`hwsim.sim.memory.check_fits` raises."""
    try:
        check_fits(lm.fold, arch, "")
    except InputError as reason:
        return reason
    raise AssertionError("called for a mapping that fits")


def _numbers(record):
    """``record`` with Python numbers in place of NumPy scalars (reports are written to JSON)."""
    return type(record)(**{f.name: getattr(record, f.name).item() if isinstance(getattr(record, f.name), np.generic)
                           else getattr(record, f.name) for f in fields(record)})


def update_traffic(weights: int, copies_bytes: float, arch: SystolicArray) -> tuple[int, int]:
    """(read, write) DRAM bytes of one layer's FP32 master-weight update (plain SGD, no optimiser state).

    * read: the master weights, ``weights * 32 / 8`` [assumed FP32, :data:`MASTER_WEIGHT_BITS`], and the gradient
      ``dW`` the WU GEMM wrote, ``weights * ofmap_bits / 8`` [model: the GEMM writes its outputs at ``ofmap_bits``];
    * write: the master weights again, ``weights * 32 / 8``, and the low-precision copies the next step's GEMMs
      read, ``copies_bytes`` (:func:`_copies_bytes`).

    With ``ofmap_bits = 16`` a dense layer moves ``weights * (4 + 2 + 4 + 2) = 12 * weights`` bytes.
    """
    master = weights * MASTER_WEIGHT_BITS / 8
    return round(master + weights * arch.ofmap_bits / 8), round(master + copies_bytes)


def _copies_bytes(forms: set[tuple[str, NMSparsity | None]], kept: dict[str, int], weights: int,
                  filter_bits: int) -> float:
    """Bytes of the weight copies the next step reads: a dense FP16 copy (``weights * filter_bits / 8``) if any pass
    reads the weight dense, and each N:M compressed copy the pruning unit pre-generates (``kept * (filter_bits +
    index_bits(M)) / 8``: the kept values with their indices). Under BDWP that is two compressed copies (FF's along
    ``K``, BP's along ``N``), the second only if the BP GEMM is needed [assumed: the paper pre-generates the sparse
    weights of both passes; that each is written to DRAM, not regenerated, is ours]."""
    total = 0.0
    for pass_, sparsity in forms:
        if sparsity is None:
            total += weights * filter_bits / 8
        else:
            total += kept[pass_] * (filter_bits + index_bits(sparsity.m)) / 8
    return total


def _update_work(sat: SatArray, scheme: Scheme, gemms: tuple[TrainingGemm, ...],
                 wu_cycles: dict[str, int]) -> dict[tuple[str, Pass], tuple[Update, int, Sorting]]:
    """Per layer, the (update, exposed pruning cycles, pruning unit's work) charged to its WU GEMM."""
    arch = sat.array
    work = {}
    for g in gemms:
        if g.pass_ is not Pass.FF or g.kind == "matmul":
            continue
        weights = g.gemm.k * g.gemm.n * g.gemm.repeat
        readers = [r for r in gemms if r.layer == g.layer and r.pass_ in (Pass.FF, Pass.BP) and r.needed]
        # one form per pass that reads the weight; the dense form is one copy whoever reads it
        forms = {(r.pass_.value if r.sparsity else "dense", r.sparsity) for r in readers}
        kept = {r.pass_.value: r.effective_macs // r.gemm.m for r in readers}
        read, write = update_traffic(weights, _copies_bytes(forms, kept, weights, arch.filter_bits), arch)
        cycles = sat.update_cycles(weights)
        stall = max(0, _stream_cycles(read + write, arch) - cycles)
        update = Update(weights=weights, cycles=cycles, read_bytes=read, write_bytes=write, stall_cycles=stall)
        masks = {Scheme.DENSE: 0, Scheme.FORWARD: 1, Scheme.BDWP: 2}[scheme] if g.sparsity else 0
        m = g.sparsity.m if g.sparsity else 1
        sorting = masks * sat.sorter_cycles(weights, m)
        cover = cycles + stall + wu_cycles.get(g.layer, 0)
        exposed = max(0, sorting - cover) if sat.pregenerate else sorting
        work[(g.layer, Pass.WU)] = (update, exposed, Sorting(masks, weights, m))
    return work
