"""SAT, the N:M sparse training accelerator of Fang et al. (IEEE TCAD 2023, arXiv 2309.13015).

What the paper states (shared/reference/PAPERS.md): one engine runs dense and N:M sparse GEMMs; PEs hold N
non-zeros with their indices and an M:1 multiplexer picks the dense operand from a window of M; it switches
between output- and weight-stationary; a pruning unit (SORE) of parallel top-N-of-M sorters generates the sparse
weights, pre-generated so that it overlaps the weight update; interleave mapping and offline scheduling; FP16
GEMMs with FP32 master weights; a Xilinx VCU1525 FPGA. What it does not give (array size, buffers, clock, sorter
count) are the defaults below, every one listed in :data:`SAT_ASSUMPTIONS`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from hwsim.arch.systolic import SystolicArray
from hwsim.errors import InputError
from hwsim.types import Dataflow

SAT_ASSUMPTIONS = {
    "array": "32x32 PEs, FP16, 256 KiB per SRAM, 32 bytes/cycle, 200 MHz: assumed (the paper gives none of these; "
             "200 MHz is typical of FPGA training accelerators on the VCU1525)",
    "m_max": "8: the largest M of the paper's settings (2:8); the M:1 multiplexer is that wide [assumed from the "
             "2:8 headline]",
    "sorter_lanes": "32 parallel top-N-of-M sorters, M cycles per group [assumed, shared/reference/PAPERS.md]",
    "update_lanes": "one FP32 weight update per array column per cycle [assumed]",
    "pregenerate": "on: SORE runs during the weight update (the paper's pre-generation) [paper]",
    "interleave": "on: consecutive folds overlap, removing the fill/drain bubble between dependent tiles [paper's "
                  "idea; the overlap model is ours]",
    "dataflows": "ws and os, chosen per GEMM by offline scheduling [paper]",
}
"""Every default the paper does not fix, with where it comes from: the one place assumptions live."""


def _default_array() -> SystolicArray:
    return SystolicArray(32, 32, precision="fp16", ifmap_sram_kib=256, filter_sram_kib=256, ofmap_sram_kib=256,
                         dram_bandwidth_bytes_per_cycle=32, clock_mhz=200)


@dataclass(frozen=True)
class SatArray:
    """The SAT accelerator: a systolic array whose PEs take N:M sparse weights, plus its pruning unit.

    Parameters
    ----------
    array
        The PE array, its SRAMs, DRAM interface and clock (its ``dataflow`` is ignored: SAT schedules ws or os per
        GEMM).
    m_max
        The widest N:M group the PEs' multiplexers take.
    sorter_lanes
        Parallel top-N-of-M sorters of the pruning unit; each takes ``M`` cycles per group.
    update_lanes
        FP32 master-weight updates per cycle.
    pregenerate
        Run the pruning unit during the weight update instead of before the next forward pass.
    interleave
        Overlap consecutive folds (interleave mapping).
    dataflows
        The modes offline scheduling may choose from.
    """

    array: SystolicArray = field(default_factory=_default_array)
    m_max: int = 8
    sorter_lanes: int = 32
    update_lanes: int | None = None
    pregenerate: bool = True
    interleave: bool = True
    dataflows: tuple[Dataflow, ...] = (Dataflow.WEIGHT_STATIONARY, Dataflow.OUTPUT_STATIONARY)

    def __post_init__(self) -> None:
        for name in ("m_max", "sorter_lanes"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InputError("must be a whole number >= 1", field=name, value=value)
        if self.update_lanes is None:
            object.__setattr__(self, "update_lanes", self.array.cols)
        bad = [d for d in self.dataflows if d not in (Dataflow.WEIGHT_STATIONARY, Dataflow.OUTPUT_STATIONARY)]
        if not self.dataflows or bad:
            raise InputError("SAT runs ws and os", field="dataflows", value=[d.value for d in self.dataflows])

    def sorter_cycles(self, weights: int, m: int) -> int:
        """Cycles for the pruning unit to pick the top N of every group of ``m`` among ``weights`` weights."""
        groups = math.ceil(weights / m)
        return math.ceil(groups / self.sorter_lanes) * m

    def update_cycles(self, weights: int) -> int:
        """Cycles of the FP32 master-weight update (vector work, one pass over the weights)."""
        return math.ceil(weights / self.update_lanes)
